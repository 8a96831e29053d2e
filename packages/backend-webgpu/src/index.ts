/**
 * `@kiln/backend-webgpu` — WGSL kernels, buffer pool and async readback, on Dawn (the `webgpu`
 * package) in Node and `navigator.gpu` in browsers. **Skeleton:** no kernels exist yet; this
 * package describes itself so tools and tests can tell skeletons from working backends.
 */

/**
 * What this package is and how far along. `backend` is the name the backend will register
 * under, the one kernel errors will name. `status` becomes `'working'` when kernels land.
 */
export const PACKAGE_INFO = Object.freeze({
  name: '@kiln/backend-webgpu',
  backend: 'webgpu',
  status: 'skeleton',
} as const);

import { describe, expect, it } from 'vitest';
import { bundleDeployer, packagesOf } from '../../../scripts/bundle/deployer.js';

// The main entry runs in browsers (navigator.gpu): bundling it for the browser must reach
// neither Dawn (the `webgpu` package) nor any node: module; only the ./node entry does.
describe('@kiln/backend-webgpu in a browser bundle', () => {
  it('the main entry with eager reaches core, eager and backend-cpu only — no Dawn, no node:', async () => {
    const f = await bundleDeployer('browser', {
      contents: `import { createWebGPUBackend, requestWebGPUDevice } from '@kiln/backend-webgpu';
        import { registerBackend, setBackend, tensor } from '@kiln/eager';
        const { device } = await requestWebGPUDevice();
        registerBackend('webgpu', () => createWebGPUBackend(device));
        setBackend('webgpu');
        console.log(await tensor([1, 2]).relu().data());`,
    });
    expect(f.inputs).toContain('packages/backend-webgpu/src/backend.ts');
    expect(f.inputs).not.toContain('packages/backend-webgpu/src/node.ts');
    expect(packagesOf(f.inputs).filter((p) => !p.startsWith('@kiln/'))).toEqual([]);
    expect(f.inputs.some((p) => /node:/.test(p))).toBe(false);
  });

  it('the check sees Dawn when the ./node entry is imported', async () => {
    const f = await bundleDeployer('node', { contents: `export { requestNodeDevice } from '@kiln/backend-webgpu/node';` }).catch((e: Error) => e);
    // esbuild cannot bundle the native dawn.node; either way the ./node entry pulls `webgpu`.
    if (f instanceof Error) expect(f.message).toMatch(/webgpu|dawn|\.node/);
    else expect(packagesOf(f.inputs)).toContain('webgpu');
  });
});

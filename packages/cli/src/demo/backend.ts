/**
 * Which backend the main job trains on: `--backend cpu|webgpu|auto` (default auto).
 *
 * `auto` takes WebGPU only on a hardware adapter. A software adapter — Mesa's lavapipe
 * (llvmpipe), SwiftShader, Microsoft's WARP — runs WGSL on the CPU, slower than the CPU backend's
 * WebAssembly kernels, so it is used only when asked for with `--backend webgpu`. The choice is
 * a pure function of what the adapter says ({@link chooseBackend}), tested with fake adapter
 * infos; {@link selectBackend} asks Dawn and registers the backend.
 */
import { ArgumentError } from '@kiln/core';
import { registerBackend, setBackend } from '@kiln/eager';

/** What `--backend` accepts. */
export const BACKEND_REQUESTS = ['auto', 'cpu', 'webgpu'] as const;
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];

/** The adapter facts the choice reads (a subset of GPUAdapterInfo, as Dawn reports it in Node). */
export interface AdapterFacts {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** Dawn ≥ 0.6 sets it for software adapters (lavapipe says true). */
  readonly isFallbackAdapter?: boolean;
}

/** The backend chosen and why, in words fit for one printed line. */
export interface BackendChoice {
  readonly backend: 'cpu' | 'webgpu';
  readonly reason: string;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|\bwarp\b|microsoft basic render/i;

/** A short name for the adapter: its description, else vendor and device. */
export function adapterName(info: AdapterFacts): string {
  const text = info.description?.trim() || [info.vendor, info.device].filter((s) => s && s.trim() !== '').join(' ');
  return text === '' ? 'an unnamed adapter' : text;
}

/**
 * Why the adapter is a software rasterizer running on the CPU, or undefined for a hardware one.
 *
 * @example
 * ```ts
 * softwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7' }); // 'it is a fallback adapter'
 * softwareAdapter({ vendor: 'nvidia', description: 'NVIDIA H100' }); // undefined
 * ```
 */
export function softwareAdapter(info: AdapterFacts): string | undefined {
  if (info.isFallbackAdapter === true) return 'it is a fallback adapter';
  if (/^(software|cpu)$/i.test(info.architecture ?? '')) return `its architecture is '${info.architecture}'`;
  const text = [info.vendor, info.device, info.description].join(' ');
  const match = SOFTWARE.exec(text);
  return match ? `it is ${match[0]}, a software rasterizer` : undefined;
}

/**
 * Chooses the backend for `request` given the adapter (undefined with `unavailable` saying why
 * when there is none). Throws an ArgumentError for an unknown request; `webgpu` with no adapter
 * is an ArgumentError too, saying what to install or pass instead.
 *
 * @example
 * ```ts
 * chooseBackend('auto', { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100' }).backend; // 'webgpu'
 * chooseBackend('auto', { isFallbackAdapter: true, description: 'llvmpipe' }).backend; // 'cpu'
 * ```
 */
export function chooseBackend(request: string, adapter: AdapterFacts | undefined, unavailable = 'no WebGPU adapter'): BackendChoice {
  if (!(BACKEND_REQUESTS as readonly string[]).includes(request)) throw new ArgumentError(`demo: --backend must be one of ${BACKEND_REQUESTS.join(', ')}, got ${JSON.stringify(request)}`);
  if (request === 'cpu') return { backend: 'cpu', reason: 'asked for with --backend cpu' };
  if (request === 'webgpu') {
    if (!adapter) throw new ArgumentError(`demo: --backend webgpu, but ${unavailable}; run with --backend cpu (or auto)`);
    const software = softwareAdapter(adapter);
    return { backend: 'webgpu', reason: `asked for with --backend webgpu: ${adapterName(adapter)}${software ? ` (software: ${software}; slower than the CPU backend)` : ''}` };
  }
  if (!adapter) return { backend: 'cpu', reason: `auto: ${unavailable}` };
  const software = softwareAdapter(adapter);
  if (software) return { backend: 'cpu', reason: `auto: the WebGPU adapter ${adapterName(adapter)} runs on the CPU (${software}), slower than the CPU backend; pass --backend webgpu to use it anyway` };
  return { backend: 'webgpu', reason: `auto: a hardware WebGPU adapter, ${adapterName(adapter)}` };
}

/** A chosen backend, set as eager's current one; `release()` gives a WebGPU device back so Node can exit. */
export interface SelectedBackend extends BackendChoice {
  release(): void;
}

/**
 * Looks for a WebGPU adapter through Dawn (unless `cpu` is asked for), chooses with
 * {@link chooseBackend}, registers and sets the backend.
 *
 * @example
 * ```ts
 * const selected = await selectBackend('auto');
 * console.log(`backend: ${selected.backend} (${selected.reason})`);
 * selected.release();
 * ```
 */
export async function selectBackend(request: string): Promise<SelectedBackend> {
  if (request === 'cpu' || !(BACKEND_REQUESTS as readonly string[]).includes(request)) return { ...chooseBackend(request, undefined), release: () => {} };
  let acquired: Awaited<ReturnType<typeof import('@kiln/backend-webgpu/node').requestNodeDevice>> | undefined;
  let unavailable = 'no WebGPU adapter';
  try {
    // Loaded only here: Dawn is a native module the CPU path never needs.
    const { requestNodeDevice } = await import('@kiln/backend-webgpu/node');
    acquired = await requestNodeDevice();
  } catch (e) {
    unavailable = `no WebGPU adapter (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`;
  }
  const info: AdapterFacts | undefined = acquired && {
    vendor: acquired.adapterInfo.vendor,
    architecture: acquired.adapterInfo.architecture,
    device: acquired.adapterInfo.device,
    description: acquired.adapterInfo.description,
    isFallbackAdapter: (acquired.adapterInfo as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (acquired.adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  };
  let choice: BackendChoice;
  try {
    choice = chooseBackend(request, info, unavailable);
  } catch (e) {
    acquired?.device.destroy();
    throw e;
  }
  if (choice.backend === 'cpu' || !acquired) {
    acquired?.device.destroy();
    setBackend('cpu');
    return { ...choice, release: () => {} };
  }
  const { createWebGPUBackend } = await import('@kiln/backend-webgpu');
  const webgpu = createWebGPUBackend(acquired.device, { adapterInfo: acquired.adapterInfo });
  registerBackend('webgpu', () => webgpu);
  setBackend('webgpu');
  const device = acquired.device;
  return {
    ...choice,
    release: () => {
      setBackend('cpu');
      device.destroy();
    },
  };
}

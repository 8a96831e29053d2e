import { createWebGPUBackend, type WebGPUBackend } from '../../src/index.js';
import { requestNodeDevice } from '../../src/node.js';

/**
 * The backend the WebGPU suite runs on, or null when this machine has no adapter at all: the
 * suite then says so loudly and skips, unless KILN_REQUIRE_WEBGPU=1 (CI), where it fails.
 */
export async function acquireTestBackend(): Promise<WebGPUBackend | null> {
  try {
    const { device, adapterInfo } = await requestNodeDevice();
    return createWebGPUBackend(device, { adapterInfo });
  } catch (e) {
    if (process.env.KILN_REQUIRE_WEBGPU === '1') throw e;
    const line = '!'.repeat(100);
    console.warn(`${line}\n!! NO WEBGPU ADAPTER: the WebGPU tests are SKIPPED on this machine.\n!! ${(e as Error).message}\n!! Install lavapipe with scripts/lib/setup.sh; set KILN_REQUIRE_WEBGPU=1 to make this a failure.\n${line}`);
    return null;
  }
}

/** One backend per test file (top-level await in the file: `const gpu = await testBackend;`). */
export const testBackend: Promise<WebGPUBackend | null> = acquireTestBackend();

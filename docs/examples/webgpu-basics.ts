/**
 * Eager tensors on WebGPU in Node: the same code as on CPU, with `await t.data()` to read.
 * Run it with `pnpm exec tsx --conditions=kiln-source docs/examples/webgpu-basics.ts`.
 * Without a GPU, install Mesa's lavapipe (scripts/lib/setup.sh does) — or it says so and stops.
 */
import { createWebGPUBackend, SyncReadError, WebGPUUnavailableError } from '@kiln/backend-webgpu';
import { requestNodeDevice } from '@kiln/backend-webgpu/node';
import { registerBackend, setBackend, tensor, tidy } from '@kiln/eager';

let acquired;
try {
  acquired = await requestNodeDevice();
} catch (e) {
  if (!(e instanceof WebGPUUnavailableError)) throw e;
  console.log(`no WebGPU adapter here: ${e.message}`);
  process.exit(0);
}

// One backend per device; eager creates it on first use under the name given here.
const webgpu = createWebGPUBackend(acquired.device, { adapterInfo: acquired.adapterInfo });
registerBackend('webgpu', () => webgpu);
setBackend('webgpu');
console.log('adapter:', webgpu.adapter.description || webgpu.adapter.vendor || '(unnamed)');

// Ops are encoded into one command buffer; reading the result submits them and waits.
const x = tensor([[1, -2, 3], [-4, 5, -6]], 'float32');
const y = tidy(() => x.relu().mul(2).add(0.5).sum(1));
console.log('relu(x) * 2 + 0.5, summed per row:', await y.data());

// Synchronous reads cannot wait for the GPU: they throw and say what to do instead.
try {
  y.toArray();
} catch (e) {
  if (e instanceof SyncReadError) console.log(e.message);
}

// Moving between backends is explicit: .to() from CPU, await .toAsync() back to it.
const onCpu = await y.toAsync('cpu');
console.log('on the CPU:', onCpu.toArray());
const mixed = tensor([1, 2, 3], { backend: 'cpu' });
try {
  x.add(mixed);
} catch (e) {
  console.log((e as Error).message);
}
console.log('after .to():', await x.add(mixed.to('webgpu')).data());

// Back to the CPU for whatever runs next in this process, and let the device go so Node can exit.
setBackend('cpu');
webgpu.destroy();

/**
 * Tensors made from host data inside a compiled function become graph constants from that data,
 * never read back from the backend: a backend that cannot read synchronously (WebGPU) traces
 * them too. Checked on a CPU backend whose readSync throws as WebGPU's does (the runtime's
 * constant folding copes with that on its own), including autograd's detached view of an index
 * tensor (indexSelect's gradient reshapes it).
 */
import type { Backend, TensorType } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend, indexSelect, registerBackend, setBackend, tensor, valueAndGrad } from '@kiln/eager';
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';

const cpu = getBackend('cpu') as Backend<unknown>;
const asyncOnly: Backend<unknown> = Object.assign(Object.create(cpu) as Backend<unknown>, {
  name: 'cpu-async-reads-only',
  readSync: (_storage: unknown, type: TensorType): never => {
    throw Object.assign(new Error(`no synchronous reads on this backend (${type.dtype}[${type.shape.join(',')}])`), { name: 'SyncReadError' });
  },
  read: (storage: unknown, type: TensorType) => cpu.read(storage, type),
});
registerBackend('cpu-async-reads-only', () => asyncOnly);

describe('host-made tensors inside compile()', () => {
  afterEach(() => setBackend('cpu'));

  it('are constants from their data: tracing reads nothing back', async () => {
    setBackend('cpu-async-reads-only');
    const f = (x: Tensor) => x.mul(tensor([1, -2, 3], 'float32')).add(tensor([[10], [20]], 'float32'));
    const x = tensor([[1, 2, 3], [4, 5, 6]], 'float32');
    const y = compile(f)(x);
    expect([...(await y.data())]).toEqual([11, 6, 19, 24, 10, 38]);
  });

  it('including the detached view autograd keeps of an index tensor', async () => {
    setBackend('cpu-async-reads-only');
    const f = (x: Tensor) => valueAndGrad((w: Tensor) => indexSelect(w, 0, tensor([2, 0, 2], 'int32')).sum())(x);
    const x = tensor([1, 2, 3], 'float32');
    const [value, grad] = compile(f)(x);
    expect([...(await value.data())]).toEqual([7]);
    expect([...(await grad.data())]).toEqual([1, 0, 2]);
  });
});

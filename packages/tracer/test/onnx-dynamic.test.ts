/**
 * Batch-dynamic ONNX export (exportOnnx with `dynamic`): one file, run in onnxruntime at several
 * batch sizes, against Kiln eager at each; sizes in reshape, broadcast, full (a mean's 1/n),
 * slice and pad computed from the input's shape; named input dimensions; and refusals where a
 * varying size would have to be a number.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, ops, randn } from '@kiln/eager';
import { decodeFields } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import * as nn from '../../nn/src/index.js';
import { compile, exportOnnx } from '../src/index.js';
import { expectOrtMatches, runOnnx } from './onnx-helpers.js';

type Forward = (x: Tensor) => Tensor | Tensor[];

async function expectBatchDynamic(forward: Forward, shapeAt: (batch: number) => number[], batches: number[], tol = { rtol: 1e-4, atol: 1e-5 }): Promise<Uint8Array> {
  const bytes = exportOnnx(compile(forward), [randn(shapeAt(4))], { dynamic: { 0: [0] }, symbols: [{ name: 'batch' }], inputNames: ['x'] });
  for (const b of batches) {
    const x = randn(shapeAt(b));
    const got = await runOnnx(bytes, { x });
    [forward(x)].flat().forEach((want, k) => expectOrtMatches(got[k], want, tol, `batch ${b}, output ${k}`));
  }
  return bytes;
}

/** The dims of the first graph input of an ONNX model: numbers, or dim_param names. */
function inputDims(bytes: Uint8Array): (number | string)[] {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const sub = (b: Uint8Array, field: number) => decodeFields(b).filter((f) => f.field === field).map((f) => f.value as Uint8Array);
  const graph = sub(bytes, 7)[0];
  const tensorType = sub(sub(sub(graph, 11)[0], 2)[0], 1)[0];
  return sub(sub(tensorType, 2)[0], 1).map((dim) => {
    const f = decodeFields(dim)[0];
    return f.field === 1 ? Number(f.value) : text(f.value as Uint8Array);
  });
}

describe('exportOnnx with dynamic dimensions: one file for every batch size', () => {
  it('MLP', async () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(16, 32), new nn.GELU(), new nn.Linear(32, 4));
    const bytes = await expectBatchDynamic((x) => model.forward(x), (b) => [b, 16], [1, 3, 4, 17]);
    expect(inputDims(bytes)).toEqual(['batch', 16]);
  });

  it('CNN with BatchNorm in eval mode and a flatten (a reshape of the batch)', async () => {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 5));
    model.eval();
    await expectBatchDynamic((x) => model.forward(x), (b) => [b, 1, 6, 6], [1, 2, 9]);
  });

  it('Transformer encoder block (reshapes of the batch in attention)', async () => {
    manualSeed(3);
    const model = new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true });
    model.eval();
    await expectBatchDynamic((x) => model.forward(x), (b) => [b, 5, 16], [1, 2, 7]);
  });

  it('sizes from the batch: a mean over it, broadcasts and fills of its shape, slices and pads along it', async () => {
    const forward: Forward = (x) => [
      ops.mean(x, 0),
      ops.broadcastTo(ops.sum(x, 0, true), [...x.shape]),
      ops.add(x, ops.full([...x.shape], 0.5)),
      ops.slice(x, [[1, null], [null, null, -1]]),
      ops.pad(x, [1, 0, 0, 2]),
    ];
    await expectBatchDynamic(forward, (b) => [b, 3], [2, 3, 6]);
  });
});

describe('exportOnnx with dynamic dimensions: refusals', () => {
  it('refuses pooling over a varying height, naming it', () => {
    const f = compile((x: Tensor) => ops.maxPool2d(x, 2));
    expect(() => exportOnnx(f, [randn([1, 1, 4, 4])], { dynamic: { 0: [2] } })).toThrow(/node %0 \(maxPool2d\): the height and width of the pooled input \(axes 2\) change with the symbolic dimensions/);
  });

  it('refuses an attribute it cannot compute while the model runs', () => {
    const f = compile((x: Tensor) => ops.add(x, ops.arange(0, x.shape[0])));
    expect(() => exportOnnx(f, [randn([4])], { dynamic: { 0: [0] }, symbols: [{ name: 'n' }] })).toThrow(/\(arange\): attribute 'stop' depends on the symbolic dimensions \(n\)/);
  });
});

/**
 * Models for the CLI tests, saved as `.kiln` bytes with the tracer's `save`, and an in-memory
 * file system standing in for the process's.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, randn, tidy } from '@kiln/eager';
import * as nn from '@kiln/nn';
import { compile, save } from '@kiln/tracer';
import type { CliIO } from '../src/index.js';
import { runCli } from '../src/index.js';

export interface SavedModel {
  readonly bytes: Uint8Array;
  /** The model in eval mode, to compare results with. */
  readonly forward: (x: Tensor) => Tensor;
  readonly module: nn.Module;
  readonly example: () => Tensor;
}

function saved(make: () => nn.Module & { forward(x: Tensor): Tensor }, example: () => Tensor, dynamic: boolean): SavedModel {
  manualSeed(11);
  const module = make();
  module.train();
  tidy(() => void module.forward(example())); // BatchNorm statistics move off their initial values
  module.eval();
  const forward = (x: Tensor) => module.forward(x);
  const bytes = save(compile(forward), [example()], {
    names: module, inputNames: ['x'], outputNames: ['y'], ...(dynamic ? { dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] } : {}),
  });
  return { bytes, forward, module, example };
}

/** MLP 64-32-10, batch-dynamic (symbol `batch`, saved at 8). */
export const mlp = (): SavedModel =>
  saved(() => new nn.Sequential(new nn.Linear(64, 32), new nn.ReLU(), new nn.Linear(32, 10)), () => randn([8, 64]), true);

/** The digits CNN with BatchNorm, fixed batch 4. */
export const cnn = (): SavedModel =>
  saved(() => new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.AvgPool2d(2), new nn.Flatten(), new nn.Linear(64, 10),
  ), () => randn([4, 1, 8, 8]), false);

/** A Transformer encoder block (batch first), fixed shape [2, 5, 16]. */
export const transformer = (): SavedModel =>
  saved(() => new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true }), () => randn([2, 5, 16]), false);

/** A training step: SGD on a linear layer, saved with its state updates. */
export function trainingStep(): Uint8Array {
  manualSeed(5);
  const lin = new nn.Linear(3, 1);
  const opt = new nn.SGD(lin.parameters(), { lr: 0.1 });
  const step = compile((x: Tensor) => {
    opt.zeroGrad();
    const y = lin.forward(x);
    const loss = y.mul(y).mean();
    loss.backward();
    opt.step();
    return loss;
  });
  return save(step, [randn([4, 3])], { names: lin });
}

/** Runs the CLI on an in-memory file system; returns the exit code, output and files. */
export async function kiln(argv: string[], files: Map<string, Uint8Array> = new Map()): Promise<{ code: number; stdout: string; stderr: string; files: Map<string, Uint8Array> }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += `${t}\n`),
    stderr: (t) => void (stderr += `${t}\n`),
    readFile: (p) => {
      const b = files.get(p);
      if (!b) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return b;
    },
    writeFile: (p, b) => void files.set(p, b),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr, files };
}

/** A Transformer encoder block saved with symbolic batch and sequence length (saved at 2 and 5). */
export function transformerDynamic(): Uint8Array {
  manualSeed(12);
  const block = new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true });
  block.eval();
  return save(compile((x: Tensor) => block.forward(x)), [randn([2, 5, 16])], {
    names: block, inputNames: ['tokens'], outputNames: ['encoded'], dynamic: { 0: [0, 1] }, symbols: [{ name: 'batch' }, { name: 'seq' }],
  });
}

/** Rows of tokens flattened to one axis and back: batch·seq appears in the middle of the graph. */
export function flattened(): Uint8Array {
  manualSeed(13);
  const lin = new nn.Linear(16, 8);
  return save(compile((x: Tensor) => lin.forward(x.reshape([x.shape[0] * x.shape[1], 16])).relu()), [randn([3, 7, 16])], {
    names: lin, inputNames: ['x'], outputNames: ['y'], dynamic: { 0: [0, 1] }, symbols: [{ name: 'batch' }, { name: 'seq' }],
  });
}

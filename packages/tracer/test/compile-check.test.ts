import type { Tensor } from '@kiln/eager';
import { add, manualSeed, memory, mul, neg, rand, randint, randn, relu, tensor, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { Adam, crossEntropy, Linear, ReLU, Sequential } from '../../nn/src/index.js';
import type { CheckMismatch } from '../src/index.js';
import { compile, CompileCheckError } from '../src/index.js';

describe('compile(fn, { check: true })', () => {
  it('finds the first node that reads a JavaScript number changed since tracing', () => {
    let scale = 2;
    const f = compile((x: Tensor) => relu(mul(add(x, 1), scale)), { check: true });
    const x = tensor([1, -3], 'float32');
    expect(f(x).toArray()).toEqual([4, 0]);
    scale = 3; // the graph still multiplies by 2
    let error: CompileCheckError | undefined;
    try {
      f(x);
    } catch (e) {
      error = e as CompileCheckError;
    }
    expect(error).toBeInstanceOf(CompileCheckError);
    expect(error!.mismatch).toMatchObject({ node: 3, op: 'mul', element: { index: 0, compiled: 4, eager: 6 } });
    expect(error!.mismatch.loc!.file).toMatch(/compile-check\.test\.ts$/);
    expect(error!.message.replace(/\(recorded at [^)]*\)|, recorded at [^)]*\)/, ', recorded at <here>)')).toBe(
      'compile check: node 3 (%3: f32[2] = mul %1 %2, recorded at <here>) output 0 differs from eager at element 0: 4 compiled vs 6 eager (rtol 0.00001, atol 0.000001); the nodes before it agree. ' +
        'It reads values fixed while tracing: %2: f32[] = full {dtype="float32", shape=[], value=2} — a JavaScript number that has changed since? Keep it in a tensor, or pass it as an argument.',
    );
  });

  it('reports a different path through JavaScript branches', () => {
    let positive = true;
    const f = compile((x: Tensor) => (positive ? relu(x) : neg(x)), { check: true });
    const x = tensor([1, -2], 'float32');
    f(x);
    positive = false;
    expect(() => f(x)).toThrowError(/^compile check: the eager run took another path at node 0 \(%0: f32\[2\] = relu %a0, recorded at .*\): eager ran 'neg' there\./);
  });

  it('hands the mismatch to onMismatch and returns the compiled result', () => {
    let shift = 1;
    const seen: CheckMismatch[] = [];
    const f = compile((x: Tensor) => add(x, shift), { check: { onMismatch: (m) => seen.push(m) } });
    const x = tensor([1], 'float32');
    f(x);
    shift = 5;
    expect(f(x).toArray()).toEqual([2]); // what the graph computes
    expect(seen.map((m) => m.op)).toEqual(['add']);
  });

  it('honours the tolerances', () => {
    let eps = 0;
    const strict = compile((x: Tensor) => add(x, eps), { check: { atol: 1e-3, rtol: 0 } });
    strict(tensor([1], 'float32'));
    eps = 1e-4; // within atol
    expect(() => strict(tensor([1], 'float32'))).not.toThrow();
    eps = 1e-2;
    expect(() => strict(tensor([1], 'float32'))).toThrowError(CompileCheckError);
  });

  it('checks a whole training step, leaving the state the compiled step wrote', () => {
    const run = (check: boolean | undefined) => {
      manualSeed(5);
      const model = new Sequential(new Linear(3, 5), new ReLU(), new Linear(5, 2));
      const opt = new Adam(model.parameters(), { lr: 0.02 });
      const body = (x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(add(x, rand([1, 3]))), y);
        loss.backward();
        opt.step();
        return loss;
      };
      const step = check === undefined ? body : compile(body, { check });
      const losses = Array.from({ length: 6 }, () => tidy(() => step(randn([4, 3]), randint(0, 2, [4])).item() as number));
      return { losses, weights: model.parameters().map((p) => Array.from(p.dataSync())) };
    };
    const eager = run(undefined);
    const plain = run(false);
    const checked = run(true);
    expect(checked.losses).toEqual(plain.losses);
    expect(checked.weights).toEqual(plain.weights);
    checked.losses.forEach((l, i) => expect(l).toBeCloseTo(eager.losses[i], 5));
  });

  it('leaves no tensors behind', () => {
    const w = tensor([1, 2], 'float32').requireGrad();
    const f = compile((x: Tensor) => {
      w.zeroGrad();
      const y = mul(w, x).sum();
      y.backward();
      return y;
    }, { check: true });
    const x = tensor([3, 4], 'float32');
    tidy(() => void f(x));
    const before = memory().numTensors;
    for (let i = 0; i < 5; i++) tidy(() => void f(x));
    expect(memory().numTensors).toBe(before);
    expect(w.grad!.toArray()).toEqual([3, 4]);
  });
});

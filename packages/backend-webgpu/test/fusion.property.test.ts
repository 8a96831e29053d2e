import { KilnError, type DType } from '@kiln/core';
import { ops, registerBackend, setBackend, tensor, type Tensor } from '@kiln/eager';
import { compile } from '@kiln/tracer';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

/**
 * Random elementwise programs (with an optional trailing reduction) compiled on WebGPU — so
 * the runtime fuses them into generated WGSL kernels — against the same programs run eagerly
 * on WebGPU, one kernel per op. Values agree to float32 rounding (a fused kernel may contract
 * a·b + c into one rounding); NaN matches NaN.
 */
const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

const UNARY = ['neg', 'abs', 'exp', 'log1p', 'sqrt', 'sin', 'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'round', 'logicalNot', 'isNaN'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'lt', 'ne', 'logicalOr'] as const;
const REDUCE = ['sum', 'max', 'min', 'prod'] as const;
const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

interface Program {
  readonly domain: number[];
  readonly inputs: { keep: boolean[]; dtype: DType }[];
  readonly steps: [number, number, number, number][];
  readonly reduce: [number, number] | null;
}

const program: fc.Arbitrary<Program> = fc.integer({ min: 1, max: 3 }).chain((rank) =>
  fc.record({
    domain: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }),
    inputs: fc.array(fc.record({ keep: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }), dtype: fc.constantFrom(...DTYPES) }), { minLength: 1, maxLength: 3 }),
    steps: fc.array(fc.tuple(fc.nat(5), fc.nat(20), fc.nat(20), fc.nat(20)), { minLength: 1, maxLength: 6 }),
    reduce: fc.option(fc.tuple(fc.nat(3), fc.nat(7)), { nil: null }),
  }),
);

function run(p: Program, xs: readonly Tensor[]): Tensor {
  const pool: Tensor[] = [...xs];
  const pick = (n: number) => pool[n % pool.length];
  for (const [kind, a, b, c] of p.steps) {
    try {
      const x = pick(a);
      if (kind === 0) pool.push((ops[UNARY[b % UNARY.length]] as (v: Tensor) => Tensor)(x));
      else if (kind === 1) pool.push((ops[BINARY[b % BINARY.length]] as (u: Tensor, v: Tensor) => Tensor)(x, pick(c)));
      else if (kind === 2) pool.push((ops[BINARY[b % BINARY.length]] as (u: Tensor, v: number) => Tensor)(x, [0.5, -2, 3][c % 3]));
      else if (kind === 3) pool.push(ops.where(ops.gt(pick(b), 0), x, pick(c)));
      else if (kind === 4) pool.push(ops.cast(x, DTYPES[b % DTYPES.length]));
      else pool.push(ops.broadcastTo(x, p.domain));
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
    }
  }
  let last = pool[pool.length - 1];
  if (last.dtype === 'bool') last = ops.cast(last, 'int32');
  if (p.reduce && last.rank > 0) {
    const axes = last.shape.map((_, i) => i).filter((i) => (p.reduce![1] >> i) & 1);
    try {
      last = (ops[REDUCE[p.reduce[0]]] as (v: Tensor, axes: number[]) => Tensor)(last, axes.length ? axes : [0]);
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
    }
  }
  return last;
}

function inputsOf(p: Program, seed: number): Tensor[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return p.inputs.map(({ keep, dtype }) => {
    const shape = p.domain.map((d, k) => (keep[k] ? d : 1));
    const n = shape.reduce((x, y) => x * y, 1);
    const data = Array.from({ length: n }, () => (dtype === 'bool' ? (next() < 0.5 ? 0 : 1) : dtype === 'int32' ? Math.floor(next() * 7) - 3 : next() * 4 - 2));
    return tensor(data, { dtype, shape, backend: 'webgpu' });
  });
}

describe.skipIf(!gpu)('fused WebGPU kernels equal eager WebGPU on random programs', () => {
  afterAll(() => setBackend('cpu'));

  it('compiled (fused) == eager, to float32 rounding', async () => {
    setBackend('webgpu');
    await fc.assert(
      fc.asyncProperty(program, fc.nat(), async (p, seed) => {
        const xs = inputsOf(p, seed);
        const eager = run(p, xs);
        const compiled = compile((...args: Tensor[]) => run(p, args))(...xs);
        expect(compiled.shape).toEqual(eager.shape);
        expect(compiled.dtype).toBe(eager.dtype);
        const [want, got] = [await eager.data(), await compiled.data()];
        for (let i = 0; i < want.length; i++) {
          const [w, g] = [want[i], got[i]];
          const same = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= 1e-5 * Math.max(1, Math.abs(w));
          expect(same, `element ${i}: compiled ${g}, eager ${w}`).toBe(true);
        }
      }),
      { numRuns: 40, seed: 20261122 },
    );
  });
});

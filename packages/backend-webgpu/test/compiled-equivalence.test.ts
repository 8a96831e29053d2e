/**
 * Compiled equals eager on WebGPU: the tracer's property-based random programs (unary, binary,
 * reduction, shape, indexing and nn ops on random shapes and dtypes) run eagerly on WebGPU and
 * compiled on WebGPU — the runtime's whole pipeline, fused WGSL kernels included — and every
 * value is compared. Exact where no op rounded (integers, booleans, shape ops, comparisons of
 * exact values), else within float32 tolerance scaled to the tensor's magnitude (rtol 1e-4,
 * atol 1e-5·max(1, max|eager|), the CPU suite's FLOAT32): a fused kernel may contract a·b+c
 * into an FMA where the op-by-op kernels round twice. Programs that make a float64 value are
 * skipped (WebGPU has no float64); the test prints how many ran. Index tensors the programs
 * make from host data inside the function are traced as constants from that data (no readback,
 * which WebGPU would refuse).
 */
import type { Tensor } from '@kiln/eager';
import { registerBackend, setBackend, tidy, valueAndGrad } from '@kiln/eager';
import { compile } from '@kiln/tracer';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FLOAT32, firstDifference } from '../../tracer/test/equivalence-compare.js';
import type { InputSpec, Mode, Program } from '../../tracer/test/equivalence-programs.js';
import { makeInput, programLoss, runProgram } from '../../tracer/test/equivalence-programs.js';
import { testBackend } from './helpers/device.js';

const gpu = await testBackend;
if (gpu) registerBackend('webgpu', () => gpu);

const dim = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 4 }), weight: 8 }, { arbitrary: fc.constant(0), weight: 1 });

function programArb(mode: Mode): fc.Arbitrary<Program> {
  const dtypes = mode === 'values' ? (['float32', 'float32', 'int32', 'bool'] as const) : (['float32'] as const);
  const input: fc.Arbitrary<InputSpec> = fc.record({ shape: fc.array(mode === 'values' ? dim : fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), dtype: fc.constantFrom(...dtypes), seed: fc.nat(1_000_000) });
  return fc.record({
    inputs: fc.array(input, { minLength: 1, maxLength: 3 }),
    steps: fc.array(fc.array(fc.nat(10_000), { minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 10 }),
  });
}

/** Whether the program stays off float64 (decided on the CPU: dtypes do not depend on the backend). */
function fitsWebGPU(program: Program, mode: Mode): boolean {
  setBackend('cpu');
  return tidy(() => {
    const inputs = program.inputs.map((s) => makeInput(s));
    const values = mode === 'values' ? runProgram(program, inputs, mode).values : [programLoss(program, inputs)];
    return values.every((t) => t.dtype !== 'float64');
  });
}

/** A WebGPU tensor's values as a CPU tensor (so the tracer suite's comparison can read it). */
const toCpu = (t: Tensor): Promise<Tensor> => t.toAsync('cpu');

async function firstMismatch(got: readonly Tensor[], want: readonly Tensor[], exact: readonly boolean[]): Promise<string | undefined> {
  if (got.length !== want.length) return `${got.length} values, eager ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const [g, w] = [await toCpu(got[i]), await toCpu(want[i])];
    const diff = firstDifference(g, w, exact[i] ?? false, FLOAT32);
    g.dispose();
    w.dispose();
    if (diff) return `value ${i} (${want[i].dtype}[${want[i].shape}]): ${diff}`;
  }
  return undefined;
}

const ran = { values: 0, special: 0, grad: 0 };

async function checkValues(program: Program, special: boolean): Promise<void> {
  if (!fitsWebGPU(program, 'values')) return;
  setBackend('webgpu');
  const compiled = compile((...xs: Tensor[]) => runProgram(program, xs, 'values').values);
  for (const salt of [0, 1]) {
    const inputs = program.inputs.map((s) => makeInput(s, salt, special));
    const eager = runProgram(program, inputs, 'values');
    const got = compiled(...inputs);
    expect(got.every((t) => t.backend === 'webgpu')).toBe(true);
    const diff = await firstMismatch(got, eager.values, eager.exact);
    for (const t of [...inputs, ...eager.values, ...got]) t.dispose();
    expect(diff, `salt ${salt}`).toBeUndefined();
  }
  expect(compiled.stats.traces).toBe(1);
  ran[special ? 'special' : 'values']++;
}

async function checkGradients(program: Program): Promise<void> {
  if (!fitsWebGPU(program, 'grad')) return;
  setBackend('webgpu');
  const argnums = program.inputs.map((_, i) => i);
  const f = (...xs: Tensor[]) => valueAndGrad((...ys: Tensor[]) => programLoss(program, ys), argnums)(...xs);
  const compiled = compile(f);
  const inputs = program.inputs.map((s) => makeInput(s, 0));
  const [value, grads] = f(...inputs);
  const [cValue, cGrads] = compiled(...inputs);
  const diff = await firstMismatch([cValue, ...cGrads], [value, ...grads], []);
  for (const t of [...inputs, value, ...grads, cValue, ...cGrads]) t.dispose();
  expect(diff).toBeUndefined();
  ran.grad++;
}

describe.skipIf(!gpu)('random programs on WebGPU: compiled equals eager', () => {
  afterAll(() => {
    setBackend('cpu');
    console.info(`compiled vs eager on WebGPU: ${JSON.stringify(ran)} programs compared (the rest made float64 values)`);
  });

  it('values, on random shapes and dtypes (float32, int32, bool), two data sets per signature', async () => {
    await fc.assert(fc.asyncProperty(programArb('values'), (p) => checkValues(p, false)), { numRuns: 60, seed: 11 });
    expect(ran.values).toBeGreaterThan(30);
  }, 120_000);

  it('values with NaN, ±Infinity and ±0 in the float inputs', async () => {
    await fc.assert(fc.asyncProperty(programArb('values'), (p) => checkValues(p, true)), { numRuns: 30, seed: 12 });
    expect(ran.special).toBeGreaterThan(15);
  }, 120_000);

  it('gradients: valueAndGrad inside the compiled function equals eager valueAndGrad', async () => {
    await fc.assert(fc.asyncProperty(programArb('grad'), (p) => checkGradients(p)), { numRuns: 20, seed: 13 });
    expect(ran.grad).toBeGreaterThan(8);
  }, 120_000);
});

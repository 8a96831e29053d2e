import { readFileSync } from 'node:fs';
import type { DType, Value } from '@kiln/core';
import { createOps, getOp, GraphBuilder } from '@kiln/core';
import { expect } from 'vitest';
import type { Tensor } from '../../src/index.js';
import * as kiln from '../../src/index.js';

/*
 * Runner for packages/eager/test/golden/grad.json, written by scripts/golden/gen_grad.py. A case
 * is a forward golden (op, inputs, args with {ref} tensor arguments, outputs) plus the indices of
 * the inputs differentiated (`grad`), one cotangent weight per output (`weights`), and PyTorch's
 * gradients of Σ sum(outputs[k] · weights[k]) with respect to those inputs (`grads`).
 */

type Num = number | 'nan' | 'inf' | '-inf';
export interface EncodedTensor { dtype: DType; shape: number[]; data: Num[] }
interface Ref { ref: number; permute?: number[] }
type Arg = Ref | Arg[] | number | string | boolean | null | { [option: string]: unknown };
export interface GradCase {
  op: string;
  name: string;
  inputs: EncodedTensor[];
  args: Arg[];
  grad: number[];
  weights: EncodedTensor[];
  outputs: EncodedTensor[];
  grads: EncodedTensor[];
  rtol?: number;
  atol?: number;
}

export function loadGradGolden(): GradCase[] {
  const url = new URL('../golden/grad.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: GradCase[] }).cases;
}

const decodeNum = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

function decode(t: EncodedTensor): Tensor {
  return kiln.tensor(t.data.map(decodeNum), { dtype: t.dtype, shape: t.shape });
}

function isRef(a: unknown): a is Ref {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && 'ref' in a;
}

/** The case's arguments with refs replaced by `inputs[i]` (permuted through `permute` where asked). */
function resolveArgs<V>(args: readonly Arg[], inputs: readonly V[], permute: (v: V, axes: number[]) => V): unknown[] {
  return args.map((a) => {
    if (isRef(a)) return a.permute ? permute(inputs[a.ref], a.permute) : inputs[a.ref];
    if (Array.isArray(a) && a.some(isRef)) return resolveArgs(a, inputs, permute);
    if (a === 'nan' || a === 'inf' || a === '-inf') return decodeNum(a);
    return a;
  });
}

type SurfaceFn = (...args: unknown[]) => unknown;
function surfaceFn(ops: object, name: string): SurfaceFn {
  const fn = (ops as Record<string, SurfaceFn | undefined>)[name];
  if (typeof fn !== 'function') throw new Error(`grad golden: '${name}' is not an op-surface function`);
  return fn;
}

/**
 * The differentiable primitives without a `vjp` rule that the case's gradient would flow through:
 * the op is traced over types (GraphBuilder expands composites) and every primitive reachable
 * from a differentiated input is checked. Empty when the case can run.
 */
export function missingVjps(c: GradCase): string[] {
  const builder = new GraphBuilder();
  const inputs = c.inputs.map((t, i) => builder.input({ dtype: t.dtype, shape: t.shape }, `x${i}`));
  const ops = createOps(builder);
  surfaceFn(ops, c.op)(...resolveArgs(c.args, inputs, (v, axes) => ops.permute(v, axes)));
  const reached = new Set<Value>(c.grad.map((i) => inputs[i]));
  const missing = new Set<string>();
  for (const node of builder.build([]).nodes) {
    if (!node.inputs.some((v) => reached.has(v))) continue;
    const def = getOp(node.op);
    if (def.kind !== 'primitive' || !def.differentiable) continue;
    if (!def.vjp) missing.add(node.op);
    node.outputs.forEach((v) => reached.add(v));
  }
  return [...missing].sort();
}

// Kiln's CPU kernels compute in float64 and round each op's result; PyTorch float32 kernels
// accumulate in float32, so float32 gradients agree to a few ulps of their inputs' scale.
const DEFAULT_TOL: Partial<Record<DType, [number, number]>> = { float64: [1e-9, 1e-12], float32: [1e-4, 1e-5] };

/** Asserts dtype, shape and values (NaN matches NaN, ±Inf exactly) of a Kiln tensor against a golden one. */
export function expectTensorClose(what: string, actual: Tensor, expected: EncodedTensor, rtol?: number, atol?: number): void {
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype);
  expect([...actual.shape], `${what}: shape`).toEqual(expected.shape);
  const [r, a] = DEFAULT_TOL[expected.dtype] ?? [0, 0];
  const rt = rtol ?? r;
  const at = atol ?? a;
  const got = actual.dataSync();
  const bad: string[] = [];
  expected.data.map(decodeNum).forEach((y, i) => {
    const x = Number(got[i]);
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Math.abs(x - y) <= at + rt * Math.abs(y);
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${x}, want ${y}`);
  });
  expect(bad, `${what}: mismatches (rtol ${rt}, atol ${at})`).toEqual([]);
}

/**
 * Runs one case in eager Kiln: `valueAndGrad` of Σ sum(op(...args)[k] · weights[k]) with respect
 * to the inputs listed in `grad`, then compares the op's outputs and the gradients with PyTorch's.
 */
export function runGradCase(c: GradCase): void {
  kiln.tidy(() => {
    const fn = surfaceFn(kiln.ops, c.op);
    const inputs = c.inputs.map(decode);
    const weights = c.weights.map(decode);
    let outputs: Tensor[] = [];
    const loss = (...vars: Tensor[]): Tensor => {
      const xs = inputs.slice();
      c.grad.forEach((i, k) => (xs[i] = vars[k]));
      const result = fn(...resolveArgs(c.args, xs, (v, axes) => kiln.permute(v, axes)));
      outputs = (Array.isArray(result) ? result : [result]) as Tensor[];
      return outputs.map((o, k) => kiln.sum(kiln.mul(o, weights[k]))).reduce((s, term) => kiln.add(s, term));
    };
    const [, grads] = kiln.valueAndGrad(loss, c.grad.map((_, k) => k))(...c.grad.map((i) => inputs[i]));
    expect(outputs.length, 'number of outputs').toBe(c.outputs.length);
    outputs.forEach((o, k) => expectTensorClose(`output ${k}`, o, c.outputs[k], c.rtol, c.atol));
    grads.forEach((d, k) => expectTensorClose(`gradient of input ${c.grad[k]}`, d, c.grads[k], c.rtol, c.atol));
  });
}

const outcomes = new Map<GradCase, Error | null>();

/** runGradCase, once per case: the error it threw, or null if it passed. */
export function gradCaseOutcome(c: GradCase): Error | null {
  if (!outcomes.has(c)) {
    try {
      runGradCase(c);
      outcomes.set(c, null);
    } catch (e) {
      outcomes.set(c, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return outcomes.get(c)!;
}

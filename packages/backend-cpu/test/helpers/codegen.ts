import type { DType, Graph, TypedArray, Value } from '@kiln/core';
import { getOp, toTypedArray } from '@kiln/core';
import { expect } from 'vitest';
import type { CpuValue } from './cpu_ops.js';
import { cpu } from './cpu_ops.js';

/** Runs a graph node by node with the reference kernels (fused nodes get their bodies). */
export function runReference(graph: Graph, inputs: readonly CpuValue[]): TypedArray[] {
  const env = new Map<Value, TypedArray>();
  graph.inputs.forEach((v, i) => env.set(v, inputs[i].data));
  for (const node of graph.nodes) {
    const args = node.inputs.map((v) => ({ storage: env.get(v)!, type: v.type }));
    const outs = cpu.run(getOp(node.op), args, node.attrs, node.outputs.map((v) => v.type), undefined, node.subgraphs);
    node.outputs.forEach((v, i) => env.set(v, outs[i]));
  }
  return graph.outputs.map((v) => env.get(v)!);
}

/** Runs `body` as one fused node (fusedElementwise, or matmulEpilogue with `op`). */
export function runFused(body: Graph, inputs: readonly CpuValue[], op = 'fusedElementwise'): TypedArray[] {
  const args = inputs.map((x) => ({ storage: x.data, type: { dtype: x.dtype, shape: x.shape } }));
  return cpu.run(getOp(op), args, {}, body.outputs.map((v) => v.type), undefined, [body]);
}

/** Bit-for-bit equality of typed arrays (same kind; NaN equals NaN; -0 differs from 0), naming the first difference. */
export function expectIdentical(actual: readonly TypedArray[], expected: readonly TypedArray[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, k) => {
    const e = expected[k];
    expect(a.constructor.name, `output ${k} kind`).toBe(e.constructor.name);
    expect(a.length, `output ${k} length`).toBe(e.length);
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], e[i])) expect.fail(`output ${k} element ${i}: got ${Object.is(a[i], -0) ? '-0' : a[i]}, expected ${Object.is(e[i], -0) ? '-0' : e[i]}`);
    }
  });
}

/** Deterministic pseudo-random values for a shape (a small LCG), with specials mixed in when asked. */
export function randomValue(shape: readonly number[], dtype: DType, seed: number, specials = false): CpuValue {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const size = shape.reduce((a, b) => a * b, 1);
  const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e30, -1e-30];
  const data = Array.from({ length: size }, () => {
    if (dtype === 'bool') return next() < 0.5 ? 1 : 0;
    if (dtype === 'int32') return specials && next() < 0.1 ? [2147483647, -2147483648, 0][Math.floor(next() * 3)] : Math.floor(next() * 21) - 10;
    if (specials && next() < 0.15) return SPECIAL[Math.floor(next() * SPECIAL.length)];
    return (next() - 0.5) * 8;
  });
  return { data: toTypedArray(dtype, data), shape, dtype };
}

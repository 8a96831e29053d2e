/**
 * ONNX export of control flow: cond → If, whileLoop → Loop, scan → Loop (see
 * onnx-cases-elementwise.ts for how cases run), each compared with Kiln's eager result.
 */
import type { Tensor } from '@kiln/eager';
import { cond, ops, scan, whileLoop } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { values } from './onnx-cases-elementwise.js';
import { checkExport, type OpCase } from './onnx-runner.js';

const CONTROL_CASES: OpCase[] = [
  {
    name: 'cond on a tensor predicate', covers: ['cond'],
    fn: (x) => cond(ops.gt(ops.sum(x), 0), (a: Tensor) => ops.mul(a, 2), (a: Tensor) => ops.neg(a), [x]) as Tensor,
    inputs: () => [values([2, 3])],
  },
  {
    name: 'cond taking the else branch', covers: ['cond'],
    fn: (x) => cond(ops.gt(ops.sum(x), 100), (a: Tensor) => ops.mul(a, 2), (a: Tensor) => a, [x]) as Tensor,
    inputs: () => [values([2, 3])],
  },
  {
    name: 'whileLoop doubling until a bound', covers: ['whileLoop'],
    fn: (x) => {
      const [v, n] = whileLoop(([v]: Tensor[]) => ops.lt(ops.sum(v), 100), ([v, n]: Tensor[]) => [ops.mul(v, 2), ops.add(n, 1)], [ops.abs(x), ops.zeros([], 'int32')]);
      return [v, n];
    },
    inputs: () => [values([3], 1)],
  },
  {
    name: 'scan: running sum and per-step outputs, forwards and reversed', covers: ['scan'],
    fn: (xs) => {
      const step = (c: Tensor, x: Tensor) => [ops.add(c, x), ops.mul(c, x)] as const;
      const [c, ys] = scan(step, ops.zeros([3]), xs);
      const [rc, rys] = scan(step, ops.zeros([3]), xs, { reverse: true });
      return [c, ys, rc, rys];
    },
    inputs: () => [values([4, 3])],
  },
];

describe('ONNX export matches Kiln: control flow', () => {
  const covered = new Set<string>();
  for (const c of CONTROL_CASES) {
    it(c.name, async () => {
      for (const op of await checkExport(c)) covered.add(op);
    });
  }
  it('covers cond, whileLoop and scan (run after the cases)', () => {
    expect(['cond', 'whileLoop', 'scan'].filter((op) => !covered.has(op))).toEqual([]);
  });
});

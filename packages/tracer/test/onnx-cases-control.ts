/**
 * ONNX export cases for control flow: cond → If, whileLoop → Loop, scan → Loop (see
 * onnx-cases-elementwise.ts for how cases run).
 */
import type { Tensor } from '@kiln/eager';
import { cond, ops, scan, whileLoop } from '@kiln/eager';
import { values } from './onnx-cases-elementwise.js';
import type { OpCase } from './onnx-runner.js';

export const CONTROL_CASES: OpCase[] = [
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

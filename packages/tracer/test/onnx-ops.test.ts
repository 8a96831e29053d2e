/**
 * Op-level ONNX export tests: every op export can lower runs in onnxruntime and agrees with
 * Kiln's eager result (see the case files), and no lowering of a primitive goes untested
 * (control flow: onnx-control.test.ts; fused bodies: the serializer's onnx-export.test.ts).
 */
import { getOp, hasOp } from '@kiln/core';
import { ONNX_LOWERINGS, ONNX_REFUSED_OPS } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { ELEMENTWISE_CASES, REDUCTION_CASES } from './onnx-cases-elementwise.js';
import { SHAPE_CASES } from './onnx-cases-shape.js';
import { checkExport, type OpCase } from './onnx-runner.js';

const covered = new Set<string>();
const groups: [string, OpCase[]][] = [['elementwise', ELEMENTWISE_CASES], ['reductions', REDUCTION_CASES], ['shaping, creation and nn', SHAPE_CASES]];

for (const [group, cases] of groups) {
  describe(`ONNX export matches Kiln: ${group}`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        for (const op of await checkExport(c)) covered.add(op);
      });
    }
  });
}

describe('ONNX export coverage', () => {
  it('has a passing case for every op it can lower (run after the cases)', () => {
    const elsewhere = ['fusedElementwise', 'matmulEpilogue', 'cond', 'whileLoop', 'scan'];
    const lowered = [...ONNX_LOWERINGS.keys()].filter((op) => hasOp(op) && getOp(op).kind === 'primitive');
    const untested = lowered.filter((op) => !ONNX_REFUSED_OPS.has(op) && !covered.has(op) && !elsewhere.includes(op));
    expect(untested).toEqual([]);
  });
});

/**
 * ONNX export of control flow (the cases in onnx-cases-control.ts), each compared with Kiln's
 * eager result.
 */
import { describe, expect, it } from 'vitest';
import { CONTROL_CASES } from './onnx-cases-control.js';
import { checkExport } from './onnx-runner.js';

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

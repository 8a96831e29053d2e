import type { DType, Interpreter, TypedArray } from '@kiln/core';
import { createOps, inferTypes, toTypedArray } from '@kiln/core';
import { createCpuBackend } from '../../src/index.js';

/** A value for running the op surface straight on the CPU backend, without eager tensors. */
export interface CpuValue {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export const cpu = createCpuBackend();

let nextStream = 0;
/** Restarts the test interpreter's random streams at 0. */
export function resetRandomKeys(): void {
  nextStream = 0;
}

/** Runs every bound op on the CPU backend at once; composites expand unless a fused kernel exists. */
export const cpuInterpreter: Interpreter<CpuValue> = {
  bind(op, inputs, attrs) {
    if (op.kind === 'composite' && !cpu.hasKernel(op.name)) return op.expand(cpuOps, inputs, attrs, (v) => v);
    const types = inferTypes(op, inputs, attrs);
    const out = cpu.run(op, inputs.map((x) => ({ storage: x.data, type: x })), attrs, types);
    return out.map((data, i) => ({ data, ...types[i] }));
  },
  typeOf: (v) => v,
  scalar: (value, dtype) => ({ data: toTypedArray(dtype, [value]), shape: [], dtype }),
  // Deterministic keys for tests: seed 0, streams 0, 1, 2, … (reset with resetRandomKeys()).
  randomKey: () => value([0, nextStream++], [2], 'int32'),
  isValue: (x): x is CpuValue => typeof x === 'object' && x !== null && 'data' in x && 'dtype' in x,
};

export const cpuOps = createOps(cpuInterpreter);

/** A CPU value from flat data. */
export function value(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): CpuValue {
  return { data: toTypedArray(dtype, data), shape, dtype };
}

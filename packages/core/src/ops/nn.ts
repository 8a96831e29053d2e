import type { Interpreter } from './interpreter.js';
import type { OpDef } from './op.js';
import type { Ops } from './surface.js';

export const nnDefs: readonly OpDef<any>[] = [];

export interface NNOps<V> {}

export function nnOps<V>(_I: Interpreter<V>, _ops: Ops<V>): NNOps<V> {
  return {};
}

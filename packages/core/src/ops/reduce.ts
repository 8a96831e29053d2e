import type { Interpreter } from './interpreter.js';
import type { OpDef } from './op.js';
import type { Ops } from './surface.js';

export const reduceDefs: readonly OpDef<any>[] = [];

export interface ReduceOps<V> {}

export function reduceOps<V>(_I: Interpreter<V>, _ops: Ops<V>): ReduceOps<V> {
  return {};
}

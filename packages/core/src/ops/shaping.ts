import type { Interpreter } from './interpreter.js';
import type { OpDef } from './op.js';
import type { Ops } from './surface.js';

export const shapingDefs: readonly OpDef<any>[] = [];

export interface ShapingOps<V> {}

export function shapingOps<V>(_I: Interpreter<V>, _ops: Ops<V>): ShapingOps<V> {
  return {};
}

import type { Ops } from '@kiln/core';
import { rawOps } from './dispatch.js';
import { abandonScope, closeScopeWith, openScope } from './memory.js';
import type { Tensor } from './tensor.js';

type AnyFn = (...args: unknown[]) => unknown;

/** `fn` run in its own scope: tensors it makes and does not return are disposed when it returns. */
function scoped(fn: AnyFn): AnyFn {
  return (...args) => {
    const mark = openScope();
    let result: unknown;
    try {
      result = fn(...args);
    } catch (e) {
      abandonScope(mark);
      throw e;
    }
    closeScopeWith(mark, result);
    return result;
  };
}

/**
 * The public op surface: each call runs in its own scope, so temporaries an op makes (casts
 * for promotion, scalar operands, the insides of composites) are freed when it returns.
 */
export const ops: Ops<Tensor> = Object.fromEntries(Object.entries(rawOps).map(([name, fn]) => [name, scoped(fn as AnyFn)])) as unknown as Ops<Tensor>;

import type { Ops } from '@kiln/core';
import { rawOps } from './dispatch.js';
import { tidy } from './memory.js';
import type { Tensor } from './tensor.js';

/**
 * The public op surface: each call runs in its own scope, so temporaries an op makes (casts
 * for promotion, scalar operands, the insides of composites) are freed when it returns.
 */
export const ops: Ops<Tensor> = Object.fromEntries(
  Object.entries(rawOps).map(([name, fn]) => [name, (...args: unknown[]) => tidy(() => (fn as (...a: unknown[]) => unknown)(...args))]),
) as unknown as Ops<Tensor>;

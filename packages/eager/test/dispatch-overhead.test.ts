import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ShapeError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { add, cast, div, keep, memory, mul, split, sub, sum, tensor, tidy } from '../src/index.js';
import type { Tensor } from '../src/index.js';

// The fast eager dispatch path (per-op scopes on a stack, cached types per op signature, batched
// FinalizationRegistry registration) must behave exactly like the general one.

describe('per-op scopes', () => {
  it('free the temporaries an op makes (casts, scalar operands) and keep its result', () => {
    const i = tensor([1, 2, 3], 'int32');
    const before = memory().numTensors;
    const y = div(i, 2); // casts i to float32 and makes a scalar: both temporaries
    expect(y.dtype).toBe('float32');
    expect(y.toArray()).toEqual([0.5, 1, 1.5]);
    expect(memory().numTensors).toBe(before + 1);
    y.dispose();
    i.dispose();
  });

  it('free the temporaries of an op that throws', () => {
    const a = tensor([1, 2, 3], 'int32');
    const b = tensor([1, 2], 'float32');
    const before = memory();
    expect(() => add(a, b)).toThrow(ShapeError); // a is cast to float32 before the shape check
    expect(memory()).toEqual(before);
    a.dispose();
    b.dispose();
  });

  it('keep every piece of an op that returns a list', () => {
    const x = tensor([1, 2, 3, 4], 'float32');
    const before = memory().numTensors;
    const parts = split(x, 2);
    expect(parts.map((p) => p.toArray())).toEqual([[1, 2], [3, 4]]);
    expect(memory().numTensors).toBe(before + 2);
    parts.forEach((p) => p.dispose());
    x.dispose();
  });

  it('inside tidy: op results belong to the tidy, which frees all but its result', () => {
    const x = tensor([1, 2], 'float32');
    const before = memory();
    const y = tidy(() => {
      const inner = tidy(() => [mul(x, 3), add(x, 1)]);
      const kept = keep(sub(x, 1));
      return { z: add(inner[0], inner[1]), kept };
    });
    expect(y.z.toArray()).toEqual([5, 9]);
    expect(memory().numTensors).toBe(before.numTensors + 2);
    y.z.dispose();
    y.kept.dispose();
    expect(memory()).toEqual(before);
    x.dispose();
  });

  it('keep() takes a tensor out of an outer tidy from inside an inner one', () => {
    const x = tensor([1, 2], 'float32');
    let outer: Tensor | undefined;
    const before = memory().numTensors;
    tidy(() => {
      outer = add(x, 1);
      tidy(() => keep(outer!));
      mul(x, 2);
    });
    expect(outer!.isDisposed).toBe(false);
    expect(memory().numTensors).toBe(before + 1);
    outer!.dispose();
    x.dispose();
  });

  it('leave memory flat over thousands of ops in nested tidies', () => {
    const x = tensor([1, 2, 3, 4], 'float32');
    const before = memory();
    for (let k = 0; k < 20; k++) {
      tidy(() => {
        let acc = x;
        for (let i = 0; i < 200; i++) acc = tidy(() => add(mul(acc, 0.5), cast(x, 'float64')));
        return sum(acc);
      }).dispose();
    }
    expect(memory()).toEqual(before);
    x.dispose();
  });
});

describe('cached op signatures', () => {
  it('give each signature its own types, and still reject a bad one after a good one', () => {
    const a = tensor([1, 2, 3], 'float32');
    const b = tensor([[10], [20]], 'float32');
    const c = tensor([1, 2], 'float64');
    for (let k = 0; k < 3; k++) {
      expect(add(a, a).shape).toEqual([3]);
      const ab = add(a, b);
      expect(ab.shape).toEqual([2, 3]);
      expect(ab.toArray()).toEqual([[11, 12, 13], [21, 22, 23]]);
      expect(add(a, c.reshape([2, 1])).dtype).toBe('float64');
      expect(() => add(a, c)).toThrow(ShapeError);
    }
    for (const t of [a, b, c]) t.dispose();
  });

  it('share frozen shapes, so a mutation cannot corrupt later results', () => {
    const a = tensor([1, 2], 'float32');
    const y = add(a, a);
    expect(Object.isFrozen(y.shape)).toBe(true);
    expect(() => (y.shape as number[]).push(1)).toThrow(TypeError);
    expect(add(a, a).shape).toEqual([2]);
    y.dispose();
    a.dispose();
  });
});

describe('batched FinalizationRegistry registration', () => {
  it('still frees forgotten tensors, from full batches and from the last one', () => {
    const script = fileURLToPath(new URL('./fixtures/finalizer-batched.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--expose-gc', '--conditions=kiln-source', '--import', 'tsx', script], { encoding: 'utf8' });
    const { before, during, after } = JSON.parse(out.trim().split('\n').pop()!);
    expect(during.numTensors - before.numTensors).toBe(2010);
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});

import { describe, expect, it } from 'vitest';
import { getOp, hasOp, KernelError, KernelRegistry, listOps, UnknownOpError } from '../src/index.js';

describe('op table', () => {
  it('defines each op once, with a doc line', () => {
    const names = listOps().map((op) => op.name);
    expect(new Set(names).size).toBe(names.length);
    for (const op of listOps()) expect(op.doc.length, op.name).toBeGreaterThan(5);
  });

  it('unknown op names throw UnknownOpError with suggestions', () => {
    expect(hasOp('matmul')).toBe(true);
    expect(() => getOp('matmull')).toThrowError(UnknownOpError);
    expect(() => getOp('matmull')).toThrowError(/unknown op 'matmull'. Did you mean 'matmul'\?/);
  });
});

describe('kernel registry', () => {
  it('throws on duplicate registration, unknown ops and missing kernels', () => {
    const reg = new KernelRegistry<() => void>('test');
    reg.register('relu', () => {});
    expect(() => reg.register('relu', () => {})).toThrowError(KernelError);
    expect(() => reg.register('relu', () => {})).toThrowError("backend 'test': a kernel for 'relu' is already registered");
    expect(() => reg.register('nope', () => {})).toThrowError(UnknownOpError);
    expect(() => reg.get('exp')).toThrowError("backend 'test' has no kernel for op 'exp'");
    expect(() => reg.get('softmax')).toThrowError(/it is a composite/);
  });
});

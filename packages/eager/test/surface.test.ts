import { createOps, typeInterpreter } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import * as kiln from '../src/index.js';
import { NOT_METHODS, TENSOR_METHODS } from '../src/methods.js';

const surface = Object.keys(createOps(typeInterpreter)).sort();

describe('the eager API covers the whole op surface', () => {
  it('exports every op as a free function', () => {
    const missing = surface.filter((name) => typeof (kiln as Record<string, unknown>)[name] !== 'function');
    expect(missing).toEqual([]);
  });

  it('has a Tensor method for every op whose first argument is a tensor', () => {
    const expected = surface.filter((name) => !NOT_METHODS.includes(name));
    expect([...TENSOR_METHODS].sort()).toEqual(expected);
    const proto = kiln.Tensor.prototype as unknown as Record<string, unknown>;
    for (const name of TENSOR_METHODS) expect(typeof proto[name], name).toBe('function');
  });

});

import { describe, expect, it } from 'vitest';
import { PLANNED_PASSES } from '../src/index.js';

describe('PLANNED_PASSES', () => {
  it('lists the pipeline in order', () => {
    expect(PLANNED_PASSES).toEqual(['dce', 'cse', 'fold-constants', 'simplify', 'fuse']);
  });

  it('has unique kebab-case names, so a pass can be named on a command line to bisect', () => {
    expect(new Set(PLANNED_PASSES).size).toBe(PLANNED_PASSES.length);
    for (const name of PLANNED_PASSES) expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('fuses last, after the passes that shrink the graph', () => {
    expect(PLANNED_PASSES.at(-1)).toBe('fuse');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(PLANNED_PASSES)).toBe(true);
  });
});

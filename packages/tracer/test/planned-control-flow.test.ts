import { describe, expect, it } from 'vitest';
import { PLANNED_CONTROL_FLOW } from '../src/index.js';

describe('PLANNED_CONTROL_FLOW', () => {
  it('lists the structured control-flow constructs compile() will offer', () => {
    expect(PLANNED_CONTROL_FLOW).toEqual(['cond', 'whileLoop', 'scan']);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(PLANNED_CONTROL_FLOW)).toBe(true);
  });
});

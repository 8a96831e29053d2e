import { describe, expect, it } from 'vitest';
import { KILN_FILE_EXTENSION, KILN_FILE_IDENTIFIER, KILN_SCHEMA_VERSION, WEIGHTS_ALIGNMENT } from '../src/index.js';

describe('.kiln format constants', () => {
  it('uses a file identifier FlatBuffers accepts: exactly 4 ASCII bytes', () => {
    expect(KILN_FILE_IDENTIFIER).toBe('KILN');
    const bytes = new TextEncoder().encode(KILN_FILE_IDENTIFIER);
    expect(bytes.length).toBe(4);
    expect([...bytes].every((b) => b > 0 && b < 128)).toBe(true);
  });

  it('has a frozen (major, minor) schema version of non-negative integers', () => {
    expect(Number.isInteger(KILN_SCHEMA_VERSION.major) && KILN_SCHEMA_VERSION.major >= 0).toBe(true);
    expect(Number.isInteger(KILN_SCHEMA_VERSION.minor) && KILN_SCHEMA_VERSION.minor >= 0).toBe(true);
    expect(Object.isFrozen(KILN_SCHEMA_VERSION)).toBe(true);
  });

  it('aligns weights to a power of two no smaller than the largest element (8 bytes)', () => {
    expect(WEIGHTS_ALIGNMENT).toBe(64);
    expect(WEIGHTS_ALIGNMENT & (WEIGHTS_ALIGNMENT - 1)).toBe(0);
    expect(WEIGHTS_ALIGNMENT).toBeGreaterThanOrEqual(8);
  });

  it('names files with the .kiln extension', () => {
    expect(KILN_FILE_EXTENSION).toBe('.kiln');
  });
});

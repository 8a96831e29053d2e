import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PACKAGE_INFO } from '../src/index.js';

describe('PACKAGE_INFO', () => {
  it('names this package as package.json does', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string };
    expect(PACKAGE_INFO.name).toBe(pkg.name);
  });

  it('says it is a working webgpu backend (every primitive has a kernel: coverage.test.ts)', () => {
    expect(PACKAGE_INFO).toEqual({ name: '@kiln/backend-webgpu', backend: 'webgpu', status: 'working' });
    expect(Object.isFrozen(PACKAGE_INFO)).toBe(true);
  });
});

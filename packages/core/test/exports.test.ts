import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Dependent packages' declaration files must be able to name every type the op surface uses
// (TypeScript error TS2742 otherwise), so core's index re-exports the types of every op file.
describe('core index', () => {
  it('re-exports the types of every op group file', () => {
    const dir = new URL('../src/ops/', import.meta.url);
    const index = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
    const withTypes = readdirSync(dir).filter((f) => f.endsWith('.ts') && /^export (interface|type) /m.test(readFileSync(new URL(f, dir), 'utf8')));
    const missing = withTypes.filter((f) => !index.includes(`export type * from './ops/${f.replace(/\.ts$/, '.js')}'`) && !['op.ts', 'interpreter.ts', 'bind.ts', 'surface.ts', 'rules.ts'].includes(f));
    expect(missing).toEqual([]);
  });
});

/**
 * The examples in the package READMEs of core, backend-cpu and eager run, and print what their
 * comments say. (The `kiln` README's example is run by packages/kiln/test; README.md and docs/
 * by docs-samples.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kiln-readmes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the first ```ts block of packages/<name>/README.md, its @kiln imports pointed at the sources; returns stdout. */
function runExample(name: string): string {
  const readme = readFileSync(join(ROOT, 'packages', name, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1].replace(/from '@kiln\/([\w-]+)'/g, (_, pkg: string) => `from '${join(ROOT, 'packages', pkg, 'src/index.ts')}'`);
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=kiln-source', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('package README examples', () => {
  it('core: broadcasting, promotion, a graph built and printed', () => {
    expect(runExample('core')).toBe('[ 8, 4 ]\nfloat32\ngraph(%x: f32[2,3]) {\n  %0: f32[2,3] = relu %x\n  return %0\n}\n');
  });

  it('backend-cpu: a kernel run directly', () => {
    expect(runExample('backend-cpu')).toBe('Float32Array(3) [ 0, 0, 2 ]\n');
  });

  it('eager: tidy, grad, and no tensor left behind', () => {
    expect(runExample('eager')).toBe('14\nFloat32Array(3) [ 2, 4, 6 ]\n0\n');
  });
});

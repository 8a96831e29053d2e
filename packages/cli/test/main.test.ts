/**
 * The kiln executable itself: main.ts as a process (through tsx, no build needed), its exit
 * codes and streams, and the bin entry package.json points to.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mlp } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const kiln = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=kiln-source', MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('the kiln process', () => {
  it('inspects a file on disk and exits 0; a missing file exits 1 with the reason on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const path = join(dir, 'mlp.kiln');
    writeFileSync(path, mlp().bytes);
    const ok = kiln('inspect', path, '--no-graph');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`${path}: .kiln`);
    expect(ok.stdout).toContain('x         input      f32[batch,64]');
    const missing = kiln('inspect', join(dir, 'missing.kiln'));
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^kiln: FileError: cannot read .*missing\.kiln: no such file/);
  });

  it('is the package\'s bin, a node script that runs the built CLI', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ kiln: './bin/kiln.js' });
    const bin = readFileSync(new URL('../bin/kiln.js', import.meta.url), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(bin).toContain("import('../dist/main.js')");
  });
});

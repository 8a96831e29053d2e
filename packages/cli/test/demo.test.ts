/**
 * `kiln demo` as a process, reduced to one eager and one compiled epoch: the main job from the
 * CLI package (its own digits data, its own runtime-only `kiln run` child), exit code 0 and the
 * artifacts it lists. scripts/test/main-job.test.ts checks the same job through
 * docs/examples/main-job.ts in more detail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DIGITS_PATH } from '../src/demo/digits.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('kiln demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the main job end to end and lists its artifacts', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=kiln-source', MAIN, 'demo', '--out', dir, '--eager-epochs', '1', '--compiled-epochs', '1'], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    // auto: WebGPU only on a hardware adapter (lavapipe, where installed, is software: the CPU).
    expect(r.stdout).toMatch(/^backend: (cpu \(auto: .*\)|webgpu \(auto: a hardware WebGPU adapter, .+\))$/m);
    expect(r.stdout.split('\n')[0]).toMatch(/^backend: /);
    expect(r.stdout).toMatch(/^digits: 1437 training and 360 test images of 8×8 pixels$/m);
    expect(r.stdout).toMatch(/^eager {4}epoch 1\/1 {2}step 45\/45 /m);
    expect(r.stdout).toMatch(/^compiled epoch 1\/1 {2}step 45\/45 /m);
    expect(r.stdout).toMatch(/^runtime-only process \(kiln run: .*\): 360\/360 predictions match/m);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.deployed).toEqual({ rows: 360, matching: 360 });
    expect(summary.failure).toBeUndefined();
    for (const path of Object.values(summary.artifacts).filter((v): v is string => typeof v === 'string')) {
      expect(r.stdout).toContain(path);
      expect(readFileSync(path).length).toBeGreaterThan(100);
    }
    expect(readFileSync(join(dir, 'graph.svg'), 'utf8')).toContain('>f32[batch,128]<');
  });

  it('says which backend it chose and why, and refuses an unknown one', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=kiln-source', MAIN, 'demo', '--backend', 'gpu', '--out', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('kiln: demo: --backend gpu: expected cpu, webgpu or auto\n');
    expect(r.stdout).toBe('');
  });

  it('ships the same digits file as docs/examples/data', () => {
    expect(readFileSync(DIGITS_PATH).equals(readFileSync(join(ROOT, 'docs/examples/data/digits.csv.gz')))).toBe(true);
  });
});

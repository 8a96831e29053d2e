/**
 * The main job (docs/examples/main-job.ts, run by scripts/demo.sh) in its reduced mode: one eager
 * and one compiled epoch, on the CPU and on WebGPU. It must save its artifacts (metrics.jsonl from
 * fit's jsonlLogger among them), print its summary, and the runtime-only process must reproduce
 * every test-set prediction of the trained model.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleDeployer, packagesOf, ROOT } from '../bundle/deployer.js';

/** Runs the reduced main job into `dir` with extra arguments; its stdout. */
function mainJob(dir: string, ...args: string[]): string {
  return execFileSync(`${ROOT}node_modules/.bin/tsx`, ['--conditions=kiln-source', 'docs/examples/main-job.ts', dir, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, KILN_DEMO_EAGER_EPOCHS: '1', KILN_DEMO_COMPILED_EPOCHS: '1' },
  });
}

describe('docs/examples/main-job.ts, reduced (1 eager + 1 compiled epoch)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-main-job-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains, compiles, saves .kiln and .onnx, and the runtime-only process agrees', () => {
    const out = mainJob(dir, '--backend', 'cpu');
    expect(out).toMatch(/^backend: cpu \(asked for with --backend cpu\)\n/);
    // Not a terminal: plain log lines, one per epoch, no carriage returns.
    expect(out).not.toContain('\r');
    expect(out).toMatch(/^eager {4}epoch 1\/1 {2}step 45\/45 {2}loss \d\.\d{4} +[\d,]+ examples\/s {2}ETA/m);
    expect(out).toMatch(/^compiled epoch 1\/1 {2}step 45\/45 /m);
    expect(out).toMatch(/^steps\/s: eager \d+, compiled \d+ \(\d+\.\d\d× speedup; 2 traces/m);
    expect(out).toContain('\nsummary\n');
    expect(out).toContain('  runtime-only   360/360 predictions match\n');
    for (const name of ['model.kiln', 'model.onnx', 'test-set.json', 'metrics.jsonl', 'training.svg', 'graph.svg', 'summary.json']) expect(out).toContain(join(dir, name));

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.deployed).toEqual({ rows: 360, matching: 360 });
    expect(summary.testAccuracy).toBeGreaterThan(0.85); // two epochs; a full run must reach 95%
    expect(summary.speedup).toBeGreaterThan(0);
    expect(summary.compiled.traces).toBe(2);
    expect(readFileSync(join(dir, 'model.kiln')).subarray(4, 8).toString('latin1')).toBe('KILN');
    // An ONNX ModelProto starts with field 1 (ir_version), a varint: tag 0x08.
    expect(readFileSync(join(dir, 'model.onnx'))[0]).toBe(0x08);
    // fit's jsonlLogger: a line per step (45 per epoch, two phases), and an epoch line with the test accuracy.
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.phase} ${l.kind}`)).toEqual([...Array(45).fill('eager step'), 'eager epoch', ...Array(45).fill('compiled step'), 'compiled epoch']);
    expect(lines.filter((l) => l.traced).map((l) => [l.phase, l.step])).toEqual([['compiled', 1], ['compiled', 45]]);
    expect(lines[91].test_accuracy).toBeCloseTo(summary.testAccuracy, 6);
    expect(summary.backend.name).toBe('cpu');
    const plot = readFileSync(join(dir, 'training.svg'), 'utf8');
    expect(plot).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    expect(plot).toContain('training loss (per step)');
    expect(plot).toContain('test accuracy (per epoch)');
    const graph = readFileSync(join(dir, 'graph.svg'), 'utf8');
    expect(graph).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    for (const text of ['>matmul<', '>images<', '>logits<', 'f32[batch,64]']) expect(graph).toContain(text);
    const test = JSON.parse(readFileSync(join(dir, 'test-set.json'), 'utf8'));
    expect(test.expected.length).toBe(360);
  });
});

/**
 * The same job trained and evaluated on WebGPU (lavapipe here: a software adapter, so only with
 * --backend webgpu; `auto` would take the CPU). Skipped loudly without an adapter unless
 * KILN_REQUIRE_WEBGPU=1, as the WebGPU suite is.
 */
const webgpu = await (async () => {
  try {
    const { requestNodeDevice } = await import('@kiln/backend-webgpu/node');
    const { device, adapterInfo } = await requestNodeDevice();
    device.destroy();
    return adapterInfo.description || adapterInfo.vendor;
  } catch (e) {
    if (process.env.KILN_REQUIRE_WEBGPU === '1') throw e;
    const line = '!'.repeat(100);
    console.warn(`${line}\n!! NO WEBGPU ADAPTER: the main job on WebGPU is SKIPPED on this machine.\n!! ${(e as Error).message}\n!! Install lavapipe with scripts/lib/setup.sh; set KILN_REQUIRE_WEBGPU=1 to make this a failure.\n${line}`);
    return undefined;
  }
})();

describe.skipIf(webgpu === undefined)('docs/examples/main-job.ts --backend webgpu, reduced', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-main-job-webgpu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains, compiles and evaluates on WebGPU; saves the same artifacts; the runtime-only process (CPU) agrees', () => {
    const out = mainJob(dir, '--backend', 'webgpu');
    expect(out).toMatch(/^backend: webgpu \(asked for with --backend webgpu: /);
    expect(out).toMatch(/^eager {4}epoch 1\/1 {2}step 45\/45 {2}loss \d\.\d{4} /m);
    expect(out).toMatch(/^steps\/s: eager \d+, compiled \d+ \(\d+\.\d\d× speedup; 2 traces/m);
    expect(out).toContain('  runtime-only   360/360 predictions match\n');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.backend.name).toBe('webgpu');
    expect(summary.failure).toBeUndefined();
    expect(summary.deployed).toEqual({ rows: 360, matching: 360 });
    expect(summary.testAccuracy).toBeGreaterThan(0.85);
    for (const name of ['model.kiln', 'model.onnx', 'test-set.json', 'metrics.jsonl', 'training.svg', 'graph.svg', 'summary.json']) {
      expect(out).toContain(join(dir, name));
      expect(readFileSync(join(dir, name)).length).toBeGreaterThan(100);
    }
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(92);
    // Losses read back from the GPU: finite, and falling.
    const losses = lines.filter((l) => l.kind === 'step').map((l) => l.loss as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 2);
    expect(readFileSync(join(dir, 'graph.svg'), 'utf8')).toContain('f32[batch,64]');
  }, 120_000);
});

describe('docs/examples/main-job-run.ts is a runtime-only program', () => {
  it('bundles to runtime, serializer, backend-cpu (and core, flatbuffers) only', async () => {
    const f = await bundleDeployer('node', 'docs/examples/main-job-run.ts');
    expect(f.inputs.filter((p) => /packages\/(eager|tracer|nn)\/|autograd/.test(p))).toEqual([]);
    expect(packagesOf(f.inputs)).toEqual(['@kiln/backend-cpu', '@kiln/core', '@kiln/runtime', '@kiln/serializer', 'flatbuffers']);
  });
});

/**
 * The deployer's import graph: a program that loads and runs a .kiln file imports only
 * `@kiln/runtime`, `@kiln/serializer` and `@kiln/backend-cpu`, and bundling it (esbuild, as
 * scripts/bundle/deployer.ts does for the size figure) reaches no eager, tracer, nn or autograd
 * code. The example pair docs/examples/deploy-train.ts → deploy-run.ts runs as two separate
 * Node programs, and deploy-run.ts reproduces the trained model's predictions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BROWSER_ENTRY, bundleDeployer, packagesOf, ROOT } from '../bundle/deployer.js';

const ALLOWED = ['@kiln/backend-cpu', '@kiln/core', '@kiln/runtime', '@kiln/serializer', 'flatbuffers'];
const FORBIDDEN = /packages\/(eager|tracer|nn)\/|autograd/;

describe('the deployer imports runtime, serializer and a backend only', () => {
  for (const [platform, entry] of [['browser', { contents: BROWSER_ENTRY }], ['node', 'docs/examples/deploy-run.ts']] as const) {
    it(`${platform}: ${typeof entry === 'string' ? entry : 'fetch + loadModel + run'}`, async () => {
      const f = await bundleDeployer(platform, entry);
      expect(f.inputs.filter((p) => FORBIDDEN.test(p))).toEqual([]);
      expect(packagesOf(f.inputs)).toEqual(ALLOWED);
      // It is the real runtime: the loader, the verifier and the interpreter are in it.
      for (const file of ['packages/runtime/src/model.ts', 'packages/runtime/src/execute.ts', 'packages/serializer/src/reader.ts', 'packages/serializer/src/verify_buffer.ts']) {
        expect(f.inputs).toContain(file);
      }
      expect(f.inputs.some((p) => /node:|node_modules\/@types/.test(p))).toBe(false);
      // The figure quoted in the deploy guide is of this order (re-measure: pnpm exec tsx scripts/bundle/deployer.ts).
      expect(f.gzipBytes).toBeGreaterThan(10_000);
      expect(f.gzipBytes).toBeLessThan(150_000);
    });
  }

  it('the check sees eager or tracer when a program imports them', async () => {
    const f = await bundleDeployer('browser', { contents: `import { load } from '@kiln/tracer'; export { load };` });
    expect(packagesOf(f.inputs)).toEqual(expect.arrayContaining(['@kiln/eager', '@kiln/tracer']));
    expect(f.inputs.some((p) => FORBIDDEN.test(p))).toBe(true);
  });

  it('the runtime\'s Node entry adds node:fs only (it stays out of the package root)', async () => {
    const f = await bundleDeployer('node', { contents: `export { loadModelFile } from '@kiln/runtime/node';` });
    expect(f.inputs).toContain('packages/runtime/src/node.ts');
    expect(f.inputs.filter((p) => FORBIDDEN.test(p))).toEqual([]);
    const root = await bundleDeployer('browser', { contents: `export { loadModel } from '@kiln/runtime';` });
    expect(root.inputs).not.toContain('packages/runtime/src/node.ts');
  });
});

describe('docs/examples/deploy-train.ts then deploy-run.ts, as separate programs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-deploy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tsx = (file: string) => execFileSync(`${ROOT}node_modules/.bin/tsx`, ['--conditions=kiln-source', file, dir], { cwd: ROOT, encoding: 'utf8' });

  it('trains and saves; the deployer loads the file and predicts what the trained model predicted', () => {
    const trained = tsx('docs/examples/deploy-train.ts');
    expect(trained).toMatch(/^wrote digits\.kiln \(\d+ bytes\); predictions for 5 test images: (\d )+\d\n$/);
    expect(readFileSync(join(dir, 'digits.kiln')).subarray(4, 8).toString('latin1')).toBe('KILN');
    const ran = tsx('docs/examples/deploy-run.ts');
    const { expected, labels } = JSON.parse(readFileSync(join(dir, 'digits-sample.json'), 'utf8')) as { expected: number[]; labels: number[] };
    expect(ran).toBe([
      'input  images: float32[batch,64]',
      'output logits',
      'logits: float32[5,10]',
      `predicted ${expected.join(' ')}`,
      `labels    ${labels.join(' ')}`,
      'same predictions as the trained model',
      '',
    ].join('\n'));
    // docs/guide/deploy.md shows this output and excerpts of both programs, verbatim.
    const guide = readFileSync(`${ROOT}docs/guide/deploy.md`, 'utf8');
    const shown = [...guide.matchAll(/<!-- (from|output of) (\S+) -->\n```\w+\n([\s\S]*?)```/g)];
    expect(shown.length).toBe(4);
    for (const [, kind, file, text] of shown) {
      if (kind === 'output of') expect(text).toBe(ran);
      else expect(readFileSync(`${ROOT}${file}`, 'utf8')).toContain(text);
    }
    // Trained for a few epochs, it gets most of these right.
    expect(expected.filter((p, i) => p === labels[i]).length).toBeGreaterThanOrEqual(4);
  });
});

/**
 * Runs the docs' code samples of the markdown files whose path contains a filter, and prints
 * each one's output or error — for writing docs; the test (scripts/test/docs-samples.test.ts)
 * runs them all and typechecks them.
 *
 * Usage: pnpm exec tsx --conditions=kiln-source scripts/run-docs-samples.ts [filter, e.g. guide/training.md]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectBlocks, collectChains, markdownLine, writeSamples } from './lib/docs-samples.js';
import type { SampleResult } from './lib/docs-samples-runner.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2] ?? '';
const base = join(ROOT, 'node_modules/.cache/kiln-docs-samples');
mkdirSync(base, { recursive: true });
const dir = mkdtempSync(join(base, 'run-'));
try {
  const blocks = collectBlocks(ROOT).filter((b) => b.file.includes(filter));
  const samples = writeSamples(ROOT, collectChains(blocks), join(dir, 'src'));
  if (samples.length === 0) {
    console.log(`no runnable ts samples in markdown files matching '${filter}'`);
  } else {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(samples));
    execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--conditions=kiln-source', join(ROOT, 'scripts/lib/docs-samples-runner.ts'), join(dir, 'manifest.json'), join(dir, 'results.json'), join(dir, 'work')], { stdio: 'inherit' });
    const results = new Map((JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as SampleResult[]).map((r) => [r.id, r]));
    let failed = 0;
    for (const sample of samples) {
      const r = results.get(sample.id);
      const frame = /:(\d+):\d+\)?$/m.exec((r?.stack ?? '').split('\n').find((l) => l.includes(sample.path)) ?? '');
      const where = frame ? markdownLine(sample, Number(frame[1])) : `${sample.file}:${sample.line}`;
      if (!r?.ok) failed++;
      console.log(`── ${sample.file}:${sample.line}  ${r ? (r.ok ? `ok, ${r.ms.toFixed(0)} ms` : `FAILED at ${where}: ${r.error}`) : 'not run'}\n${r?.output ?? ''}`);
    }
    console.log(`${samples.length - failed} of ${samples.length} samples ran`);
    process.exitCode = failed > 0 ? 1 : 0;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs the docs' code samples written by scripts/lib/docs-samples.ts, one after another in this
 * one process (a process each would cost a second of start-up per sample): imports each module
 * (whole example programs run as child processes, since they may exit or switch backends),
 * with the working directory a scratch folder per markdown file (so samples that write files
 * leave nothing in the repository, and later samples of the same file can read them), and writes
 * what happened to a JSON file.
 *
 * Usage: tsx --conditions=kiln-source scripts/lib/docs-samples-runner.ts manifest.json results.json workdir
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { spawnSync } from 'node:child_process';
import { setBackend } from '@kiln/eager';
import type { WrittenSample } from './docs-samples.js';

export interface SampleResult {
  readonly id: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly output: string;
  readonly error?: string;
  readonly stack?: string;
}

const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const [manifestPath, resultsPath, workdir] = process.argv.slice(2).map((p) => resolve(p));
const samples = JSON.parse(readFileSync(manifestPath, 'utf8')) as WrittenSample[];
const results: SampleResult[] = [];
const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
const original = Object.fromEntries(methods.map((m) => [m, console[m]]));
const writeOut = process.stdout.write.bind(process.stdout);

for (const sample of samples) {
  let output = '';
  for (const m of methods) console[m] = (...args: unknown[]) => { output += `${format(...args)}\n`; };
  process.stdout.write = ((chunk: string | Uint8Array) => { output += String(chunk); return true; }) as typeof process.stdout.write;
  const dir = join(workdir, (sample.group ?? sample.file).replace(/[^A-Za-z0-9]+/g, '-'));
  mkdirSync(dir, { recursive: true });
  process.chdir(dir);
  process.argv = [process.argv[0], sample.path]; // a program reading its arguments sees none
  const t0 = performance.now();
  if (sample.program) {
    // Programs may set the default backend, exit, or read their arguments: a process each.
    const child = spawnSync(TSX, ['--conditions=kiln-source', sample.path], { cwd: dir, encoding: 'utf8', timeout: 150_000 });
    const text = `${child.stdout ?? ''}${child.stderr ?? ''}`;
    const ok = child.status === 0;
    results.push({ id: sample.id, ok, ms: performance.now() - t0, output: text, ...(ok ? {} : { error: `exit status ${child.status ?? child.signal}`, stack: '' }) });
    Object.assign(console, original);
    process.stdout.write = writeOut;
    writeFileSync(resultsPath, JSON.stringify(results));
    continue;
  }
  try {
    await import(pathToFileURL(sample.path).href);
    results.push({ id: sample.id, ok: true, ms: performance.now() - t0, output });
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    results.push({ id: sample.id, ok: false, ms: performance.now() - t0, output, error, stack: e instanceof Error ? e.stack ?? '' : '' });
  } finally {
    Object.assign(console, original);
    process.stdout.write = writeOut;
    setBackend('cpu'); // a sample that chose another backend does not choose it for the next
  }
  writeFileSync(resultsPath, JSON.stringify(results));
}

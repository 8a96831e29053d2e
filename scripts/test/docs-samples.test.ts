/**
 * Every ```ts sample in README.md and docs/**\/*.md runs and typechecks (scripts/lib/docs-samples.ts
 * says how blocks are joined and marked). A failure names the markdown file and line.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WrittenSample } from '../lib/docs-samples.js';
import { chainBlocks, checkPrinted, collectBlocks, collectChains, excerptSources, extractBlocks, isTypeScript, markdownLine, rewriteRelativeImports, writeSamples } from '../lib/docs-samples.js';
import type { SampleResult } from '../lib/docs-samples-runner.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('extracting samples from markdown', () => {
  const md = [
    '# t', '', '```ts', 'const a = 1;', '```', 'text', '  ```ts continue', '  const b = a + 1;', '  ```',
    '```ts no-run', 'fragment(', '```', '```sh', 'ls', '```', '````ts no-check', '```', 'const c: string = 1;', '````', '',
  ].join('\n');
  it('finds fenced blocks with their info words and first lines, indented ones included', () => {
    const blocks = extractBlocks('x.md', md);
    expect(blocks.map((b) => [b.lang, b.flags.join(' '), b.line, b.code])).toEqual([
      ['ts', '', 4, 'const a = 1;'],
      ['ts', 'continue', 8, 'const b = a + 1;'],
      ['ts', 'no-run', 11, 'fragment('],
      ['sh', '', 14, 'ls'],
      ['ts', 'no-check', 17, '```\nconst c: string = 1;'],
    ]);
  });
  it('joins `continue` blocks to the chain before them and skips `no-run`', () => {
    const chains = chainBlocks(extractBlocks('x.md', md));
    expect(chains.map((c) => [c.blocks.map((b) => b.line), c.check])).toEqual([[[4, 8], true], [[17], false]]);
    const withPrelude = chainBlocks(extractBlocks('p.md', '```ts\na\n```\n```ts prelude\nb\n```\n```ts\nc\n```\n```ts continue\nd\n```\n```ts\ne\n```\n'));
    expect(withPrelude.map((c) => c.blocks.map((b) => b.code).join(''))).toEqual(['a', 'b', 'bcd', 'be']);
    expect(withPrelude.map((c) => c.line)).toEqual([2, 5, 8, 14]);
    expect(() => chainBlocks(extractBlocks('y.md', '```ts continue\nx\n```\n'))).toThrow(/y\.md:2: a `ts continue` block needs a runnable ts block before it/);
  });
  it('turns `console.log(…); // → text` into a check of the printed text', () => {
    expect(checkPrinted("  console.log(a.shape, f(1)); // → [ 2, 3 ] 1 ", 'x.md:7')).toBe('  __printed("x.md:7", "[ 2, 3 ] 1", a.shape, f(1));');
    expect(checkPrinted('console.log(a); // [ 2, 3 ]', 'x.md:7')).toBe('console.log(a); // [ 2, 3 ]');
  });
  it('rewrites relative imports for the generated file\'s folder', () => {
    expect(rewriteRelativeImports("import { a } from '../examples/a.js';\nconst m = await import('./b.js');", '/r/docs/guide', '/r/node_modules/.cache/s'))
      .toBe("import { a } from '../../../docs/examples/a.js';\nconst m = await import('../../../docs/guide/b.js');");
  });
});

/** Runs written samples in the runner process; results by id. */
function runSamples(dir: string, samples: readonly WrittenSample[], timeout: number): { results: Map<string, SampleResult>; failure: string } {
  const manifest = join(dir, 'manifest.json');
  const out = join(dir, 'results.json');
  writeFileSync(manifest, JSON.stringify(samples));
  let failure = '';
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['--conditions=kiln-source', join(ROOT, 'scripts/lib/docs-samples-runner.ts'), manifest, out, join(dir, 'work')], {
      cwd: ROOT, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    failure = String((e as { stderr?: string }).stderr || e);
  }
  const results = new Map<string, SampleResult>();
  try {
    for (const r of JSON.parse(readFileSync(out, 'utf8')) as SampleResult[]) results.set(r.id, r);
  } catch {
    // no results file: every sample reports the runner's failure
  }
  return { results, failure };
}

const cacheDir = () => {
  const base = join(ROOT, 'node_modules/.cache/kiln-docs-samples');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, 'run-'));
};

describe('the runner (negative controls)', () => {
  it('reports a throw and a wrong printed value with the markdown line; runs the rest', () => {
    const dir = cacheDir();
    try {
      const md = [
        '```ts', "import { tensor } from '@kiln/eager';", 'console.log(tensor([1, 2]).shape); // → [ 2 ]', '```',
        '```ts', "import { tensor } from '@kiln/eager';", 'console.log(tensor([1, 2]).shape); // → [ 3 ]', '```',
        '```ts', 'const x = 1;', "if (x === 1) throw new RangeError('broken sample');", '```', '',
      ].join('\n');
      const samples = writeSamples(ROOT, chainBlocks(extractBlocks('docs/t.md', md)), join(dir, 'src'));
      const { results } = runSamples(dir, samples, 60_000);
      const [ok, wrong, thrown] = samples.map((s) => results.get(s.id));
      expect(ok).toMatchObject({ ok: true, output: '[ 2 ]\n' });
      expect(wrong?.error).toBe('Error: docs/t.md:7: prints "[ 2 ]", but the docs say "[ 3 ]"');
      expect(thrown?.error).toBe('RangeError: broken sample');
      const frame = (thrown?.stack ?? '').split('\n').find((l) => l.includes(samples[2].path)) ?? '';
      expect(markdownLine(samples[2], Number(/:(\d+):\d+\)?$/.exec(frame)?.[1]))).toBe('docs/t.md:11');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the docs\' samples', () => {
  const blocks = collectBlocks(ROOT);
  const dir = cacheDir();
  // Excerpted programs run whole (docs/examples is typechecked with the repository), then the samples.
  const programs: WrittenSample[] = excerptSources(blocks).map((e) => ({ id: `program-${e.path.replace(/[^A-Za-z0-9]+/g, '-')}`, file: e.path, group: e.file, line: 1, path: join(ROOT, e.path), check: false, program: true, lineMap: [] }));
  const samples = [...programs, ...writeSamples(ROOT, collectChains(blocks), join(dir, 'src'))];
  const results = new Map<string, SampleResult>();
  let runnerFailure = '';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    const run = runSamples(dir, samples, 170_000);
    for (const [id, r] of run.results) results.set(id, r);
    runnerFailure = run.failure;
  }, 180_000);

  it('there are samples to run', () => {
    expect(samples.length).toBeGreaterThan(10);
  });

  for (const b of blocks.filter((b) => b.from !== undefined && isTypeScript(b))) {
    it(`${b.file}:${b.line} is an excerpt of ${b.from}, verbatim`, () => {
      let source = '';
      try {
        source = readFileSync(join(ROOT, b.from as string), 'utf8');
      } catch {
        throw new Error(`${b.file}:${b.line}: the excerpt's program ${b.from} does not exist`);
      }
      if (!source.includes(b.code)) throw new Error(`${b.file}:${b.line}: the block is not in ${b.from} (it must be a verbatim excerpt):\n${b.code}`);
    });
  }

  /** The error with each frame in a generated file also given as the markdown line. */
  const explain = (sample: WrittenSample, r: SampleResult) => {
    const frames = (r.stack ?? '').split('\n').filter((l) => l.includes(sample.path));
    const where = frames.map((l) => /:(\d+):\d+\)?$/.exec(l)).filter((m) => m !== null).map((m) => markdownLine(sample, Number(m[1])));
    return `${where[0] ?? `${sample.file}:${sample.line}`}: ${r.error}\n${r.output ? `output:\n${r.output}` : ''}`;
  };

  for (const sample of samples) {
    it(`${sample.lineMap.length === 0 ? sample.file : `${sample.file}:${sample.line}`} runs`, () => {
      const r = results.get(sample.id);
      if (!r) throw new Error(`${sample.file}:${sample.line}: the sample did not run (the runner stopped before it)\n${runnerFailure}`);
      if (!r.ok) throw new Error(explain(sample, r));
    });
  }

  let diagnostics: Map<string, string[]> | undefined;
  /** One program over every checked sample; diagnostics of the samples themselves only. */
  const typecheck = () => {
    if (diagnostics) return diagnostics;
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    const options = { ...(config?.options ?? {}), noEmit: true };
    const checked = samples.filter((s) => s.check);
    const program = ts.createProgram(checked.map((s) => s.path), options);
    diagnostics = new Map();
    for (const sample of checked) {
      const file = program.getSourceFile(sample.path);
      const found = file ? [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)] : [];
      diagnostics.set(sample.id, found.map((d) => {
        const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        return `${markdownLine(sample, line)}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      }));
    }
    return diagnostics;
  };

  for (const sample of samples.filter((s) => s.check)) {
    it(`${sample.file}:${sample.line} typechecks`, () => {
      const found = typecheck().get(sample.id) ?? [];
      if (found.length > 0) throw new Error(found.join('\n'));
    });
  }
});

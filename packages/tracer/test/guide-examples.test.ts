/**
 * docs/guide/compile.md is true: its runnable examples (docs/examples/compile-*.ts) are run as
 * the guide says to run them, and
 * - a ```text block after `<!-- output of docs/examples/X.ts -->` is X's whole output;
 * - every other ```text block is a run of consecutive lines of some example's output;
 * - a ```ts block after `<!-- from docs/examples/X.ts -->` is an excerpt of X, verbatim.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const guide = readFileSync(`${root}docs/guide/compile.md`, 'utf8');
const examples = readdirSync(`${root}docs/examples`).filter((f) => /^compile-.*\.ts$/.test(f)).map((f) => `docs/examples/${f}`);

interface Block {
  readonly lang: string;
  readonly text: string;
  /** The marker on the line before the block, if any: ['output' | 'from', path]. */
  readonly marker?: readonly [string, string];
  readonly line: number;
}

/** Fenced code blocks (dedented, for blocks inside list items) with the marker just before each. */
function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    let j = i + 1;
    while (!/^\s*```\s*$/.test(lines[j])) j++;
    const text = lines.slice(i + 1, j).map((l) => l.slice(indent)).join('\n');
    const m = /<!-- (output of|from) (\S+) -->/.exec(lines[i - 1] ?? '');
    out.push({ lang: open[2], text, line: i + 1, ...(m ? { marker: [m[1] === 'from' ? 'from' : 'output', m[2]] as const } : {}) });
    i = j;
  }
  return out;
}

const outputs = new Map<string, string>();

describe('docs/guide/compile.md', () => {
  beforeAll(() => {
    for (const file of examples) {
      const stdout = execFileSync(`${root}node_modules/.bin/tsx`, ['--conditions=kiln-source', file], { cwd: root, encoding: 'utf8' });
      outputs.set(file, stdout);
    }
  }, 60_000);

  const all = blocks(guide);

  it('has runnable examples, each with its whole output in the guide', () => {
    expect(examples.sort()).toEqual(['docs/examples/compile-basics.ts', 'docs/examples/compile-control-flow.ts', 'docs/examples/compile-errors.ts', 'docs/examples/compile-options.ts', 'docs/examples/compile-training.ts']);
    for (const file of examples) {
      const shown = all.filter((b) => b.marker?.[0] === 'output' && b.marker[1] === file);
      expect(shown, `an output block for ${file}`).toHaveLength(1);
      expect(shown[0].text.trimEnd(), file).toBe(outputs.get(file)!.trimEnd());
    }
  });

  it('shows only output the examples really print', () => {
    const lines = [...outputs.values()].map((o) => o.split('\n'));
    const text = all.filter((b) => b.lang === 'text' && !b.marker);
    expect(text.length).toBeGreaterThan(3);
    for (const b of text) {
      const want = b.text.split('\n');
      const found = lines.some((ls) => ls.some((_, k) => want.every((w, n) => ls[k + n] === w)));
      expect(found, `the text block at compile.md:${b.line} is not in any example's output:\n${b.text}`).toBe(true);
    }
  });

  it('shows example code verbatim', () => {
    const excerpts = all.filter((b) => b.marker?.[0] === 'from');
    expect(excerpts.length).toBeGreaterThan(5);
    for (const b of excerpts) {
      const source = readFileSync(`${root}${b.marker![1]}`, 'utf8');
      expect(source.includes(b.text), `the code block at compile.md:${b.line} is not in ${b.marker![1]}:\n${b.text}`).toBe(true);
    }
  });
});

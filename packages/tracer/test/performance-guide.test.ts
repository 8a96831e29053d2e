/**
 * docs/guide/performance.md is true: its profiling example (docs/examples/profile-*.ts) runs, and
 * the output block after `<!-- output of docs/examples/X.ts (times vary) -->` is X's output
 * line for line once times are masked — the same rows (in any order: they are sorted by time),
 * calls, bytes, FLOPs and messages. (Excerpts marked `<!-- from … -->` are checked verbatim by
 * scripts/test/docs-samples.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const guide = readFileSync(`${root}docs/guide/performance.md`, 'utf8');
const examples = readdirSync(`${root}docs/examples`).filter((f) => /^profile-.*\.ts$/.test(f)).map((f) => `docs/examples/${f}`);

/** The text block right after `<!-- output of FILE (times vary) -->`. */
function shownOutput(file: string): string | undefined {
  const marker = `<!-- output of ${file} (times vary) -->\n\`\`\`text\n`;
  const at = guide.indexOf(marker);
  if (at < 0) return undefined;
  const start = at + marker.length;
  return guide.slice(start, guide.indexOf('\n```', start));
}

/** Times and rates (every number with a decimal point) masked, runs of spaces collapsed; lines sorted. */
const masked = (text: string) => text.trimEnd().split('\n').map((l) => l.replace(/\d+\.\d+/g, '#').replace(/\s+/g, ' ').trim()).sort();

describe('docs/guide/performance.md', () => {
  it('shows the output of each profiling example, times aside', () => {
    expect(examples).toEqual(['docs/examples/profile-basics.ts']);
    for (const file of examples) {
      const stdout = execFileSync(`${root}node_modules/.bin/tsx`, ['--conditions=kiln-source', file], { cwd: root, encoding: 'utf8' });
      const shown = shownOutput(file);
      expect(shown, `an output block for ${file}`).toBeDefined();
      expect(masked(shown!)).toEqual(masked(stdout));
      // The masking keeps what must not vary: calls, exact FLOP and byte counts, names.
      expect(masked(shown!)).toContain('matmul: 1 call, 524288 FLOPs, 57344 bytes');
    }
  }, 60_000);
});

/**
 * `kiln run --profile`: the results as without it, then a table of a second run's nodes (fused
 * kernels by body) with calls, bytes and FLOPs; beside --json, the table goes to stderr.
 */
import { readModel } from '@kiln/serializer';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/index.js';
import { kiln, mlp } from './fixtures.js';

const MLP = mlp();
const files = () => new Map([['mlp.kiln', MLP.bytes]]);
const argv = ['run', 'mlp.kiln', '--input', 'x=random', '--size', 'batch=3'];

describe('kiln run --profile', () => {
  it('prints the same results, then the time per op of the run', async () => {
    const plain = await kiln(argv, files());
    expect(plain.code, plain.stderr).toBe(EXIT.ok);
    const r = await kiln([...argv, '--profile'], files());
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const [results, table] = r.stdout.split('\nprofile of a second run:\n');
    expect(results).toBe(plain.stdout);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^op\s+kind\s+calls\s+total ms\s+mean ms\s+%\s+bytes\s+GB\/s\s+FLOP\s+GFLOP\/s$/);
    expect(lines.at(-1)).toMatch(/^wall \d+\.\d{3} ms; spans cover/);
    // The MLP's linear layers, optimized: matmuls with their bias adds (and relu) fused.
    const names = lines.slice(1, -1).map((l) => l.split(/\s{2,}/)[0]);
    expect(names).toContain('model run');
    expect(names.filter((n) => /^fused\[.*matmul.*add/.test(n)).length).toBeGreaterThanOrEqual(1);
    expect(readModel(MLP.bytes).graph.nodes.some((n) => n.op === 'matmul')).toBe(true);
  });

  it('keeps stdout JSON with --json: the table goes to stderr', async () => {
    const r = await kiln([...argv, '--json', '--profile'], files());
    expect(r.code).toBe(EXIT.ok);
    expect(Object.keys(JSON.parse(r.stdout) as object)).toEqual(['y']);
    expect(r.stderr).toContain('profile of a second run:');
  });
});

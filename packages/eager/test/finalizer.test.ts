import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('FinalizationRegistry safety net', () => {
  it('frees tensors that were dropped without dispose() once they are collected', () => {
    const script = fileURLToPath(new URL('./fixtures/finalizer.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--expose-gc', '--conditions=kiln-source', '--import', 'tsx', script], { encoding: 'utf8' });
    const { before, during, after } = JSON.parse(out.trim().split('\n').pop()!);
    expect(during.numTensors - before.numTensors).toBe(100);
    expect(during.numBytes - before.numBytes).toBe(100 * 4000);
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});

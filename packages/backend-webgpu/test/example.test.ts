import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testBackend } from './helpers/device.js';

// docs/guide/webgpu.md shows docs/examples/webgpu-basics.ts and its output: run it as the guide says.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const gpu = await testBackend;

describe.skipIf(!gpu)('docs/examples/webgpu-basics.ts', () => {
  it('runs in its own process and prints what the guide shows', () => {
    const out = execFileSync('pnpm', ['exec', 'tsx', '--conditions=kiln-source', 'docs/examples/webgpu-basics.ts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^adapter: \S/);
    expect(lines.slice(1)).toEqual([
      'relu(x) * 2 + 0.5, summed per row: Float32Array(2) [ 9.5, 11.5 ]',
      "dataSync()/item()/toArray() can't read a WebGPU tensor synchronously (float32[2]): GPU readback is asynchronous; use await t.data()",
      'on the CPU: [ 9.5, 11.5 ]',
      "add: b is on backend 'cpu' but a is on 'webgpu'; all inputs of an op must be on one backend: move one with .to('webgpu') (or await .toAsync('webgpu') from a backend that reads asynchronously)",
      'after .to(): Float32Array(6) [ 2, 0, 6, -3, 7, -3 ]',
    ]);
  });
});

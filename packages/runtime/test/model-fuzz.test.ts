/**
 * Fuzzing the loader: valid files of an MLP, a small CNN and a transformer block (saved from
 * compiled nn models) are damaged thousands of ways — bit flips, truncation, splices, inserted
 * and deleted bytes, huge counts written over offsets and lengths — and each damaged file must
 * be either a working model (it loads, runs on inputs of its declared types and returns
 * outputs of its declared shapes) or a FormatError. Never another error, a read the verifier
 * should have stopped, a hang (each case is timed) or an out-of-memory (values are capped).
 */
import type { Backend } from '@kiln/core';
import { sizeOf } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { getBackend, manualSeed, randn } from '@kiln/eager';
import * as nn from '@kiln/nn';
import { FormatError } from '@kiln/serializer';
import { compile, save } from '@kiln/tracer';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';

const cpu = getBackend('cpu') as Backend<unknown>;

function seedFiles(): { name: string; bytes: Uint8Array }[] {
  manualSeed(1);
  const make = (name: string, model: nn.Module & { forward(x: Tensor): Tensor }, x: Tensor) => {
    model.eval();
    const f = compile((input: Tensor) => model.forward(input));
    return { name, bytes: save(f, [x], { names: model }) };
  };
  return [
    make('MLP', new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3)), randn([2, 6])),
    make('CNN', new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8, 2)), randn([1, 1, 6, 6])),
    make('transformer block', new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8, batchFirst: true }), randn([1, 3, 8])),
  ];
}

/** A deterministic generator (mulberry32). */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

const MUTATIONS = ['bit flips', 'truncation', 'huge count', 'small number', 'splice', 'insert', 'delete', 'random byte'] as const;

function mutate(bytes: Uint8Array, donor: Uint8Array, r: (n: number) => number, kind: (typeof MUTATIONS)[number]): Uint8Array {
  // Most of each file is weights: aim half the damage at the FlatBuffer tables in front of them.
  const at = (n: number) => (r(2) ? r(Math.min(n, 2048)) : r(n));
  switch (kind) {
    case 'bit flips': {
      const m = bytes.slice();
      for (let k = 0, n = 1 + r(4); k < n; k++) m[at(m.length)] ^= 1 << r(8);
      return m;
    }
    case 'truncation': return bytes.slice(0, at(bytes.length));
    case 'huge count':
    case 'small number': {
      const m = bytes.slice();
      const p = at(m.length - 4) & ~3;
      const value = kind === 'huge count' ? [0xffffffff, 0x7fffffff, 0x80000000, 0x10000000][r(4)] : r(64);
      new DataView(m.buffer).setUint32(p, value, true);
      return m;
    }
    case 'splice': {
      const m = bytes.slice();
      const from = donor === bytes || r(2) ? bytes : donor;
      const a = r(from.length);
      m.set(from.subarray(a, a + 1 + r(96)).subarray(0, m.length - Math.min(m.length, at(m.length))), at(m.length));
      return m;
    }
    case 'insert':
    case 'delete': {
      const p = at(bytes.length);
      const n = 1 + r(8);
      if (kind === 'delete') {
        const m = new Uint8Array(Math.max(p, bytes.length - n));
        m.set(bytes.subarray(0, p));
        m.set(bytes.subarray(p + n), p);
        return m;
      }
      const m = new Uint8Array(bytes.length + n);
      m.set(bytes.subarray(0, p));
      for (let i = 0; i < n; i++) m[p + i] = r(256);
      m.set(bytes.subarray(p), p + n);
      return m;
    }
    case 'random byte': {
      const m = bytes.slice();
      m[at(m.length)] = r(256);
      return m;
    }
  }
}

const CASES_PER_FILE = 1500;

describe('fuzzing loadModel with damaged files', () => {
  const files = seedFiles();
  for (const [f, file] of files.entries()) {
    it(`${file.name}: ${CASES_PER_FILE} damaged files are each a working model or a FormatError`, () => {
      const r = rng(1000 + f);
      const outcomes: Record<string, number> = {};
      let slowest = 0;
      for (let c = 0; c < CASES_PER_FILE; c++) {
        const kind = MUTATIONS[c % MUTATIONS.length];
        const bytes = mutate(file.bytes, files[(f + 1) % files.length].bytes, r, kind);
        const start = performance.now();
        let outcome: string;
        try {
          const model = loadModel(bytes, { backend: cpu, read: { maxValueBytes: 1 << 24 } });
          const inputs = model.inputs.map((t) => {
            const shape = t.shape.map((d) => (typeof d === 'number' ? d : 2));
            const n = sizeOf(shape);
            const data = t.dtype === 'float32' ? Float32Array.from({ length: n }, (_, i) => Math.sin(i))
              : t.dtype === 'float64' ? Float64Array.from({ length: n }, (_, i) => Math.sin(i))
              : t.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
            return { dtype: t.dtype, shape, data };
          });
          const outputs = model.run(...inputs);
          const graph = model.graphFor(...inputs.map((x) => x.shape));
          const results = model.signature.outputs.flatMap((s, i) => (s.role === 'output' ? [graph.outputs[i].type] : []));
          outputs.forEach((o, i) => {
            expect(o.shape, `${kind} case ${c}: output ${i} shape`).toEqual(results[i].shape);
            expect(o.data.length).toBe(sizeOf(results[i].shape));
          });
          model.dispose();
          outcome = 'working model';
        } catch (e) {
          if (!(e instanceof FormatError)) throw new Error(`${kind} case ${c}: expected a working model or a FormatError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
          expect(e.message, `${kind} case ${c}`).not.toMatch(/in a part the verifier accepted/);
          outcome = 'FormatError';
        }
        slowest = Math.max(slowest, performance.now() - start);
        outcomes[`${kind}: ${outcome}`] = (outcomes[`${kind}: ${outcome}`] ?? 0) + 1;
      }
      // Both outcomes occur for most kinds of damage, so the test exercises loading and refusing.
      expect(Object.keys(outcomes).filter((k) => k.endsWith('FormatError')).length).toBe(MUTATIONS.length);
      expect(Object.keys(outcomes).filter((k) => k.endsWith('working model')).length).toBeGreaterThan(3);
      expect(slowest, 'the slowest case, ms').toBeLessThan(1000);
    }, 60_000);
  }
});

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchRecord } from '../src/harness.js';
import type { MachineInfo } from '../src/machine.js';
import { formatNumber, formatParams, formatTable, writeReport, type BenchReport } from '../src/report.js';

const machine: MachineInfo = { node: 'v20.0.0', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, commit: 'abc1234' };

const measured: BenchRecord = {
  workload: 'matmul-512',
  implementation: 'kiln-eager-cpu',
  medianMs: 12.3456,
  minMs: 11.02,
  maxMs: 150.7,
  gflops: 21.74,
  samples: 10,
  params: { m: 512, dtype: 'float32' },
};
const perOp: BenchRecord = {
  workload: 'eager-dispatch-add',
  implementation: 'kiln-eager-cpu',
  medianMs: 20.5,
  minMs: 19.9,
  maxMs: 25,
  usPerOp: 2.05,
  samples: 10,
  params: { opsPerRun: 10000 },
};
const skipped: BenchRecord = {
  workload: 'matmul-512',
  implementation: 'peer|lib',
  medianMs: null,
  minMs: null,
  maxMs: null,
  samples: 0,
  params: {},
  skipped: "KernelError: backend 'cpu' has no kernel for op 'matmul'",
};

describe('formatNumber', () => {
  it('keeps about 3 significant digits without exponents', () => {
    expect(formatNumber(1234.5)).toBe('1235');
    expect(formatNumber(123.45)).toBe('123');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(1.2345)).toBe('1.23');
    expect(formatNumber(0.012345)).toBe('0.0123');
    expect(formatNumber(0)).toBe('0');
  });
});

describe('formatParams', () => {
  it('lists key=value pairs in order', () => {
    expect(formatParams({ m: 512, dtype: 'float32', fused: true })).toBe('m=512, dtype=float32, fused=true');
    expect(formatParams({})).toBe('');
  });
});

describe('formatTable', () => {
  it('writes one row per record, leaving inapplicable columns empty and escaping pipes', () => {
    expect(formatTable([measured, perOp, skipped])).toMatchInlineSnapshot(`
      "| workload | implementation | median ms | min ms | max ms | µs/op | GFLOP/s | samples | params |
      |---|---|---|---|---|---|---|---|---|
      | matmul-512 | kiln-eager-cpu | 12.3 | 11.0 | 151 |  | 21.7 | 10 | m=512, dtype=float32 |
      | eager-dispatch-add | kiln-eager-cpu | 20.5 | 19.9 | 25.0 | 2.05 |  | 10 | opsPerRun=10000 |
      | matmul-512 | peer\\|lib | skipped: KernelError: backend 'cpu' has no kernel for op 'matmul' |  |  |  |  | 0 |  |"
    `);
  });
});

describe('writeReport', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('writes latest.json (machine + records) and latest.md, leaving no temporary files', () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
    const report: BenchReport = { date: '2026-01-01T00:00:00.000Z', machine, records: [measured, skipped] };
    const paths = writeReport(dir, report);
    expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(report);
    const md = readFileSync(paths.markdown, 'utf8');
    expect(md).toContain('Node v20.0.0 on linux/x64, Test CPU (2 cores), 8 GiB, commit abc1234');
    expect(md).toContain(formatTable(report.records));
    expect(readdirSync(dir).sort()).toEqual(['latest.json', 'latest.md']);
  });
});

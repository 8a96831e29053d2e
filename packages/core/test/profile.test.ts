import { describe, expect, it } from 'vitest';
import type { Graph, ProfileSpan, TensorType, Value } from '../src/index.js';
import { createOps, getOp, GraphBuilder, nodeName, nodeSpan, opBytes, opFlops, ProfileReport } from '../src/index.js';

const f32 = (...shape: number[]): TensorType => ({ dtype: 'float32', shape });
const f64 = (...shape: number[]): TensorType => ({ dtype: 'float64', shape });

function body(inputs: TensorType[], fn: (o: ReturnType<typeof createOps<Value>>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `x${i}`));
  return b.build(fn(createOps(b), ...xs));
}

describe('opFlops', () => {
  it('counts matmul as 2·m·k·n per batch', () => {
    expect(opFlops('matmul', [f32(64, 128), f32(128, 32)], [f32(64, 32)], {})).toBe(2 * 64 * 128 * 32);
    expect(opFlops('matmul', [f32(3, 5, 7), f32(7, 2)], [f32(3, 5, 2)], {})).toBe(3 * 2 * 5 * 7 * 2);
  });

  it('counts a convolution by hand: each output element is C/groups·kH·kW multiply-adds', () => {
    // x [2, 4, 9, 9], weight [6, 2, 3, 3] with groups 2, stride 1, no padding → out [2, 6, 7, 7].
    const attrs = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 2 };
    const out = f32(2, 6, 7, 7);
    expect(opFlops('conv2d', [f32(2, 4, 9, 9), f32(6, 2, 3, 3)], [out], attrs)).toBe(2 * (2 * 6 * 7 * 7) * (2 * 3 * 3));
    // The weight gradient does the same multiply-adds: per element of gradOutput, one per weight of its channel.
    expect(opFlops('conv2dWeightGrad', [f32(2, 4, 9, 9), out], [f32(6, 2, 3, 3)], { ...attrs, kernelSize: [3, 3] })).toBe(2 * (2 * 6 * 7 * 7) * (2 * 3 * 3));
  });

  it('counts elementwise ops per output element, reductions per element read, pooling per window element', () => {
    expect(opFlops('add', [f32(4, 1), f32(1, 5)], [f32(4, 5)], {})).toBe(20);
    expect(opFlops('sum', [f32(4, 5)], [f32(4)], { axes: [1], keepdims: false })).toBe(20);
    expect(opFlops('maxPool2d', [f32(1, 1, 4, 4)], [f32(1, 1, 2, 2)], { kernelSize: [2, 2] })).toBe(16);
  });

  it('has no count for ops that only move or make data', () => {
    for (const op of ['reshape', 'permute', 'broadcastTo', 'concat', 'gather', 'cast', 'full', 'cond']) expect(opFlops(op, [f32(4)], [f32(4)], {})).toBeUndefined();
  });

  it('counts a composite as its expansion: mean is a sum and a division', () => {
    // mean over axis 1 of [4, 5]: sum reads 20 elements, the division makes 4.
    expect(opFlops('mean', [f64(4, 5)], [f64(4)], { axes: [1], keepdims: false })).toBe(20 + 4);
  });

  it('counts a fused kernel as its body', () => {
    const g = body([f32(8, 16), f32(16, 4), f32(4)], (o, a, b, c) => [o.relu(o.add(o.matmul(a, b), c))]);
    const node = { op: 'matmulEpilogue', inputs: g.inputs, outputs: g.outputs, attrs: {}, subgraphs: [g] };
    // matmul 2·8·16·4, the bias add (a broadcastTo first: no count) and relu over 8·4 elements each.
    expect(opFlops(node.op, [f32(8, 16), f32(16, 4), f32(4)], [f32(8, 4)], {}, node.subgraphs)).toBe(2 * 8 * 16 * 4 + 32 + 32);
    expect(nodeName(node)).toBe('fused[matmul,add,relu]');
  });
});

describe('opBytes', () => {
  it('adds every input and output at its dtype size', () => {
    expect(opBytes('matmul', [f32(64, 128), f32(128, 32)], [f32(64, 32)])).toBe((64 * 128 + 128 * 32 + 64 * 32) * 4);
    expect(opBytes('add', [f64(3), f64(3)], [f64(3)])).toBe(72);
    expect(opBytes('reshape', [f32(6)], [f32(2, 3)])).toBe(48); // what a copying reshape kernel moves (the profiler records views with bytes 0)
    expect(opBytes('scan', [f32(6)], [f32(6)])).toBe(0); // its body's nodes count
  });
});

describe('nodeName', () => {
  it('names a fused kernel by its body ops (broadcasts and constants left out), six at most', () => {
    const long = body([f32(4)], (o, x) => [o.neg(o.exp(o.tanh(o.sin(o.cos(o.abs(o.mul(x, 2)))))))]);
    expect(nodeName({ op: 'fusedElementwise', subgraphs: [long] })).toBe('fused[mul,abs,cos,sin,tanh,exp,…]');
    expect(nodeName({ op: 'matmul' })).toBe('matmul');
  });
});

const span = (name: string, startMs: number, endMs: number, extra: Partial<ProfileSpan> = {}): ProfileSpan => ({ name, category: 'op', startMs, endMs, ...extra });

describe('ProfileReport', () => {
  // A compiled call (0–10 ms) holding two kernels, then an eager add, reported children first.
  const spans: ProfileSpan[] = [
    span('fused[mul,add]', 1, 4, { category: 'node', op: 'mul', inputs: [f32(1000)], outputs: [f32(1000)] }),
    span('matmul', 4, 9, { category: 'node', op: 'matmul', inputs: [f32(100, 100), f32(100, 100)], outputs: [f32(100, 100)] }),
    span('compiled step', 0, 10, { category: 'compiled' }),
    span('add', 10, 12, { op: 'add', inputs: [f32(1000), f32(1000)], outputs: [f32(1000)] }),
    span('add', 12, 12.5, { op: 'add', inputs: [f32(1000), f32(1000)], outputs: [f32(1000)] }),
  ];
  const report = new ProfileReport(spans, 0, 16);

  it('gives each row its own time (not its children’s), calls, bytes and GFLOP/s', () => {
    expect(report.totalMs).toBe(16);
    expect(report.rows.map((r) => [r.name, r.category, r.calls, r.totalMs, r.percent])).toEqual([
      ['matmul', 'node', 1, 5, 31.25],
      ['fused[mul,add]', 'node', 1, 3, 18.75],
      ['add', 'op', 2, 2.5, 15.625],
      ['compiled step', 'compiled', 1, 2, 12.5],
    ]);
    const matmul = report.rows[0];
    expect(matmul.flops).toBe(2 * 100 ** 3);
    expect(matmul.bytes).toBe(3 * 100 * 100 * 4);
    expect(matmul.gflopsPerSecond).toBeCloseTo(2e6 / 5e6, 12);
    expect(matmul.gbPerSecond).toBeCloseTo(120000 / 5e6, 12);
    expect(report.rows[3].bytes).toBe(0);
    expect(report.rows[3].flops).toBeUndefined();
  });

  it('prints an aligned table, most time first', () => {
    expect(report.table()).toMatchInlineSnapshot(`
      "op              kind      calls  total ms  mean ms     %      bytes  GB/s   FLOP  GFLOP/s
      matmul          node          1     5.000   5.0000  31.3  117.2 KiB  0.02  2.0 M     0.40
      fused[mul,add]  node          1     3.000   3.0000  18.8    7.8 KiB  0.00  1.0 K     0.00
      add             op            2     2.500   1.2500  15.6   23.4 KiB  0.01  2.0 K     0.00
      compiled step   compiled      1     2.000   2.0000  12.5        0 B     -      -        -
      wall 16.000 ms; spans cover 12.500 ms (78.1%)"
    `);
    expect(report.table({ limit: 1 }).split('\n')).toHaveLength(3);
    expect(report.table({ limit: 1 })).toContain('3 more rows not shown');
  });

  it('writes complete events in microseconds, parents before children, children inside parents', () => {
    const { traceEvents } = report.chromeTrace();
    expect(traceEvents.map((e) => [e.name, e.ts, e.dur])).toEqual([
      ['compiled step', 0, 10000],
      ['fused[mul,add]', 1000, 3000],
      ['matmul', 4000, 5000],
      ['add', 10000, 2000],
      ['add', 12000, 500],
    ]);
    expect(traceEvents[2]).toMatchObject({ ph: 'X', pid: 1, tid: 1, cat: 'node', args: { inputs: 'f32[100,100], f32[100,100]', outputs: 'f32[100,100]', bytes: 120000, flops: 2e6 } });
  });

  it('makes a span from a graph node', () => {
    const g = body([f32(2, 3)], (o, x) => [o.exp(x)]);
    const s = nodeSpan(g.nodes[0], 1, 2);
    expect(s).toMatchObject({ name: 'exp', category: 'node', op: 'exp', inputs: [f32(2, 3)], outputs: [f32(2, 3)] });
    expect(getOp(s.op!).name).toBe('exp');
  });
});

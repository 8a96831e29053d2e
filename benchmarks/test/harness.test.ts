import { describe, expect, it } from 'vitest';
import { MismatchError, isMissingFeatureError, runImplementation, runWorkloadInterleaved, runWorkloads, type Implementation, type Workload } from '../src/harness.js';

/** A clock that advances by the given steps, one per call, so timings are exact and no test depends on real time. */
function fakeClock(durations: number[]): () => number {
  let t = 0;
  let call = 0;
  return () => {
    // Calls alternate start/end; each end adds the next duration.
    if (call++ % 2 === 1) t += durations.shift() ?? 0;
    return t;
  };
}

function workload(impls: Implementation[], extra: Partial<Workload> = {}): Workload {
  return { name: 'w', description: 'test workload', params: { n: 1 }, implementations: impls, ...extra };
}

describe('runImplementation', () => {
  it('runs setup once, warm-up then timed repetitions, and teardown once, with the setup state', async () => {
    const events: string[] = [];
    const impl: Implementation<{ id: number }> = {
      name: 'impl',
      setup: (params) => {
        events.push(`setup n=${params['n']}`);
        return { id: 7 };
      },
      run: (s) => {
        events.push(`run ${s.id}`);
      },
      teardown: (s) => {
        events.push(`teardown ${s.id}`);
      },
    };
    const record = await runImplementation(workload([impl]), impl, { warmup: 2, repetitions: 3, now: fakeClock([4, 1, 9]), log: () => {} });
    expect(events).toEqual(['setup n=1', 'run 7', 'run 7', 'run 7', 'run 7', 'run 7', 'teardown 7']);
    expect(record).toEqual({ workload: 'w', implementation: 'impl', params: { n: 1 }, medianMs: 4, minMs: 1, maxMs: 9, samples: 3 });
  });

  it('derives µs/op and GFLOP/s from the median when the workload declares ops or flops', async () => {
    const impl: Implementation = { name: 'i', setup: () => undefined, run: () => {} };
    const perOp = await runImplementation(workload([impl], { opsPerRun: 1000 }), impl, { warmup: 0, repetitions: 1, now: fakeClock([2]), log: () => {} });
    expect(perOp.usPerOp).toBe(2);
    const flops = await runImplementation(workload([impl], { flopsPerRun: 4e9 }), impl, { warmup: 0, repetitions: 1, now: fakeClock([2000]), log: () => {} });
    expect(flops.gflops).toBe(2);
  });

  it('uses the workload’s own warm-up and repetition counts over the defaults', async () => {
    let runs = 0;
    const impl: Implementation = { name: 'i', setup: () => undefined, run: () => void runs++ };
    const record = await runImplementation(workload([impl], { warmup: 1, repetitions: 2 }), impl, { warmup: 5, repetitions: 50, now: fakeClock([]), log: () => {} });
    expect(runs).toBe(3);
    expect(record.samples).toBe(2);
  });

  it('awaits asynchronous runs', async () => {
    let done = 0;
    const impl: Implementation = { name: 'i', setup: async () => undefined, run: async () => void (await Promise.resolve(), done++) };
    await runImplementation(workload([impl]), impl, { warmup: 1, repetitions: 2, now: fakeClock([]), log: () => {} });
    expect(done).toBe(3);
  });

  it('skips, with the reason, when an op is missing, and still tears down', async () => {
    const logs: string[] = [];
    let tornDown = false;
    const impl: Implementation = {
      name: 'i',
      setup: () => undefined,
      run: () => {
        throw new Error("backend 'cpu' has no kernel for op 'matmul'");
      },
      teardown: () => void (tornDown = true),
    };
    const record = await runImplementation(workload([impl]), impl, { warmup: 1, repetitions: 2, log: (l) => logs.push(l) });
    expect(record).toEqual({
      workload: 'w',
      implementation: 'i',
      params: { n: 1 },
      medianMs: null,
      minMs: null,
      maxMs: null,
      samples: 0,
      skipped: "Error: backend 'cpu' has no kernel for op 'matmul'",
    });
    expect(tornDown).toBe(true);
    expect(logs).toEqual(["  skipped w / i: Error: backend 'cpu' has no kernel for op 'matmul'"]);
  });

  it('skips when an op is not exported yet (calling undefined)', async () => {
    const api: { matmul?: () => void } = {};
    const impl: Implementation = { name: 'i', setup: () => api.matmul!(), run: () => {} };
    const record = await runImplementation(workload([impl]), impl, { warmup: 0, repetitions: 1, log: () => {} });
    expect(record.skipped).toMatch(/TypeError: .*is not a function/);
  });

  it('propagates any other error', async () => {
    const impl: Implementation = {
      name: 'i',
      setup: () => undefined,
      run: () => {
        throw new RangeError('wrong result');
      },
    };
    await expect(runImplementation(workload([impl]), impl, { warmup: 0, repetitions: 1, log: () => {} })).rejects.toThrow('wrong result');
  });

  it('records any other error as failed with keepGoing, and still tears down', async () => {
    const events: string[] = [];
    const impl: Implementation = {
      name: 'i',
      setup: () => undefined,
      run: () => {
        throw new RangeError('wrong result');
      },
      teardown: () => void events.push('teardown'),
    };
    const record = await runImplementation(workload([impl]), impl, { warmup: 0, repetitions: 1, log: () => {}, keepGoing: true });
    expect(record).toMatchObject({ medianMs: null, samples: 0, failed: 'error: RangeError: wrong result' });
    expect(events).toEqual(['teardown']);
  });

  it('stops timed repetitions once they have used budgetMs, keeping at least 3 samples', async () => {
    const timed = async (durations: number[], budgetMs: number) => {
      const impl: Implementation = { name: 'i', setup: () => undefined, run: () => {} };
      return (await runImplementation(workload([impl]), impl, { warmup: 0, repetitions: 10, budgetMs, now: fakeClock(durations), log: () => {} })).samples;
    };
    expect(await timed(Array(10).fill(10), 35)).toBe(4); // 10+10+10+10 ≥ 35
    expect(await timed(Array(10).fill(100), 35)).toBe(3); // over budget after one, but 3 samples at least
    expect(await timed(Array(10).fill(1), 35)).toBe(10); // never reaches it
  });

  it('stops warm-up runs once they have used warmupBudgetMs, after at least one', async () => {
    const warmed = async (durations: number[], warmupBudgetMs: number) => {
      let runs = 0;
      const impl: Implementation = { name: 'i', setup: () => undefined, run: () => void runs++ };
      const r = await runImplementation(workload([impl]), impl, { warmup: 5, repetitions: 1, warmupBudgetMs, now: fakeClock(durations), log: () => {} });
      return runs - r.samples;
    };
    expect(await warmed([10, 10, 10, 10, 10, 10], 25)).toBe(3);
    expect(await warmed([100, 10], 25)).toBe(1);
    expect(await warmed([1, 1, 1, 1, 1, 1], 25)).toBe(5);
  });

  it('skips an implementation marked skipWhenQuick in a quick run only, without setting it up', async () => {
    let setups = 0;
    const impl: Implementation = { name: 'slow', setup: () => void setups++, run: () => {}, skipWhenQuick: 'seconds per run' };
    const quick = await runImplementation(workload([impl]), impl, { warmup: 0, repetitions: 1, log: () => {}, quick: true });
    expect(quick).toMatchObject({ samples: 0, skipped: '--quick: seconds per run' });
    expect(setups).toBe(0);
    const full = await runImplementation(workload([impl]), impl, { warmup: 0, repetitions: 1, now: fakeClock([]), log: () => {} });
    expect(full.samples).toBe(1);
    expect(setups).toBe(1);
  });
});

describe('runImplementation: correctness and repetition counts', () => {
  it('records a MismatchError from setup as failed, never runs or times it, and still tears down', async () => {
    const events: string[] = [];
    const impl: Implementation = {
      name: 'peer',
      setup: () => {
        events.push('setup');
        throw new MismatchError('peer: differs from Kiln by 0.5');
      },
      run: () => void events.push('run'),
      teardown: () => void events.push('teardown'),
    };
    const lines: string[] = [];
    const record = await runImplementation(workload([impl]), impl, { warmup: 1, repetitions: 3, log: (l) => lines.push(l) });
    expect(record).toMatchObject({ implementation: 'peer', medianMs: null, samples: 0, failed: 'peer: differs from Kiln by 0.5' });
    expect(record.skipped).toBeUndefined();
    // setup threw, so there is no state to tear down
    expect(events).toEqual(['setup']);
    expect(lines.join('\n')).toContain('FAILED w / peer');
  });

  it('takes an implementation\'s own counts over the workload\'s, capped by maxWarmup / maxRepetitions', async () => {
    const count = (extra: Partial<Implementation>, options: { maxWarmup?: number; maxRepetitions?: number }) => {
      let runs = 0;
      const impl: Implementation = { name: 'i', setup: () => undefined, run: () => void runs++, ...extra };
      return runImplementation(workload([impl], { warmup: 4, repetitions: 6 }), impl, { warmup: 9, repetitions: 9, now: fakeClock([]), log: () => {}, ...options }).then((r) => [runs, r.samples]);
    };
    expect(await count({}, {})).toEqual([10, 6]);
    expect(await count({ warmup: 1, repetitions: 2 }, {})).toEqual([3, 2]);
    expect(await count({}, { maxWarmup: 1, maxRepetitions: 3 })).toEqual([4, 3]);
    expect(await count({ warmup: 0, repetitions: 2 }, { maxWarmup: 1, maxRepetitions: 3 })).toEqual([2, 2]);
  });
});

describe('isMissingFeatureError', () => {
  it('recognises missing ops and kernels, and nothing else', () => {
    expect(isMissingFeatureError(new TypeError('kiln.matmul is not a function'))).toBe(true);
    expect(isMissingFeatureError(new Error("backend 'cpu' has no kernel for op 'add'"))).toBe(true);
    expect(isMissingFeatureError(new Error('not implemented: conv2d'))).toBe(true);
    expect(isMissingFeatureError(new Error('shapes [2,3] and [4] do not broadcast'))).toBe(false);
    expect(isMissingFeatureError('no kernel')).toBe(true);
  });
});

describe('runWorkloads', () => {
  it('returns one record per implementation of every workload, in order', async () => {
    const a: Implementation = { name: 'a', setup: () => undefined, run: () => {} };
    const b: Implementation = { name: 'b', setup: () => undefined, run: () => {} };
    const records = await runWorkloads([workload([a, b]), { ...workload([a]), name: 'v' }], { warmup: 0, repetitions: 1, now: fakeClock([]), log: () => {} });
    expect(records.map((r) => `${r.workload}/${r.implementation}`)).toEqual(['w/a', 'w/b', 'v/a']);
  });
});

describe('runWorkloadInterleaved', () => {
  const tracer = (name: string, events: string[], extra: Partial<Implementation> = {}): Implementation => ({
    name,
    setup: () => void events.push(`setup ${name}`),
    run: () => void events.push(`run ${name}`),
    teardown: () => void events.push(`teardown ${name}`),
    ...extra,
  });

  it('sets up and warms each in order, times them round-robin, then tears all down', async () => {
    const events: string[] = [];
    const w = workload([tracer('a', events), tracer('b', events, { repetitions: 3 })], { repetitions: 2 });
    const records = await runWorkloadInterleaved(w, { warmup: 1, repetitions: 9, now: fakeClock([1, 10, 2, 20, 30]), log: () => {} });
    expect(events).toEqual(['setup a', 'run a', 'setup b', 'run b', 'run a', 'run b', 'run a', 'run b', 'run b', 'teardown a', 'teardown b']);
    expect(records.map((r) => [r.implementation, r.samples, r.minMs, r.maxMs])).toEqual([['a', 2, 1, 2], ['b', 3, 10, 30]]);
  });

  it('records a failing implementation and times the others', async () => {
    const events: string[] = [];
    const bad = tracer('bad', events, {
      run: () => {
        throw new MismatchError('bad: differs');
      },
    });
    const records = await runWorkloadInterleaved(workload([bad, tracer('good', events)]), { warmup: 0, repetitions: 2, now: fakeClock([]), log: () => {} });
    expect(records.map((r) => [r.implementation, r.samples, r.failed])).toEqual([['bad', 0, 'bad: differs'], ['good', 2, undefined]]);
    expect(events).toEqual(['setup bad', 'setup good', 'teardown bad', 'run good', 'run good', 'teardown good']);
  });

  it('is what runWorkloads does with interleave', async () => {
    const events: string[] = [];
    await runWorkloads([workload([tracer('a', events), tracer('b', events)])], { warmup: 0, repetitions: 1, interleave: true, now: fakeClock([]), log: () => {} });
    expect(events).toEqual(['setup a', 'setup b', 'run a', 'run b', 'teardown a', 'teardown b']);
  });
});

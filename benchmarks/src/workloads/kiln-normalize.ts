/**
 * softmax and layerNorm (issue 7: reductions, softmax, layerNorm), eager vs compiled, over
 * [128, 512] and [64, 128, 256] float32 along the last axis (layerNorm with weight and bias).
 * Both are composites over reductions (max/sum/mean) and elementwise ops; compiled, the
 * elementwise parts fuse. Setup checks that compiled agrees with eager within float32
 * tolerance (rtol 1e-5, atol 1e-6: reductions fold in float64 in the same order in both; the
 * compiled exp may differ by a few ulps), so a wrong kernel cannot be timed.
 */
import * as kiln from '@kiln/eager';
import * as tracer from '@kiln/tracer';
import type { Implementation, Workload } from '../harness.js';

type Tensor = ReturnType<typeof kiln.tensor>;

interface State {
  readonly inputs: readonly Tensor[];
  readonly run: () => void;
}

/** Index of the first element where |a − b| > atol + rtol·|b| (NaN = NaN), or -1. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) return i;
  }
  return -1;
}

function workload(op: 'softmax' | 'layerNorm', shape: readonly number[]): Workload {
  const last = shape[shape.length - 1];
  const fn = op === 'softmax'
    ? (x: Tensor) => kiln.softmax(x, -1)
    : (x: Tensor, w: Tensor, b: Tensor) => kiln.layerNorm(x, [last], w, b);
  const variants = [['kiln-eager-cpu', false], ['kiln-compiled-cpu', true]] as const;
  const implementations: Implementation<State>[] = variants.map(([name, compiled]) => ({
    name,
    setup: () => {
      kiln.manualSeed(0);
      const inputs = [kiln.mul(kiln.randn(shape), 3), kiln.add(kiln.randn([last]), 1), kiln.randn([last])].slice(0, op === 'softmax' ? 1 : 3);
      const f = fn as (...xs: Tensor[]) => Tensor;
      const g = compiled ? tracer.compile(f) : f;
      if (compiled) {
        kiln.tidy(() => {
          const at = firstMismatch(g(...inputs).dataSync(), f(...inputs).dataSync());
          if (at >= 0) throw new Error(`${op}: the compiled result differs from eager at element ${at}`);
        });
      }
      return { inputs, run: () => kiln.tidy(() => void g(...inputs).dataSync()) };
    },
    run: ({ run }) => run(),
    teardown: ({ inputs }) => inputs.forEach((t) => t.dispose()),
  }));
  return {
    name: `${op === 'softmax' ? 'softmax' : 'layer-norm'}-${shape.join('x')}`,
    description: `${op} over the last axis of float32[${shape.join(', ')}]${op === 'layerNorm' ? ' with weight and bias' : ''}: eager vs compiled (median ms)`,
    params: { op, shape: shape.join('x'), dtype: 'float32' },
    warmup: 5,
    repetitions: 30,
    implementations,
  };
}

/** softmax and layerNorm over [128, 512] and [64, 128, 256], eager and compiled. */
export function normalizeWorkloads(): Workload[] {
  return [[128, 512], [64, 128, 256]].flatMap((shape) => [workload('softmax', shape), workload('layerNorm', shape)]);
}

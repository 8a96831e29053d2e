/**
 * The browser page's program (docs/examples/browser/index.html): fetches a saved `.kiln` model,
 * runs it on WebGPU when `navigator.gpu` gives an adapter and on the CPU otherwise, and shows
 * the outputs, the timings and which backend ran (and why) — in the page and in
 * `window.kilnResult` for tests. Imports only the runtime and the backends (no eager, tracer or
 * autograd code). Bundle it with `pnpm exec tsx scripts/browser/build.ts`; serve the folder with
 * `pnpm exec tsx scripts/browser/serve.ts` (which also writes `model.kiln`).
 */
import { createCpuBackend, usableThreads } from '@kiln/backend-cpu';
import { createWebGPUBackend, requestWebGPUDevice } from '@kiln/backend-webgpu';
import { loadModel, type LoadedModel, type LoadModelOptions } from '@kiln/runtime';
import { sampleInput, type PageResult } from './sample.js';

/** The little of the DOM this page uses (the repository typechecks without the DOM library). */
interface PageGlobals {
  readonly location: { readonly search: string };
  readonly crossOriginIsolated?: boolean;
  readonly document: { getElementById(id: string): { textContent: string | null; className: string } | null };
  kilnResult?: PageResult;
}
const page = globalThis as unknown as PageGlobals;
const params = new URLSearchParams(page.location.search);
const show = (id: string, text: string, error = false): void => {
  const el = page.document.getElementById(id);
  if (el) {
    el.textContent = text;
    el.className = error ? 'error' : '';
  }
};

type Backend = LoadModelOptions<unknown>['backend'];
interface Chosen { readonly kind: 'webgpu' | 'cpu'; readonly backend: Backend; readonly reason: string }

/** WebGPU when an adapter is there (unless `?backend=cpu`), else the CPU, saying why. */
async function chooseBackend(wanted: string | null): Promise<Chosen> {
  const cpu = (reason: string): Chosen => ({ kind: 'cpu', backend: createCpuBackend() as Backend, reason });
  if (wanted === 'cpu') return cpu('?backend=cpu asked for the CPU');
  try {
    const { device, adapterInfo } = await requestWebGPUDevice();
    const name = [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.device, adapterInfo.description].filter(Boolean).join(' ') || 'unnamed';
    return { kind: 'webgpu', backend: createWebGPUBackend(device, { adapterInfo }) as Backend, reason: `navigator.gpu gave an adapter (${name})` };
  } catch (e) {
    if (wanted === 'webgpu') throw e;
    return cpu(`no WebGPU: ${(e as Error).message}`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<PageResult> {
  const url = params.get('model') ?? 'model.kiln';
  const batch = Number(params.get('batch') ?? 4);
  const runs = Number(params.get('runs') ?? 10);
  show('model', url);
  const chosen = await chooseBackend(params.get('backend'));
  show('status', `backend: ${chosen.kind} (${chosen.reason})\nloading ${url}…`);

  const t0 = performance.now();
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url}: HTTP ${response.status} ${response.statusText}`);
  const model: LoadedModel = loadModel(new Uint8Array(await response.arrayBuffer()), { backend: chosen.backend });
  const loadMs = performance.now() - t0;

  // The first input's symbolic dimensions (the batch) take `batch`.
  const inputShape = model.inputs[0].shape.map((d) => (typeof d === 'number' ? d : batch));
  const x = { dtype: 'float32' as const, shape: inputShape, data: sampleInput(inputShape) };
  const t1 = performance.now();
  const results = await model.runAsync(x);
  const firstRunMs = performance.now() - t1;
  // A browser's main thread cannot wait for workers to start: give them a moment before timing.
  if (chosen.kind === 'cpu' && usableThreads() > 1) await pause(100);
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    await model.runAsync(x);
    times.push(performance.now() - t);
  }
  model.dispose();
  return {
    ok: true, backend: chosen.kind, reason: chosen.reason,
    crossOriginIsolated: page.crossOriginIsolated === true, cpuThreads: usableThreads(), inputShape,
    outputs: results.map((r, i) => ({ name: model.outputs[i], shape: r.shape, data: Array.from(r.data as ArrayLike<number>) })),
    timings: { loadMs, firstRunMs, medianRunMs: median(times), runs },
  };
}

function render(r: PageResult): void {
  if (!r.ok) {
    show('status', `failed: ${r.error}`, true);
    return;
  }
  const t = r.timings!;
  show('status', [
    `backend: ${r.backend} (${r.reason})`,
    `cross-origin isolated: ${r.crossOriginIsolated}; CPU threads: ${r.cpuThreads}`,
    `input: float32[${r.inputShape!.join(',')}]`,
    `load ${t.loadMs.toFixed(1)} ms, first run ${t.firstRunMs.toFixed(1)} ms, median of ${t.runs} runs ${t.medianRunMs.toFixed(2)} ms`,
  ].join('\n'));
  show('outputs', r.outputs!.map((o) => {
    const cols = o.shape[o.shape.length - 1] ?? 1;
    const rows = Array.from({ length: o.data.length / cols }, (_, i) => o.data.slice(i * cols, (i + 1) * cols));
    const argmax = rows.map((row) => row.indexOf(Math.max(...row)));
    return `${o.name}: float32[${o.shape.join(',')}]\n${rows.map((row) => row.map((v) => v.toFixed(3).padStart(7)).join(' ')).join('\n')}\nargmax per row: ${argmax.join(' ')}`;
  }).join('\n\n'));
}

main().then(
  (r) => { page.kilnResult = r; render(r); },
  (e: unknown) => { const r: PageResult = { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }; page.kilnResult = r; render(r); },
);

/**
 * The main job — `kiln demo`, and `bash scripts/demo.sh` through docs/examples/main-job.ts:
 * everything Kiln is for, on the handwritten digits, in well under two minutes on the CPU.
 *
 *  0. chooses the backend (backend.ts): `auto` takes WebGPU on a hardware adapter, else the CPU;
 *  1. trains the MLP 64-128-10 eagerly for a few epochs with `fit` (train.ts): progress (a
 *     one-line bar on a terminal, log lines otherwise), a JSONL log, test accuracy per epoch;
 *  2. compiles the same training step with `compile()` and goes on training (a second `fit`),
 *     measuring steps/s eager against compiled;
 *  3. evaluates the test accuracy (at least 95% in a full run) with the compiled inference graph;
 *  4. saves that graph, batch-dynamic, as `model.kiln` and `model.onnx` (traced on the CPU from
 *     a copy of the weights when training ran on WebGPU);
 *  5. loads `model.kiln` in a separate runtime-only Node process (`kiln run`, on the CPU: the
 *     CLI's run path needs runtime, serializer and backend-cpu only) and checks it predicts what
 *     the trained model predicts on the whole test set;
 *  6. draws the logged loss (per step) and test accuracy (per epoch) from `metrics.jsonl` as
 *     `training.svg`, and the saved inference graph as `graph.svg` (what `kiln graph` draws);
 *  7. prints a summary of the artifacts and figures (also written as `summary.json`).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@kiln/eager';
import { argmax, manualSeed, memory, noGrad, setBackend, tidy, zeros } from '@kiln/eager';
import type { History } from '@kiln/nn';
import { Adam, DataLoader, Linear, ReLU, Sequential, crossEntropy, jsonlLogger, progressBar, trainTestSplit } from '@kiln/nn';
import { readModel } from '@kiln/serializer';
import { compile, exportOnnx } from '@kiln/tracer';
import { saveFile } from '@kiln/tracer/node';
import { graphToSvg } from '../graph-svg.js';
import { type BackendChoice, type BackendRequest, selectBackend } from './backend.js';
import { loadDigits } from './digits.js';
import { plotTrainingSvg, testAccuracy, trainPhase } from './train.js';

/** Options of {@link runMainJob}. */
export interface MainJobOptions {
  /** Where the artifacts go (created if missing). */
  readonly dir: string;
  /** Epochs trained eagerly (default 5). */
  readonly eagerEpochs?: number;
  /** Epochs trained with the compiled step (default 15). */
  readonly compiledEpochs?: number;
  /** Writes text as is (progress bars use `\r`); default process.stdout. */
  readonly write?: (text: string) => void;
  /** Draw a one-line progress bar instead of a line per epoch (default: stdout is a terminal). */
  readonly tty?: boolean;
  /** `cpu`, `webgpu` (any adapter, software included) or `auto` (default: WebGPU on a hardware adapter, else CPU). */
  readonly backend?: BackendRequest;
}

/** What the main job measured and wrote (also `summary.json`). */
export interface MainJobSummary {
  /** The backend trained and evaluated on, and why it was chosen. */
  readonly backend: { name: 'cpu' | 'webgpu'; reason: string };
  readonly eager: { epochs: number; stepsPerSecond: number; examplesPerSecond: number };
  readonly compiled: { epochs: number; stepsPerSecond: number; examplesPerSecond: number; traces: number };
  readonly speedup: number;
  readonly testAccuracy: number;
  readonly deployed: { rows: number; matching: number };
  readonly artifacts: Readonly<Record<'kiln' | 'onnx' | 'testSet' | 'metrics' | 'plot' | 'graph' | 'summary', string>> & { kilnBytes: number; onnxBytes: number };
  readonly seconds: number;
  readonly liveTensors: number;
  /** Why the job failed (predictions differ, or a full run below 95% accuracy), or undefined. */
  readonly failure?: string;
}

const BATCH = 32;

/** The CLI's own entry point, as source (under tsx) or built: the runtime-only process runs it. */
function cliMain(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return fileURLToPath(new URL(`../main.${ext}`, import.meta.url));
}

/** Steps per second over the steps that did not trace (a trace is a one-off cost, not the training speed). */
function stepsPerSecond(history: History): number {
  const timed = history.steps.filter((s) => !s.traced);
  return timed.length / timed.reduce((sum, s) => sum + s.seconds, 0);
}

const newModel = () => new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));

/**
 * Runs the main job and returns its summary; see the file's comment for the steps.
 *
 * @example
 * ```ts
 * const summary = await runMainJob({ dir: 'out', eagerEpochs: 1, compiledEpochs: 1 });
 * console.log(summary.speedup, summary.artifacts.kiln);
 * ```
 */
export async function runMainJob(options: MainJobOptions): Promise<MainJobSummary> {
  const selected = await selectBackend(options.backend ?? 'auto');
  try {
    return await mainJob(options, selected);
  } finally {
    selected.release();
  }
}

async function mainJob(options: MainJobOptions, selected: BackendChoice): Promise<MainJobSummary> {
  const dir = resolve(options.dir);
  const eagerEpochs = options.eagerEpochs ?? 5;
  const compiledEpochs = options.compiledEpochs ?? 15;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const log = (text: string) => write(`${text}\n`);
  const tty = options.tty ?? process.stdout.isTTY === true;
  const jobStart = performance.now();
  mkdirSync(dir, { recursive: true });
  /** A path as the user would type it: relative to the working directory when inside it. */
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel === '' || rel.startsWith('..') ? path : rel;
  };

  // ── backend, data and model ────────────────────────────────────────────────────────────────
  const asyncReads = selected.backend === 'webgpu';
  log(`backend: ${selected.backend} (${selected.reason})`);
  manualSeed(0);
  const { x, y } = loadDigits();
  const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
  x.dispose();
  y.dispose();
  log(`digits: ${trainX.shape[0]} training and ${testX.shape[0]} test images of 8×8 pixels`);

  const model = newModel();
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  log(`model: ${model.toString().replace(/\s*\n\s*/g, ' ')}`);

  // ── 1. eager, 2. the same step compiled: fit, with progress, a JSONL log and test accuracy ─
  const metricsPath = join(dir, 'metrics.jsonl');
  writeFileSync(metricsPath, '');
  const data = new DataLoader([trainX, trainY] as const, { batchSize: BATCH, shuffle: true });
  const phase = (label: string, epochs: number, step: (xb: Tensor, yb: Tensor) => Tensor) => trainPhase({
    model, data, epochs, step, asyncReads,
    callbacks: [
      progressBar({ label, tty, write }),
      // Each line tagged with its phase; epoch lines carry the test accuracy (below).
      jsonlLogger({ write: (line) => appendFileSync(metricsPath, `{"phase":"${label}",${line.slice(1)}`), epochs: false }),
      testAccuracy(model, testX, testY, asyncReads, (logs, accuracy) => appendFileSync(metricsPath, `${JSON.stringify({ phase: label, kind: 'epoch', ...logs, test_accuracy: accuracy })}\n`)),
    ],
  });
  const body = (xb: Tensor, yb: Tensor): Tensor => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const eager = await phase('eager', eagerEpochs, body);
  const trainStep = compile(function trainStep(xb: Tensor, yb: Tensor): Tensor {
    return body(xb, yb);
  });
  const compiled = await phase('compiled', compiledEpochs, trainStep);
  const eagerRate = stepsPerSecond(eager);
  const compiledRate = stepsPerSecond(compiled);
  const speedup = compiledRate / eagerRate;
  log(`steps/s: eager ${eagerRate.toFixed(0)}, compiled ${compiledRate.toFixed(0)} (${speedup.toFixed(2)}× speedup; ${trainStep.stats.traces} traces, one per batch shape, not timed)`);

  // ── 3. test accuracy, through the compiled inference function ────────────────────────────
  model.eval();
  const predict = compile(function predict(images: Tensor): Tensor {
    return model.forward(images);
  });
  const predicted = noGrad(() => tidy(() => argmax(predict(testX), 1)));
  const expected = Array.from(await predicted.data());
  predicted.dispose();
  const labels = Array.from(await testY.data());
  const accuracy = expected.filter((p, i) => p === labels[i]).length / labels.length;
  log(`test accuracy ${(100 * accuracy).toFixed(2)}% after ${eagerEpochs} eager + ${compiledEpochs} compiled epochs`);
  const testImages = Array.from(await testX.data());

  // The saved graph is traced on the CPU: WebGPU weights are copied over (saving reads them synchronously).
  const saved = selected.backend === 'cpu' ? { model, predict } : await (async () => {
    const weights = new Map<string, Tensor>();
    for (const [name, p] of model.namedParameters()) weights.set(name, await p.toAsync('cpu'));
    setBackend('cpu');
    const copy = newModel();
    copy.loadStateDict(weights);
    for (const t of weights.values()) t.dispose();
    copy.eval();
    return { model: copy, predict: compile(function predict(images: Tensor): Tensor { return copy.forward(images); }) };
  })();
  for (const t of [trainX, trainY, testX, testY]) t.dispose();

  // ── 4. save: .kiln and ONNX, any batch size ────────────────────────────────────────────────
  const io = { names: saved.model, inputNames: ['images'], outputNames: ['logits'], dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] };
  const kilnPath = join(dir, 'model.kiln');
  const kilnBytes = saveFile(kilnPath, saved.predict, [zeros([8, 64])], io);
  const onnxPath = join(dir, 'model.onnx');
  const onnx = exportOnnx(saved.predict, [zeros([8, 64])], io);
  writeFileSync(onnxPath, onnx);
  const testSetPath = join(dir, 'test-set.json');
  writeFileSync(testSetPath, JSON.stringify({ images: testImages, labels, expected }));
  const rows = labels.length;
  const imagesPath = join(dir, 'test-images.json');
  writeFileSync(imagesPath, JSON.stringify(Array.from({ length: rows }, (_, r) => testImages.slice(r * 64, (r + 1) * 64))));
  log(`saved ${shown(kilnPath)} (${kilnBytes.toLocaleString('en-US')} bytes) and ${shown(onnxPath)} (${onnx.byteLength.toLocaleString('en-US')} bytes), batch-dynamic`);

  // ── 5. a separate runtime-only process loads model.kiln: `kiln run` ────────────────────────
  const runStart = performance.now();
  const child = spawnSync(process.execPath, [...process.execArgv, cliMain(), 'run', kilnPath, '--input', `images=@${imagesPath}`, '--json', '--full'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const runMs = performance.now() - runStart;
  let logits: { shape: number[]; data: number[] } | undefined;
  try {
    logits = (JSON.parse(child.stdout) as Record<string, { shape: number[]; data: number[] }>)['logits'];
  } catch {
    logits = undefined;
  }
  if (child.status !== 0 || logits === undefined) throw new Error(`the runtime-only process (kiln run) failed (status ${child.status}):\n${child.stdout}${child.stderr}`);
  let matching = 0;
  const classes = logits.shape[1];
  for (let row = 0; row < rows; row++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits.data[row * classes + c] > logits.data[row * classes + best]) best = c;
    if (best === expected[row]) matching++;
  }
  log(`runtime-only process (kiln run: @kiln/runtime, serializer, backend-cpu): ${matching}/${rows} predictions match the trained model (${runMs.toFixed(0)} ms with process start)`);

  // ── 6. pictures: the training curves and the saved graph ───────────────────────────────────
  const plotPath = join(dir, 'training.svg');
  writeFileSync(plotPath, plotTrainingSvg(readFileSync(metricsPath, 'utf8'), `digits MLP: ${eagerEpochs} eager + ${compiledEpochs} compiled epochs`));
  const graphPath = join(dir, 'graph.svg');
  writeFileSync(graphPath, graphToSvg(readModel(new Uint8Array(readFileSync(kilnPath))), { title: `${shown(kilnPath)}: the compiled inference graph` }));
  log(`wrote ${shown(metricsPath)} (every step and epoch), ${shown(plotPath)} (loss and test accuracy, drawn from it) and ${shown(graphPath)} (the saved graph, as \`kiln graph\` draws it)`);

  // ── 7. summary ─────────────────────────────────────────────────────────────────────────────
  const summaryPath = join(dir, 'summary.json');
  const full = eagerEpochs + compiledEpochs >= 20;
  const failure = matching !== rows ? 'the runtime-only predictions differ from the trained model\'s' : full && accuracy < 0.95 ? 'expected at least 95% test accuracy' : undefined;
  const summary: MainJobSummary = {
    backend: { name: selected.backend, reason: selected.reason },
    eager: { epochs: eagerEpochs, stepsPerSecond: eagerRate, examplesPerSecond: eagerRate * BATCH },
    compiled: { epochs: compiledEpochs, stepsPerSecond: compiledRate, examplesPerSecond: compiledRate * BATCH, traces: trainStep.stats.traces },
    speedup,
    testAccuracy: accuracy,
    deployed: { rows, matching },
    artifacts: { kiln: kilnPath, kilnBytes, onnx: onnxPath, onnxBytes: onnx.byteLength, testSet: testSetPath, metrics: metricsPath, plot: plotPath, graph: graphPath, summary: summaryPath },
    seconds: (performance.now() - jobStart) / 1000,
    liveTensors: memory().numTensors,
    ...(failure ? { failure } : {}),
  };
  writeFileSync(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  const pad = 1 + Math.max(...[kilnPath, onnxPath, testSetPath, imagesPath, metricsPath, plotPath, graphPath, summaryPath].map((p) => shown(p).length));
  log([
    '',
    'summary',
    `  eager     ${eagerEpochs} epochs  ${eagerRate.toFixed(0)} steps/s  ${(eagerRate * BATCH).toFixed(0)} examples/s`,
    `  compiled  ${compiledEpochs} epochs  ${compiledRate.toFixed(0)} steps/s  ${(compiledRate * BATCH).toFixed(0)} examples/s  (${speedup.toFixed(2)}× eager)`,
    `  test accuracy  ${(100 * accuracy).toFixed(2)}%`,
    `  runtime-only   ${matching}/${rows} predictions match`,
    '  artifacts',
    `    ${shown(kilnPath).padEnd(pad)} compiled inference graph + weights, batch-dynamic (${kilnBytes.toLocaleString('en-US')} bytes)`,
    `    ${shown(onnxPath).padEnd(pad)} the same graph as ONNX opset 17 (${onnx.byteLength.toLocaleString('en-US')} bytes)`,
    `    ${shown(testSetPath).padEnd(pad)} test images, labels and the trained model's predictions`,
    `    ${shown(imagesPath).padEnd(pad)} the test images alone, as \`kiln run --input images=@…\` reads them`,
    `    ${shown(metricsPath).padEnd(pad)} the training log: a JSON line per step and per epoch (fit's jsonlLogger)`,
    `    ${shown(plotPath).padEnd(pad)} training loss per step and test accuracy per epoch, from the log (SVG)`,
    `    ${shown(graphPath).padEnd(pad)} the saved inference graph, drawn (SVG; also \`kiln graph model.kiln --out …\`)`,
    `    ${shown(summaryPath).padEnd(pad)} these figures as JSON`,
    `  total ${summary.seconds.toFixed(1)} s`,
  ].join('\n'));
  return summary;
}


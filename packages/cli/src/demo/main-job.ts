/**
 * The main job — `kiln demo`, and `bash scripts/demo.sh` through docs/examples/main-job.ts:
 * everything Kiln is for, on the handwritten digits, on the CPU, in well under two minutes.
 *
 *  1. trains the MLP 64-128-10 eagerly for a few epochs, with progress (a one-line bar on a
 *     terminal, log lines otherwise);
 *  2. compiles the same training step with `compile()` and goes on training, measuring steps/s
 *     eager against compiled;
 *  3. evaluates the test accuracy (at least 95% in a full run);
 *  4. saves the compiled inference graph, batch-dynamic, as `model.kiln` and `model.onnx`;
 *  5. loads `model.kiln` in a separate runtime-only Node process (`kiln run`: the CLI depends on
 *     runtime, serializer and backend-cpu only) and checks it predicts what the trained model
 *     predicts on the whole test set;
 *  6. draws the logged loss (per step) and test accuracy (per epoch) as `training.svg` and the
 *     saved inference graph as `graph.svg` (what `kiln graph` draws);
 *  7. prints a summary of the artifacts and figures (also written as `summary.json`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@kiln/eager';
import { argmax, manualSeed, memory, noGrad, tidy, zeros } from '@kiln/eager';
import { Adam, Linear, ReLU, Sequential, batches, crossEntropy, plotMetricsSvg, trainTestSplit } from '@kiln/nn';
import { readModel } from '@kiln/serializer';
import { compile, exportOnnx } from '@kiln/tracer';
import { saveFile } from '@kiln/tracer/node';
import { graphToSvg } from '../graph-svg.js';
import { loadDigits } from './digits.js';

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
}

/** What the main job measured and wrote (also `summary.json`). */
export interface MainJobSummary {
  readonly eager: { epochs: number; stepsPerSecond: number; examplesPerSecond: number };
  readonly compiled: { epochs: number; stepsPerSecond: number; examplesPerSecond: number; traces: number };
  readonly speedup: number;
  readonly testAccuracy: number;
  readonly deployed: { rows: number; matching: number };
  readonly artifacts: Readonly<Record<'kiln' | 'onnx' | 'testSet' | 'plot' | 'graph' | 'summary', string>> & { kilnBytes: number; onnxBytes: number };
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

  // ── data and model ─────────────────────────────────────────────────────────────────────────
  manualSeed(0);
  const { x, y } = loadDigits();
  const { train: [trainX, trainY], test: [testX, testY] } = trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
  x.dispose();
  y.dispose();
  const trainRows = trainX.shape[0];
  const stepsPerEpoch = Math.ceil(trainRows / BATCH);
  log(`digits: ${trainRows} training and ${testX.shape[0]} test images of 8×8 pixels`);

  const model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  log(`model: ${model.toString().replace(/\s*\n\s*/g, ' ')}`);

  // ── progress ───────────────────────────────────────────────────────────────────────────────
  interface Phase { name: string; steps: number; seconds: number; traced: number }

  /** Draws the bar (TTY) or prints a line per epoch (otherwise). */
  const progress = (phase: string, epoch: number, epochs: number, step: number, loss: number, rate: number, etaSeconds: number, done: boolean): void => {
    const text = `${phase.padEnd(8)} epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}  step ${String(step).padStart(2)}/${stepsPerEpoch}  loss ${loss.toFixed(4)}  ${Math.round(rate * BATCH).toLocaleString('en-US').padStart(6)} examples/s  ETA ${etaSeconds.toFixed(1)} s`;
    if (tty) {
      const width = 20;
      const filled = Math.round((width * step) / stepsPerEpoch);
      write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}${done ? '\n' : ''}`);
    } else if (done) {
      log(text);
    }
  };

  /** Logged metrics for the plot: loss per step, test accuracy after each epoch (x = global step). */
  const lossLog: [number, number][] = [];
  const accuracyLog: [number, number][] = [];
  /** Test accuracy of the model as it stands (eval mode, no graph recorded), back in train mode after. */
  const testAccuracy = (): number => {
    model.eval();
    const predicted = noGrad(() => tidy(() => argmax(model.forward(testX), 1).dataSync()));
    model.train();
    const truth = testY.dataSync();
    let right = 0;
    for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) right++;
    return right / truth.length;
  };

  /** Trains `epochs` epochs with `step`; times only steps that did not trace. */
  const train = (name: string, epochs: number, step: (xb: Tensor, yb: Tensor) => number, traces: () => number): Phase => {
    const phase: Phase = { name, steps: 0, seconds: 0, traced: 0 };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let lossSum = 0;
      let steps = 0;
      for (const [xb, yb] of batches([trainX, trainY], { batchSize: BATCH, shuffle: true })) {
        const before = traces();
        const t0 = performance.now();
        const loss = step(xb, yb);
        const ms = performance.now() - t0;
        lossSum += loss;
        lossLog.push([lossLog.length + 1, loss]);
        steps++;
        if (traces() === before) {
          phase.steps++;
          phase.seconds += ms / 1000;
        } else {
          phase.traced++;
        }
        const rate = phase.steps / Math.max(phase.seconds, 1e-9);
        const left = (epochs - epoch) * stepsPerEpoch + (stepsPerEpoch - steps);
        const last = steps === stepsPerEpoch;
        if (last || (tty && steps % 5 === 0)) progress(name, epoch, epochs, steps, lossSum / steps, rate, left / rate, last);
      }
      accuracyLog.push([lossLog.length, testAccuracy()]);
    }
    return phase;
  };

  // ── 1. eager ───────────────────────────────────────────────────────────────────────────────
  model.train();
  const eager = train('eager', eagerEpochs, (xb, yb) => tidy(() => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss.item() as number;
  }), () => 0);

  // ── 2. the same step, compiled ─────────────────────────────────────────────────────────────
  const trainStep = compile(function trainStep(xb: Tensor, yb: Tensor): Tensor {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  });
  const compiled = train('compiled', compiledEpochs, (xb, yb) => tidy(() => trainStep(xb, yb).item() as number), () => trainStep.stats.traces);
  const eagerRate = eager.steps / eager.seconds;
  const compiledRate = compiled.steps / compiled.seconds;
  const speedup = compiledRate / eagerRate;
  log(`steps/s: eager ${eagerRate.toFixed(0)}, compiled ${compiledRate.toFixed(0)} (${speedup.toFixed(2)}× speedup; ${trainStep.stats.traces} traces, one per batch shape, not timed)`);

  // ── 3. test accuracy, through the compiled inference function ──────────────────────────────
  model.eval();
  const predict = compile(function predict(images: Tensor): Tensor {
    return model.forward(images);
  });
  const expected = noGrad(() => tidy(() => Array.from(argmax(predict(testX), 1).dataSync())));
  const labels = Array.from(testY.dataSync());
  const accuracy = expected.filter((p, i) => p === labels[i]).length / labels.length;
  log(`test accuracy ${(100 * accuracy).toFixed(2)}% after ${eagerEpochs} eager + ${compiledEpochs} compiled epochs`);

  // ── 4. save: .kiln and ONNX, any batch size ────────────────────────────────────────────────
  const io = { names: model, inputNames: ['images'], outputNames: ['logits'], dynamic: { 0: [0] }, symbols: [{ name: 'batch' }] };
  const kilnPath = join(dir, 'model.kiln');
  const kilnBytes = saveFile(kilnPath, predict, [zeros([8, 64])], io);
  const onnxPath = join(dir, 'model.onnx');
  const onnx = exportOnnx(predict, [zeros([8, 64])], io);
  writeFileSync(onnxPath, onnx);
  const testImages = Array.from(testX.dataSync());
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
  writeFileSync(plotPath, plotMetricsSvg([
    { name: 'training loss (per step)', points: lossLog },
    { name: 'test accuracy (per epoch)', points: accuracyLog, axis: 'right', markers: true },
  ], {
    title: `digits MLP: ${eagerEpochs} eager + ${compiledEpochs} compiled epochs`, xLabel: 'training step', yLabel: 'cross-entropy loss', y2Label: 'test accuracy',
  }));
  const graphPath = join(dir, 'graph.svg');
  writeFileSync(graphPath, graphToSvg(readModel(new Uint8Array(readFileSync(kilnPath))), { title: `${shown(kilnPath)}: the compiled inference graph` }));
  log(`wrote ${shown(plotPath)} (loss and test accuracy) and ${shown(graphPath)} (the saved graph, as \`kiln graph\` draws it)`);

  // ── 7. summary ─────────────────────────────────────────────────────────────────────────────
  const summaryPath = join(dir, 'summary.json');
  const full = eagerEpochs + compiledEpochs >= 20;
  const failure = matching !== rows ? 'the runtime-only predictions differ from the trained model\'s' : full && accuracy < 0.95 ? 'expected at least 95% test accuracy' : undefined;
  const summary: MainJobSummary = {
    eager: { epochs: eagerEpochs, stepsPerSecond: eagerRate, examplesPerSecond: eagerRate * BATCH },
    compiled: { epochs: compiledEpochs, stepsPerSecond: compiledRate, examplesPerSecond: compiledRate * BATCH, traces: trainStep.stats.traces },
    speedup,
    testAccuracy: accuracy,
    deployed: { rows, matching },
    artifacts: { kiln: kilnPath, kilnBytes, onnx: onnxPath, onnxBytes: onnx.byteLength, testSet: testSetPath, plot: plotPath, graph: graphPath, summary: summaryPath },
    seconds: (performance.now() - jobStart) / 1000,
    liveTensors: memory().numTensors,
    ...(failure ? { failure } : {}),
  };
  writeFileSync(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  const pad = 1 + Math.max(...[kilnPath, onnxPath, testSetPath, imagesPath, plotPath, graphPath, summaryPath].map((p) => shown(p).length));
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
    `    ${shown(plotPath).padEnd(pad)} training loss per step and test accuracy per epoch (SVG)`,
    `    ${shown(graphPath).padEnd(pad)} the saved inference graph, drawn (SVG; also \`kiln graph model.kiln --out …\`)`,
    `    ${shown(summaryPath).padEnd(pad)} these figures as JSON`,
    `  total ${summary.seconds.toFixed(1)} s`,
  ].join('\n'));
  for (const t of [trainX, trainY, testX, testY]) t.dispose();
  return summary;
}


/**
 * compile()'s options and tools, as in docs/guide/compile.md: static arguments, dynamic
 * dimensions (one graph for every batch size), learning-rate schedules in a compiled training
 * step, explain() and check mode. Run with
 * `pnpm exec tsx --conditions=kiln-source docs/examples/compile-options.ts`; its output is
 * checked against the guide by packages/tracer/test/guide-examples.test.ts.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, randint, randn, tensor, tidy } from '@kiln/eager';
import { CosineAnnealingLR, crossEntropy, Linear, ReLU, Sequential, SGD } from '@kiln/nn';
import type { CompileCheckError } from '@kiln/tracer';
import { compile } from '@kiln/tracer';

// 1. Static arguments: baked into the graph, part of the signature by value — a static tensor
//    may even be read in JavaScript.
const pick = compile((x: Tensor, mode: Tensor) => ((mode.item() as number) > 0 ? x.relu() : x.neg()), {
  static: [1],
  onRetrace: (message) => console.log(message),
});
const x = tensor([1, -2], 'float32');
console.log('mode 1:', pick(x, tensor(1)).toArray(), '| mode 0:', pick(x, tensor(0)).toArray());

// 2. Dynamic dimensions: one graph for every batch size.
manualSeed(0);
const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
const schedule = new CosineAnnealingLR(optimizer, { tMax: 20 });
const trainStep = compile(
  function trainStep(xb: Tensor, yb: Tensor): Tensor {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(xb), yb);
    loss.backward();
    optimizer.step();
    return loss;
  },
  { dynamic: { 0: [0], 1: [0] }, onRetrace: (message) => console.log(message) },
);
for (const batch of [32, 32, 17, 32, 5]) {
  const loss = tidy(() => trainStep(randn([batch, 4]), randint(0, 3, [batch])).item() as number);
  console.log(`batch ${batch}: loss ${loss.toFixed(4)}, lr ${optimizer.paramGroups[0].lr.toFixed(4)}`);
  schedule.step(); // the next call reads the new learning rate: no retrace
}
console.log('stats', trainStep.stats);

// 3. explain(): what runs for these arguments, and why.
const report = trainStep.explain(randn([9, 4]), randint(0, 3, [9]));
console.log(report.dynamic);
console.log('guards:', report.guards);
console.log('smaller after the passes:', report.graph.nodes.length < report.tracedGraph.nodes.length, '| planned peak bytes > 0:', report.memory.plannedPeakBytes > 0);

// 4. check: run eagerly too and report the first node that differs.
let scale = 2;
const scaled = compile((t: Tensor) => t.add(1).mul(scale).relu(), { check: true });
scaled(x);
scale = 3; // a JavaScript number read while tracing: the graph still multiplies by 2
try {
  scaled(x);
} catch (e) {
  const { mismatch } = e as CompileCheckError;
  console.log(`${(e as Error).name}: node ${mismatch.node} (${mismatch.op}) at line ${mismatch.loc?.line}:`, mismatch.element);
}

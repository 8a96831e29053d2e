/**
 * compile() basics, as in docs/guide/compile.md: tracing once and reusing the graph, retracing
 * with the reason, captured state read fresh on every call, in-place state updates, random
 * numbers. Run with `pnpm exec tsx --conditions=kiln-source docs/examples/compile-basics.ts`;
 * its output is checked against the guide by packages/tracer/test/guide-examples.test.ts.
 */
import type { Tensor } from '@kiln/eager';
import { add, manualSeed, noGrad, rand, relu, tensor, zeros } from '@kiln/eager';
import { compile } from '@kiln/tracer';

// 1. Trace once, run the graph on later calls with the same signature.
let traced = 0;
const affine = compile((x: Tensor, y: Tensor) => {
  traced++; // JavaScript in the function runs only while tracing
  return relu(x.mul(2).add(y));
});
const x = tensor([1, -2, 3], 'float32');
const y = tensor([0.5, 0.5, -10], 'float32');
console.log('affine(x, y) =', affine(x, y).toArray());
console.log('affine(y, x) =', affine(y, x).toArray());
console.log('traced', traced, 'time(s); stats', affine.stats);

// 2. A new signature traces again, and says why.
function scaleBy(t: Tensor, factor: number): Tensor {
  return t.mul(factor);
}
const scale = compile(scaleBy, { onRetrace: (message) => console.log(message) });
scale(tensor([[1, 2]], 'float32'), 2);
scale(tensor([[1, 2], [3, 4]], 'float32'), 2); // a new shape
scale(tensor([[1, 2], [3, 4]], 'float32'), 3); // a new number: numbers are part of the signature
scale(tensor([[5, 6]], 'float32'), 2); // seen before: no trace
console.log('scale stats', scale.stats);

// 3. Tensors from the closure are inputs read on every call: the graph never bakes them in.
const weight = tensor([1, 2, 3], 'float32');
const weigh = compile((t: Tensor) => t.mul(weight).sum());
console.log('weigh =', weigh(tensor([1, 1, 1], 'float32')).item());
noGrad(() => weight.assign(tensor([10, 20, 30], 'float32')));
console.log('weigh after weight.assign =', weigh(tensor([1, 1, 1], 'float32')).item(), '(traces:', `${weigh.stats.traces})`);

// 4. assign() inside a compiled function updates the tensor after each call.
const total = zeros([], 'float32');
const accumulate = compile((t: Tensor) => {
  total.assign(total.add(t.sum()));
  return total.mul(1);
});
accumulate(tensor([1, 2], 'float32'));
console.log('running total =', accumulate(tensor([3, 4], 'float32')).item(), '; total holds', total.item());

// 5. Random ops use the global generator and advance it exactly as eager code does.
const noisy = (t: Tensor) => add(t, rand([3]));
manualSeed(7);
const eagerDraws = [noisy(zeros([3])), noisy(zeros([3]))].map((d) => d.toArray());
manualSeed(7);
const compiledNoisy = compile(noisy);
const compiledDraws = [compiledNoisy(zeros([3])), compiledNoisy(zeros([3]))].map((d) => d.toArray());
console.log('same random numbers as eager:', JSON.stringify(compiledDraws) === JSON.stringify(eagerDraws));

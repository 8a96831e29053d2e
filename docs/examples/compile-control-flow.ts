/**
 * Structured control flow, as in docs/guide/compile.md ("Control flow"): cond, whileLoop and
 * scan, eagerly and compiled, their graphs, gradients through cond and scan, and the errors.
 * Run with `pnpm exec tsx --conditions=kiln-source docs/examples/compile-control-flow.ts`; its
 * output is checked against the guide by packages/tracer/test/guide-examples.test.ts.
 */
import type { Tensor } from '@kiln/eager';
import { cond, scan, tanh, tensor, valueAndGrad, whileLoop } from '@kiln/eager';
import { compile } from '@kiln/tracer';

const show = (what: string, fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    console.log(`${what}: ${(e as Error).name}: ${(e as Error).message}`);
  }
};

// 1. cond: one branch or the other, chosen by a bool scalar tensor.
const scale = tensor([1, 2, 3], 'float32');
const choose = (x: Tensor) =>
  cond(
    x.sum().gt(0),
    (v: Tensor) => v.mul(scale), // then: reads `scale` from the closure
    (v: Tensor) => v.neg(), //      else
    [x], //                          the operands, passed to both functions
  );
const compiledChoose = compile(choose);
console.log('eager:   ', choose(tensor([1, 1, 1], 'float32')).toArray(), choose(tensor([-1, -1, -1], 'float32')).toArray());
console.log('compiled:', compiledChoose(tensor([1, 1, 1], 'float32')).toArray(), compiledChoose(tensor([-1, -1, -1], 'float32')).toArray());
const graph = compiledChoose.graph(tensor([1, 1, 1], 'float32'));
const condNode = graph.nodes.find((n) => n.op === 'cond')!;
console.log('graph:', graph.nodes.map((n) => n.op).join(', '), '| cond inputs:', condNode.inputs.length, '| branches:', condNode.subgraphs!.map((g) => g.nodes.map((n) => n.op).join(' ')).join(' / '));

// 2. whileLoop: repeat while a tensor condition holds; the carry may be a nested structure.
const halve = compile((x: Tensor) =>
  whileLoop(
    ({ x }) => x.max().gt(1),
    ({ steps, x }) => ({ steps: steps.add(1), x: x.div(2) }),
    { steps: tensor(0), x },
  ),
);
const halved = halve(tensor([3, 40], 'float32'));
console.log('halved', halved.steps.item(), 'times:', halved.x.toArray());

// 3. scan: a loop over the leading axis of xs that threads a carry and stacks the ys.
const runningSum = compile((xs: Tensor) => scan((total: Tensor, x: Tensor) => [total.add(x), total.add(x)], tensor(0, 'float32'), xs));
const [sum, partials] = runningSum(tensor([1, 2, 3, 4], 'float32'));
console.log('scan: total', sum.item(), 'partial sums', partials.toArray());

// 4. Gradients flow through cond and scan, compiled as eagerly.
const w = tensor([[0.5, -0.2], [0.1, 0.3]], 'float32');
const rnnLoss = (weights: Tensor, xs: Tensor) => {
  const [h] = scan((h: Tensor, x: Tensor) => [tanh(weights.matmul(h).add(x)), null], tensor([0, 0], 'float32'), xs);
  return h.sum();
};
const xs = tensor([[1, 0], [0.5, -1], [0.2, 0.2]], 'float32');
const eagerGrad = valueAndGrad(rnnLoss)(w, xs)[1];
const compiledGrad = compile((a: Tensor, b: Tensor) => valueAndGrad(rnnLoss)(a, b)[1])(w, xs);
const round = (t: Tensor) => (t.toArray() as number[][]).map((r) => r.map((v) => Number(v.toFixed(5))));
console.log('d loss / d w, eager:   ', JSON.stringify(round(eagerGrad)));
console.log('d loss / d w, compiled:', JSON.stringify(round(compiledGrad)));

// 5. Errors name what does not fit.
const bad = compile((x: Tensor) => cond(x.sum().gt(0), (v: Tensor) => v, (v: Tensor) => v.sum(), [x]));
show('branches that differ', () => bad(tensor([1, 2], 'float32')));
const growing = compile((x: Tensor) => whileLoop((v: Tensor) => v.sum().lt(10), (v: Tensor) => v.reshape([1, -1]), x));
show('a loop body that reshapes its carry', () => growing(tensor([1, 2], 'float32')));
const notBool = compile((x: Tensor) => cond(x.sum(), (v: Tensor) => v, (v: Tensor) => v, [x]));
show('a number as the predicate', () => notBool(tensor([1, 2], 'float32')));
const loopGrad = (x: Tensor) => whileLoop((v: Tensor) => v.sum().lt(10), (v: Tensor) => v.mul(2), x).sum();
show('a gradient through whileLoop', () => valueAndGrad(loopGrad)(tensor([1, 2], 'float32')));

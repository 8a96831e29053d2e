/**
 * What compile() refuses, and the fix for each, as in docs/guide/compile.md: reading a traced
 * value in JavaScript, arguments that are not data, traced tensors that escape. Run with
 * `pnpm exec tsx --conditions=kiln-source docs/examples/compile-errors.ts`; its output is
 * checked against the guide by packages/tracer/test/guide-examples.test.ts.
 */
import type { Tensor } from '@kiln/eager';
import { tensor, where } from '@kiln/eager';
import { Linear } from '@kiln/nn';
import { compile } from '@kiln/tracer';

/** Runs f and prints the error it throws, with this repository's path left out of source locations. */
function show(label: string, f: () => unknown): void {
  try {
    f();
    console.log(`${label}: no error`);
  } catch (e) {
    const err = e as Error;
    console.log(`${label}: ${err.name}: ${err.message.replaceAll(process.cwd() + '/', '')}\n`);
  }
}

const x = tensor([-1, 2], 'float32');

// 1. A JavaScript branch on a tensor's value cannot be traced: the value is not known yet.
const clipNegative = compile((t: Tensor) => ((t.min().item() as number) < 0 ? t.relu() : t));
show('item() in a compiled function', () => clipNegative(x));

// The same computation in tensor ops: a choice per element, the same on every call.
const clipNegativeFixed = compile((t: Tensor) => where(t.lt(0), 0, t));
console.log('with where():', clipNegativeFixed(x).toArray(), '\n');

// 2. Comparisons and template strings on a traced tensor are reads too.
show('x > 0 on a traced tensor', () => compile((t: Tensor) => ((t as unknown as number) > 0 ? t : t.neg()))(tensor([3], 'float32')));

// 3. Arguments are tensors, numbers, strings, booleans and arrays/objects of them.
const layer = new Linear(2, 1);
show('a module as an argument', () => compile((m: Linear, t: Tensor) => m.forward(t))(layer, x));
const applyLayer = compile((t: Tensor) => layer.forward(t)); // close over it instead
console.log('closing over the layer:', applyLayer(tensor([[1, 2]], 'float32')).shape, '\n');

// 4. A traced tensor kept outside the function has no value.
let kept: Tensor | undefined;
const leaky = compile((t: Tensor) => {
  kept = t.mul(2);
  return t;
});
leaky(x);
show('reading a traced tensor that escaped', () => kept!.toArray());

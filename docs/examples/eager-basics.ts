/**
 * Kiln in five minutes: eager tensors run as you write them, print like PyTorch, and free
 * their memory deterministically. Run it with `bash scripts/demo.sh` (or `pnpm demo`).
 */
import { add, arange, manualSeed, matmul, memory, randn, softmax, tensor, tidy } from '@kiln/eager';

// Tensors from nested arrays; the dtype is inferred like PyTorch (integers → int32, else float32).
const x = tensor([[1, 2, 3], [4, 5, 6]], 'float32');
console.log('x =', x.toString());
console.log('x.shape =', x.shape, ' x.dtype =', x.dtype);

// Elementwise ops broadcast like NumPy; numbers are weak scalars that keep the tensor's dtype.
const y = add(x, tensor([10, 20, 30]));
console.log('\nx + [10, 20, 30] =', y.toString());
console.log('x * 2 - 1 =', x.mul(2).sub(1).toString());

// Reductions over any axes, with keepdims.
console.log('\nsum over rows =', x.sum(0).toString());
console.log('mean of each row =', x.mean(1, true).toString());
console.log('argmax of each row =', x.argmax(1).toString());

// Matrix products and a softmax, the bread and butter of a neural network layer.
manualSeed(0); // random numbers come from a seeded counter-based generator: same seed, same numbers
const w = randn([3, 4]);
const logits = matmul(x, w);
console.log('\nlogits = x @ w =', logits.toString());
console.log('softmax(logits) =', softmax(logits, -1).toString());
console.log('each row sums to 1:', softmax(logits, -1).sum(-1).toString());

// Shape ops: reshape, transpose, slicing.
const r = arange(12).reshape([3, 4]);
console.log('\narange(12).reshape([3, 4]) =', r.toString());
console.log('transposed =', r.transpose().toString());

// Memory: tidy() frees every intermediate tensor the function made, keeping what it returns.
const before = memory().numTensors;
const total = tidy(() => {
  let acc = tensor(0, 'float32');
  for (let i = 0; i < 1000; i++) acc = add(acc, i);
  return acc;
});
console.log(`\n0 + 1 + … + 999 = ${total.item()}`);
console.log(`1000 adds ran inside tidy(); live tensors went from ${before} to ${memory().numTensors}: only the returned result survived.`);

import type { Tensor } from '@kiln/eager';
import { add, memory, mul, sum, tidy } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import type { Module } from '../src/index.js';
import * as nn from '../src/index.js';
import type { LayerCase } from './helpers/golden.js';
import { camelKey, decode, expectClose, isRef, loadCases } from './helpers/golden.js';

/*
 * PyTorch goldens (scripts/golden/gen_nn_layers.py): each layer is built in Kiln with the same
 * arguments, given PyTorch's weights through loadStateDict, run forward and backward on
 * sum(output · cotangent), and compared: outputs, input gradients, parameter gradients, and
 * the state after the call (BatchNorm's running statistics).
 */

type Ctor = new (...args: never[]) => Module;
const LAYERS: Record<string, (args: unknown[], options: Record<string, unknown> | null) => Module> = {
  'Sequential:mlp': () => new nn.Sequential(new nn.Linear(4, 6), new nn.ReLU(), new nn.Linear(6, 2)),
};

function build(c: LayerCase): Module {
  if (LAYERS[c.layer]) return LAYERS[c.layer](c.args, c.options);
  const ctor = (nn as unknown as Record<string, Ctor>)[c.layer];
  expect(ctor, `layer class ${c.layer}`).toBeTypeOf('function');
  const args = c.options === null ? c.args : [...c.args, c.options];
  return new (ctor as unknown as new (...a: unknown[]) => Module)(...args);
}

function resolveOptions(options: Record<string, unknown>, inputs: Tensor[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, isRef(v) ? inputs[v.ref] : v]));
}

function run(m: Module, c: LayerCase, inputs: Tensor[]): Tensor[] {
  const opts = resolveOptions(c.forwardOptions, inputs);
  if (c.forward === 'mha') {
    const [out, weights] = (m as nn.MultiheadAttention).forward(inputs[0], inputs[1], inputs[2], opts);
    return weights ? [out, weights] : [out];
  }
  if (c.forward === 'encoder') return [(m as nn.TransformerEncoderLayer).forward(inputs[0], opts)];
  return [(m as unknown as { forward(x: Tensor): Tensor }).forward(inputs[0])];
}

function check(c: LayerCase): void {
  const m = build(c);
  const before = memory().numTensors;
  tidy(() => {
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [camelKey(k), decode(v)]));
    m.loadStateDict(state);
    m.train(c.train);
    const inputs = c.inputs.map((t) => {
      const x = decode(t);
      return x.dtype === 'float32' || x.dtype === 'float64' ? x.requireGrad() : x;
    });
    const outputs = run(m, c, inputs);
    expect(outputs.length, 'number of outputs').toBe(c.outputs.length);
    outputs.forEach((o, i) => expectClose(o, c.outputs[i], c.rtol, c.atol, `output ${i}`));
    const loss = outputs.map((o, i) => sum(mul(o, decode(c.cotangents[i])))).reduce((a, b) => add(a, b));
    loss.backward();
    c.inputGrads.forEach((g, i) => {
      if (g) expectClose(inputs[i].grad!, g, c.rtol, c.atol, `gradient of input ${i}`);
    });
    const params = new Map(m.namedParameters());
    const expectedGrads = Object.entries(c.paramGrads).map(([k, g]) => [camelKey(k), g] as const);
    expect(params.size, 'parameters with gradients').toBe(expectedGrads.length);
    for (const [name, g] of expectedGrads) {
      expect(params.has(name), `parameter ${name}`).toBe(true);
      expectClose(params.get(name)!.grad!, g, c.rtol, c.atol, `gradient of ${name}`);
    }
    const after = m.stateDict();
    for (const [k, v] of Object.entries(c.stateAfter)) expectClose(after[camelKey(k)], v, c.rtol, c.atol, `state ${camelKey(k)} after the call`);
  });
  m.dispose();
  expect(memory().numTensors, 'tensors left after tidy and dispose').toBeLessThanOrEqual(before);
}

describe('layers against PyTorch goldens', () => {
  for (const c of loadCases('nn_layers.json')) {
    it(`${c.layer}: ${c.name}`, () => check(c));
  }
});

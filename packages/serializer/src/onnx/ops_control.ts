/**
 * ONNX lowerings of nodes with sub-graphs. Fused kernels (fusedElementwise, matmulEpilogue) mean
 * "run the body", so their bodies are inlined. Control flow maps to ONNX If and Loop, whose
 * bodies read outer values by name:
 *
 * - `cond` → If: each branch is the Kiln branch with its inputs bound to the node's arguments.
 * - `whileLoop` → Loop with no trip count: the first condition is computed before the loop, the
 *   body runs Kiln's body and then the condition on the new carry.
 * - `scan` → Loop with trip count `length`: the body gathers slice i of each xs (length−1−i when
 *   reversed), and the stacked ys of a reversed scan are flipped back into the slices' order.
 */
import type { Value } from '@kiln/core';
import type { Lowering, LoweringContext, NodeSink } from './emitter.js';
import { attr } from './emitter.js';
import { emptyOutput } from './ops_elementwise.js';
import type { OnnxGraph, OnnxValueInfo } from './onnx_proto.js';
import { ONNX_DTYPE, OnnxDataType } from './onnx_proto.js';

const inline: Lowering = (ctx) => {
  const body = ctx.node.subgraphs?.[0];
  if (!body) ctx.fail('the node has no body sub-graph');
  ctx.lower(body!, ctx, ctx.node.inputs.map((_, i) => ctx.input(i)), ctx.node.outputs.map((_, k) => ctx.out(k)));
};

const info = (ctx: LoweringContext, name: string, v: Value): OnnxValueInfo => ({ name, dataType: ONNX_DTYPE[v.type.dtype], shape: ctx.dims(v) });
const scalarInfo = (name: string, dataType: (typeof OnnxDataType)[keyof typeof OnnxDataType]): OnnxValueInfo => ({ name, dataType, shape: [] });

/** An ONNX body graph from a sink, with formal inputs and the outputs' names and types. */
function bodyGraph(ctx: LoweringContext, sink: NodeSink, inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[]): OnnxGraph {
  return { name: ctx.tmp(`${ctx.node.op}_body`), nodes: sink.nodes, inputs, outputs, initializers: [] };
}

const subgraph = (ctx: LoweringContext, k: number) => {
  const g = ctx.node.subgraphs?.[k];
  if (!g) ctx.fail(`the node has no sub-graph ${k}`);
  return g!;
};

const cond: Lowering = (ctx) => {
  const args = ctx.node.inputs.slice(1).map((_, i) => ctx.input(i + 1));
  const branch = (k: number): OnnxGraph => {
    const g = subgraph(ctx, k);
    const sink = ctx.sink();
    const outs = g.outputs.map(() => ctx.tmp(k === 0 ? 'then_out' : 'else_out'));
    ctx.lower(g, sink, args, outs);
    return bodyGraph(ctx, sink, [], g.outputs.map((v, i) => info(ctx, outs[i], v)));
  };
  ctx.emit('If', [ctx.input(0)], [{ name: 'then_branch', kind: 'graph', value: branch(0) }, { name: 'else_branch', kind: 'graph', value: branch(1) }], ctx.node.outputs.map((_, k) => ctx.out(k)));
};

const whileLoop: Lowering = (ctx) => {
  const condG = subgraph(ctx, 0);
  const bodyG = subgraph(ctx, 1);
  const nCond = ctx.attrs['condConsts'] as number;
  const nBody = ctx.attrs['bodyConsts'] as number;
  const names = ctx.node.inputs.map((_, i) => ctx.input(i));
  const condConsts = names.slice(0, nCond);
  const bodyConsts = names.slice(nCond, nCond + nBody);
  const carry = names.slice(nCond + nBody);
  const carryValues = ctx.node.inputs.slice(nCond + nBody);
  const first = ctx.tmp('while_cond');
  ctx.lower(condG, ctx, [...condConsts, ...carry], [first]);

  const sink = ctx.sink();
  const iter = ctx.tmp('iter');
  const condIn = ctx.tmp('cond_in');
  const carryIn = carry.map(() => ctx.tmp('carry_in'));
  const carryOut = carry.map(() => ctx.tmp('carry_out'));
  const condOut = ctx.tmp('cond_out');
  ctx.lower(bodyG, sink, [...bodyConsts, ...carryIn], carryOut);
  ctx.lower(condG, sink, [...condConsts, ...carryOut], [condOut]);
  const body = bodyGraph(ctx, sink,
    [scalarInfo(iter, OnnxDataType.int64), scalarInfo(condIn, OnnxDataType.bool), ...carryIn.map((n, j) => info(ctx, n, carryValues[j]))],
    [scalarInfo(condOut, OnnxDataType.bool), ...carryOut.map((n, j) => info(ctx, n, carryValues[j]))]);
  ctx.emit('Loop', ['', first, ...carry], [{ name: 'body', kind: 'graph', value: body }], ctx.node.outputs.map((_, k) => ctx.out(k)));
};

const scan: Lowering = (ctx) => {
  const bodyG = subgraph(ctx, 0);
  const nConsts = ctx.attrs['numConsts'] as number;
  const nCarry = ctx.attrs['numCarry'] as number;
  const length = ctx.attrs['length'] as number;
  const reverse = ctx.attrs['reverse'] as boolean;
  const names = ctx.node.inputs.map((_, i) => ctx.input(i));
  const consts = names.slice(0, nConsts);
  const carry = names.slice(nConsts, nConsts + nCarry);
  const xs = names.slice(nConsts + nCarry);
  const carryValues = ctx.node.outputs.slice(0, nCarry);
  const yValues = bodyG.outputs.slice(nCarry);
  if (length === 0) {
    carry.forEach((c, j) => ctx.emit('Identity', [c], [], [ctx.out(j)]));
    yValues.forEach((_, j) => {
      const v = ctx.node.outputs[nCarry + j];
      ctx.requireFixed(v, v.type.shape.map((_d, a) => a), 'the shape of an empty scan output');
      emptyOutput(ctx, nCarry + j);
    });
    return;
  }
  const sink = ctx.sink();
  const iter = ctx.tmp('iter');
  const condIn = ctx.tmp('cond_in');
  const condOut = ctx.tmp('cond_out');
  const carryIn = carry.map(() => ctx.tmp('carry_in'));
  const outs = bodyG.outputs.map((_, j) => ctx.tmp(j < nCarry ? 'carry_out' : 'y'));
  const index = reverse ? sink.emit('Sub', [ctx.int64(length - 1), iter])[0] : iter;
  const slices = xs.map((x) => sink.emit('Gather', [x, index], [attr.int('axis', 0)])[0]);
  ctx.lower(bodyG, sink, [...consts, ...carryIn, ...slices], outs);
  sink.emit('Identity', [condIn], [], [condOut]);
  const body = bodyGraph(ctx, sink,
    [scalarInfo(iter, OnnxDataType.int64), scalarInfo(condIn, OnnxDataType.bool), ...carryIn.map((n, j) => info(ctx, n, carryValues[j]))],
    [scalarInfo(condOut, OnnxDataType.bool), ...outs.map((n, j) => info(ctx, n, j < nCarry ? carryValues[j] : yValues[j - nCarry]))]);
  const ys = yValues.map((_, j) => (reverse ? ctx.tmp('ys_reversed') : ctx.out(nCarry + j)));
  const trips = ctx.int64(length);
  ctx.emit('Loop', [trips, '', ...carry], [{ name: 'body', kind: 'graph', value: body }], [...carry.map((_, j) => ctx.out(j)), ...ys]);
  if (reverse) {
    const flip = [ctx.int64s([-1]), ctx.int64s([Number.MIN_SAFE_INTEGER]), ctx.int64s([0]), ctx.int64s([-1])];
    ys.forEach((y, j) => ctx.emit('Slice', [y, ...flip], [], [ctx.out(nCarry + j)]));
  }
};

export const CONTROL_LOWERINGS: ReadonlyMap<string, Lowering> = new Map<string, Lowering>([
  ['fusedElementwise', inline],
  ['matmulEpilogue', inline],
  ['cond', cond],
  ['whileLoop', whileLoop],
  ['scan', scan],
]);

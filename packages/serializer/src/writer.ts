import type { AttrKind, Graph, Node, Value } from '@kiln/core';
import { ArgumentError, getOp, verifyGraph } from '@kiln/core';
import type { Offset } from 'flatbuffers';
import { storedKind, writeAttr } from './attrs.js';
import { FileWriter } from './file_writer.js';
import {
  Graph as FbGraph, InputRole as FbInputRole, Location, Model, Node as FbNode, OpEntry, OutputRole as FbOutputRole,
  Signature as FbSignature, SignatureInput, SignatureOutput, SymbolDef, Value as FbValue,
} from './generated/kiln_generated.js';
import { opVersion } from './op_versions.js';
import { INPUT_ROLES, OUTPUT_ROLES, signatureProblem, STORED_ROLES } from './signature.js';
import { symbolicProblem } from './symbolic.js';
import type { ModelContent, SymbolicShapes } from './types.js';
import { checkTensorData } from './weights.js';

const INPUT_ROLE_CODE: readonly FbInputRole[] = [FbInputRole.UserInput, FbInputRole.Parameter, FbInputRole.Buffer, FbInputRole.RngState, FbInputRole.Gradient];
const OUTPUT_ROLE_CODE: readonly FbOutputRole[] = [FbOutputRole.Output, FbOutputRole.StateUpdate, FbOutputRole.Gradient];

/**
 * Serializes a graph with its signature and stored weights into `.kiln` bytes. The graph is
 * verified first; the signature must fit it (see {@link Signature}); every `parameter`,
 * `buffer` and `gradient` input needs its data in `weights` (the typed array of its dtype,
 * row-major). Sub-graphs (control flow, fused bodies) are stored once each.
 *
 * @example
 * ```ts
 * const bytes = writeModel({
 *   graph,
 *   signature: { inputs: [{ name: 'x', role: 'input' }, { name: 'w', role: 'parameter' }], outputs: [{ name: 'y', role: 'output' }], rngKeysPerRun: 0 },
 *   weights: [undefined, Float32Array.of(1, 2, 3, 4)],
 * });
 * ```
 */
export function writeModel(content: ModelContent): Uint8Array {
  const { graph, signature, weights } = content;
  verifyGraph(graph);
  const problem = signatureProblem(signature, graph.inputs.map((v) => v.type), graph.outputs.map((v) => v.type));
  if (problem) throw new ArgumentError(`writeModel: ${problem}`);
  if (content.symbolic) {
    const bad = symbolicProblem(graph, signature, content.symbolic);
    if (bad) throw new ArgumentError(`writeModel: symbolic dimensions: ${bad}`);
  }
  const w = new FileWriter();
  const b = w.b;
  const tensorOf = signature.inputs.map((s, i) => {
    if (!STORED_ROLES.has(s.role)) return -1;
    const { dtype, shape } = graph.inputs[i].type;
    const data = checkTensorData(dtype, shape, weights[i], `writeModel: weights[${i}] ('${s.name}', a ${s.role})`);
    return w.addTensor(s.name, dtype, shape, data);
  });
  const order = graphOrder(graph);
  const graphIndex = new Map(order.map((g, i) => [g, i]));
  const opNames = [...new Set(order.flatMap((g) => g.nodes.map((n) => n.op)))];
  const opIndex = new Map(opNames.map((n, i) => [n, i]));
  const ops = w.tables(opNames, (name) => {
    const s = b.createString(name);
    OpEntry.startOpEntry(b);
    OpEntry.addName(b, s);
    OpEntry.addVersion(b, opVersion(name));
    return OpEntry.endOpEntry(b);
  });
  const graphs = w.tables(order, (g) => encodeGraph(w, g, graphIndex, opIndex, content.symbolic));
  const sigInputs = w.tables(signature.inputs, (s, i) => {
    const name = b.createString(s.name);
    SignatureInput.startSignatureInput(b);
    SignatureInput.addName(b, name);
    SignatureInput.addRole(b, INPUT_ROLE_CODE[INPUT_ROLES.indexOf(s.role)]);
    SignatureInput.addTensor(b, tensorOf[i]);
    SignatureInput.addTarget(b, s.target ?? -1);
    return SignatureInput.endSignatureInput(b);
  });
  const sigOutputs = w.tables(signature.outputs, (s) => {
    const name = b.createString(s.name);
    SignatureOutput.startSignatureOutput(b);
    SignatureOutput.addName(b, name);
    SignatureOutput.addRole(b, OUTPUT_ROLE_CODE[OUTPUT_ROLES.indexOf(s.role)]);
    SignatureOutput.addTarget(b, s.target ?? -1);
    return SignatureOutput.endSignatureOutput(b);
  });
  FbSignature.startSignature(b);
  FbSignature.addInputs(b, sigInputs);
  FbSignature.addOutputs(b, sigOutputs);
  FbSignature.addRngKeysPerRun(b, signature.rngKeysPerRun);
  const sig = FbSignature.endSignature(b);
  let symbols: Offset | undefined;
  let symbolValues: Offset | undefined;
  if (content.symbolic) {
    symbols = w.tables(content.symbolic.symbols, (s) => {
      const name = b.createString(s.name);
      SymbolDef.startSymbolDef(b);
      SymbolDef.addName(b, name);
      SymbolDef.addMin(b, BigInt(s.min));
      SymbolDef.addMax(b, BigInt(s.max ?? -1));
      return SymbolDef.endSymbolDef(b);
    });
    symbolValues = Model.createSymbolValuesVector(b, content.symbolic.sizes.map((n) => BigInt(n)));
  }
  return w.finish({ ops, graphs, mainGraph: 0, signature: sig, symbols, symbolValues }, content.producer, content.metadata);
}

/** The main graph, then every sub-graph after each graph that uses it (reverse post-order). */
function graphOrder(main: Graph): Graph[] {
  const post: Graph[] = [];
  const seen = new Set<Graph>();
  const visit = (g: Graph) => {
    seen.add(g);
    for (const n of g.nodes) for (const s of n.subgraphs ?? []) if (!seen.has(s)) visit(s);
    post.push(g);
  };
  visit(main);
  return post.reverse();
}

function encodeGraph(w: FileWriter, g: Graph, graphIndex: ReadonlyMap<Graph, number>, opIndex: ReadonlyMap<string, number>, symbolic: SymbolicShapes | undefined): Offset {
  const b = w.b;
  const ids = new Map<Value, number>();
  const value = (v: Value): Offset => {
    ids.set(v, ids.size);
    const name = v.name !== undefined ? b.createString(v.name) : 0;
    const type = w.tensorType(v.type, symbolic?.dims.get(v));
    FbValue.startValue(b);
    if (name) FbValue.addName(b, name);
    FbValue.addType(b, type);
    return FbValue.endValue(b);
  };
  const inputs = w.tables(g.inputs, value);
  const nodes = w.tables(g.nodes, (n) => encodeNode(w, n, ids, value, graphIndex, opIndex, symbolic));
  const outputs = FbGraph.createOutputsVector(b, g.outputs.map((v) => ids.get(v)!));
  FbGraph.startGraph(b);
  FbGraph.addInputs(b, inputs);
  FbGraph.addNodes(b, nodes);
  FbGraph.addOutputs(b, outputs);
  return FbGraph.endGraph(b);
}

function encodeNode(
  w: FileWriter, n: Node, ids: Map<Value, number>, value: (v: Value) => Offset,
  graphIndex: ReadonlyMap<Graph, number>, opIndex: ReadonlyMap<string, number>, symbolic: SymbolicShapes | undefined,
): Offset {
  const b = w.b;
  const inputs = FbNode.createInputsVector(b, n.inputs.map((v) => ids.get(v)!));
  const schema = getOp(n.op).attrs as Record<string, AttrKind>;
  const exprs = symbolic?.attrs.get(n) ?? {};
  const attrs = w.tables(Object.keys(schema), (key) => {
    const refs = (exprs[key] ?? []).flatMap((a, element) => (a ? [{ element, expr: w.expr(a) }] : []));
    return writeAttr(b, key, storedKind(schema[key], n.attrs[key]), n.attrs[key], refs);
  });
  const outputs = w.tables(n.outputs, value);
  const subgraphs = n.subgraphs?.length ? FbNode.createSubgraphsVector(b, n.subgraphs.map((s) => graphIndex.get(s)!)) : 0;
  const loc = n.loc ? Location.createLocation(b, w.file(n.loc.file), n.loc.line, n.loc.column ?? -1) : 0;
  FbNode.startNode(b);
  FbNode.addOp(b, opIndex.get(n.op)!);
  FbNode.addInputs(b, inputs);
  FbNode.addAttrs(b, attrs);
  FbNode.addOutputs(b, outputs);
  if (subgraphs) FbNode.addSubgraphs(b, subgraphs);
  if (loc) FbNode.addLoc(b, loc);
  return FbNode.endNode(b);
}

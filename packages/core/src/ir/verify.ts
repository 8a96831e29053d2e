import { KilnError, VerifyError } from '../errors.js';
import { inferTypes, typeToString } from '../ops/infer.js';
import { getOp } from '../ops/table.js';
import { shapesEqual } from '../shape.js';
import type { Graph, Value } from './graph.js';

/**
 * Checks the IR's invariants and throws a VerifyError naming the node at fault:
 * every value is defined exactly once before it is used, every op exists, attrs match the op's
 * schema, recorded output types equal what the op's rules infer, and sub-graphs are closed.
 */
export function verifyGraph(graph: Graph, where = 'graph'): void {
  const defined = new Set<Value>();
  const define = (v: Value, what: string) => {
    if (defined.has(v)) throw new VerifyError(`${where}: ${what} redefines a value that is already defined (SSA: each value is defined once)`);
    defined.add(v);
  };
  graph.inputs.forEach((v, i) => define(v, `input ${i}`));
  graph.nodes.forEach((node, n) => {
    const at = `${where}: node ${n} (${node.op})`;
    node.inputs.forEach((v, i) => {
      if (!defined.has(v)) throw new VerifyError(`${at}: input ${i} is used before it is defined, or comes from outside the graph`);
    });
    node.subgraphs?.forEach((sub, i) => verifyGraph(sub, `${at} body${i}`));
    let inferred;
    try {
      const op = getOp(node.op);
      // Control-flow bodies are not type-checked against the node yet; fused ops check theirs.
      const checkable = !node.subgraphs || (op.kind === 'primitive' && op.bodyTypes !== undefined);
      inferred = checkable ? inferTypes(op, node.inputs.map((v) => v.type), node.attrs, node.subgraphs) : null;
    } catch (e) {
      if (e instanceof KilnError) throw new VerifyError(`${at}: ${e.message}`);
      throw e;
    }
    if (inferred) {
      if (inferred.length !== node.outputs.length) {
        throw new VerifyError(`${at}: has ${node.outputs.length} outputs, the op's rules give ${inferred.length}`);
      }
      node.outputs.forEach((out, i) => {
        const t = inferred[i];
        if (t.dtype !== out.type.dtype || !shapesEqual(t.shape, out.type.shape)) {
          throw new VerifyError(`${at}: output ${i} is recorded as ${typeToString(out.type)} but the op's rules give ${typeToString(t)}`);
        }
      });
    }
    node.outputs.forEach((v, i) => define(v, `node ${n} (${node.op}) output ${i}`));
  });
  graph.outputs.forEach((v, i) => {
    if (!defined.has(v)) throw new VerifyError(`${where}: output ${i} is not defined in the graph`);
  });
}

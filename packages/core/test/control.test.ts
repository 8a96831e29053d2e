import { describe, expect, it } from 'vitest';
import type { Graph, TensorType } from '../src/index.js';
import { ArgumentError, createOps, DTypeError, getOp, GraphBuilder, inferControlTypes, isControlOp, printGraph, ShapeError, Value, VerifyError, verifyGraph } from '../src/index.js';

const f32 = (...shape: number[]): TensorType => ({ dtype: 'float32', shape });
const i32 = (...shape: number[]): TensorType => ({ dtype: 'int32', shape });
const bool = (...shape: number[]): TensorType => ({ dtype: 'bool', shape });

/** A sub-graph built with the op surface over its inputs. */
function body(inputs: TensorType[], fn: (ops: ReturnType<typeof createOps<Value>>, ...xs: Value[]) => Value[]): Graph {
  const b = new GraphBuilder();
  const xs = inputs.map((t, i) => b.input(t, `x${i}`));
  return b.build(fn(createOps(b), ...xs));
}

describe('control-flow op definitions', () => {
  it('are in the op table, as primitives without kernels of their own', () => {
    for (const name of ['cond', 'whileLoop', 'scan']) {
      expect(isControlOp(name)).toBe(true);
      expect(getOp(name).kind).toBe('primitive');
    }
    expect(isControlOp('add')).toBe(false);
    const differentiable = (name: string) => {
      const op = getOp(name);
      return op.kind === 'primitive' && op.differentiable;
    };
    expect([differentiable('cond'), differentiable('whileLoop'), differentiable('scan')]).toEqual([true, false, true]);
  });

  it('build, print and verify a cond node whose types come from its branches', () => {
    const b = new GraphBuilder();
    const p = b.input(bool(), 'p');
    const x = b.input(f32(3), 'x');
    const then = body([f32(3)], (o, v) => [o.mul(v, 2)]);
    const other = body([f32(3)], (o, v) => [o.neg(v)]);
    const [y] = b.add(getOp('cond'), [p, x], {}, { subgraphs: [then, other] });
    const g = b.build([y]);
    verifyGraph(g);
    expect(y.type).toEqual(f32(3));
    expect(printGraph(g)).toMatchInlineSnapshot(`
      "graph(%p: bool[], %x: f32[3]) {
        %0: f32[3] = cond %p %x
          body0(%x0: f32[3]) {
            %1: f32[] = full {dtype="float32", shape=[], value=2}
            %2: f32[3] = mul %x0 %1
            return %2
          }
          body1(%x0: f32[3]) {
            %3: f32[3] = neg %x0
            return %3
          }
        return %0
      }"
    `);
  });

  it('types whileLoop and scan nodes from their bodies', () => {
    const test = body([f32(), i32()], (o, _k, i) => [o.lt(i, 5)]);
    const step = body([f32(), i32()], (o, k, i) => [o.add(i, o.cast(k, 'int32'))]);
    expect(inferControlTypes('whileLoop', [f32(), f32(), i32()], { condConsts: 1, bodyConsts: 1 }, [test, step])).toEqual([i32()]);
    const scanBody = body([f32(2), f32(2)], (o, c, x) => [o.add(c, x), o.sum(x)]);
    expect(inferControlTypes('scan', [f32(2), f32(7, 2)], { numConsts: 0, numCarry: 1, length: 7, reverse: false }, [scanBody])).toEqual([f32(2), f32(7)]);
  });

  it('reject cond branches that differ in output count, shape or dtype', () => {
    const one = body([f32(3)], (o, v) => [o.neg(v)]);
    const two = body([f32(3)], (o, v) => [v, v]);
    const shorter = body([f32(3)], (o, v) => [o.sum(v)]);
    const wider = body([f32(3)], (o, v) => [o.cast(v, 'float64')]);
    const cond = (a: Graph, b: Graph) => inferControlTypes('cond', [bool(), f32(3)], {}, [a, b]);
    expect(() => cond(one, two)).toThrowError(ArgumentError);
    expect(() => cond(one, two)).toThrowError('cond: the then branch returns 1 values but the else branch returns 2; both must return the same');
    expect(() => cond(one, shorter)).toThrowError(ShapeError);
    expect(() => cond(one, shorter)).toThrowError('cond: output 0 has shape [3] in the then branch but [] in the else branch');
    expect(() => cond(one, wider)).toThrowError(DTypeError);
    expect(() => cond(one, wider)).toThrowError('cond: output 0 has dtype float32 in the then branch but float64 in the else branch');
  });

  it('reject a predicate that is not a bool scalar', () => {
    const id = body([f32(3)], (_o, v) => [v]);
    expect(() => inferControlTypes('cond', [f32(), f32(3)], {}, [id, id])).toThrowError(DTypeError);
    expect(() => inferControlTypes('cond', [f32(), f32(3)], {}, [id, id])).toThrowError('cond: the predicate (input 0) must be a bool scalar, got float32[]');
    expect(() => inferControlTypes('cond', [bool(2), f32(3)], {}, [id, id])).toThrowError(ShapeError);
    expect(() => inferControlTypes('cond', [bool(2), f32(3)], {}, [id, id])).toThrowError('cond: the predicate (input 0) must be a scalar (shape []), got bool[2]');
    const notBool = body([f32()], (o, v) => [o.abs(v)]);
    const step = body([f32()], (_o, v) => [v]);
    expect(() => inferControlTypes('whileLoop', [f32()], { condConsts: 0, bodyConsts: 0 }, [notBool, step])).toThrowError("whileLoop: the cond sub-graph's output must be a bool scalar, got float32[]");
  });

  it('reject a whileLoop body that changes a carry', () => {
    const test = body([f32(2)], (o, v) => [o.gt(o.sum(v), 0)]);
    const grows = body([f32(2)], (o, v) => [o.concat([v, v])]);
    const casts = body([f32(2)], (o, v) => [o.cast(v, 'float64')]);
    const loop = (b: Graph) => inferControlTypes('whileLoop', [f32(2)], { condConsts: 0, bodyConsts: 0 }, [test, b]);
    expect(() => loop(grows)).toThrowError(ShapeError);
    expect(() => loop(grows)).toThrowError("whileLoop: the body returns carry 0 as float32[4] but it enters as float32[2]; the body must keep each carry's shape");
    expect(() => loop(casts)).toThrowError(DTypeError);
    expect(() => loop(casts)).toThrowError("whileLoop: the body returns carry 0 as float64[2] but it enters as float32[2]; the body must keep each carry's dtype");
  });

  it('reject scan xs whose leading axis is not the length, and bodies of the wrong signature', () => {
    const b = body([f32(2), f32(2)], (o, c, x) => [o.add(c, x)]);
    const attrs = { numConsts: 0, numCarry: 1, length: 4, reverse: false };
    expect(() => inferControlTypes('scan', [f32(2), f32(3, 2)], attrs, [b])).toThrowError(ShapeError);
    expect(() => inferControlTypes('scan', [f32(2), f32(3, 2)], attrs, [b])).toThrowError('scan: xs 0 has shape [3,2], but its leading axis must be the scan length 4');
    expect(() => inferControlTypes('scan', [f32(2), f32(4, 3)], attrs, [b])).toThrowError('scan: input 1 of the body sub-graph is float32[2], but the node passes float32[3]');
    expect(() => inferControlTypes('scan', [f32(2), f32(4, 2)], { ...attrs, numCarry: 3 }, [b])).toThrowError("scan: the attributes numConsts=0, numCarry=3 count 3 inputs, but the node has 2");
    expect(() => inferControlTypes('scan', [f32(2), f32(4, 2)], attrs, [])).toThrowError('scan: expects 1 sub-graph, got 0');
    expect(() => inferControlTypes('scan', [f32(2), f32(4, 2)], { ...attrs, reverse: 1 }, [b])).toThrowError("scan: attribute 'reverse' must be a boolean, got 1");
  });

  it('are checked by the verifier, which names the node', () => {
    const b = new GraphBuilder();
    const p = b.input(bool(), 'p');
    const x = b.input(f32(3), 'x');
    const id = body([f32(3)], (_o, v) => [v]);
    const [y] = b.add(getOp('cond'), [p, x], {}, { subgraphs: [id, id] });
    const good = b.build([y]);
    verifyGraph(good);
    const mistyped = { ...good, nodes: [{ ...good.nodes[0], outputs: [new Value(f32(4))] }] };
    expect(() => verifyGraph({ ...mistyped, outputs: mistyped.nodes[0].outputs })).toThrowError(VerifyError);
    expect(() => verifyGraph({ ...mistyped, outputs: mistyped.nodes[0].outputs })).toThrowError("graph: node 0 (cond): output 0 is recorded as float32[4] but the op's rules give float32[3]");
    const open = body([f32(3)], (o) => [o.neg(x)]); // reads a value from outside its own graph
    expect(() => verifyGraph({ ...good, nodes: [{ ...good.nodes[0], subgraphs: [open, id] }] })).toThrowError('graph: node 0 (cond) body0: node 0 (neg): input 0 is used before it is defined, or comes from outside the graph');
    const wrongBranch = body([f32(3)], (o, v) => [o.sum(v)]);
    expect(() => verifyGraph({ ...good, nodes: [{ ...good.nodes[0], subgraphs: [id, wrongBranch] }] })).toThrowError('graph: node 0 (cond): cond: output 0 has shape [3] in the then branch but [] in the else branch');
    expect(() => verifyGraph({ ...good, nodes: [{ ...good.nodes[0], subgraphs: undefined }] })).toThrowError('graph: node 0 (cond): cond: expects 2 sub-graphs, got 0');
  });
});

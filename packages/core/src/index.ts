export * from './errors.js';
export * from './dtype.js';
export * from './shape.js';
export * from './backend.js';
export type { TensorType, AttrValue, Attrs, AttrKind, AttrSchema, OpDef, PrimitiveDef, CompositeDef, VjpRule, VjpArgs } from './ops/op.js';
export { checkAttrs } from './ops/op.js';
export type { Interpreter } from './ops/interpreter.js';
export type { Operand } from './ops/bind.js';
export { createOps, type Ops } from './ops/surface.js';
export { sumToShape } from './ops/grad_util.js';
export { getOp, hasOp, listOps } from './ops/table.js';
export { inferTypes, typeInterpreter, typeToString } from './ops/infer.js';
export { philox4x32, philoxWords, philoxUniform, philoxNormal, wordToUnitFloat32, wordsToUnitFloat64, type RandomFloatDType } from './random/philox.js';
export { Value, type Graph, type Node, type SourceLocation } from './ir/graph.js';
export { GraphBuilder } from './ir/builder.js';
export { printGraph, formatType } from './ir/printer.js';
export { verifyGraph } from './ir/verify.js';
// Every type the op surface's signatures use must be nameable from the package root, or
// declaration emit in dependent packages fails (TS2742): export all of the groups' types.
export type * from './ops/unary.js';
export type * from './ops/binary.js';
export type * from './ops/reduce.js';
export type * from './ops/shaping.js';
export type * from './ops/slicing.js';
export type * from './ops/indexing.js';
export type * from './ops/nn.js';
export type * from './ops/conv.js';
export type * from './ops/creation.js';
export type * from './ops/random.js';

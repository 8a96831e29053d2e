/**
 * `kiln` — the researcher-facing API of Kiln in one import:
 *
 * - tensors, every op, autograd, memory scopes and seeded random, from `@kiln/eager`
 *   (`tensor`, `matmul`, `grad`, `tidy`, `manualSeed`, …);
 * - `nn`: modules, layers, losses, optimisers, data batching, `fit` (`@kiln/nn`, as a namespace,
 *   as in `nn.Linear`);
 * - `compile`, `save`, `load`, `exportOnnx` from `@kiln/tracer`;
 * - `loadModel` (run a saved `.kiln` model without the tracer) and `optimize` from `@kiln/runtime`,
 *   `readModel` from `@kiln/serializer`;
 * - the error classes and dtype/shape types from `@kiln/core`.
 *
 * File helpers that need `node:fs` are in `kiln/node`. Deployers who want the smallest bundle
 * import `@kiln/runtime`, `@kiln/serializer` and a backend directly instead.
 *
 * @example
 * ```ts
 * import { compile, createCpuBackend, loadModel, manualSeed, nn, randn, save, type Tensor } from 'kiln';
 *
 * manualSeed(0);
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * model.eval();
 * const predict = compile((x: Tensor) => model.forward(x));
 * const bytes = save(predict, [randn([3, 4])], { names: model });
 * const deployed = loadModel(bytes, { backend: createCpuBackend() });
 * const [y] = deployed.run({ dtype: 'float32', shape: [3, 4], data: new Float32Array(12) });
 * ```
 *
 * @packageDocumentation
 */
export * from '@kiln/eager';
export * as nn from '@kiln/nn';
export {
  compile, save, load, exportOnnx, CompileCheckError,
  type CompileOptions, type CompiledFunction, type CompileStats, type SaveOptions, type TensorModel, type NamedTensors, type ExportOnnxOptions, type SymbolOptions,
} from '@kiln/tracer';
export { loadModel, optimize, type LoadModelOptions, type LoadedModel, type ModelInputType } from '@kiln/runtime';
export { readModel, FormatError, type HostTensor, type ModelFile } from '@kiln/serializer';
export { createCpuBackend } from '@kiln/backend-cpu';
export {
  KilnError, ShapeError, DTypeError, AxisError, ArgumentError, KernelError, DisposedError, TraceError, AnomalyError,
  printGraph, type DType, type Shape, type TypedArray, type Graph,
} from '@kiln/core';

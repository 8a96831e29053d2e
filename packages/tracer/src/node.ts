/// <reference types="node" />
/**
 * `@kiln/tracer/node` — Node-only file helpers around {@link save} and {@link load}. Kept out
 * of the package root so browser bundles never pull in `node:fs`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { LoadModelOptions } from '@kiln/runtime';
import type { CompiledFunction } from './compile.js';
import { load, save, type SaveOptions, type TensorModel } from './save.js';

/**
 * Saves the graph `compiled` runs for `exampleArgs` (see {@link save}) to a `.kiln` file and
 * returns the number of bytes written.
 *
 * @example
 * ```ts
 * model.eval();
 * const predict = compile((x: Tensor) => model.forward(x));
 * saveFile('mlp.kiln', predict, [zeros([8, 784])], { names: model, dynamic: { 0: [0] } });
 * ```
 */
export function saveFile<F extends (...args: any[]) => any>(path: string, compiled: CompiledFunction<F>, exampleArgs: Parameters<F>, options: SaveOptions = {}): number {
  const bytes = save(compiled, exampleArgs, options);
  writeFileSync(path, bytes);
  return bytes.byteLength;
}

/**
 * Reads a `.kiln` file and loads it for eager code (see {@link load}): `run` takes and returns
 * Tensors. Programs without eager code use `loadModelFile` from `@kiln/runtime/node`.
 *
 * @example
 * ```ts
 * const model = loadFile('mlp.kiln');
 * const [logits] = model.run(x);
 * ```
 */
export function loadFile(path: string, options: Partial<LoadModelOptions<unknown>> = {}): TensorModel {
  return load(readFileSync(path), options);
}

/// <reference types="node" />
/**
 * `@kiln/runtime/node` — Node-only helpers that read `.kiln` files from disk. Kept out of the
 * package root so browser bundles of `@kiln/runtime` never pull in `node:fs`.
 */
import { readFileSync } from 'node:fs';
import { loadModel, type LoadedModel, type LoadModelOptions } from './model.js';

/**
 * Reads a `.kiln` file and loads it with {@link loadModel} (validated: a damaged file is a
 * `FormatError`; a missing file is Node's `ENOENT` error).
 *
 * @example
 * ```ts
 * import { createCpuBackend } from '@kiln/backend-cpu';
 * import { loadModelFile } from '@kiln/runtime/node';
 *
 * const model = loadModelFile('mlp.kiln', { backend: createCpuBackend() });
 * const [logits] = model.run({ dtype: 'float32', shape: [1, 784], data: pixels });
 * ```
 */
export function loadModelFile<S>(path: string, options: LoadModelOptions<S>): LoadedModel {
  return loadModel(readFileSync(path), options);
}

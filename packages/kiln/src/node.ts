/**
 * `kiln/node` — the file helpers that need `node:fs`, kept apart so that a browser bundle of
 * `kiln` never pulls it: `saveFile` / `loadFile` (`@kiln/tracer/node`) and `loadModelFile`
 * (`@kiln/runtime/node`).
 *
 * @example
 * ```ts
 * import { compile, zeros, type Tensor } from 'kiln';
 * import { saveFile } from 'kiln/node';
 * saveFile('model.kiln', compile((x: Tensor) => x.relu()), [zeros([2, 3])]);
 * ```
 *
 * @packageDocumentation
 */
export { saveFile, loadFile } from '@kiln/tracer/node';
export { loadModelFile } from '@kiln/runtime/node';

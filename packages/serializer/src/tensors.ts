import { ArgumentError, checkDType, checkShape } from '@kiln/core';
import { FileWriter } from './file_writer.js';
import { openFile } from './read_common.js';
import type { HostTensor, Metadata, Producer, TensorsFile } from './types.js';
import { checkTensorData } from './weights.js';

/**
 * Writes named tensors and metadata as a weights-only `.kiln` file (a checkpoint: no graph).
 * Each tensor's data goes to the 64-byte-aligned weights segment.
 *
 * @example
 * ```ts
 * const bytes = writeTensors(
 *   { 'fc.weight': { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } },
 *   { metadata: { epoch: 3 } },
 * );
 * readTensors(bytes).tensors.get('fc.weight')!.data; // Float32Array [1, 2, 3, 4]
 * ```
 */
export function writeTensors(
  tensors: Readonly<Record<string, HostTensor>> | ReadonlyMap<string, HostTensor>,
  options: { readonly metadata?: Metadata; readonly producer?: Producer } = {},
): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new ArgumentError(`writeTensors: expected an object or Map of tensors by name, got ${tensors === null ? 'null' : typeof tensors}`);
  const w = new FileWriter();
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    const where = `writeTensors: '${name}'`;
    if (name === '') throw new ArgumentError('writeTensors: tensor names must be non-empty');
    const dtype = checkDType(t?.dtype, `${where} dtype`);
    const shape = checkShape(t.shape, where);
    w.addTensor(name, dtype, shape, checkTensorData(dtype, shape, t.data, where));
  }
  return w.finish({}, options.producer, options.metadata);
}

/**
 * Reads the named tensors and metadata of a `.kiln` file: a checkpoint, or a model's stored
 * weights. Validated like `readModel` (header, version, structure, tensor placement); the
 * data are zero-copy views into `bytes` where aligned.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readTensors(bytes);
 * ```
 */
export function readTensors(bytes: Uint8Array): TensorsFile {
  const parts = openFile(bytes);
  const tensors = new Map<string, HostTensor>();
  parts.tensorNames.forEach((name, i) => tensors.set(name, { ...parts.tensorTypes[i], data: parts.tensorData[i] }));
  return { version: parts.version, producer: parts.producer, tensors, metadata: parts.metadata, zeroCopyTensors: parts.zeroCopyTensors };
}

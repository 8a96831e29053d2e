import type { TensorType } from '@kiln/core';
import { formatType, shapesEqual } from '@kiln/core';
import type { InputRole, OutputRole, Signature } from './types.js';

/** Roles whose inputs are stored in the file (the weights segment). */
export const STORED_ROLES: ReadonlySet<InputRole> = new Set<InputRole>(['parameter', 'buffer', 'gradient']);

export const INPUT_ROLES: readonly InputRole[] = ['input', 'parameter', 'buffer', 'rng', 'gradient'];
export const OUTPUT_ROLES: readonly OutputRole[] = ['output', 'stateUpdate', 'gradient'];

const sameType = (a: TensorType, b: TensorType) => a.dtype === b.dtype && shapesEqual(a.shape, b.shape);

/**
 * The first way `signature` does not fit a graph with these input and output types, or
 * undefined. The writer reports it as an ArgumentError, the reader as a FormatError.
 */
export function signatureProblem(signature: Signature, inputs: readonly TensorType[], outputs: readonly TensorType[]): string | undefined {
  if (signature === null || typeof signature !== 'object' || !Array.isArray(signature.inputs) || !Array.isArray(signature.outputs)) {
    return 'the signature must be { inputs, outputs, rngKeysPerRun }';
  }
  if (signature.inputs.length !== inputs.length) return `the signature lists ${signature.inputs.length} inputs, but the graph has ${inputs.length}`;
  if (signature.outputs.length !== outputs.length) return `the signature lists ${signature.outputs.length} outputs, but the graph has ${outputs.length}`;
  if (!Number.isSafeInteger(signature.rngKeysPerRun) || signature.rngKeysPerRun < 0) return `rngKeysPerRun must be a non-negative integer, got ${signature.rngKeysPerRun}`;
  const inputNames = new Set<string>();
  let rngInputs = 0;
  for (const [i, s] of signature.inputs.entries()) {
    const at = `signature input ${i}`;
    if (typeof s?.name !== 'string' || s.name === '') return `${at} needs a non-empty name`;
    if (inputNames.has(s.name)) return `${at}: the name '${s.name}' is used by two inputs`;
    inputNames.add(s.name);
    if (!INPUT_ROLES.includes(s.role)) return `${at} ('${s.name}'): unknown role ${JSON.stringify(s.role)}; roles are ${INPUT_ROLES.join(', ')}`;
    if (s.role === 'rng') {
      rngInputs++;
      if (inputs[i].dtype !== 'int32' || !shapesEqual(inputs[i].shape, [2])) return `${at} ('${s.name}'): the rng state must be i32[2] ([seed, stream]), but the graph input is ${formatType(inputs[i])}`;
    }
    if (s.role === 'gradient') {
      const t = s.target;
      if (!Number.isInteger(t) || t! < 0 || t! >= inputs.length || signature.inputs[t!].role !== 'parameter') {
        return `${at} ('${s.name}'): a gradient input needs a target, the index of the parameter input it is the gradient of; got ${t}`;
      }
      if (!sameType(inputs[i], inputs[t!])) return `${at} ('${s.name}'): a gradient of type ${formatType(inputs[i])} for a parameter of type ${formatType(inputs[t!])}`;
    } else if (s.target !== undefined && s.target !== -1) {
      return `${at} ('${s.name}'): only gradient inputs have a target`;
    }
  }
  if (rngInputs > 1) return `the signature has ${rngInputs} rng inputs; a graph has at most one`;
  if (rngInputs === 0 && signature.rngKeysPerRun > 0) return `rngKeysPerRun is ${signature.rngKeysPerRun} but no input has the rng role`;
  const outputNames = new Set<string>();
  for (const [i, s] of signature.outputs.entries()) {
    const at = `signature output ${i}`;
    if (typeof s?.name !== 'string' || s.name === '') return `${at} needs a non-empty name`;
    if (outputNames.has(s.name)) return `${at}: the name '${s.name}' is used by two outputs`;
    outputNames.add(s.name);
    if (!OUTPUT_ROLES.includes(s.role)) return `${at} ('${s.name}'): unknown role ${JSON.stringify(s.role)}; roles are ${OUTPUT_ROLES.join(', ')}`;
    if (s.role === 'output') {
      if (s.target !== undefined && s.target !== -1) return `${at} ('${s.name}'): only state updates and gradients have a target`;
      continue;
    }
    const t = s.target;
    const wants = s.role === 'gradient' ? ['parameter'] : ['parameter', 'buffer', 'gradient'];
    if (!Number.isInteger(t) || t! < 0 || t! >= inputs.length || !wants.includes(signature.inputs[t!].role)) {
      return `${at} ('${s.name}'): a ${s.role} output needs a target, the index of the ${wants.join(' or ')} input it updates; got ${t}`;
    }
    if (!sameType(outputs[i], inputs[t!])) return `${at} ('${s.name}'): updates input ${t} of type ${formatType(inputs[t!])} with a value of type ${formatType(outputs[i])}`;
  }
  return undefined;
}

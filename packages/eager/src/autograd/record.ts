import type { Attrs, OpDef } from '@kiln/core';
import { isFloating } from '@kiln/core';
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './mode.js';
import type { Edge, SavedValue } from './node.js';
import { GradNode } from './node.js';

/** Whether an op on these inputs must be recorded (so composites must expand, not run fused). */
export function needsRecording(inputs: readonly Tensor[]): boolean {
  return isGradEnabled() && inputs.some((t) => t.requiresGrad);
}

function save(t: Tensor): SavedValue {
  if (t.payload && !t.isConcrete) return { shape: t.shape, dtype: t.dtype, buffer: undefined, payload: t.payload };
  return { shape: t.shape, dtype: t.dtype, buffer: t.shareStorage() };
}

function edgeOf(t: Tensor): Edge {
  if (t.gradNode) return { node: t.gradNode, index: t.outputIndex };
  return t.requiresGrad ? { leaf: t } : null;
}

/**
 * Called by the dispatcher after every op: puts a node on the tape when grad mode is on and an
 * input requires grad. Composites are not recorded themselves — their expansion is, op by op.
 * Outputs that cannot carry a gradient (integer or bool results, non-differentiable ops)
 * remember why, so backward() can say so.
 */
export function record(op: OpDef, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: Attrs): void {
  if (op.kind !== 'primitive' || !isGradEnabled()) return;
  const needsGrad = inputs.map((t) => t.requiresGrad);
  if (!needsGrad.some(Boolean)) {
    const blocked = inputs.find((t) => t.gradBlockedBy !== undefined)?.gradBlockedBy;
    if (blocked !== undefined) for (const o of outputs) o.gradBlockedBy = blocked;
    return;
  }
  if (!op.differentiable) {
    for (const o of outputs) o.gradBlockedBy = `'${op.name}', which has no gradient`;
    return;
  }
  const node = new GradNode(op, attrs, { inputs: inputs.map(save), outputs: outputs.map(save) }, inputs.map(edgeOf), needsGrad);
  let attached = false;
  outputs.forEach((o, i) => {
    if (isFloating(o.dtype)) {
      o.attachGradNode(node, i);
      attached = true;
    } else {
      o.gradBlockedBy = `'${op.name}', whose output is ${o.dtype} (only float tensors carry gradients)`;
    }
  });
  if (!attached) node.release(); // nothing can reach it: free what it saved now
}

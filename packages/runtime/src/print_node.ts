import type { Node } from '@kiln/core';
import { formatType } from '@kiln/core';

/** One node as short text for messages: `relu(f32[2,3]) -> f32[2,3]`. */
export function printNode(node: Node): string {
  return `${node.op}(${node.inputs.map((v) => formatType(v.type)).join(', ')}) -> ${node.outputs.map((v) => formatType(v.type)).join(', ')}`;
}

/**
 * WGSL that splits `index` into coordinates over a shape held in parameters and accumulates
 * offsets `o<name>` (i32) along per-axis strides also held in parameters. The rank is baked
 * into the source; the shape and strides are not, so one pipeline serves every shape of a rank.
 */
export interface OffsetSet {
  readonly name: string;
  /** Parameter position of its R strides (i32 bit patterns). */
  readonly stridesAt: number;
  /** Parameter position of a starting offset, if any. */
  readonly baseAt?: number;
}

export function offsetCode(rank: number, shapeAt: number, sets: readonly OffsetSet[], perAxis = ''): string {
  const lines = sets.map((s) => `  var ${s.name} = ${s.baseAt === undefined ? '0' : `bitcast<i32>(param(${s.baseAt}u))`};`);
  if (rank === 0) return lines.join('\n');
  lines.push('  var rem = index;');
  lines.push(`  for (var d = 0u; d < ${rank}u; d++) {`);
  lines.push(`    let ax = ${rank}u - d - 1u;`);
  lines.push(`    let dim = param(${shapeAt}u + ax);`);
  lines.push('    let c = i32(rem % dim);');
  lines.push('    rem = rem / dim;');
  for (const s of sets) lines.push(`    ${s.name} += c * bitcast<i32>(param(${s.stridesAt}u + ax));`);
  if (perAxis) lines.push(perAxis);
  lines.push('  }');
  return lines.join('\n');
}

/** Numbers as u32 parameter bit patterns (negative strides survive as two's complement). */
export function i32Bits(values: readonly number[]): number[] {
  return values.map((v) => v >>> 0);
}

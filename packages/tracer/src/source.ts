import type { SourceLocation } from '@kiln/core';

// Frames from Kiln's own packages (src or dist) and from Node's internals are not the user's.
const INTERNAL = /[\\/]packages[\\/](core|eager|tracer|runtime|backend-[\w-]+|nn)[\\/](src|dist)[\\/]|[\\/]node_modules[\\/]@kiln[\\/]|node:internal|\(native\)|[\\/]node_modules[\\/](vitest|@vitest|tinypool|tsx)[\\/]/;

/** The first stack frame outside Kiln: where the user's code called into the op surface. */
export function userLocation(): SourceLocation | undefined {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const line of stack) {
    if (INTERNAL.test(line)) continue;
    const m = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (m) return { file: m[1].replace(/^file:\/\//, ''), line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}${loc.column ? `:${loc.column}` : ''}` : 'an unknown location';
}

/// <reference types="node" />
/**
 * `@kiln/eager/node` — Node-only helpers. Kept out of the package root so browser bundles of
 * `@kiln/eager` never pull in `node:fs`.
 */
import { writeFileSync } from 'node:fs';
import type { ProfileReport } from '@kiln/core';

/**
 * Writes a profile's Chrome trace (`report.chromeTrace()`) to `path` as JSON, to open in
 * chrome://tracing or https://ui.perfetto.dev; returns the number of events written.
 *
 * @example
 * ```ts
 * import { profileSync } from '@kiln/eager';
 * import { writeChromeTrace } from '@kiln/eager/node';
 *
 * writeChromeTrace('step.trace.json', profileSync(() => step(x, y)));
 * ```
 */
export function writeChromeTrace(path: string, report: ProfileReport): number {
  const trace = report.chromeTrace();
  writeFileSync(path, JSON.stringify(trace));
  return trace.traceEvents.length;
}

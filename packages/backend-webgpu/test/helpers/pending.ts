/**
 * Primitives with no WebGPU kernel yet (typed data, keyed by op: golden cases that need one
 * are skipped, coverage.test.ts checks this list is exactly the missing set). Shrinks as
 * kernel groups land; see docs/design/webgpu.md for the order.
 */
export const PENDING_KERNELS: ReadonlySet<string> = new Set<string>([]);

/// <reference types="@webgpu/types" />
import { KernelError } from '@kiln/core';

/**
 * Compute pipelines by WGSL source (every pipeline uses the `auto` layout its source implies,
 * so the source — here the parts it is built from — is the whole key). WGSL compile errors are reported with the op and the
 * generated source lines they point at, never just the driver's text.
 */
export class PipelineCache {
  /** By helper text, then by launch key; a source known not to compile holds its error, thrown again at once. */
  private readonly pipelines = new Map<string, Map<string, GPUComputePipeline | KernelError>>();
  private count = 0;
  /** Compilation checks still running (a read awaits them before returning). */
  readonly checks = new Set<Promise<void>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly onError: (error: KernelError) => void,
  ) {}

  /** Pipelines created so far. */
  get size(): number {
    return this.count;
  }

  /**
   * The pipeline for a launch: `group` (shared helper text) and `key` identify the source that
   * `source()` builds on a miss.
   */
  get(op: string, group: string, key: string, source: () => string): GPUComputePipeline {
    let byKey = this.pipelines.get(group);
    if (!byKey) this.pipelines.set(group, (byKey = new Map()));
    const cached = byKey.get(key);
    if (cached) {
      if (cached instanceof KernelError) throw cached;
      return cached;
    }
    const code = source();
    const module = this.device.createShaderModule({ code, label: `kiln:${op}` });
    const check = module.getCompilationInfo().then((info) => {
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length === 0) return;
      const error = new KernelError(describeCompileErrors(op, code, errors));
      byKey.set(key, error);
      this.onError(error);
    }, () => {});
    this.checks.add(check);
    void check.finally(() => this.checks.delete(check));
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: `kiln:${op}` });
    byKey.set(key, pipeline);
    this.count++;
    return pipeline;
  }
}

/** A compile error's message with the op and the generated source line it points at. */
export function describeCompileErrors(op: string, code: string, errors: readonly GPUCompilationMessage[]): string {
  const lines = code.split('\n');
  const parts = errors.map((m) => {
    const source = lines[m.lineNum - 1] ?? '';
    return `  line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${source.trim()}`;
  });
  return `webgpu: the WGSL kernel generated for '${op}' does not compile (a Kiln bug; please report it with this message):\n${parts.join('\n')}`;
}

/// <reference types="@webgpu/types" />
import { KernelError } from '@kiln/core';

/**
 * Compute pipelines by WGSL source (every pipeline uses the `auto` layout its source implies,
 * so the source is the whole key). WGSL compile errors are reported with the op and the
 * generated source lines they point at, never just the driver's text.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Sources known not to compile: using one again throws its error at once. */
  private readonly failed = new Map<string, KernelError>();
  /** Compilation checks still running (a read awaits them before returning). */
  readonly checks = new Set<Promise<void>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly onError: (error: KernelError) => void,
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(op: string, code: string): GPUComputePipeline {
    const known = this.failed.get(code);
    if (known) throw known;
    let pipeline = this.pipelines.get(code);
    if (pipeline) return pipeline;
    const module = this.device.createShaderModule({ code, label: `kiln:${op}` });
    const check = module.getCompilationInfo().then((info) => {
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length === 0) return;
      const error = new KernelError(describeCompileErrors(op, code, errors));
      this.failed.set(code, error);
      this.onError(error);
    }, () => {});
    this.checks.add(check);
    void check.finally(() => this.checks.delete(check));
    pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: `kiln:${op}` });
    this.pipelines.set(code, pipeline);
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

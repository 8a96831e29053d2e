import type { DType, KernelRegistry } from '@kiln/core';
import { allocTypedArray, sizeOf, toTypedArray } from '@kiln/core';
import type { WebGPUKernel } from '../kernel.js';
import { WGSL_TYPE } from '../layout.js';
import { fma32, fma64 } from './host_fma.js';

// full: one fill kernel; the value travels as its bit pattern so one pipeline serves every value.
const full: WebGPUKernel<{ value: number }> = (ctx, _inputs, { value }, [out]) => {
  const bits = new Uint32Array(1);
  if (out.dtype === 'float32') new Float32Array(bits.buffer)[0] = value;
  else if (out.dtype === 'int32') new Int32Array(bits.buffer)[0] = value;
  else bits[0] = value ? 1 : 0;
  const read = out.dtype === 'bool' ? 'param(1u)' : `bitcast<${WGSL_TYPE[out.dtype]}>(param(1u))`;
  ctx.launch({ op: 'full', body: `  out0[index] = ${read};`, inputs: [], outputs: [out], params: [bits[0]], threads: out.storage.size });
};

// arange, linspace and constant are computed on the host and uploaded: PyTorch's values come
// from float64 arithmetic with one rounding (an FMA), which WGSL cannot express.
const constant: WebGPUKernel<{ data: readonly number[] }> = (ctx, _inputs, { data }, [out]) => {
  ctx.writeHost(out, toTypedArray(out.dtype, data));
};

const arange: WebGPUKernel<{ start: number; step: number }> = (ctx, _inputs, { start, step }, [out]) => {
  const data = allocTypedArray(out.dtype, sizeOf(out.shape));
  if (out.dtype === 'int32') for (let i = 0; i < data.length; i++) data[i] = start + step * i;
  else for (let i = 0; i < data.length; i++) data[i] = fma64(step, i, start);
  ctx.writeHost(out, data);
};

// torch.linspace's formula, as the CPU backend's kernel (see its doc comment).
const linspace: WebGPUKernel<{ start: number; stop: number; steps: number; dtype: DType }> = (ctx, _inputs, { start, stop, steps, dtype }, [out]) => {
  const data = allocTypedArray(out.dtype, steps);
  if (steps === 1) data[0] = start;
  else if (steps > 1) {
    const halfway = Math.floor(steps / 2);
    if (dtype === 'float32') {
      const step = Math.fround(Math.fround(stop - start) / Math.fround(steps - 1));
      for (let i = 0; i < steps; i++) data[i] = i < halfway ? fma32(step, Math.fround(i), start) : fma32(-step, Math.fround(steps - 1 - i), stop);
    } else {
      const step = (stop - start) / (steps - 1);
      for (let i = 0; i < steps; i++) {
        const v = i < halfway ? fma64(step, i, start) : fma64(-step, steps - 1 - i, stop);
        data[i] = dtype === 'int32' ? Math.trunc(v) : v;
      }
    }
  }
  ctx.writeHost(out, data);
};

export function registerCreationKernels(registry: KernelRegistry<WebGPUKernel>): void {
  registry.register('full', full);
  registry.register('constant', constant);
  registry.register('arange', arange);
  registry.register('linspace', linspace);
}

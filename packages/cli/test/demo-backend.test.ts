/**
 * The main job's backend choice (`kiln demo --backend cpu|webgpu|auto`) on fake adapter infos:
 * `auto` takes WebGPU only on a hardware adapter; software adapters are used only when asked for.
 * The infos are what Dawn/Chromium report (lavapipe's is copied from Dawn in Node on this machine).
 */
import { ArgumentError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { type AdapterFacts, chooseBackend, softwareAdapter } from '../src/demo/backend.js';

const LAVAPIPE: AdapterFacts = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1', isFallbackAdapter: true };
/** An older Dawn: no isFallbackAdapter, no architecture; the driver's name gives it away. */
const LAVAPIPE_OLD_DAWN: AdapterFacts = { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' };
const SWIFTSHADER: AdapterFacts = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader', description: 'SwiftShader Device (Subzero)' };
const WARP: AdapterFacts = { vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' };
const H100: AdapterFacts = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false };
const INTEL: AdapterFacts = { vendor: 'intel', architecture: 'gen-12lp', device: '', description: 'Intel(R) UHD Graphics 770 (ADL-S GT1)' };

describe('softwareAdapter', () => {
  it('names what gives a software adapter away', () => {
    expect(softwareAdapter(LAVAPIPE)).toBe('it is a fallback adapter');
    expect(softwareAdapter({ ...LAVAPIPE, isFallbackAdapter: undefined })).toBe("its architecture is 'software'");
    expect(softwareAdapter(LAVAPIPE_OLD_DAWN)).toBe('it is llvmpipe, a software rasterizer');
    expect(softwareAdapter(SWIFTSHADER)).toBe('it is swiftshader, a software rasterizer');
    expect(softwareAdapter(WARP)).toBe('it is Microsoft Basic Render, a software rasterizer');
  });

  it('leaves hardware adapters alone', () => {
    expect(softwareAdapter(H100)).toBeUndefined();
    expect(softwareAdapter(INTEL)).toBeUndefined();
    expect(softwareAdapter({})).toBeUndefined();
  });
});

describe('chooseBackend', () => {
  it('auto: WebGPU on a hardware adapter, saying which', () => {
    expect(chooseBackend('auto', H100)).toEqual({ backend: 'webgpu', reason: 'auto: a hardware WebGPU adapter, NVIDIA H100 80GB HBM3' });
    expect(chooseBackend('auto', { vendor: 'amd', device: 'gfx1100' }).reason).toBe('auto: a hardware WebGPU adapter, amd gfx1100');
  });

  it('auto: the CPU on a software adapter or none, saying why', () => {
    for (const adapter of [LAVAPIPE, LAVAPIPE_OLD_DAWN, SWIFTSHADER, WARP]) expect(chooseBackend('auto', adapter).backend).toBe('cpu');
    expect(chooseBackend('auto', LAVAPIPE).reason).toBe('auto: the WebGPU adapter llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1 runs on the CPU (it is a fallback adapter), slower than the CPU backend; pass --backend webgpu to use it anyway');
    expect(chooseBackend('auto', undefined, 'no WebGPU adapter (no Vulkan driver)')).toEqual({ backend: 'cpu', reason: 'auto: no WebGPU adapter (no Vulkan driver)' });
  });

  it('webgpu: any adapter, a software one with a warning', () => {
    expect(chooseBackend('webgpu', H100)).toEqual({ backend: 'webgpu', reason: 'asked for with --backend webgpu: NVIDIA H100 80GB HBM3' });
    expect(chooseBackend('webgpu', SWIFTSHADER)).toEqual({ backend: 'webgpu', reason: 'asked for with --backend webgpu: SwiftShader Device (Subzero) (software: it is swiftshader, a software rasterizer; slower than the CPU backend)' });
  });

  it('webgpu with no adapter, or an unknown backend, is an ArgumentError saying what to do', () => {
    expect(() => chooseBackend('webgpu', undefined, 'no WebGPU adapter (Dawn failed)')).toThrow(new ArgumentError('demo: --backend webgpu, but no WebGPU adapter (Dawn failed); run with --backend cpu (or auto)'));
    expect(() => chooseBackend('gpu', H100)).toThrow(new ArgumentError('demo: --backend must be one of auto, cpu, webgpu, got "gpu"'));
  });

  it('cpu: the CPU whatever the adapter', () => {
    expect(chooseBackend('cpu', H100)).toEqual({ backend: 'cpu', reason: 'asked for with --backend cpu' });
  });
});

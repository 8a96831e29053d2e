import type { Backend } from '@kiln/core';
import { ArgumentError } from '@kiln/core';
import { createCpuBackend } from '@kiln/backend-cpu';

type Factory = () => Backend;
const factories = new Map<string, Factory>([['cpu', createCpuBackend]]);
const instances = new Map<string, Backend>();
let current = 'cpu';

/**
 * Makes a backend available by name. CPU is registered by default; others (WebGPU) register
 * at run time. Registering a name twice throws.
 *
 * @example
 * ```ts
 * registerBackend('webgpu', () => createWebGPUBackend(device));
 * setBackend('webgpu');
 * ```
 */
export function registerBackend(name: string, factory: Factory): void {
  if (factories.has(name)) throw new ArgumentError(`registerBackend: a backend named '${name}' is already registered`);
  factories.set(name, factory);
}

/** Selects the backend new tensors are created on. */
export function setBackend(name: string): void {
  if (!factories.has(name)) {
    throw new ArgumentError(`setBackend: no backend named '${name}'; registered backends are ${[...factories.keys()].join(', ')}`);
  }
  current = name;
}

/** The backend new tensors are created on (CPU unless `setBackend` chose another). */
export function getBackend(name: string = current): Backend {
  let backend = instances.get(name);
  if (!backend) {
    const factory = factories.get(name);
    if (!factory) throw new ArgumentError(`getBackend: no backend named '${name}'; registered backends are ${[...factories.keys()].join(', ')}`);
    backend = factory();
    instances.set(name, backend);
  }
  return backend;
}

/** Backends that have been created so far. */
export function activeBackends(): ReadonlyMap<string, Backend> {
  return instances;
}

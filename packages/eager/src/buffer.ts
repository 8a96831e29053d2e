import type { Backend } from '@kiln/core';

/**
 * Backend storage shared by one or more tensors (reshape shares its input's buffer). Freed
 * when the last tensor holding it lets go.
 */
export class Buffer {
  private refs = 1;
  constructor(
    readonly backend: Backend,
    readonly storage: unknown,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.backend.dispose(this.storage);
  }
}

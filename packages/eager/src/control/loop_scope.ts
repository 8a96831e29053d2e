import { currentInterpreter, withInterpreter } from '../dispatch.js';
import type { TensorInterpreter } from '../dispatch.js';
import { tidy } from '../memory.js';
import type { Tensor } from '../tensor.js';

/**
 * Memory for eager loops (whileLoop, scan): each step runs in `tidy`, and a carry a step made is
 * freed as soon as a later step replaces it — so a loop of any length holds one carry at a
 * time. Only tensors the loop's own steps created are ever freed (never the initial carry, nor a
 * tensor the step returned from its closure).
 */
export class LoopScope {
  private readonly made = new WeakSet<Tensor>();

  /** Runs one step: temporaries are freed, and the tensors it creates are remembered. */
  step<T>(fn: () => T): T {
    const inner = currentInterpreter();
    const made = this.made;
    // The same interpreter, also told of every tensor created: a step may return fresh tensors
    // or ones it found in its closure, and only the first may be freed later.
    const tracking = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'created') {
          return (t: Tensor) => {
            made.add(t);
            target.created?.(t);
          };
        }
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as TensorInterpreter;
    return tidy(() => withInterpreter(tracking, fn));
  }

  /** Frees the tensors in `tensors` that a step made, except those in `live`. */
  release(tensors: Iterable<Tensor>, live: ReadonlySet<Tensor>): void {
    for (const t of tensors) {
      if (this.made.has(t) && !live.has(t)) {
        this.made.delete(t);
        t.dispose();
      }
    }
  }
}

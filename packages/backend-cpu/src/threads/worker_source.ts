/**
 * The body of a pool worker, as source text: started with `new Worker(code, { eval: true })` in
 * Node and from a Blob URL in browsers, so it works the same from src/ and from dist/ and needs
 * no file of its own in a bundle. See docs/design/cpu-wasm.md, "Threads".
 *
 * Protocol (all on the control block at byte 0 of the shared memory, Int32 indices below):
 * the main thread writes the job (module id, function index, task count, each task's arguments),
 * resets PENDING to the number of worker tasks and bumps SEQ; each worker wakes on SEQ
 * (Atomics.wait), runs task `slot + 1` if there is one, and decrements PENDING, notifying the
 * main thread when it reaches zero. Messages are used only to start a worker and to hand it
 * compiled modules, one message per worker at a time: a worker leaves its wait loop
 * (CMD = YIELD) to receive it, acks (ACK + 1) and waits again.
 */

/** Int32 indices into the control block. */
export const CTL = {
  SEQ: 0,
  PENDING: 1,
  CMD: 2,
  MODULE: 3,
  FUNC: 4,
  TASKS: 5,
  ERROR: 6,
  ACK: 7,
  /** First argument of task 0; task t's arguments start at ARGS + t·MAX_ARGS. */
  ARGS: 16,
} as const;
/** Arguments (i32) per task. */
export const MAX_ARGS = 16;
/** Tasks (threads, main included) one job can have. */
export const MAX_TASKS = 64;
/** Bytes at the start of the shared memory that belong to the pool; kernels' scratch starts here. */
export const CONTROL_BYTES = 8192;
export const CMD_RUN = 0;
export const CMD_YIELD = 1;

if ((CTL.ARGS + MAX_TASKS * MAX_ARGS) * 4 > CONTROL_BYTES) throw new Error('worker_source: control block too small');

/** The worker's source text (plain JavaScript, CommonJS-or-classic-worker). */
export function workerSource(): string {
  return `'use strict';
const C = ${JSON.stringify(CTL)}, MAX_ARGS = ${MAX_ARGS}, YIELD = ${CMD_YIELD};
const node = typeof require === 'function';
const port = node ? require('node:worker_threads').parentPort : self;
let ctl = null, slot = 0, seq = 0, memory = null;
const fns = [];
function load(id, module) {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  fns[id] = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => inst.exports[e.name]);
}
function serve() {
  for (;;) {
    Atomics.wait(ctl, C.SEQ, seq);
    seq = Atomics.load(ctl, C.SEQ);
    if (Atomics.load(ctl, C.CMD) === YIELD) return;
    const task = slot + 1;
    if (task >= Atomics.load(ctl, C.TASKS)) continue;
    const a = C.ARGS + task * MAX_ARGS;
    try {
      fns[ctl[C.MODULE]][ctl[C.FUNC]](ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 7],
        ctl[a + 8], ctl[a + 9], ctl[a + 10], ctl[a + 11], ctl[a + 12], ctl[a + 13], ctl[a + 14], ctl[a + 15]);
    } catch (e) {
      Atomics.store(ctl, C.ERROR, task);
    }
    if (Atomics.sub(ctl, C.PENDING, 1) === 1) Atomics.notify(ctl, C.PENDING);
  }
}
function onMessage(msg) {
  if (msg.type === 'init') {
    memory = msg.memory;
    slot = msg.slot;
    ctl = new Int32Array(memory.buffer, 0, ${CONTROL_BYTES / 4});
    seq = Atomics.load(ctl, C.SEQ);
  }
  for (const m of msg.modules) load(m.id, m.module);
  Atomics.add(ctl, C.ACK, 1);
  Atomics.notify(ctl, C.ACK);
  serve();
}
if (node) port.on('message', onMessage); else self.onmessage = (e) => onMessage(e.data);
`;
}

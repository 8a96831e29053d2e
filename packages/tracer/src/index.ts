/**
 * `@kiln/tracer` — `compile(fn)`: traces eager code into the graph IR and hands it to the
 * runtime. **Skeleton:** `compile` comes in a later issue. What exists now is the list of
 * structured control-flow constructs it will offer in place of data-dependent JS branches.
 */

/**
 * Structured control flow the tracer will provide. A traced tensor's value is unknown, so
 * `if (x.item() > 0)` cannot be traced; the `TraceError` it raises will suggest one of these
 * (each holds sub-graphs in the IR). None is implemented yet.
 */
export const PLANNED_CONTROL_FLOW = Object.freeze(['cond', 'whileLoop', 'scan'] as const);

export type PlannedControlFlow = (typeof PLANNED_CONTROL_FLOW)[number];

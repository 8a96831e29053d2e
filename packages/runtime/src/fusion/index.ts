/**
 * The fusion passes: elementwise chains (with broadcasts and a trailing reduction) into
 * `fusedElementwise` nodes, then matmuls with their epilogues into `matmulEpilogue` nodes.
 * Backends run each fused node as one kernel (the CPU backend generates it; see
 * `@kiln/backend-cpu`'s codegen).
 */
export { fuseElementwise, FUSE_ELEMENTWISE } from './elementwise.js';
export { fuseMatmulEpilogue, FUSE_MATMUL_EPILOGUE } from './epilogue.js';
export { partition, isFusible, type Group } from './groups.js';

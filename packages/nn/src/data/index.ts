export { batches, type Batch, type BatchOptions } from './batches.js';
export { trainTestSplit, type SplitOptions } from './split.js';
export { permutation } from './permutation.js';

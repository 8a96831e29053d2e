export { crossEntropy, nllLoss, type CrossEntropyOptions, type NllOptions } from './classification.js';
export { mseLoss, l1Loss, binaryCrossEntropyWithLogits, type ReductionOptions, type BceWithLogitsOptions } from './regression.js';
export type { Reduction } from './common.js';

export { Optimizer, type BaseOptions, type Hyperparameter, type OptimizerStateDict, type ParamGroup, type ParamGroupSpec, type ParamState, type ParamsArg } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearWarmup, SequentialLR, type Schedulable, type SchedulerStateDict } from './lr_scheduler.js';
export { clipGradNorm } from './clip.js';

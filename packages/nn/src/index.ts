/**
 * `@kiln/nn` — modules, layers, initialisers, losses, optimisers and data batching, written
 * only against eager's public API.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential } from '@kiln/nn';
 * const model = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 2));
 * const y = model.forward(x);
 * ```
 */

/** What this package is and how far along. */
export const PACKAGE_INFO = Object.freeze({
  name: '@kiln/nn',
  status: 'working',
  planned: Object.freeze([] as string[]),
} as const);

export { Parameter } from './parameter.js';
export { Module, type NamedOptions, type BufferOptions } from './module.js';
export { StateDictError, type StateDict, type StateDictMismatch, type LoadStateDictOptions, type LoadStateDictResult } from './state_dict.js';
export * as init from './init.js';
export * as functional from './functional.js';
export type { BatchNormOptions } from './functional.js';
export { Linear, Flatten, Identity, type LinearOptions } from './layers/linear.js';
export { Conv2d, MaxPool2d, AvgPool2d, type Conv2dLayerOptions, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from './layers/conv.js';
export { ReLU, GELU, Tanh, Sigmoid, Softmax, Dropout } from './layers/activation.js';
export { BatchNorm1d, BatchNorm2d, LayerNorm, type BatchNormLayerOptions, type LayerNormLayerOptions } from './layers/norm.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { Sequential, ModuleList, type UnaryModule } from './layers/container.js';
export { MultiheadAttention, type MultiheadAttentionOptions, type AttentionOptions } from './layers/attention.js';
export { TransformerEncoderLayer, type TransformerEncoderLayerOptions, type EncoderForwardOptions, type Activation } from './layers/transformer.js';
export * from './losses/index.js';
export * from './optim/index.js';
export * from './data/index.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointParts, type SaveCheckpointOptions, type LoadCheckpointOptions, type LoadCheckpointResult } from './checkpoint.js';
export { plotMetricsSvg, niceTicks, escapeXml, type PlotSeries, type PlotOptions } from './plot.js';
export { fit, accuracy, type FitOptions, type FitData, type FitBatch, type FitContext, type Callback, type History, type StepLogs, type EpochLogs, type Metric, type TrainStep, type StepResult, type ForwardModule } from './fit.js';
export { progressBar, earlyStopping, checkpoint, resumeFrom, jsonlLogger, lrSchedule, type ProgressOptions, type EarlyStoppingOptions, type CheckpointCallbackOptions, type ResumeResult, type JsonlLoggerOptions } from './callbacks.js';
export { DataLoader } from './fit-data.js';
export { historyFromJsonl, historySeries, plotHistorySvg } from './fit-history.js';

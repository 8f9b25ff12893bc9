/**
 * @sdekit/nn: shared TensorFlow.js building blocks (imports only @tensorflow/tfjs-core).
 */

export { ACTIVATIONS, type ActivationName, activation, checkActivation } from './activation.js';
export {
  Adam,
  type AdamOptions,
  type AdamState,
  type LearningRate,
  type WarmupCosineOptions,
  warmupCosine,
} from './adam.js';
export * from './backend.js';
export { circularPad1d, conv1dCircular } from './conv1d.js';
export { dense, matMul } from './dense.js';
export { ExponentialMovingAverage } from './ema.js';
export { assignFlat, flatten, numElements, unflatten } from './flat.js';
export { Mlp, type MlpConfig, type MlpInit, type MlpJSON, mlpParamShapes } from './mlp.js';
export {
  type StopReason,
  type TrainingCheckpoint,
  type TrainingHistory,
  type TrainingProblem,
  type TrainingProgress,
  type TrainingRecord,
  type TrainingStep,
  type TrainOptions,
  train,
} from './training.js';

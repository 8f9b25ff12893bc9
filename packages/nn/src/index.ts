/**
 * @sdekit/nn: shared TensorFlow.js building blocks (imports only @tensorflow/tfjs-core).
 */
export { matMul, dense } from './dense.js';
export { activation, checkActivation, ACTIVATIONS, type ActivationName } from './activation.js';
export { Mlp, mlpParamShapes, type MlpConfig, type MlpJSON } from './mlp.js';
export { Adam, warmupCosine, type AdamOptions, type LearningRate, type WarmupCosineOptions } from './adam.js';
export { flatten, unflatten, assignFlat, numElements } from './flat.js';
export { conv1dCircular, circularPad1d } from './conv1d.js';

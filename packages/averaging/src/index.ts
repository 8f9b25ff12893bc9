/**
 * @sdekit/averaging: reduced models of multiscale SDEs with a flow-parameterised invariant measure of
 * the fast process (docs/methods.md §4, Saha & Ganguly arXiv:2605.09718).
 */

export * from './baseline.js';
export * from './coefficients.js';
export * from './fit.js';
export * from './likelihood.js';
export * from './model.js';
export { type PathTransitions, pathTransitions } from './path.js';
export { isEvaluationStep } from './training.js';

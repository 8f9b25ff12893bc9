/**
 * @sdekit/vi: variational inference with a normalizing-flow posterior and pointwise credible bands
 * (docs/methods.md section 5).
 */

export * from './averaged.js';
export * from './bands.js';
export * from './convergence.js';
export * from './fitPosterior.js';
export * from './posterior.js';
export * from './posteriorFlow.js';

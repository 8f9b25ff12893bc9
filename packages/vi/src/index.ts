/**
 * @sdekit/vi: variational inference with a normalizing-flow posterior and pointwise credible bands
 * (methods.md section 5).
 */
export * from './posteriorFlow.js';
export * from './bands.js';
export * from './posterior.js';
export * from './fitPosterior.js';
export * from './averaged.js';

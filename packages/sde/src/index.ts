export * from './errors.js';
export * from './validate.js';
export * from './rng.js';
export * from './linalg.js';
export * from './types.js';
export * from './fft.js';

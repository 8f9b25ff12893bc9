export * from './score-model.js';
export * from './stein.js';
export * from './phi.js';
export * from './unet.js';
export * from './network-score.js';
export * from './dsm.js';
export * from './kgmm.js';
export * from './langevin.js';

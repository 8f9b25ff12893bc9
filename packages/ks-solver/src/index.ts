export * from './diagnostics.js';
export * from './etdrk4.js';
export * from './simulate.js';
export * from './solver.js';

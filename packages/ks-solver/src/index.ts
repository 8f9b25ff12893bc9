export * from './etdrk4.js';
export * from './solver.js';
export * from './simulate.js';
export * from './diagnostics.js';

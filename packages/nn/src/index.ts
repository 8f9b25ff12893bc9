export * from './conv1d.js';

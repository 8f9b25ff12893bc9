export * from './cdot.js';
export * from './dsm.js';
export * from './kgmm.js';
export * from './langevin.js';
export {
  type DataRange,
  type LangevinDiagnostics,
  LangevinModel,
  type LangevinModelJSON,
  type LangevinModelJSONv1,
  type OriginalUnits,
  type TailBox,
} from './langevin-model.js';
export * from './network-score.js';
export * from './phi.js';
export * from './regime.js';
export * from './score-model.js';
export * from './stein.js';
export * from './uncertainty.js';
export * from './unet.js';

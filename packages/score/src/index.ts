export * from './cdot.js';
export {
  type CdotEstimatorOption,
  type CdotOptions,
  type CdotSelection,
  type CdotSelectionOptions,
  estimateCdot,
  type SeriesCdotEstimate,
  selectCdotEstimator,
} from './cdot-selection.js';
export * from './dsm.js';
export * from './kgmm.js';
export * from './langevin.js';
export { type StandardizedSeries, standardize } from './langevin-data.js';
export {
  type DataRange,
  type LangevinDiagnostics,
  LangevinModel,
  type LangevinModelJSON,
  type LangevinModelJSONv1,
  type LangevinSteps,
  type OriginalUnits,
  type TailBox,
} from './langevin-model.js';
export * from './network-score.js';
export * from './phi.js';
export * from './regime.js';
export {
  estimateScore,
  type GivenScore,
  type ScoreChoice,
  type ScoreEstimate,
  type ScoreOptions,
} from './score-estimate.js';
export * from './score-model.js';
export * from './stein.js';
export * from './uncertainty.js';
export * from './unet.js';

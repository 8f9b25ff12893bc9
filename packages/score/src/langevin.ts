/**
 * Score-based effective Langevin models ([G] Giorgini, arXiv:2505.01895; docs/methods.md section 1):
 *
 *     dx = Phi s(x) dt + sqrt(2) Sigma dW,   Sigma Sigma^T = Phi_S,   Phi = Cdot V^{-1}.
 *
 * `fitLangevin` runs the pipeline of public steps in one call: `standardize` (z-score, regime),
 * `selectCdotEstimator` and `planBootstrap` (checked before any training), `estimateScore` (DSM with
 * an MLP or the periodic U-Net, KGMM, or a given score), `estimateStein` (V on perturbed samples),
 * `estimateCdot` (`LagCdot` for diffusive data, the finite-volume `GeneratorCdot` for smooth data),
 * `langevinCoefficients` (Phi, the shift of Phi_S when it is not positive definite, Sigma),
 * `estimateUncertainty` (block-bootstrap standard errors and intervals) and `LangevinModel.fromSteps`.
 * The returned model simulates in ORIGINAL units through `system()`.
 */
import type { TrainingProgress } from '@sdekit/nn';
import {
  checkInteger,
  checkKnownOptions,
  checkOpenInterval,
  checkPositive,
  InvalidArgumentError,
  type TimeSeries,
} from '@sdekit/sde';
import { type CdotEstimatorOption, estimateCdot, selectCdotEstimator } from './cdot-selection.js';
import {
  checkCdotEstimatorOption,
  checkPerturbSeries,
  checkScoreChoice,
  checkTailQuantile,
  checkUncertaintyOption,
} from './checks.js';
import type { DsmOptions } from './dsm.js';
import type { KgmmOptions } from './kgmm.js';
import { type StandardizedSeries, standardize } from './langevin-data.js';
import { LangevinModel } from './langevin-model.js';
import { langevinCoefficients } from './phi.js';
import { estimateScore, type ScoreChoice } from './score-estimate.js';
import { estimateStein } from './stein.js';
import { estimateUncertainty, planBootstrap, type UncertaintyOption } from './uncertainty.js';

export { PHI_S_RELATIVE_SE_WARN } from './langevin-model.js';

/** The keys of LangevinOptions (unknown keys are rejected, naming the closest). */
const LANGEVIN_OPTION_KEYS = [
  'score',
  'sigma',
  'dsm',
  'kgmm',
  'cdotEstimator',
  'pMin',
  'maxBuildPoints',
  'correction',
  'perturbSeries',
  'uncertainty',
  'steinSamples',
  'tailQuantile',
  'seed',
  'onProgress',
] as const;
/** Fewest samples fitLangevin accepts. */
const MIN_SAMPLES = 200;

/** Stage reported by `fitLangevin`'s progress callback. */
export interface LangevinProgress {
  stage: 'score' | 'stein' | 'cdot' | 'bootstrap' | 'done';
  /** Training progress during the 'score' stage. */
  training?: TrainingProgress;
}

/** Options of `fitLangevin`. */
export interface LangevinOptions {
  /** How to obtain the score. Default 'dsm-mlp'. */
  score?: ScoreChoice;
  /**
   * Noise level of DSM/KGMM in z-scored units. Default 0.05 for diffusive data and 0.1 for smooth data
   * (`diagnostics.regime`): the density of a chaotic flow concentrates near its attractor, and its
   * score needs the stronger smoothing (on Lorenz-63 sigma 0.05 gave a runaway model: docs/findings.md,
   * score).
   */
  sigma?: number;
  /** Extra DSM options (network sizes, steps, batch size, learning rate). */
  dsm?: Partial<Omit<DsmOptions, 'sigma' | 'network' | 'seed' | 'onProgress'>>;
  /** Extra KGMM options. */
  kgmm?: Partial<Omit<KgmmOptions, 'sigma' | 'seed' | 'onProgress'>>;
  /**
   * How Cdot is estimated. 'auto' (default) follows the regime of the series (`incrementScaling`):
   * the direct lag estimator (`LagCdot`, two-lag extrapolation) for diffusive data, the finite-volume
   * generator estimator of [G] (`GeneratorCdot`, on the series perturbed at the score's sigma unless
   * `perturbSeries` is given) for smooth data; `diagnostics.cdotReason` says which and why. 'lag' and
   * 'generator' force one; a `CdotEstimator` object is used as given.
   */
  cdotEstimator?: CdotEstimatorOption;
  /**
   * Tree-partition threshold p_min of the generator estimator (about 0.74 / pMin cells). Default
   * clamp(40 / N, 5e-5, 0.05) for N points.
   */
  pMin?: number;
  /** Build the partition on at most this many points. Default 200000. */
  maxBuildPoints?: number;
  /** Finite-dt correction of the generator estimator (docs/methods.md, generators). Default 'none'. */
  correction?: 'none' | 'per-state' | 'global';
  /**
   * Estimate Cdot from the perturbed series y~_t = y_t + sigma z_t (fresh z ~ N(0, I) per sample,
   * sigma the score's noise level): its marginal is p_sigma, the density the learned score belongs to
   * and the model's invariant law, so Cdot then describes the same smoothed process. For smooth
   * (deterministic) data such as KS the clean series gives a generator Cdot -> 0 in every direction
   * the cells do not resolve; the perturbation adds the dissipation -sigma^2 / dt I of the white noise
   * (as ScoreUNet1D's KS estimator does). A number sigma_c > 0 perturbs at sigma_c instead: the
   * dissipation becomes sigma_c^2 / dt I. Default: true for the generator estimator chosen by 'auto'
   * on smooth data, false otherwise.
   */
  perturbSeries?: boolean | number;
  /**
   * Block-bootstrap uncertainty of Phi (score held fixed). Default { replicates: 200 }; false skips
   * it. blockLength (samples) defaults to 5 integrated autocorrelation times (down to 2 to reach 20
   * blocks); runs shorter than a block are whole blocks. A series too short for 10 blocks is a typed
   * error when this option is given (unless `required: false`), and a warning (no error bars) when it
   * is left at its default.
   */
  uncertainty?: UncertaintyOption;
  /** Points used for the Stein matrix (evenly strided subsample). Default 200000. */
  steinSamples?: number;
  /**
   * Tail quantile q of the score continuation used by `system()` (see `TailBox`). Default 1e-3 / D,
   * so that the box holds all but about 0.2 % of the points whatever D (a fixed q per coordinate
   * leaves more of them outside as D grows and raised the KL in 32-D KS: docs/findings.md, score);
   * 0 simulates with the raw learned score everywhere.
   */
  tailQuantile?: number;
  seed: number;
  onProgress?: (p: LangevinProgress) => void;
}

/**
 * Fits a score-based effective Langevin model to a stationary time series, or to several independent
 * series of one process (an array: runs of an ensemble, a record with gaps), whose samples are pooled
 * for the score and the partition while no transition is counted across series (docs/methods.md section 1).
 * Throws typed errors for bad input (non-finite data, wrong lengths, a series too short for the
 * partition, a score of the wrong dimension); returns warnings in `diagnostics.warnings`
 * (non-stationary-looking input, coarse sampling, shift of Phi_S).
 *
 * It runs the public steps of the pipeline in order (README, "The pipeline step by step"); called by
 * hand with the same seed they give the same model, and any of them can be replaced.
 *
 * @example
 * const model = fitLangevin(series, { score: 'dsm-mlp', sigma: 0.05, pMin: 0.01, seed: 1 });
 * model.original.phi;              // Phi in original units
 * model.diagnostics.steinError;    // ||V + I||_F / sqrt(D)
 */
export function fitLangevin(
  input: TimeSeries | readonly TimeSeries[],
  options: LangevinOptions,
): LangevinModel {
  const data = standardize(input);
  checkLangevinOptions(options, data);
  const { seed, onProgress } = options;
  // The Cdot estimator and the bootstrap blocks are settled before the score, so that a bad pairing
  // or a series too short for the error bars asked for fails before any training.
  const selection = selectCdotEstimator(data, {
    cdotEstimator: options.cdotEstimator,
    pMin: options.pMin,
    maxBuildPoints: options.maxBuildPoints,
    correction: options.correction,
    seed,
  });
  const bootstrap = planBootstrap(data, options.uncertainty);
  const blocks = bootstrap.blocks;
  onProgress?.({ stage: 'score' });
  const score = estimateScore(data, {
    score: options.score,
    sigma: options.sigma,
    dsm: options.dsm,
    kgmm: options.kgmm,
    seed,
    onProgress: onProgress ? (training) => onProgress({ stage: 'score', training }) : undefined,
  });
  // Everything after the score may still fail (a NaN score, a bad estimator, a throwing callback);
  // a network trained here is then freed, so no tensor outlives the error.
  try {
    onProgress?.({ stage: 'stein' });
    const stein = estimateStein(data, score, { blocks, samples: options.steinSamples, seed });
    onProgress?.({ stage: 'cdot' });
    const cdot = estimateCdot(data, selection, {
      scoreSigma: score.sigma,
      perturbSeries: options.perturbSeries,
      blocks,
      seed,
    });
    const coefficients = langevinCoefficients(cdot.cdot, stein.v);
    if (blocks) onProgress?.({ stage: 'bootstrap' });
    const uncertainty = estimateUncertainty(bootstrap, { cdot, stein, coefficients, seed });
    onProgress?.({ stage: 'done' });
    const { tailQuantile } = options;
    return LangevinModel.fromSteps({
      data,
      bootstrap,
      score,
      stein,
      cdot,
      coefficients,
      uncertainty,
      tailQuantile,
    });
  } catch (err) {
    score.dispose();
    throw err;
  }
}

/**
 * Every option of `fitLangevin`, checked before any work (the steps check their own options again),
 * so that a bad option is a typed error before a network is trained.
 */
function checkLangevinOptions(options: LangevinOptions, data: StandardizedSeries): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'must be an object', 'pass { seed, ... }');
  }
  checkKnownOptions('fitLangevin options', options, LANGEVIN_OPTION_KEYS);
  if (data.length < MIN_SAMPLES) {
    throw new InvalidArgumentError(
      'series',
      `has ${data.length} samples; fitLangevin needs at least ${MIN_SAMPLES} (score training, Cdot and its error bars)`,
      'pass a longer series or more runs',
    );
  }
  if (options.sigma !== undefined) checkPositive('sigma', options.sigma);
  if (options.pMin !== undefined) checkOpenInterval('pMin', options.pMin, 0, 0.5);
  checkTailQuantile(options.tailQuantile, data.dim);
  checkCdotEstimatorOption(options.cdotEstimator ?? 'auto', options.correction ?? 'none');
  checkUncertaintyOption(options.uncertainty ?? {});
  const choice = options.score ?? 'dsm-mlp';
  checkPerturbSeries(options.perturbSeries);
  if (options.perturbSeries === true && typeof choice === 'object' && !((choice.sigma ?? 0) > 0)) {
    throw new InvalidArgumentError(
      'perturbSeries',
      'perturbs the series at the score noise level, and the given score has sigma 0',
      'pass options.score.sigma (the noise level of the density the score belongs to) or leave perturbSeries off',
    );
  }
  checkScoreChoice(choice, data.dim);
  if (options.steinSamples !== undefined) checkInteger('steinSamples', options.steinSamples, 1);
}

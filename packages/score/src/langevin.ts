/**
 * Score-based effective Langevin models ([G] Giorgini, arXiv:2505.01895; docs/methods.md section 1):
 *
 *     dx = Phi s(x) dt + sqrt(2) Sigma dW,   Sigma Sigma^T = Phi_S,   Phi = Cdot V^{-1}.
 *
 * `fitLangevin` z-scores the series, learns the score (DSM with an MLP or the periodic U-Net, KGMM, or
 * a given score), evaluates the Stein matrix V on (perturbed) samples, measures the regime of the
 * series (`incrementScaling`), estimates Cdot with the estimator that fits it (`LagCdot` for
 * diffusive data, the finite-volume `GeneratorCdot` for smooth data), and forms Phi, the shift of
 * Phi_S when it is not positive definite (applied to drift and noise alike), and Sigma, with block-
 * bootstrap standard errors and intervals of every entry (`bootstrapPhi`). The returned model
 * simulates in ORIGINAL units through `system()`.
 */
import type { TrainingProgress } from '@sdekit/nn';
import { segmentBounds } from '@sdekit/partition';
import {
  autocorrelationTimeOf,
  type BootstrapBlocks,
  bootstrapBlocks,
  checkBatch,
  checkInteger,
  checkKnownOptions,
  checkOpenInterval,
  checkPositive,
  concatSeries,
  DimensionError,
  InvalidArgumentError,
  type Matrix,
  matmul,
  Rng,
  symmetricEigen,
  type TimeSeries,
  transpose,
  ZScore,
} from '@sdekit/sde';
import { type CdotEstimate, type CdotEstimator, GeneratorCdot, LagCdot } from './cdot.js';
import { type DsmOptions, trainDsm } from './dsm.js';
import { type KgmmOptions, kgmm } from './kgmm.js';
import { stationarityWarnings, subsample, subsampleSource, tailBoxOf } from './langevin-data.js';
import { type LangevinDiagnostics, LangevinModel, ZUnitsScore } from './langevin-model.js';
import type { NetworkScore } from './network-score.js';
import { type LangevinCoefficients, langevinCoefficients } from './phi.js';
import { incrementScaling, SMOOTH_SLOPE } from './regime.js';
import type { ScoreModel } from './score-model.js';
import { perturb, steinMatrixByGroup } from './stein.js';
import { bootstrapPhi, type PhiUncertainty } from './uncertainty.js';

/** fitLangevin warns when the smallest singular value of the Stein matrix V is below this (exact: 1). */
const STEIN_MIN_SINGULAR_WARN = 0.5;
/** fitLangevin warns when ||V + I||_F / sqrt(D) exceeds this (a failed Stein check). */
const STEIN_ERROR_WARN = 0.5;
/** fitLangevin warns ("series too short") when ||SE(Phi_S)||_F / ||Phi_S||_F exceeds this. */
export const PHI_S_RELATIVE_SE_WARN = 0.1;
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
/** Fewest blocks the bootstrap is run with; the default block length aims at MIN_BLOCKS_TARGET. */
const MIN_BLOCKS = 10;
const MIN_BLOCKS_TARGET = 20;
/** Default score noise levels (z units) for diffusive and for smooth data. */
const DIFFUSIVE_SIGMA = 0.05;
const SMOOTH_SIGMA = 0.1;
/** RNG stream (of the fit's seed) of the bootstrap's block draws. */
const BOOTSTRAP_STREAM = 7;

/** A score supplied by the caller, in original data units or in z-scored units. */
export interface GivenScore {
  model: ScoreModel;
  units: 'original' | 'z';
  /**
   * Noise level of the density the model is the score of, in z units (0 for an exact score). V is
   * evaluated on samples perturbed with it. Default 0.
   */
  sigma?: number;
}

/** Stage reported by `fitLangevin`'s progress callback. */
export interface LangevinProgress {
  stage: 'score' | 'stein' | 'cdot' | 'bootstrap' | 'done';
  /** Training progress during the 'score' stage. */
  training?: TrainingProgress;
}

/** Options of `fitLangevin`. */
export interface LangevinOptions {
  /** How to obtain the score. Default 'dsm-mlp'. */
  score?: 'dsm-mlp' | 'dsm-unet' | 'kgmm' | GivenScore;
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
  cdotEstimator?: 'auto' | 'lag' | 'generator' | CdotEstimator;
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
  uncertainty?: false | { replicates?: number; blockLength?: number; required?: boolean };
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
 * @example
 * const model = fitLangevin(series, { score: 'dsm-mlp', sigma: 0.05, pMin: 0.01, seed: 1 });
 * model.original.phi;              // Phi in original units
 * model.diagnostics.steinError;    // ||V + I||_F / sqrt(D)
 */
export function fitLangevin(
  input: TimeSeries | readonly TimeSeries[],
  options: LangevinOptions,
): LangevinModel {
  // Several independent series: one joined series whose segment starts keep the generator (and the
  // one-step increments of Cdot's validity check) from pairing samples of different series.
  let series: TimeSeries;
  let segmentStarts: Int32Array | undefined;
  if (Array.isArray(input)) {
    for (const [k, s] of input.entries()) {
      if (s?.data instanceof Float64Array && s.data.length < 3 * s.dim) {
        throw new InvalidArgumentError(
          `series[${k}]`,
          `has ${s.data.length / s.dim} samples; every series needs at least 3 (the Cdot estimate uses steps of 1 and 2 samples)`,
          'drop or merge very short series',
        );
      }
    }
    ({ series, segmentStarts } = concatSeries(input));
  } else series = input as TimeSeries;
  if (!series || !(series.data instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'series',
      'must be a TimeSeries with a Float64Array `data`',
      'build it with timeSeries(data, dim, dt)',
    );
  }
  const dim = series.dim;
  const n = checkBatch('series.data', series.data, dim, 2);
  if (series.length !== undefined && series.length !== n) {
    throw new DimensionError(
      'series.length',
      `is ${series.length}, data holds ${n} points of dim ${dim}`,
      'make length = data.length / dim',
    );
  }
  checkPositive('series.dt', series.dt);
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'must be an object', 'pass { seed, ... }');
  }
  checkKnownOptions('fitLangevin options', options, LANGEVIN_OPTION_KEYS);
  if (n < MIN_SAMPLES) {
    throw new InvalidArgumentError(
      'series',
      `has ${n} samples; fitLangevin needs at least ${MIN_SAMPLES} (score training, Cdot and its error bars)`,
      'pass a longer series or more runs',
    );
  }
  const seed = options.seed;
  if (options.sigma !== undefined) checkPositive('sigma', options.sigma);
  if (options.pMin !== undefined) checkOpenInterval('pMin', options.pMin, 0, 0.5);
  const tailQuantile = options.tailQuantile ?? 1e-3 / dim;
  if (!(tailQuantile >= 0 && tailQuantile < 0.5)) {
    throw new InvalidArgumentError(
      'tailQuantile',
      `must lie in [0, 0.5), got ${tailQuantile}`,
      'pass a small tail quantile such as 1e-3, or 0 to simulate with the raw score',
    );
  }
  const correction = options.correction ?? 'none';
  const cdotOption = options.cdotEstimator ?? 'auto';
  const isObject = typeof cdotOption === 'object' && cdotOption !== null;
  if (isObject && typeof (cdotOption as CdotEstimator).estimate !== 'function') {
    throw new InvalidArgumentError(
      'cdotEstimator',
      'is an object without an estimate(input) method',
      "pass 'auto', 'lag', 'generator' or a CdotEstimator such as new LagCdot({ lag: 2 })",
    );
  }
  if (!isObject && cdotOption !== 'auto' && cdotOption !== 'lag' && cdotOption !== 'generator') {
    throw new InvalidArgumentError(
      'cdotEstimator',
      `unknown estimator '${String(cdotOption)}'${String(cdotOption) === 'richardson' ? " (the within-cell-restored 'richardson' estimator was removed: 'lag' is more accurate on diffusive data)" : ''}`,
      "pass 'auto', 'lag' or 'generator'",
    );
  }
  if (cdotOption === 'lag' && correction !== 'none') {
    throw new InvalidArgumentError(
      'correction',
      `'${correction}' applies to the generator estimator only`,
      "use cdotEstimator: 'generator' or correction: 'none'",
    );
  }
  const uncertaintyOption = options.uncertainty ?? {};
  if (uncertaintyOption !== false && (typeof uncertaintyOption !== 'object' || uncertaintyOption === null)) {
    throw new InvalidArgumentError(
      'uncertainty',
      `must be false or { replicates?, blockLength?, required? }, got ${String(uncertaintyOption)}`,
      'pass false to skip the bootstrap, or an object',
    );
  }
  const replicates = uncertaintyOption === false ? 0 : (uncertaintyOption.replicates ?? 200);
  if (uncertaintyOption !== false) {
    checkInteger('uncertainty.replicates', replicates, 20);
    if (uncertaintyOption.blockLength !== undefined)
      checkInteger('uncertainty.blockLength', uncertaintyOption.blockLength, 1);
  }
  const choice = options.score ?? 'dsm-mlp';
  const perturbOption = options.perturbSeries;
  if (typeof perturbOption === 'number') checkPositive('perturbSeries', perturbOption);
  else if (perturbOption !== undefined && typeof perturbOption !== 'boolean') {
    throw new InvalidArgumentError(
      'perturbSeries',
      `must be a boolean or a noise level > 0, got ${String(perturbOption)}`,
      "pass true (the score's sigma), a number sigma_c > 0 in z units, or false",
    );
  }
  if (perturbOption === true && typeof choice === 'object' && !((choice.sigma ?? 0) > 0)) {
    throw new InvalidArgumentError(
      'perturbSeries',
      'perturbs the series at the score noise level, and the given score has sigma 0',
      'pass options.score.sigma (the noise level of the density the score belongs to) or leave perturbSeries off',
    );
  }
  if (typeof choice === 'object') {
    if (!choice.model || typeof choice.model.score !== 'function') {
      throw new InvalidArgumentError(
        'options.score.model',
        'must implement ScoreModel',
        'pass { model, units }',
      );
    }
    if (choice.model.dim !== dim) {
      throw new DimensionError(
        'options.score.model',
        `has dim ${choice.model.dim}, the series has dim ${dim}`,
        "pass a score model of the series' dimension",
      );
    }
    if (choice.units !== 'original' && choice.units !== 'z') {
      throw new InvalidArgumentError(
        'options.score.units',
        `must be 'original' or 'z', got ${choice.units}`,
        "pass 'original' or 'z'",
      );
    }
  } else if (choice !== 'dsm-mlp' && choice !== 'dsm-unet' && choice !== 'kgmm') {
    throw new InvalidArgumentError(
      'options.score',
      `unknown choice '${choice}'`,
      "pass 'dsm-mlp', 'dsm-unet', 'kgmm' or { model, units }",
    );
  }

  const zscore = ZScore.fit(series.data, dim);
  const mean = Float64Array.from(zscore.mean);
  const std = Float64Array.from(zscore.std);
  for (let j = 0; j < dim; j++) {
    if (!(std[j] > 0)) {
      throw new InvalidArgumentError(
        'series',
        `coordinate ${j} is constant`,
        'drop constant coordinates before fitting',
      );
    }
  }
  const y = zscore.apply(series.data);
  const warnings = stationarityWarnings(y, n, dim);

  // Regime of the series, and the score noise level and Cdot estimator that fit it.
  const regime = incrementScaling(y, dim, segmentStarts);
  const sigma = options.sigma ?? (regime.regime === 'smooth' ? SMOOTH_SIGMA : DIFFUSIVE_SIGMA);
  const slopeText = `increment slope ${regime.slope.toFixed(2)} over lags ${regime.lags.join(', ')}`;
  let estimator: CdotEstimator;
  let cdotChoice: LangevinDiagnostics['cdotChoice'];
  let cdotReason: string;
  let perturbDefault = false;
  const generator = () =>
    new GeneratorCdot({ pMin: options.pMin, correction, seed, maxBuildPoints: options.maxBuildPoints });
  if (isObject) {
    estimator = cdotOption as CdotEstimator;
    cdotChoice = 'custom';
    cdotReason = `the caller's estimator ('${estimator.name}')`;
  } else if (cdotOption === 'lag') {
    estimator = new LagCdot();
    cdotChoice = 'lag';
    cdotReason = 'asked for';
  } else if (cdotOption === 'generator') {
    estimator = generator();
    cdotChoice = 'generator';
    cdotReason = 'asked for';
  } else {
    cdotChoice = 'auto';
    if (regime.regime === 'smooth') {
      estimator = generator();
      perturbDefault = true;
      cdotReason =
        `smooth data (${slopeText}, about 2 for smooth paths): the finite-volume generator estimator, ` +
        'on the series perturbed at the score noise level';
    } else {
      estimator = new LagCdot();
      cdotReason =
        regime.regime === 'diffusive'
          ? `diffusive data (${slopeText}, about 1 for a diffusion): the direct two-lag estimator`
          : `the series decorrelates within a few samples (${slopeText}): the direct two-lag estimator`;
    }
    if (correction !== 'none' && estimator.name === 'lag') {
      throw new InvalidArgumentError(
        'correction',
        `'${correction}' applies to the generator estimator only, and 'auto' chose the lag estimator (${cdotReason})`,
        "use cdotEstimator: 'generator' or correction: 'none'",
      );
    }
  }
  if (regime.regime === 'unresolved') {
    warnings.push(
      `the series decorrelates within a few samples (${slopeText}; 1 for a resolved diffusion, 2 for smooth data): ` +
        'the sampling interval dt is too coarse for the dynamics, and Phi (a short-time quantity) is poorly determined; sample more often',
    );
  }
  {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of regime.slopes) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const smoothCoords = regime.slopes.filter((v) => v >= SMOOTH_SLOPE).length;
    if (smoothCoords > 0 && smoothCoords < regime.slopes.length) {
      warnings.push(
        `the coordinates disagree on the regime (increment slopes ${lo.toFixed(2)} to ${hi.toFixed(2)}; ` +
          `${smoothCoords} of ${regime.slopes.length} look smooth): ${cdotReason.split(':')[0]} decided; check diagnostics.regime.slopes`,
      );
    }
  }

  // Bootstrap blocks: several integrated autocorrelation times, or whole runs.
  const bounds = segmentBounds(segmentStarts, n);
  let blocks: BootstrapBlocks | null = null;
  let autocorrelationTime = Number.NaN;
  if (replicates > 0) {
    autocorrelationTime = autocorrelationTimeOf(y, dim, bounds).tau;
    const given = uncertaintyOption === false ? undefined : uncertaintyOption.blockLength;
    const length =
      given ??
      Math.max(
        1,
        Math.ceil(
          Math.min(5 * autocorrelationTime, Math.max(2 * autocorrelationTime, n / MIN_BLOCKS_TARGET)),
        ),
      );
    const candidate = bootstrapBlocks(bounds, length);
    const count = candidate.bounds.length - 1;
    if (count >= MIN_BLOCKS) blocks = candidate;
    else if (given !== undefined) {
      throw new InvalidArgumentError(
        'uncertainty.blockLength',
        `${given} samples leaves ${count} blocks; the bootstrap needs at least ${MIN_BLOCKS}`,
        'pass a shorter blockLength, a longer series, or uncertainty: false',
      );
    } else {
      const what =
        `it spans ${(n / autocorrelationTime).toFixed(1)} integrated autocorrelation times ` +
        `(${autocorrelationTime.toFixed(1)} samples each) in ${bounds.length - 1} run${bounds.length > 2 ? 's' : ''}, ` +
        `and the block bootstrap of Phi needs at least ${MIN_BLOCKS} blocks of 2 or more (or ${MIN_BLOCKS} runs)`;
      // Asked for explicitly, the bootstrap must run: a typed error. By default the fit goes on without
      // error bars and says so (a slowly decorrelating field such as KS can have an autocorrelation
      // time of hundreds of time units).
      if (
        options.uncertainty !== undefined &&
        uncertaintyOption !== false &&
        uncertaintyOption.required !== false
      ) {
        throw new InvalidArgumentError(
          'series',
          `is too short for error bars: ${what}; Phi is not determined by these data`,
          'pass a longer series or more runs, uncertainty: { required: false } to fit with a warning instead, or uncertainty: false (sdekit fit-langevin --bootstrap 0) to fit without error bars',
        );
      }
      warnings.push(
        `series too short for error bars: ${what}, so Phi comes without standard errors and is not determined by these data. Use a longer series or more runs`,
      );
    }
  }

  // 1. Score in z units.
  options.onProgress?.({ stage: 'score' });
  const onTraining = options.onProgress
    ? (p: TrainingProgress) => options.onProgress!({ stage: 'score', training: p })
    : undefined;
  let score: ScoreModel;
  let scoreSigma: number;
  let heldOutLoss: number | null = null;
  let externalUnits: 'original' | 'z' | null = null;
  if (typeof choice === 'object') {
    externalUnits = choice.units;
    score = choice.units === 'z' ? choice.model : new ZUnitsScore(choice.model, mean, std);
    scoreSigma = choice.sigma ?? 0;
  } else if (choice === 'kgmm') {
    const r = kgmm(y, dim, { ...options.kgmm, sigma, seed, onProgress: onTraining });
    score = r.model;
    scoreSigma = sigma;
    if (!r.converged)
      warnings.push(
        `KGMM stopped after ${r.passes} passes with relative change ${r.relativeChange.toExponential(2)} above tol`,
      );
  } else {
    const r = trainDsm(y, dim, {
      ...options.dsm,
      sigma,
      network: choice === 'dsm-unet' ? 'unet' : 'mlp',
      seed,
      onProgress: onTraining,
    });
    score = r.model;
    scoreSigma = sigma;
    heldOutLoss = r.heldOutLoss;
  }

  // Everything after the score may still fail (a NaN score, a bad estimator); a network trained
  // here is then freed, so no tensor outlives the error.
  let v: Matrix;
  let steinError: number;
  let steinMinSingularValue: number;
  let perturbSigma: number;
  let yCdot: Float64Array;
  let est: CdotEstimate;
  let c: Matrix;
  let coeff: LangevinCoefficients;
  let uncertainty: PhiUncertainty | null = null;
  try {
    // 2. Stein matrix on (perturbed) samples, with per-block sums for the bootstrap.
    options.onProgress?.({ stage: 'stein' });
    const steinMax = options.steinSamples ?? 200_000;
    const steinPoints = subsample(y, n, dim, steinMax);
    const steinN = steinPoints.length / dim;
    let steinGroup: Int32Array | null = null;
    if (blocks) {
      steinGroup = new Int32Array(steinN);
      const b = blocks.bounds;
      let k = 0;
      for (let i = 0; i < steinN; i++) {
        const t = subsampleSource(i, n, steinMax);
        while (t >= b[k + 1]) k++;
        steinGroup[i] = k;
      }
    }
    const stein = steinMatrixByGroup(
      score,
      steinPoints,
      dim,
      steinGroup,
      blocks ? blocks.bounds.length - 1 : 1,
      { sigma: scoreSigma, seed: seed + 1 },
    );
    v = stein.v;
    steinError = 0;
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) steinError += (v.data[i * dim + j] + (i === j ? 1 : 0)) ** 2;
    steinError = Math.sqrt(steinError / dim);
    steinMinSingularValue = Math.sqrt(Math.max(0, symmetricEigen(matmul(transpose(v), v)).values[0]));
    if (steinError > STEIN_ERROR_WARN) {
      warnings.push(
        `the score fails Stein's identity: ||V + I||_F / sqrt(D) = ${steinError.toPrecision(3)} (0 for an exact score, below about 0.1 for a good one), ` +
          'and Phi = Cdot V^{-1} inherits that error; check sigma (z units, typically 0.05-0.3) and train the score longer',
      );
    }
    if (steinMinSingularValue < STEIN_MIN_SINGULAR_WARN) {
      warnings.push(
        `the Stein matrix V has a singular value of ${steinMinSingularValue.toExponential(2)} (1 for an exact score): ` +
          `Phi = Cdot V^{-1} amplifies Cdot up to ${(1 / steinMinSingularValue).toExponential(2)}x along a direction the score barely ` +
          'resolves, which can make the model stiff or blow up; train the score longer, or perturb less (perturbSeries)',
      );
    }

    // 3. Cdot from the (perturbed) series.
    options.onProgress?.({ stage: 'cdot' });
    // 'auto' on smooth data perturbs at the score's noise level; an exact score (sigma 0) has none.
    const perturbRequest = perturbOption ?? (perturbDefault && scoreSigma > 0);
    if (perturbDefault && perturbOption === undefined && !(scoreSigma > 0))
      cdotReason = cdotReason.replace(
        ', on the series perturbed at the score noise level',
        ' (the score has noise level 0, so the series is not perturbed)',
      );
    perturbSigma = perturbRequest === true ? scoreSigma : perturbRequest === false ? 0 : perturbRequest;
    if (perturbRequest === true && !(scoreSigma > 0)) {
      throw new InvalidArgumentError(
        'perturbSeries',
        `perturbs the series at the score noise level, and the given score has sigma 0 (${cdotReason})`,
        'pass options.score.sigma, a number perturbSeries, or perturbSeries: false',
      );
    }
    yCdot = perturbSigma > 0 ? perturb(y, perturbSigma, Rng.fromSeed(seed + 2)) : y;
    est = estimator.estimate({
      y: yCdot,
      dim,
      dt: series.dt,
      segmentStarts,
      blocks: blocks ?? undefined,
    });
    // The generator's "leave fraction > 0.3" warning assumes a jump process on coarse cells; fine cells
    // with leave fractions near 1 are the consistent regime for diffusions, so that one warning is only
    // passed on when a finite-dt correction was requested.
    for (const w of est.warnings)
      if (correction !== 'none' || !w.startsWith('leave fraction')) warnings.push(w);
    c = est.cdot;

    // 4. Phi, shift, Sigma.
    coeff = langevinCoefficients(c, v);
    if (coeff.shift > 0) {
      warnings.push(
        `Phi_S was not positive definite (lambda_min = ${coeff.lambdaMin.toExponential(3)}); shifted by ${coeff.shift.toExponential(3)} I in drift and noise`,
      );
    }

    // 5. Uncertainty: block bootstrap of Cdot and V with the score held fixed.
    if (blocks) {
      options.onProgress?.({ stage: 'bootstrap' });
      uncertainty = bootstrapPhi({
        cdot: est,
        stein,
        point: coeff,
        blocks,
        autocorrelationTime,
        replicates,
        rng: Rng.fromSeed(seed, BOOTSTRAP_STREAM),
      });
      if (uncertainty.phiSRelativeSE > PHI_S_RELATIVE_SE_WARN) {
        warnings.push(
          `series too short: Phi_S has a relative standard error of ${(100 * uncertainty.phiSRelativeSE).toFixed(0)} % ` +
            `(block bootstrap, ${uncertainty.blocks} blocks), above ${100 * PHI_S_RELATIVE_SE_WARN} %; the dissipation and the noise ` +
            'of the model are not determined to better than that. Use a longer series or more runs',
        );
      }
      if (uncertainty.nonPositiveDefiniteFraction > (1 - uncertainty.level) / 2) {
        warnings.push(
          `series too short: ${(100 * uncertainty.nonPositiveDefiniteFraction).toFixed(0)} % of the bootstrap replicates give a ` +
            'Phi_S that is not positive definite, so its 95 % interval contains models without dissipation in some direction. ' +
            'Use a longer series or more runs',
        );
      }
    }
  } catch (err) {
    if (externalUnits === null) (score as NetworkScore).dispose();
    throw err;
  }

  const lo = new Float64Array(dim).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(dim).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < series.data.length; i++) {
    const j = i % dim;
    const x = series.data[i];
    if (x < lo[j]) lo[j] = x;
    if (x > hi[j]) hi[j] = x;
  }
  const diagnostics: LangevinDiagnostics = {
    steinError,
    steinMinSingularValue,
    stein: v,
    cdot: c,
    cdotEstimator: est.estimator,
    cdotChoice,
    cdotReason,
    cdotBiasOrder: est.biasOrder,
    cdotDetails: est.details,
    regime,
    shift: coeff.shift,
    shifted: coeff.shift > 0,
    lambdaMin: coeff.lambdaMin,
    leaveFraction: est.details.leaveFraction ?? null,
    perturbedSeries: yCdot !== y,
    perturbSigma,
    cells: est.partition ? est.partition.size : 0,
    segments: (segmentStarts?.length ?? 0) + 1,
    energyShareS: coeff.energyShareS,
    energyShareA: coeff.energyShareA,
    heldOutLoss,
    uncertainty,
    warnings,
  };
  options.onProgress?.({ stage: 'done' });
  return new LangevinModel({
    tailBox: tailQuantile > 0 ? tailBoxOf(y, dim, tailQuantile) : null,
    dim,
    dt: series.dt,
    matrices: { phi: coeff.phi, phiS: coeff.phiS, phiA: coeff.phiA, sigma: coeff.sigma },
    diagnostics,
    zscore,
    score,
    scoreSigma,
    partition: est.partition,
    dataRange: { lo, hi },
    externalUnits,
  });
}

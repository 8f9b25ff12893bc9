/**
 * Step 4 of the Langevin pipeline: Cdot = dC/dt(0+) of the z-scored series by the estimator its regime
 * asks for (docs/methods.md, "Which Cdot estimator"): the direct lag estimator (`LagCdot`) for
 * diffusive data, the finite-volume generator estimator (`GeneratorCdot`) on the series perturbed at
 * the score's noise level for smooth data, or the estimator the caller names or gives.
 */
import { type BootstrapBlocks, checkOpenInterval, InvalidArgumentError, Rng } from '@sdekit/sde';
import { type CdotEstimate, type CdotEstimator, GeneratorCdot, LagCdot } from './cdot.js';
import { checkCdotEstimatorOption, checkPerturbSeries } from './checks.js';
import { type StandardizedSeries, slopeText } from './langevin-data.js';
import type { LangevinDiagnostics } from './langevin-model.js';
import { SMOOTH_SLOPE } from './regime.js';
import { perturb } from './stein.js';

/** Which Cdot estimator: by the regime of the series ('auto'), one by name, or an estimator object. */
export type CdotEstimatorOption = 'auto' | 'lag' | 'generator' | CdotEstimator;

/** Options of `selectCdotEstimator` (the Cdot options of `fitLangevin`). */
export interface CdotSelectionOptions {
  /**
   * 'auto' (default) follows the regime of the series (`data.regime`): `LagCdot` (two-lag
   * extrapolation) for diffusive data, `GeneratorCdot` on the perturbed series for smooth data.
   * 'lag' and 'generator' force one; a `CdotEstimator` object is used as given.
   */
  cdotEstimator?: CdotEstimatorOption;
  /** Tree-partition threshold p_min of the generator estimator. Default clamp(40 / N, 5e-5, 0.05). */
  pMin?: number;
  /** Build the partition on at most this many points. Default 200000. */
  maxBuildPoints?: number;
  /** Finite-dt correction of the generator estimator (docs/methods.md, generators). Default 'none'. */
  correction?: 'none' | 'per-state' | 'global';
  /** Seed of the generator's tree partition (the pipeline's seed). Default 0. */
  seed?: number;
}

/** The Cdot estimator for a series and why: the result of `selectCdotEstimator`. */
export interface CdotSelection {
  estimator: CdotEstimator;
  /** What was asked for: 'auto', 'lag', 'generator' or 'custom' (an estimator object). */
  choice: LangevinDiagnostics['cdotChoice'];
  /** Why this estimator, in words. */
  reason: string;
  /** True when 'auto' took the generator for smooth data, which perturbs the series by default. */
  perturbByDefault: boolean;
  /** The finite-dt correction asked for ('none' unless the generator estimator uses one). */
  correction: 'none' | 'per-state' | 'global';
  /** Coordinates that disagree on the regime. */
  warnings: string[];
}

/**
 * Picks the Cdot estimator of step 4 for the standardized series `data`: the one `cdotEstimator`
 * names, or for 'auto' the one its regime asks for (`data.regime`): `LagCdot` for diffusive or
 * unresolved data, `GeneratorCdot` (perturbing the series at the score's noise level) for smooth data.
 * Throws when a finite-dt `correction` meets the lag estimator. Warns when the coordinates disagree
 * on the regime.
 *
 * @example
 * const data = standardize(series);
 * const selection = selectCdotEstimator(data);              // 'auto'
 * selection.estimator.name;                                 // 'lag' for diffusive data
 * selectCdotEstimator(data, { cdotEstimator: new LagCdot({ lag: 2 }) }).choice; // 'custom'
 */
export function selectCdotEstimator(
  data: StandardizedSeries,
  options: CdotSelectionOptions = {},
): CdotSelection {
  const option = options.cdotEstimator ?? 'auto';
  const correction = options.correction ?? 'none';
  if (options.pMin !== undefined) checkOpenInterval('pMin', options.pMin, 0, 0.5);
  checkCdotEstimatorOption(option, correction);
  const regime = data.regime;
  const slope = slopeText(regime);
  const generator = () =>
    new GeneratorCdot({
      pMin: options.pMin,
      correction,
      seed: options.seed ?? 0,
      maxBuildPoints: options.maxBuildPoints,
    });
  let estimator: CdotEstimator;
  let choice: CdotSelection['choice'];
  let reason: string;
  let perturbByDefault = false;
  if (typeof option === 'object') {
    estimator = option;
    choice = 'custom';
    reason = `the caller's estimator ('${estimator.name}')`;
  } else if (option === 'lag') {
    estimator = new LagCdot();
    choice = 'lag';
    reason = 'asked for';
  } else if (option === 'generator') {
    estimator = generator();
    choice = 'generator';
    reason = 'asked for';
  } else {
    choice = 'auto';
    if (regime.regime === 'smooth') {
      estimator = generator();
      perturbByDefault = true;
      reason =
        `smooth data (${slope}, about 2 for smooth paths): the finite-volume generator estimator, ` +
        'on the series perturbed at the score noise level';
    } else {
      estimator = new LagCdot();
      reason =
        regime.regime === 'diffusive'
          ? `diffusive data (${slope}, about 1 for a diffusion): the direct two-lag estimator`
          : `the series decorrelates within a few samples (${slope}): the direct two-lag estimator`;
    }
    if (correction !== 'none' && estimator.name === 'lag') {
      throw new InvalidArgumentError(
        'correction',
        `'${correction}' applies to the generator estimator only, and 'auto' chose the lag estimator (${reason})`,
        "use cdotEstimator: 'generator' or correction: 'none'",
      );
    }
  }
  const warnings: string[] = [];
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
        `${smoothCoords} of ${regime.slopes.length} look smooth): ${reason.split(':')[0]} decided; check diagnostics.regime.slopes`,
    );
  }
  return { estimator, choice, reason, perturbByDefault, correction, warnings };
}

/** Options of `estimateCdot`. */
export interface CdotOptions {
  /** Noise level (z units) of the score: the level `perturbSeries: true` perturbs at. Default 0. */
  scoreSigma?: number;
  /**
   * Estimate Cdot from y~_t = y_t + sigma z_t (fresh z ~ N(0, I) per sample): true at the score's
   * sigma (whose marginal p_sigma the learned score describes), a number sigma_c > 0 at sigma_c (Phi
   * gains the dissipation sigma_c^2 / dt I), false on the clean series. Default: true when the
   * selection is 'auto' on smooth data and the score has a noise level, false otherwise.
   */
  perturbSeries?: boolean | number;
  /** Blocks of the block bootstrap (`planBootstrap(...).blocks`); then the estimate has `replicate`. */
  blocks?: BootstrapBlocks | null;
  /** The pipeline's seed: the perturbation draws from its named stream 'cdot-perturbation'. Default 0. */
  seed?: number;
}

/** Cdot of a standardized series with how it was obtained: the result of `estimateCdot`. */
export interface SeriesCdotEstimate extends CdotEstimate {
  /** The estimator selection it came from. */
  selection: CdotSelection;
  /** Why this estimator (the selection's reason, saying so when an exact score left the series clean). */
  reason: string;
  /** Noise level (z units) of the series' perturbation: the score's sigma, sigma_c, or 0 when clean. */
  perturbSigma: number;
}

/**
 * Step 4 of the Langevin pipeline: Cdot of the standardized series `data` with the estimator of
 * `selection` (`selectCdotEstimator`), on the series perturbed as `perturbSeries` says, with the
 * bootstrap replicate when `blocks` are given. `warnings` holds the estimator's warnings that apply:
 * the generator's "leave fraction > 0.3" warning assumes a jump process on coarse cells, while fine
 * cells with leave fractions near 1 are the consistent regime for diffusions, so it is passed on only
 * with a finite-dt correction.
 *
 * @example
 * const data = standardize(series);
 * const cdot = estimateCdot(data, selectCdotEstimator(data), { seed: 1 });
 * cdot.cdot;        // D x D, z units; ~ Phi V = -Phi for an exact score
 * cdot.reason;      // 'diffusive data (increment slope 0.99 ...): the direct two-lag estimator'
 */
export function estimateCdot(
  data: StandardizedSeries,
  selection: CdotSelection,
  options: CdotOptions = {},
): SeriesCdotEstimate {
  const perturbOption = options.perturbSeries;
  checkPerturbSeries(perturbOption);
  const scoreSigma = options.scoreSigma ?? 0;
  // 'auto' on smooth data perturbs at the score's noise level; an exact score (sigma 0) has none.
  const perturbRequest = perturbOption ?? (selection.perturbByDefault && scoreSigma > 0);
  let reason = selection.reason;
  if (selection.perturbByDefault && perturbOption === undefined && !(scoreSigma > 0))
    reason = reason.replace(
      ', on the series perturbed at the score noise level',
      ' (the score has noise level 0, so the series is not perturbed)',
    );
  const perturbSigma = perturbRequest === true ? scoreSigma : perturbRequest === false ? 0 : perturbRequest;
  if (perturbRequest === true && !(scoreSigma > 0)) {
    throw new InvalidArgumentError(
      'perturbSeries',
      `perturbs the series at the score noise level, and the given score has sigma 0 (${reason})`,
      'pass options.score.sigma, a number perturbSeries, or perturbSeries: false',
    );
  }
  const y =
    perturbSigma > 0
      ? perturb(data.y, perturbSigma, Rng.named(options.seed ?? 0, 'cdot-perturbation'))
      : data.y;
  const estimate = selection.estimator.estimate({
    y,
    dim: data.dim,
    dt: data.dt,
    segmentStarts: data.segmentStarts,
    blocks: options.blocks ?? undefined,
  });
  const warnings = estimate.warnings.filter(
    (w) => selection.correction !== 'none' || !w.startsWith('leave fraction'),
  );
  return { ...estimate, warnings, selection, reason, perturbSigma };
}

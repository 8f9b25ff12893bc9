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
import { type Partition, partitionFromJSON, segmentBounds } from '@sdekit/partition';
import {
  autocorrelationTimeOf,
  BlowUpError,
  type BootstrapBlocks,
  bootstrapBlocks,
  checkBatch,
  checkInteger,
  checkKnownOptions,
  checkOpenInterval,
  checkPositive,
  column,
  concatSeries,
  DimensionError,
  FormatError,
  InvalidArgumentError,
  Matrix,
  matmul,
  quantiles,
  Rng,
  type SdeSystem,
  symmetricEigen,
  type TimeSeries,
  transpose,
  ZScore,
} from '@sdekit/sde';
import { type CdotEstimate, type CdotEstimator, GeneratorCdot, LagCdot } from './cdot.js';
import { type DsmOptions, type TrainingProgress, trainDsm } from './dsm.js';
import { type KgmmOptions, kgmm } from './kgmm.js';
import { NetworkScore, type NetworkScoreJSON } from './network-score.js';
import { type LangevinCoefficients, langevinCoefficients } from './phi.js';
import { type IncrementScaling, incrementScaling, SMOOTH_SLOPE } from './regime.js';
import type { ScoreModel } from './score-model.js';
import { perturb, steinMatrixByGroup } from './stein.js';
import {
  bootstrapPhi,
  type PhiUncertainty,
  type PhiUncertaintyJSON,
  uncertaintyFromJSON,
  uncertaintyInDataUnits,
  uncertaintyToJSON,
} from './uncertainty.js';

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

/** Diagnostics of a fitted Langevin model. */
export interface LangevinDiagnostics {
  /** ||V + I||_F / sqrt(D): 0 when the score satisfies Stein's identity exactly. */
  steinError: number;
  /**
   * Smallest singular value of V (1 for an exact score). Phi = Cdot V^{-1} multiplies Cdot by up to
   * its inverse along the direction where the learned score barely responds; below 0.5 a warning
   * is given. NaN in files written before this diagnostic existed.
   */
  steinMinSingularValue: number;
  /** The Stein matrix V (z units). */
  stein: Matrix;
  /** The Cdot used for Phi (z units). */
  cdot: Matrix;
  /** Estimator that produced `cdot` ('richardson' only in files of format version 1). */
  cdotEstimator: 'lag' | 'generator' | 'richardson';
  /** What was asked for: 'auto', 'lag', 'generator' or 'custom' (an estimator object). */
  cdotChoice: 'auto' | 'lag' | 'generator' | 'custom';
  /** Why that estimator was used, in words. */
  cdotReason: string;
  /** Order in dt of the estimator's leading bias for a diffusion. */
  cdotBiasOrder: number;
  /** Estimator-specific numbers (lag, cells, leave fraction, bias estimate). */
  cdotDetails: Record<string, number>;
  /** Regime of the (z-scored, unperturbed) series: increment-moment slopes. Null in version-1 files. */
  regime: IncrementScaling | null;
  /** Diagonal shift added to Phi_S (0 when it was positive definite). */
  shift: number;
  /** True when the shift rule was applied. */
  shifted: boolean;
  /** Smallest eigenvalue of the unshifted Phi_S. */
  lambdaMin: number;
  /** Fraction of steps on which the cell label changes (generator estimator; null otherwise). */
  leaveFraction: number | null;
  /** True when Cdot came from a perturbed series (`perturbSeries`). */
  perturbedSeries: boolean;
  /** Noise level (z units) of that perturbation: the score's sigma, sigma_c, or 0 when unperturbed. */
  perturbSigma: number;
  /** Number of partition cells (0 when no partition was used). */
  cells: number;
  /** Number of independent series the model was fitted to (1 for a single series). */
  segments: number;
  /**
   * Block-bootstrap standard errors and intervals (z units; `LangevinModel.original.uncertainty` in
   * data units). Null when skipped or when the series is too short for it (then a warning says so).
   */
  uncertainty: PhiUncertainty | null;
  /** ||Phi_S||_F^2 / ||Phi||_F^2 and ||Phi_A||_F^2 / ||Phi||_F^2. */
  energyShareS: number;
  energyShareA: number;
  /** Held-out DSM loss when the score was trained by DSM. */
  heldOutLoss: number | null;
  /** Non-fatal problems: non-stationary-looking input, coarse sampling, shift applied, ... */
  warnings: string[];
}

interface MatrixSet {
  phi: Matrix;
  phiS: Matrix;
  phiA: Matrix;
  sigma: Matrix;
}

/** The matrices in data units, with their uncertainty. */
export interface OriginalUnits extends MatrixSet {
  /** Block-bootstrap uncertainty in data units (null when none was computed). */
  uncertainty: PhiUncertainty | null;
}

/** Per-coordinate range [lo, hi] of the data (original units). */
export interface DataRange {
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * Per-coordinate box [lo_j, hi_j] (z units) outside which `system()` continues the learned score.
 * A learned score is only trustworthy where the data put mass; beyond that a network or KGMM
 * interpolant extrapolates freely and can point outward, so simulated paths escape (seen with KGMM
 * on T1: docs/findings.md, score). The box holds the q and 1 - q quantiles of the z-scored data; outside it
 *     s(y) = s(P y) - (y - P y),   P = projection onto the box,
 * the score at the nearest box point plus a unit-variance Gaussian restoring term: continuous on the
 * boundary, and confining because Phi_S is positive definite.
 */
export interface TailBox {
  /** The tail quantile q the box was built with. */
  quantile: number;
  lo: Float64Array;
  hi: Float64Array;
}

type Nested = number[][];

/** Serialised LangevinModel, format version 2: matrices in data units, z-unit ones under `zUnits`. */
export interface LangevinModelJSON {
  format: 'sdekit.langevin-model';
  version: 2;
  dim: number;
  dt: number;
  zscore: ReturnType<ZScore['toJSON']>;
  /** Phi, Phi_S, Phi_A and Sigma in the units of the data (drift Phi s_x(x), noise sqrt(2) Sigma dW). */
  phi: Nested;
  phiS: Nested;
  phiA: Nested;
  sigma: Nested;
  /** The same matrices in z-scored units (Phi_x = S Phi_z S, Sigma_x = S Sigma_z). */
  zUnits: { phi: Nested; phiS: Nested; phiA: Nested; sigma: Nested };
  /** Block-bootstrap uncertainty in data units, or null. */
  uncertainty: PhiUncertaintyJSON | null;
  /** Per-coordinate data range (original units), watched by simulations for runaway paths. */
  dataRange: { lo: number[]; hi: number[] };
  /** Diagnostics (z units); the uncertainty is stored once, above. */
  diagnostics: Omit<LangevinDiagnostics, 'stein' | 'cdot' | 'uncertainty'> & { stein: Nested; cdot: Nested };
  scoreSigma: number;
  score: NetworkScoreJSON | { format: 'external'; units: 'original' | 'z' };
  /** The partition of the generator estimator, or null when none was used. */
  partition: ReturnType<Partition['toJSON']> | null;
  tailBox: { quantile: number; lo: number[]; hi: number[] } | null;
}

/** Format version 1 (z-unit matrices at the top level, always a partition); read by `fromJSON`. */
export interface LangevinModelJSONv1 {
  format: 'sdekit.langevin-model';
  version: 1;
  dim: number;
  dt: number;
  zscore: ReturnType<ZScore['toJSON']>;
  phi: Nested;
  phiS: Nested;
  phiA: Nested;
  sigma: Nested;
  diagnostics: Record<string, unknown> & {
    stein: Nested;
    cdot: Nested;
    warnings: string[];
    cdotEstimator: 'richardson' | 'generator';
  };
  scoreSigma: number;
  score: NetworkScoreJSON | { format: 'external'; units: 'original' | 'z' };
  partition: ReturnType<Partition['toJSON']>;
  tailBox?: { quantile: number; lo: number[]; hi: number[] } | null;
}

/** s_y(y) = S s_x(m + S y): a score in original units seen in z-scored units (docs/methods.md section 1). */
class ZUnitsScore implements ScoreModel {
  readonly dim: number;
  constructor(
    readonly inner: ScoreModel,
    private readonly mean: Float64Array,
    private readonly std: Float64Array,
  ) {
    this.dim = inner.dim;
  }
  score(points: Float64Array): Float64Array {
    const d = this.dim;
    const x = new Float64Array(points.length);
    for (let i = 0; i < points.length; i++) x[i] = this.mean[i % d] + this.std[i % d] * points[i];
    const s = this.inner.score(x);
    for (let i = 0; i < s.length; i++) s[i] *= this.std[i % d];
    return s;
  }
}

function toOriginal(m: MatrixSet, std: Float64Array): MatrixSet {
  const d = std.length;
  const scale = (a: Matrix, left: boolean, right: boolean) => {
    const out = a.clone();
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) out.data[i * d + j] *= (left ? std[i] : 1) * (right ? std[j] : 1);
    return out;
  };
  // Phi_x = S Phi_y S; Sigma_x = S Sigma_y (so that Sigma_x Sigma_x^T = S Phi_S,y S).
  return {
    phi: scale(m.phi, true, true),
    phiS: scale(m.phiS, true, true),
    phiA: scale(m.phiA, true, true),
    sigma: scale(m.sigma, true, false),
  };
}

/**
 * Warns when the two halves of a coordinate have means that differ by more than 5 standard errors.
 * The standard error comes from 20 block means with the successive-difference (von Neumann) variance,
 * which a slow trend does not inflate; blocks much longer than the correlation time are assumed.
 */
function stationarityWarnings(y: Float64Array, n: number, dim: number): string[] {
  const blocks = 20;
  if (n < blocks * 4) return [];
  const len = Math.floor(n / blocks);
  const warnings: string[] = [];
  for (let j = 0; j < dim; j++) {
    const means = new Float64Array(blocks);
    for (let b = 0; b < blocks; b++) {
      let s = 0;
      for (let t = b * len; t < (b + 1) * len; t++) s += y[t * dim + j];
      means[b] = s / len;
    }
    let msd = 0;
    for (let b = 1; b < blocks; b++) msd += (means[b] - means[b - 1]) ** 2;
    const blockVar = msd / (2 * (blocks - 1));
    let first = 0;
    let second = 0;
    for (let b = 0; b < blocks / 2; b++) {
      first += means[b];
      second += means[b + blocks / 2];
    }
    first /= blocks / 2;
    second /= blocks / 2;
    const se = Math.sqrt((2 * blockVar) / (blocks / 2));
    const zStat = Math.abs(first - second) / Math.max(se, 1e-300);
    if (zStat > 5) {
      warnings.push(
        `coordinate ${j}: the means of the first and second halves differ by ${zStat.toFixed(1)} standard errors; ` +
          'the series looks non-stationary (trend or drift), which the Langevin model assumes away. Detrend or use a stationary stretch.',
      );
    }
  }
  return warnings;
}

/** Index in the series of point i of `subsample`'s evenly strided subsample. */
function subsampleSource(i: number, n: number, max: number): number {
  return n <= max ? i : Math.floor((i * n) / max);
}

/** Evenly strided subsample of at most `max` points. */
function subsample(y: Float64Array, n: number, dim: number, max: number): Float64Array {
  if (n <= max) return y;
  const out = new Float64Array(max * dim);
  for (let i = 0; i < max; i++) {
    const src = subsampleSource(i, n, max);
    for (let j = 0; j < dim; j++) out[i * dim + j] = y[src * dim + j];
  }
  return out;
}

/**
 * A fitted score-based Langevin model. The matrices `phi`, `phiS`, `phiA`, `sigma` and the score are
 * in z-scored units (where they were estimated); `original` holds Phi_x = S Phi_y S and
 * Sigma_x = S Sigma_y, and `system()` simulates in original units.
 *
 * @example
 * const model = fitLangevin(series, { score: 'dsm-mlp', seed: 1 });
 * const paths = simulate(model.system(), { x0: series.data.slice(0, series.dim), paths: 10, h: 1e-3, T: 100, saveEvery: 10, seed: 2 });
 * const saved = JSON.stringify(model.toJSON());
 * const again = LangevinModel.fromJSON(JSON.parse(saved));
 */
export class LangevinModel {
  readonly dim: number;
  /** Sampling interval of the data the model was fitted to. */
  readonly dt: number;
  readonly phi: Matrix;
  readonly phiS: Matrix;
  readonly phiA: Matrix;
  /** Lower Cholesky factor of Phi_S (z units). */
  readonly sigma: Matrix;
  /** The same matrices in original (data) units, with their block-bootstrap uncertainty. */
  readonly original: OriginalUnits;
  readonly diagnostics: LangevinDiagnostics;
  readonly zscore: ZScore;
  /** Score in z-scored units. */
  readonly score: ScoreModel;
  /** Noise level of the score's smoothed density (z units; 0 for an exact score). */
  readonly scoreSigma: number;
  /** The partition of the generator estimator (null when the lag estimator was used). */
  readonly partition: Partition | null;
  /** Per-coordinate range of the data (original units). */
  readonly dataRange: DataRange;
  /** Where `system()` continues the score with a restoring term (null: raw score everywhere). */
  readonly tailBox: TailBox | null;
  private readonly externalUnits: 'original' | 'z' | null;

  constructor(args: {
    dim: number;
    dt: number;
    matrices: MatrixSet;
    diagnostics: LangevinDiagnostics;
    zscore: ZScore;
    score: ScoreModel;
    scoreSigma: number;
    partition: Partition | null;
    dataRange: DataRange;
    externalUnits: 'original' | 'z' | null;
    tailBox: TailBox | null;
    /** The data-unit uncertainty as stored (so that a JSON round trip is exact); else scaled from z. */
    originalUncertainty?: PhiUncertainty | null;
  }) {
    this.dim = args.dim;
    this.dt = args.dt;
    this.phi = args.matrices.phi;
    this.phiS = args.matrices.phiS;
    this.phiA = args.matrices.phiA;
    this.sigma = args.matrices.sigma;
    this.diagnostics = args.diagnostics;
    this.zscore = args.zscore;
    this.score = args.score;
    this.scoreSigma = args.scoreSigma;
    this.partition = args.partition;
    this.externalUnits = args.externalUnits;
    this.tailBox = args.tailBox;
    this.dataRange = args.dataRange;
    const std = Float64Array.from(args.zscore.std);
    const u = args.diagnostics.uncertainty;
    this.original = {
      ...toOriginal(args.matrices, std),
      uncertainty: args.originalUncertainty ?? (u ? uncertaintyInDataUnits(u, std) : null),
    };
  }

  /**
   * The box a simulation of this model is watched against (`simulate`'s `watch`, original units):
   * the data's range, widened to the tail box where that reaches further.
   */
  watchBox(): DataRange {
    const lo = Float64Array.from(this.dataRange.lo);
    const hi = Float64Array.from(this.dataRange.hi);
    if (this.tailBox) {
      for (let j = 0; j < this.dim; j++) {
        const m = this.zscore.mean[j];
        const sd = this.zscore.std[j];
        lo[j] = Math.min(lo[j], m + sd * this.tailBox.lo[j]);
        hi[j] = Math.max(hi[j], m + sd * this.tailBox.hi[j]);
      }
    }
    return { lo, hi };
  }

  /**
   * The model as an SdeSystem in original units: f(x) = S Phi_y s_y(S^{-1}(x - m)) (= Phi_x s_x(x)),
   * G = sqrt(2) S Sigma_y (additive, general D x D noise). `driftBatch` evaluates the score once per
   * batch, so integrators advancing many paths call the network once per step. Outside `tailBox`
   * the score is continued by s(P y) - (y - P y) (see `TailBox`).
   */
  system(): SdeSystem {
    const d = this.dim;
    const mean = Float64Array.from(this.zscore.mean);
    const std = Float64Array.from(this.zscore.std);
    const a = new Float64Array(d * d); // A = S Phi_y
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = std[i] * this.phi.data[i * d + j];
    const g = new Float64Array(d * d);
    for (let k = 0; k < d * d; k++) g[k] = Math.SQRT2 * this.original.sigma.data[k];
    const score = this.score;
    const box = this.tailBox;
    const driftBatch = (t: number, x: Float64Array, n: number, out: Float64Array) => {
      const y = new Float64Array(n * d);
      for (let i = 0; i < n * d; i++) {
        const j = i % d;
        y[i] = (x[i] - mean[j]) / std[j];
        // Integrators check the state only when saving; an escaped path must not reach the score.
        if (!Number.isFinite(y[i]))
          throw new BlowUpError(
            t,
            Math.floor(i / d),
            `path index within the drift batch; coordinate ${j} = ${x[i]}`,
          );
      }
      let s: Float64Array;
      if (box === null) s = score.score(y);
      else {
        // Project onto the box, score there, add the restoring term -(y - P y).
        const py = new Float64Array(n * d);
        for (let i = 0; i < n * d; i++) {
          const j = i % d;
          py[i] = Math.min(box.hi[j], Math.max(box.lo[j], y[i]));
        }
        s = score.score(py);
        for (let i = 0; i < n * d; i++) s[i] -= y[i] - py[i];
      }
      for (let p = 0; p < n; p++) {
        const o = p * d;
        for (let i = 0; i < d; i++) {
          let acc = 0;
          for (let j = 0; j < d; j++) acc += a[i * d + j] * s[o + j];
          out[o + i] = acc;
        }
      }
    };
    return {
      dim: d,
      noiseDim: d,
      noise: 'general',
      additive: true,
      drift: (t, x, out) => driftBatch(t, x, 1, out),
      driftBatch,
      diffusion: (_t, _x, out) => out.set(g),
    };
  }

  toJSON(): LangevinModelJSON {
    const score: LangevinModelJSON['score'] =
      this.externalUnits === null
        ? (this.score as NetworkScore).toJSON()
        : { format: 'external', units: this.externalUnits };
    const { stein, cdot: c, uncertainty: _z, ...rest } = this.diagnostics;
    const o = this.original;
    return {
      format: 'sdekit.langevin-model',
      version: 2,
      dim: this.dim,
      dt: this.dt,
      zscore: this.zscore.toJSON(),
      phi: o.phi.toArray(),
      phiS: o.phiS.toArray(),
      phiA: o.phiA.toArray(),
      sigma: o.sigma.toArray(),
      zUnits: {
        phi: this.phi.toArray(),
        phiS: this.phiS.toArray(),
        phiA: this.phiA.toArray(),
        sigma: this.sigma.toArray(),
      },
      uncertainty: o.uncertainty ? uncertaintyToJSON(o.uncertainty) : null,
      dataRange: { lo: Array.from(this.dataRange.lo), hi: Array.from(this.dataRange.hi) },
      diagnostics: {
        ...rest,
        warnings: [...rest.warnings],
        stein: stein.toArray(),
        cdot: c.toArray(),
      },
      scoreSigma: this.scoreSigma,
      score,
      partition: this.partition ? this.partition.toJSON() : null,
      tailBox:
        this.tailBox === null
          ? null
          : {
              quantile: this.tailBox.quantile,
              lo: Array.from(this.tailBox.lo),
              hi: Array.from(this.tailBox.hi),
            },
    };
  }

  /**
   * Restores a model written by `toJSON()` (format version 2, or version 1 of earlier releases),
   * network weights included. A model fitted with a caller-supplied score stores no score; pass the
   * same score model (same units) as `options.score`.
   */
  static fromJSON(
    json: LangevinModelJSON | LangevinModelJSONv1,
    options: { score?: ScoreModel } = {},
  ): LangevinModel {
    if (json?.format !== 'sdekit.langevin-model' || (json.version !== 1 && json.version !== 2)) {
      throw new FormatError(
        'LangevinModel',
        `expected format sdekit.langevin-model version 1 or 2, got ${json?.format} ${json?.version}`,
      );
    }
    checkModelJson(json);
    const zscore = ZScore.fromJSON(json.zscore);
    const std = Float64Array.from(zscore.std);
    let score: ScoreModel;
    let externalUnits: 'original' | 'z' | null = null;
    if (json.score.format === 'external') {
      if (!options.score) {
        throw new InvalidArgumentError(
          'options.score',
          'this model was fitted with a caller-supplied score, which is not stored',
          'pass the same score model as options.score',
        );
      }
      if (options.score.dim !== json.dim) {
        throw new DimensionError(
          'options.score',
          `has dim ${options.score.dim}, the model has ${json.dim}`,
          'pass the score model the model was fitted with',
        );
      }
      externalUnits = json.score.units;
      score =
        externalUnits === 'z'
          ? options.score
          : new ZUnitsScore(options.score, Float64Array.from(zscore.mean), Float64Array.from(zscore.std));
    } else {
      score = NetworkScore.fromJSON(json.score);
    }
    const tailBox = json.tailBox
      ? {
          quantile: json.tailBox.quantile,
          lo: Float64Array.from(json.tailBox.lo),
          hi: Float64Array.from(json.tailBox.hi),
        }
      : null;
    const common = {
      dim: json.dim,
      dt: json.dt,
      zscore,
      score,
      scoreSigma: json.scoreSigma,
      partition: json.partition ? partitionFromJSON(json.partition) : null,
      externalUnits,
      tailBox,
    };
    if (json.version === 1) return LangevinModel.fromVersion1(json, common);
    const { stein, cdot: c, ...rest } = json.diagnostics;
    const ux = json.uncertainty ? uncertaintyFromJSON(json.uncertainty) : null;
    const uz = ux
      ? uncertaintyInDataUnits(
          ux,
          std.map((v) => 1 / v),
        )
      : null;
    return new LangevinModel({
      ...common,
      originalUncertainty: ux,
      matrices: {
        phi: Matrix.from(json.zUnits.phi),
        phiS: Matrix.from(json.zUnits.phiS),
        phiA: Matrix.from(json.zUnits.phiA),
        sigma: Matrix.from(json.zUnits.sigma),
      },
      dataRange: { lo: Float64Array.from(json.dataRange.lo), hi: Float64Array.from(json.dataRange.hi) },
      diagnostics: {
        ...rest,
        warnings: [...rest.warnings],
        stein: Matrix.from(stein),
        cdot: Matrix.from(c),
        uncertainty: uz,
      },
    });
  }

  /** Version-1 files: z-unit matrices at the top level, no regime, no uncertainty, no data range. */
  private static fromVersion1(
    json: LangevinModelJSONv1,
    common: Omit<ConstructorParameters<typeof LangevinModel>[0], 'matrices' | 'diagnostics' | 'dataRange'>,
  ): LangevinModel {
    const r = json.diagnostics as Record<string, unknown>;
    const num = (k: string, fallback: number) => (typeof r[k] === 'number' ? (r[k] as number) : fallback);
    const zscore = common.zscore;
    // No data range was stored: the 5-sigma box around the mean stands in for it.
    const lo = Float64Array.from(zscore.mean, (m, j) => m - 5 * zscore.std[j]);
    const hi = Float64Array.from(zscore.mean, (m, j) => m + 5 * zscore.std[j]);
    const estimator = json.diagnostics.cdotEstimator;
    return new LangevinModel({
      ...common,
      matrices: {
        phi: Matrix.from(json.phi),
        phiS: Matrix.from(json.phiS),
        phiA: Matrix.from(json.phiA),
        sigma: Matrix.from(json.sigma),
      },
      dataRange: { lo, hi },
      diagnostics: {
        steinError: num('steinError', Number.NaN),
        steinMinSingularValue: num('steinMinSingularValue', Number.NaN),
        stein: Matrix.from(json.diagnostics.stein),
        cdot: Matrix.from(json.diagnostics.cdot),
        cdotEstimator: estimator,
        cdotChoice: estimator === 'generator' ? 'generator' : 'auto',
        cdotReason: 'read from a format-version-1 file',
        cdotBiasOrder: estimator === 'generator' ? 1 : 2,
        cdotDetails: {},
        regime: null,
        shift: num('shift', 0),
        shifted: r.shifted === true,
        lambdaMin: num('lambdaMin', Number.NaN),
        leaveFraction: num('leaveFraction', Number.NaN),
        perturbedSeries: r.perturbedSeries === true,
        perturbSigma: num('perturbSigma', r.perturbedSeries === true ? json.scoreSigma : 0),
        cells: num('cells', 0),
        segments: num('segments', 1),
        energyShareS: num('energyShareS', Number.NaN),
        energyShareA: num('energyShareA', Number.NaN),
        heldOutLoss: typeof r.heldOutLoss === 'number' ? r.heldOutLoss : null,
        uncertainty: null,
        warnings: [...json.diagnostics.warnings],
      },
    });
  }

  /** Frees the network weights of a learned score (no-op for a caller-supplied score). */
  dispose(): void {
    if (this.externalUnits === null) (this.score as NetworkScore).dispose();
  }
}

/**
 * Checks the fields of a saved model that `fromJSON` reads: a file edited by hand or cut short must
 * give a FormatError naming the field, not a TypeError or a model with NaN inside.
 */
function checkModelJson(json: LangevinModelJSON | LangevinModelJSONv1): void {
  const bad = (field: string, detail: string) => new FormatError('LangevinModel', `${field} ${detail}`);
  const d = json.dim;
  if (!Number.isInteger(d) || d < 1) throw bad('dim', `must be a positive integer, got ${String(d)}`);
  if (typeof json.dt !== 'number' || !(json.dt > 0) || !Number.isFinite(json.dt))
    throw bad('dt', `must be a finite number > 0, got ${String(json.dt)}`);
  if (json.zscore === null || typeof json.zscore !== 'object') throw bad('zscore', 'is missing');
  const matrix = (field: string, m: unknown) => {
    if (!Array.isArray(m) || m.length !== d) throw bad(field, `must be a ${d} x ${d} array of numbers`);
    for (const row of m) {
      if (
        !Array.isArray(row) ||
        row.length !== d ||
        row.some((v) => typeof v !== 'number' || !Number.isFinite(v))
      )
        throw bad(field, `must be a ${d} x ${d} array of finite numbers (found ${JSON.stringify(row)})`);
    }
  };
  const z = json.version === 2 ? json.zUnits : json;
  if (z === null || typeof z !== 'object') throw bad('zUnits', 'is missing');
  for (const k of ['phi', 'phiS', 'phiA', 'sigma'] as const)
    matrix(json.version === 2 ? `zUnits.${k}` : k, z[k]);
  if (json.score === null || typeof json.score !== 'object' || typeof json.score.format !== 'string')
    throw bad(
      'score',
      "is missing (a network score, or { format: 'external', units } for a caller-supplied one)",
    );
  if (typeof json.scoreSigma !== 'number' || !(json.scoreSigma >= 0))
    throw bad('scoreSigma', `must be a number >= 0, got ${String(json.scoreSigma)}`);
  if (json.diagnostics === null || typeof json.diagnostics !== 'object')
    throw bad('diagnostics', 'is missing');
  matrix('diagnostics.stein', json.diagnostics.stein);
  matrix('diagnostics.cdot', json.diagnostics.cdot);
  if (!Array.isArray(json.diagnostics.warnings))
    throw bad('diagnostics.warnings', 'must be an array of strings');
  if (json.version === 2) {
    const r = json.dataRange;
    const ok = (a: unknown) =>
      Array.isArray(a) && a.length === d && a.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (r === null || typeof r !== 'object' || !ok(r.lo) || !ok(r.hi))
      throw bad('dataRange', `must hold lo and hi, ${d} finite numbers each`);
  }
}

/** The q and 1 - q quantiles of every coordinate of y (z units). */
function tailBoxOf(y: Float64Array, dim: number, q: number): TailBox {
  const lo = new Float64Array(dim);
  const hi = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    const [a, b] = quantiles(column(y, dim, j), [q, 1 - q]);
    lo[j] = a;
    hi[j] = b;
  }
  return { quantile: q, lo, hi };
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

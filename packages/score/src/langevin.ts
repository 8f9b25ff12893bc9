/**
 * Score-based effective Langevin models ([G] Giorgini, arXiv:2505.01895; methods.md section 1):
 *
 *     dx = Phi s(x) dt + sqrt(2) Sigma dW,   Sigma Sigma^T = Phi_S,   Phi = Cdot V^{-1}.
 *
 * `fitLangevin` z-scores the series, learns the score (DSM with an MLP or the periodic U-Net, KGMM, or
 * a given score), evaluates the Stein matrix V on (perturbed) samples, estimates Cdot = M Q diag(pi) M^T
 * from a tree partition and the finite-volume generator Q (methods.md section 3), and forms Phi, the
 * shift of Phi_S when it is not positive definite (applied to drift and noise alike), and Sigma.
 * The returned model simulates in ORIGINAL units through `system()`.
 */
import { buildTreePartition, type Partition, partitionFromJSON } from '@sdekit/partition';
import {
  BlowUpError,
  checkBatch,
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
import { type CdotEstimator, estimateCdot } from './cdot.js';
import { type DsmOptions, type TrainingProgress, trainDsm } from './dsm.js';
import { type KgmmOptions, kgmm } from './kgmm.js';
import { NetworkScore, type NetworkScoreJSON } from './network-score.js';
import { langevinCoefficients } from './phi.js';
import type { ScoreModel } from './score-model.js';
import { perturb, steinMatrix } from './stein.js';

/** fitLangevin warns when the smallest singular value of the Stein matrix V is below this (exact: 1). */
const STEIN_MIN_SINGULAR_WARN = 0.5;

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
  stage: 'score' | 'stein' | 'partition' | 'generator' | 'done';
  /** Training progress during the 'score' stage. */
  training?: TrainingProgress;
}

/** Options of `fitLangevin`. */
export interface LangevinOptions {
  /** How to obtain the score. Default 'dsm-mlp'. */
  score?: 'dsm-mlp' | 'dsm-unet' | 'kgmm' | GivenScore;
  /** Noise level of DSM/KGMM in z-scored units (methods.md: 0.05 for toys, 0.1 for KS). Default 0.05. */
  sigma?: number;
  /** Extra DSM options (network sizes, steps, batch size, learning rate). */
  dsm?: Partial<Omit<DsmOptions, 'sigma' | 'network' | 'seed' | 'onProgress'>>;
  /** Extra KGMM options. */
  kgmm?: Partial<Omit<KgmmOptions, 'sigma' | 'seed' | 'onProgress'>>;
  /**
   * Tree-partition threshold p_min for the generator (about 0.74 / pMin cells). Default
   * clamp(40 / N, 5e-5, 0.05) for N points: for diffusive data the finite-volume Cdot is consistent
   * as the cells shrink and strongly biased on coarse partitions (README, "Choosing the partition").
   */
  pMin?: number;
  /** Build the partition on at most this many points. Default 200000. */
  maxBuildPoints?: number;
  /**
   * Finite-dt correction of the generator (methods.md section 3). Default 'none': on fine partitions
   * of diffusive data the per-state jump-process correction over-corrects (README).
   */
  correction?: 'none' | 'per-state' | 'global';
  /**
   * 'richardson' (default): bias-corrected two-lag estimate; 'generator': methods.md's plain
   * M Q diag(pi) M^T (see cdot.ts for the derivation and measured errors).
   */
  cdotEstimator?: CdotEstimator;
  /**
   * Estimate Cdot from the perturbed series y~_t = y_t + sigma z_t (fresh z ~ N(0, I) per sample,
   * sigma the score's noise level): its marginal is p_sigma, the density the learned score belongs to
   * and the model's invariant law, so the generator then describes the same smoothed process. For
   * smooth (deterministic) data such as KS the clean series gives Cdot -> 0 in every direction the
   * cells do not resolve; the perturbation adds the dissipation -sigma^2 / dt I of the white noise
   * (as ScoreUNet1D's KS estimator does). A number sigma_c > 0 perturbs at sigma_c instead: the
   * dissipation becomes sigma_c^2 / dt I, a regularisation of the unresolved directions beyond the
   * score's smoothing, to be chosen by a statistic of the data such as its ACF (benchmark T3 full:
   * sigma_c = 2 sigma). Default false.
   */
  perturbSeries?: boolean | number;
  /** Points used for the Stein matrix (evenly strided subsample). Default 200000. */
  steinSamples?: number;
  /**
   * Tail quantile q of the score continuation used by `system()` (see `TailBox`). Default 1e-3 / D,
   * so that the box holds all but about 0.2 % of the points whatever D (in 32-D KS, q = 1e-3 per
   * coordinate left 5.6 % of the points outside and raised the mean marginal KL from 0.061 to
   * 0.067); 0 simulates with the raw learned score everywhere.
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
  /** methods.md's plain generator estimate M Q diag(pi) M^T (z units), for comparison. */
  cdotGenerator: Matrix;
  /** Estimator that produced `cdot`. */
  cdotEstimator: CdotEstimator;
  /** Diagonal shift added to Phi_S (0 when it was positive definite). */
  shift: number;
  /** True when the shift rule was applied. */
  shifted: boolean;
  /** Smallest eigenvalue of the unshifted Phi_S. */
  lambdaMin: number;
  /** Fraction of steps on which the label changes. */
  leaveFraction: number;
  /**
   * tr(C_r) / E|y_{t+dt} - y_t|^2 (z units): within-cell variance over the mean squared one-step
   * increment; 'richardson' needs it well below 1 and warns above 1 (cdot.ts).
   */
  cellStepRatio: number;
  /** True when Cdot came from a perturbed series (`perturbSeries`). */
  perturbedSeries: boolean;
  /** Noise level (z units) of that perturbation: the score's sigma, sigma_c, or 0 when unperturbed. */
  perturbSigma: number;
  /** Number of partition cells. */
  cells: number;
  /** Number of independent series the model was fitted to (1 for a single series). */
  segments: number;
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

/**
 * Per-coordinate box [lo_j, hi_j] (z units) outside which `system()` continues the learned score.
 * A learned score is only trustworthy where the data put mass; beyond that a network or KGMM
 * interpolant extrapolates freely and can point outward, so simulated paths escape (measured on T1
 * at T = 2e4: the KGMM drift turns positive above x = 0.8, a point beyond the data's 99.99 %
 * quantile, and a path blew up at t = 70). The box holds the q and 1 - q quantiles of the z-scored data; outside it
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

/** Serialised LangevinModel. */
export interface LangevinModelJSON {
  format: 'sdekit.langevin-model';
  version: 1;
  dim: number;
  dt: number;
  zscore: ReturnType<ZScore['toJSON']>;
  phi: number[][];
  phiS: number[][];
  phiA: number[][];
  sigma: number[][];
  diagnostics: Omit<LangevinDiagnostics, 'stein' | 'cdot' | 'cdotGenerator'> & {
    stein: number[][];
    cdot: number[][];
    cdotGenerator: number[][];
  };
  scoreSigma: number;
  score: NetworkScoreJSON | { format: 'external'; units: 'original' | 'z' };
  partition: ReturnType<Partition['toJSON']>;
  /** Absent in files written before the tail continuation existed (then none is applied). */
  tailBox?: { quantile: number; lo: number[]; hi: number[] } | null;
}

/** s_y(y) = S s_x(m + S y): a score in original units seen in z-scored units (methods.md section 1). */
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

/** Evenly strided subsample of at most `max` points. */
function subsample(y: Float64Array, n: number, dim: number, max: number): Float64Array {
  if (n <= max) return y;
  const out = new Float64Array(max * dim);
  for (let i = 0; i < max; i++) {
    const src = Math.floor((i * n) / max);
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
  /** The same matrices in original units. */
  readonly original: MatrixSet;
  readonly diagnostics: LangevinDiagnostics;
  readonly zscore: ZScore;
  /** Score in z-scored units. */
  readonly score: ScoreModel;
  /** Noise level of the score's smoothed density (z units; 0 for an exact score). */
  readonly scoreSigma: number;
  readonly partition: Partition;
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
    partition: Partition;
    externalUnits: 'original' | 'z' | null;
    tailBox: TailBox | null;
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
    this.original = toOriginal(args.matrices, Float64Array.from(args.zscore.std));
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
    const { stein, cdot: c, cdotGenerator, ...rest } = this.diagnostics;
    return {
      format: 'sdekit.langevin-model',
      version: 1,
      dim: this.dim,
      dt: this.dt,
      zscore: this.zscore.toJSON(),
      phi: this.phi.toArray(),
      phiS: this.phiS.toArray(),
      phiA: this.phiA.toArray(),
      sigma: this.sigma.toArray(),
      diagnostics: {
        ...rest,
        warnings: [...rest.warnings],
        stein: stein.toArray(),
        cdot: c.toArray(),
        cdotGenerator: cdotGenerator.toArray(),
      },
      scoreSigma: this.scoreSigma,
      score,
      partition: this.partition.toJSON(),
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
   * Restores a model written by `toJSON()`, network weights included. A model fitted with a
   * caller-supplied score stores no score; pass the same score model (same units) as `options.score`.
   */
  static fromJSON(json: LangevinModelJSON, options: { score?: ScoreModel } = {}): LangevinModel {
    if (json?.format !== 'sdekit.langevin-model' || json.version !== 1) {
      throw new FormatError(
        'LangevinModel',
        `expected format sdekit.langevin-model version 1, got ${json?.format} ${json?.version}`,
      );
    }
    const zscore = ZScore.fromJSON(json.zscore);
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
    const { stein, cdot: c, cdotGenerator, ...rest } = json.diagnostics;
    return new LangevinModel({
      dim: json.dim,
      dt: json.dt,
      matrices: {
        phi: Matrix.from(json.phi),
        phiS: Matrix.from(json.phiS),
        phiA: Matrix.from(json.phiA),
        sigma: Matrix.from(json.sigma),
      },
      diagnostics: {
        ...rest,
        // Files written before this diagnostic existed lack it.
        cellStepRatio: rest.cellStepRatio ?? Number.NaN,
        steinMinSingularValue: rest.steinMinSingularValue ?? Number.NaN,
        perturbedSeries: rest.perturbedSeries ?? false,
        perturbSigma: rest.perturbSigma ?? (rest.perturbedSeries === true ? json.scoreSigma : 0),
        segments: rest.segments ?? 1,
        warnings: [...rest.warnings],
        stein: Matrix.from(stein),
        cdot: Matrix.from(c),
        cdotGenerator: Matrix.from(cdotGenerator),
      },
      zscore,
      score,
      scoreSigma: json.scoreSigma,
      partition: partitionFromJSON(json.partition),
      externalUnits,
      tailBox: json.tailBox
        ? {
            quantile: json.tailBox.quantile,
            lo: Float64Array.from(json.tailBox.lo),
            hi: Float64Array.from(json.tailBox.hi),
          }
        : null,
    });
  }

  /** Frees the network weights of a learned score (no-op for a caller-supplied score). */
  dispose(): void {
    if (this.externalUnits === null) (this.score as NetworkScore).dispose();
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
 * for the score and the partition while no transition is counted across series (methods.md section 1).
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
  const seed = options.seed;
  const sigma = options.sigma ?? 0.05;
  checkPositive('sigma', sigma);
  // Default: cells of about 40 to 80 points (as fine as the data allow; see cdot.ts), within [5e-5, 0.05].
  const pMin = options.pMin ?? Math.min(0.05, Math.max(5e-5, 40 / n));
  checkOpenInterval('pMin', pMin, 0, 0.5);
  const minPoints = Math.ceil(10 / pMin);
  if (n < minPoints) {
    throw new InvalidArgumentError(
      'series',
      `has ${n} points, too short for a partition with pMin = ${pMin} (about ${Math.round(0.74 / pMin)} cells; at least ${minPoints} points needed)`,
      'pass a longer series or a larger pMin',
    );
  }
  const tailQuantile = options.tailQuantile ?? 1e-3 / dim;
  if (!(tailQuantile >= 0 && tailQuantile < 0.5)) {
    throw new InvalidArgumentError(
      'tailQuantile',
      `must lie in [0, 0.5), got ${tailQuantile}`,
      'pass a small tail quantile such as 1e-3, or 0 to simulate with the raw score',
    );
  }
  const correction = options.correction ?? 'none';
  const estimator = options.cdotEstimator ?? 'richardson';
  if (estimator !== 'richardson' && estimator !== 'generator') {
    throw new InvalidArgumentError(
      'cdotEstimator',
      `unknown estimator '${estimator}'`,
      "pass 'richardson' or 'generator'",
    );
  }
  if (estimator === 'richardson' && correction !== 'none') {
    throw new InvalidArgumentError(
      'correction',
      `'${correction}' applies to cdotEstimator 'generator' only`,
      "use cdotEstimator: 'generator' or correction: 'none'",
    );
  }
  const choice = options.score ?? 'dsm-mlp';
  const perturbOption = options.perturbSeries ?? false;
  if (typeof perturbOption === 'number') checkPositive('perturbSeries', perturbOption);
  else if (typeof perturbOption !== 'boolean') {
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

  // 2. Stein matrix on (perturbed) samples.
  options.onProgress?.({ stage: 'stein' });
  const v = steinMatrix(score, subsample(y, n, dim, options.steinSamples ?? 200_000), dim, {
    sigma: scoreSigma,
    seed: seed + 1,
  });
  let steinError = 0;
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) steinError += (v.data[i * dim + j] + (i === j ? 1 : 0)) ** 2;
  steinError = Math.sqrt(steinError / dim);
  const steinMinSingularValue = Math.sqrt(Math.max(0, symmetricEigen(matmul(transpose(v), v)).values[0]));
  if (steinMinSingularValue < STEIN_MIN_SINGULAR_WARN) {
    warnings.push(
      `the Stein matrix V has a singular value of ${steinMinSingularValue.toExponential(2)} (1 for an exact score): ` +
        `Phi = Cdot V^{-1} amplifies Cdot up to ${(1 / steinMinSingularValue).toExponential(2)}x along a direction the score barely ` +
        'resolves, which can make the model stiff or blow up; train the score longer, or perturb less (perturbSeries)',
    );
  }

  // 3. Partition, labels, generator, pi, centroids, Cdot.
  options.onProgress?.({ stage: 'partition' });
  const perturbSigma = perturbOption === true ? scoreSigma : perturbOption === false ? 0 : perturbOption;
  const yGen = perturbSigma > 0 ? perturb(y, perturbSigma, Rng.fromSeed(seed + 2)) : y;
  const partition = buildTreePartition(yGen, dim, { pMin, seed, maxBuildPoints: options.maxBuildPoints });
  const labels = partition.assign(yGen);
  options.onProgress?.({ stage: 'generator' });
  const K = partition.size;
  const est = estimateCdot(yGen, dim, labels, K, series.dt, { estimator, correction, segmentStarts });
  // The generator's "leave fraction > 0.3" warning assumes a jump process on coarse cells; fine cells
  // with leave fractions near 1 are the consistent regime for diffusions (README, "Choosing the
  // partition"), so that one warning is only passed on when a finite-dt correction was requested.
  for (const w of est.warnings)
    if (correction !== 'none' || !w.startsWith('leave fraction')) warnings.push(w);
  const c = est.cdot;

  // 4. Phi, shift, Sigma.
  const coeff = langevinCoefficients(c, v);
  if (coeff.shift > 0) {
    warnings.push(
      `Phi_S was not positive definite (lambda_min = ${coeff.lambdaMin.toExponential(3)}); shifted by ${coeff.shift.toExponential(3)} I in drift and noise`,
    );
  }
  const diagnostics: LangevinDiagnostics = {
    steinError,
    steinMinSingularValue,
    stein: v,
    cdot: c,
    cdotGenerator: est.cdotGenerator,
    cdotEstimator: estimator,
    shift: coeff.shift,
    shifted: coeff.shift > 0,
    lambdaMin: coeff.lambdaMin,
    leaveFraction: est.leaveFraction,
    cellStepRatio: est.cellStepRatio,
    perturbedSeries: yGen !== y,
    perturbSigma,
    cells: K,
    segments: (segmentStarts?.length ?? 0) + 1,
    energyShareS: coeff.energyShareS,
    energyShareA: coeff.energyShareA,
    heldOutLoss,
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
    partition,
    externalUnits,
  });
}

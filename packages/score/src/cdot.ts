/**
 * Estimators of Cdot = dC/dt(0+), C(tau) = E[x(t + tau) x(t)^T] (docs/methods.md, "Cdot"), as small
 * objects in the deeptime style: options at construction, `estimate(input)` returns the estimate with
 * its diagnostics and, when bootstrap blocks are given, a `replicate(weights)` that re-estimates
 * Cdot from per-block sufficient statistics (no second pass over the data).
 *
 * - `LagCdot`: the direct lag estimator Cdot_k = (C(k dt) - C(0)) / (k dt) from the series itself and
 *   its two-lag extrapolation 2 Cdot_k - Cdot_2k. With C(tau) = C0 + tau C' + tau^2/2 C'' + tau^3/6 C''',
 *   Cdot_k = C' + (k dt / 2) C'' + O(dt^2) (bias order 1) and
 *   2 Cdot_k - Cdot_2k = C' - ((k dt)^2 / 3) C''' + O(dt^3) (bias order 2). Consistent for a
 *   diffusion (C'(0+) = E[f(x) x^T] exists); for smooth data C is differentiable at 0 with
 *   C'(0)_S = 0, so its symmetric part vanishes as dt -> 0 ([G], SM IV).
 * - `GeneratorCdot`: the finite-volume estimator of [G]: Cdot = M Q diag(pi) M^T with a tree
 *   partition, its counts generator Q at lag dt (optionally with the finite-dt exit-rate correction),
 *   the occupation frequencies pi and the centroids M (@sdekit/partition). The right one for smooth or
 *   chaotic data, where it measures the diffusion that the coarse-graining induces. For a diffusion
 *   it equals the lag-1 estimator of the cell-mean observable, biased by the within-cell variance
 *   unless the cells are small against one step's displacement, which they cannot be in more than
 *   about two dimensions (errors on OU processes in 3-5 D: docs/findings.md, score).
 *
 * Runs are kept apart: no lag pair spans two segments (`segmentStarts`).
 */
import {
  buildTreePartition,
  cellCentroids,
  cdot as finiteVolumeCdot,
  generatorFromLabels,
  type Partition,
  segmentBounds,
  stationaryDistribution,
} from '@sdekit/partition';
import {
  type BootstrapBlocks,
  blockIndex,
  checkInteger,
  checkOpenInterval,
  InvalidArgumentError,
  Matrix,
  weightedBlockMean,
} from '@sdekit/sde';

/** What a Cdot estimator reads. */
export interface CdotInput {
  /** Points (N x dim, row-major), normally z-scored. */
  y: Float64Array;
  dim: number;
  /** Sampling interval. */
  dt: number;
  /** Starts of independent segments (`concatSeries` of @sdekit/sde); no lag pair spans two. */
  segmentStarts?: Int32Array;
  /** Blocks of the block bootstrap; when given, the estimate offers `replicate`. */
  blocks?: BootstrapBlocks;
}

/** Result of a Cdot estimator. */
export interface CdotEstimate {
  cdot: Matrix;
  /** Which estimator produced it. */
  estimator: 'lag' | 'generator';
  /** Order in dt of the estimator's leading bias for a diffusion (1: O(dt), 2: O(dt^2)). */
  biasOrder: number;
  /** Estimator-specific numbers (lag, cells, leave fraction, bias estimate, ...). */
  details: Record<string, number>;
  /** Non-fatal problems. */
  warnings: string[];
  /** The partition used (generator estimator only). */
  partition: Partition | null;
  /**
   * Cdot re-estimated with block weights (one per bootstrap block; all ones reproduces the full-data
   * value of the same linear form). Present when `input.blocks` was given.
   */
  replicate?: (weights: Float64Array) => Matrix;
}

/** A Cdot estimator: options at construction, `estimate` on a series. */
export interface CdotEstimator {
  readonly name: 'lag' | 'generator';
  estimate(input: CdotInput): CdotEstimate;
}

/** Options of `LagCdot`. */
export interface LagCdotOptions {
  /** Lag k in samples. Default 1. */
  lag?: number;
  /** Use the two-lag extrapolation 2 Cdot_k - Cdot_2k (bias O(dt^2)). Default true. */
  extrapolate?: boolean;
}

/** Per-block sums of (y_{t+L} - y_t) y_t^T (D x D each) and their counts, for L = each lag. */
function lagSums(
  input: CdotInput,
  bounds: Int32Array,
  lags: readonly number[],
): { sums: Float64Array[]; counts: Float64Array[]; blocks: number } {
  const { y, dim: d } = input;
  const n = y.length / d;
  const blockOf = input.blocks ? blockIndex(input.blocks) : new Int32Array(n);
  const B = input.blocks ? input.blocks.bounds.length - 1 : 1;
  const sums = lags.map(() => new Float64Array(B * d * d));
  const counts = lags.map(() => new Float64Array(B));
  const inc = new Float64Array(d);
  for (let li = 0; li < lags.length; li++) {
    const L = lags[li];
    const s = sums[li];
    const c = counts[li];
    for (let k = 0; k + 1 < bounds.length; k++) {
      for (let t = bounds[k]; t + L < bounds[k + 1]; t++) {
        const b = blockOf[t];
        const o = b * d * d;
        const xt = t * d;
        const xl = (t + L) * d;
        for (let a = 0; a < d; a++) inc[a] = y[xl + a] - y[xt + a];
        for (let a = 0; a < d; a++) {
          const ia = inc[a];
          const row = o + a * d;
          for (let j = 0; j < d; j++) s[row + j] += ia * y[xt + j];
        }
        c[b]++;
      }
    }
  }
  return { sums, counts, blocks: B };
}

/**
 * Direct lag estimator of Cdot from the series: Cdot_k = (C(k dt) - C(0)) / (k dt), and by default
 * its two-lag extrapolation 2 Cdot_k - Cdot_2k, whose bias is O((k dt)^2) (module comment). Needs no
 * partition. `details.biasEstimate` is the relative Frobenius difference to the next extrapolation
 * order (three lags k, 2k, 4k: (8 Cdot_k - 6 Cdot_2k + Cdot_4k) / 3), a rough size of the remaining
 * time-discretisation bias (NaN when the runs are too short for lag 4k).
 *
 * @example
 * const est = new LagCdot({ lag: 1 }).estimate({ y, dim: 2, dt: 0.01 });
 * est.cdot; // ~ -Phi for an OU process in Langevin form with V = -I
 */
export class LagCdot implements CdotEstimator {
  readonly name = 'lag' as const;
  readonly lag: number;
  readonly extrapolate: boolean;

  constructor(options: LagCdotOptions = {}) {
    const lag = options.lag ?? 1;
    checkInteger('lag', lag, 1);
    this.lag = lag;
    this.extrapolate = options.extrapolate ?? true;
  }

  estimate(input: CdotInput): CdotEstimate {
    const { dim: d, dt } = input;
    const n = input.y.length / d;
    const bounds = segmentBounds(input.segmentStarts, n);
    const k = this.lag;
    const need = this.extrapolate ? 2 * k : k;
    let longest = 0;
    for (let s = 0; s + 1 < bounds.length; s++) longest = Math.max(longest, bounds[s + 1] - bounds[s]);
    if (longest <= need) {
      throw new InvalidArgumentError(
        'lag',
        `${need} samples${this.extrapolate ? ' (2 lag, for the extrapolation)' : ''} is not shorter than the longest run (${longest} samples)`,
        'pass a smaller lag, extrapolate: false, or longer runs',
      );
    }
    const lags = longest > 4 * k ? [k, 2 * k, 4 * k] : longest > 2 * k ? [k, 2 * k] : [k];
    const { sums, counts } = lagSums(input, bounds, lags);
    const c = lags.map((L, i) => weightedBlockMean(sums[i], counts[i], d * d, undefined, L * dt));
    const extrapolated = (a: Float64Array, b: Float64Array) => a.map((v, i) => 2 * v - b[i]);
    const value = this.extrapolate ? extrapolated(c[0], c[1]) : c[0];
    let biasEstimate = Number.NaN;
    const next = this.extrapolate
      ? c.length > 2
        ? c[0].map((v, i) => (8 * v - 6 * c[1][i] + c[2][i]) / 3)
        : null
      : c.length > 1
        ? extrapolated(c[0], c[1])
        : null;
    if (next) {
      let num = 0;
      let den = 0;
      for (let i = 0; i < d * d; i++) {
        num += (value[i] - next[i]) ** 2;
        den += value[i] ** 2;
      }
      biasEstimate = Math.sqrt(num / den);
    }
    const cdot = new Matrix(d, d, value);
    const estimate: CdotEstimate = {
      cdot,
      estimator: 'lag',
      biasOrder: this.extrapolate ? 2 : 1,
      details: { lag: k, extrapolated: this.extrapolate ? 1 : 0, biasEstimate, pairs: sumOf(counts[0]) },
      warnings: [],
      partition: null,
    };
    if (input.blocks) {
      estimate.replicate = (w) => {
        const a = weightedBlockMean(sums[0], counts[0], d * d, w, k * dt);
        if (!this.extrapolate) return new Matrix(d, d, a);
        const b = weightedBlockMean(sums[1], counts[1], d * d, w, 2 * k * dt);
        return new Matrix(d, d, extrapolated(a, b));
      };
    }
    return estimate;
  }
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Options of `GeneratorCdot`. */
export interface GeneratorCdotOptions {
  /** A partition to use; otherwise a tree partition is built on the input with pMin and seed. */
  partition?: Partition;
  /** Tree-partition threshold p_min (about 0.74 / pMin cells). Default clamp(40 / N, 5e-5, 0.05). */
  pMin?: number;
  /** Build the tree on at most this many points. Default 200000. */
  maxBuildPoints?: number;
  /** Finite-dt exit-rate correction of the generator (docs/methods.md, generators). Default 'none'. */
  correction?: 'none' | 'per-state' | 'global';
  /** Seed of the tree's k-means++ starts. Default 0. */
  seed?: number;
}

/**
 * Finite-volume estimator of [G]: Cdot = M Q diag(pi) M^T on a tree partition (module comment). The
 * bootstrap replicate uses the equivalent linear form sum_t (m_{c(t+1)} - m_{c(t)}) m_{c(t)}^T / (N dt)
 * with the centroids held fixed.
 *
 * @example
 * const est = new GeneratorCdot({ pMin: 1e-3, seed: 1 }).estimate({ y, dim: 32, dt: 0.1 });
 * est.details.cells; // about 740
 */
export class GeneratorCdot implements CdotEstimator {
  readonly name = 'generator' as const;
  private readonly options: GeneratorCdotOptions;

  constructor(options: GeneratorCdotOptions = {}) {
    if (options.pMin !== undefined) checkOpenInterval('pMin', options.pMin, 0, 0.5);
    const correction = options.correction ?? 'none';
    if (correction !== 'none' && correction !== 'per-state' && correction !== 'global') {
      throw new InvalidArgumentError(
        'correction',
        `unknown correction '${String(correction)}'`,
        "pass 'none', 'per-state' or 'global'",
      );
    }
    this.options = { ...options, correction };
  }

  estimate(input: CdotInput): CdotEstimate {
    const { y, dim: d, dt } = input;
    const n = y.length / d;
    const pMin = this.options.pMin ?? Math.min(0.05, Math.max(5e-5, 40 / n));
    let partition = this.options.partition;
    if (!partition) {
      const minPoints = Math.ceil(10 / pMin);
      if (n < minPoints) {
        throw new InvalidArgumentError(
          'series',
          `has ${n} points, too short for a partition with pMin = ${pMin} (about ${Math.round(0.74 / pMin)} cells; at least ${minPoints} points needed)`,
          'pass a longer series or a larger pMin',
        );
      }
      partition = buildTreePartition(y, d, {
        pMin,
        seed: this.options.seed ?? 0,
        maxBuildPoints: this.options.maxBuildPoints,
      });
    }
    const K = partition.size;
    const labels = partition.assign(y);
    const M = cellCentroids(y, labels, d, K);
    const g = generatorFromLabels(labels, K, dt, {
      correction: this.options.correction ?? 'none',
      estimator: 'counts',
      segmentStarts: input.segmentStarts,
    });
    const cdot = finiteVolumeCdot(M, g.Q, stationaryDistribution(labels, K));
    const estimate: CdotEstimate = {
      cdot,
      estimator: 'generator',
      biasOrder: 1,
      details: { cells: K, leaveFraction: g.leaveFraction },
      warnings: [...g.warnings],
      partition,
    };
    if (input.blocks) {
      const B = input.blocks.bounds.length - 1;
      const blockOf = blockIndex(input.blocks);
      const bounds = segmentBounds(input.segmentStarts, n);
      const sums = new Float64Array(B * d * d);
      const counts = new Float64Array(B);
      const m = M.data;
      for (let s = 0; s + 1 < bounds.length; s++) {
        for (let t = bounds[s]; t + 1 < bounds[s + 1]; t++) {
          const b = blockOf[t];
          counts[b]++;
          const i = labels[t];
          const j = labels[t + 1];
          if (i === j) continue;
          const o = b * d * d;
          for (let a = 0; a < d; a++) {
            const inc = m[a * K + j] - m[a * K + i];
            for (let c = 0; c < d; c++) sums[o + a * d + c] += inc * m[c * K + i];
          }
        }
      }
      estimate.replicate = (w) => new Matrix(d, d, weightedBlockMean(sums, counts, d * d, w, dt));
    }
    return estimate;
  }
}

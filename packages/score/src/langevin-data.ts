/**
 * The first step of the Langevin pipeline (`standardize`: the z-scored series with its regime) and
 * the data helpers of the later steps (stationarity warnings, subsampling, tail box).
 */
import {
  checkBatch,
  checkPositive,
  column,
  concatSeries,
  DimensionError,
  InvalidArgumentError,
  quantiles,
  type TimeSeries,
  ZScore,
} from '@sdekit/sde';
import type { DataRange, TailBox } from './langevin-model.js';
import { type IncrementScaling, incrementScaling } from './regime.js';

/**
 * A series in per-coordinate z-scored units y = S^{-1}(x - m) (docs/methods.md section 1), where
 * every later step of the pipeline works, with what those steps read of it.
 */
export interface StandardizedSeries {
  /** The z-scored points, N x dim, row-major. */
  y: Float64Array;
  dim: number;
  /** Number of points N (all series together). */
  length: number;
  /** Sampling interval. */
  dt: number;
  /** Starts of the independent series after the first (`concatSeries`); undefined for one series. */
  segmentStarts: Int32Array | undefined;
  /** The mean m and standard deviation S of every coordinate. */
  zscore: ZScore;
  /** Per-coordinate range of the data, original units. */
  dataRange: DataRange;
  /** Increment scaling of y: the regime (diffusive, smooth, unresolved) the Cdot estimator follows. */
  regime: IncrementScaling;
  /** Non-stationary-looking halves, a sampling interval too coarse for the dynamics. */
  warnings: string[];
}

/** `increment slope 1.02 over lags 1, 2, 4`: the regime in words, for reasons and warnings. */
export function slopeText(regime: IncrementScaling): string {
  return `increment slope ${regime.slope.toFixed(2)} over lags ${regime.lags.join(', ')}`;
}

/**
 * Step 1 of the Langevin pipeline: z-scores a stationary series, or several independent series of one
 * process (an array: joined by `concatSeries`, their segment starts kept so that no later step pairs
 * samples of different series), and measures its regime (`incrementScaling`). Throws typed errors for
 * bad input (non-finite data, wrong lengths, a constant coordinate, a series of an array with fewer
 * than 3 samples); warns in `warnings` when the two halves of a coordinate disagree (non-stationary)
 * or the series decorrelates within a few samples.
 *
 * @example
 * const data = standardize(series);
 * data.regime.regime;   // 'diffusive' for an OU series, 'smooth' for a chaotic flow
 * data.zscore.std;      // S; data.y holds S^{-1}(x - m)
 */
export function standardize(input: TimeSeries | readonly TimeSeries[]): StandardizedSeries {
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
  const zscore = ZScore.fit(series.data, dim);
  for (let j = 0; j < dim; j++) {
    if (!(zscore.std[j] > 0)) {
      throw new InvalidArgumentError(
        'series',
        `coordinate ${j} is constant`,
        'drop constant coordinates before fitting',
      );
    }
  }
  const y = zscore.apply(series.data);
  const warnings = stationarityWarnings(y, n, dim);
  const regime = incrementScaling(y, dim, segmentStarts);
  if (regime.regime === 'unresolved') {
    warnings.push(
      `the series decorrelates within a few samples (${slopeText(regime)}; 1 for a resolved diffusion, 2 for smooth data): ` +
        'the sampling interval dt is too coarse for the dynamics, and Phi (a short-time quantity) is poorly determined; sample more often',
    );
  }
  const lo = new Float64Array(dim).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(dim).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < series.data.length; i++) {
    const j = i % dim;
    const x = series.data[i];
    if (x < lo[j]) lo[j] = x;
    if (x > hi[j]) hi[j] = x;
  }
  return {
    y,
    dim,
    length: n,
    dt: series.dt,
    segmentStarts,
    zscore,
    dataRange: { lo, hi },
    regime,
    warnings,
  };
}

/**
 * Warns when the two halves of a coordinate have means that differ by more than 5 standard errors.
 * The standard error comes from 20 block means with the successive-difference (von Neumann) variance,
 * which a slow trend does not inflate; blocks much longer than the correlation time are assumed.
 */
export function stationarityWarnings(y: Float64Array, n: number, dim: number): string[] {
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
export function subsampleSource(i: number, n: number, max: number): number {
  return n <= max ? i : Math.floor((i * n) / max);
}

/** Evenly strided subsample of at most `max` points. */
export function subsample(y: Float64Array, n: number, dim: number, max: number): Float64Array {
  if (n <= max) return y;
  const out = new Float64Array(max * dim);
  for (let i = 0; i < max; i++) {
    const src = subsampleSource(i, n, max);
    for (let j = 0; j < dim; j++) out[i * dim + j] = y[src * dim + j];
  }
  return out;
}

/** The q and 1 - q quantiles of every coordinate of y (z units). */
export function tailBoxOf(y: Float64Array, dim: number, q: number): TailBox {
  const lo = new Float64Array(dim);
  const hi = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    const [a, b] = quantiles(column(y, dim, j), [q, 1 - q]);
    lo[j] = a;
    hi[j] = b;
  }
  return { quantile: q, lo, hi };
}

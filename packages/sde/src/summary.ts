/**
 * Summary statistics of row-major batches (point i, coordinate j at i * dim + j): means, variances,
 * covariances, moments, columns and type-7 quantiles. All sums are accumulated in float64.
 *
 * Conventions: variances and covariances use the unbiased 1/(N-1) normalisation; skewness and
 * kurtosis use the population central moments m3 / m2^1.5 and m4 / m2^2 (kurtosis not excess: 3 for
 * a Gaussian).
 *
 * @example
 * const m = moments(series.data, series.dim); // mean, std, skewness, kurtosis per coordinate
 */

import { DimensionError, InvalidArgumentError } from './errors.js';
import { Matrix } from './linalg.js';
import { checkBatch, checkFinite, checkInteger } from './validate.js';

/**
 * Per-coordinate mean of a batch.
 *
 * @example
 * mean(Float64Array.of(1, 2, 3, 4), 2); // [2, 3]
 */
export function mean(data: Float64Array, dim = 1): Float64Array {
  const n = checkBatch('data', data, dim);
  const m = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) m[j] += data[i * dim + j];
  for (let j = 0; j < dim; j++) m[j] /= n;
  return m;
}

/**
 * Per-coordinate unbiased variance (two-pass, 1/(N-1)); needs at least 2 points.
 *
 * @example
 * variance(Float64Array.of(1, 2, 3)); // [1]
 */
export function variance(data: Float64Array, dim = 1): Float64Array {
  const n = checkBatch('data', data, dim, 2);
  const m = mean(data, dim);
  const v = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const e = data[i * dim + j] - m[j];
      v[j] += e * e;
    }
  }
  for (let j = 0; j < dim; j++) v[j] /= n - 1;
  return v;
}

/**
 * Unbiased covariance matrix (dim x dim) of a batch.
 *
 * @example
 * covariance(Float64Array.of(0, 0, 1, 1, 2, 2), 2); // [[1, 1], [1, 1]]
 */
export function covariance(data: Float64Array, dim: number): Matrix {
  const n = checkBatch('data', data, dim, 2);
  const m = mean(data, dim);
  const c = new Matrix(dim, dim);
  const e = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) e[j] = data[i * dim + j] - m[j];
    for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) c.data[a * dim + b] += e[a] * e[b];
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = c.data[a * dim + b] / (n - 1);
      c.data[a * dim + b] = v;
      c.data[b * dim + a] = v;
    }
  }
  return c;
}

/** Per-coordinate summary statistics. */
export interface Moments {
  mean: Float64Array;
  /** Unbiased standard deviation. */
  std: Float64Array;
  /** m3 / m2^1.5 (population central moments). */
  skewness: Float64Array;
  /** m4 / m2^2, not excess (3 for a Gaussian). */
  kurtosis: Float64Array;
}

/**
 * Mean, standard deviation, skewness and kurtosis per coordinate.
 *
 * @example
 * const { mean, std, skewness, kurtosis } = moments(series.data, series.dim);
 */
export function moments(data: Float64Array, dim = 1): Moments {
  const n = checkBatch('data', data, dim, 2);
  const m = mean(data, dim);
  const c2 = new Float64Array(dim);
  const c3 = new Float64Array(dim);
  const c4 = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const e = data[i * dim + j] - m[j];
      const e2 = e * e;
      c2[j] += e2;
      c3[j] += e2 * e;
      c4[j] += e2 * e2;
    }
  }
  const std = new Float64Array(dim);
  const skewness = new Float64Array(dim);
  const kurtosis = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    const m2 = c2[j] / n;
    std[j] = Math.sqrt(c2[j] / (n - 1));
    skewness[j] = c3[j] / n / m2 ** 1.5;
    kurtosis[j] = c4[j] / n / (m2 * m2);
  }
  return { mean: m, std, skewness, kurtosis };
}

/**
 * Column j of a row-major batch as a new array.
 *
 * @example
 * column(Float64Array.of(1, 2, 3, 4), 2, 1); // [2, 4]
 */
export function column(data: Float64Array, dim: number, j: number): Float64Array {
  checkInteger('dim', dim, 1);
  checkInteger('j', j, 0);
  if (j >= dim)
    throw new InvalidArgumentError(
      'j',
      `must be < dim = ${dim}, got ${j}`,
      'pass a coordinate index in [0, dim)',
    );
  if (data.length % dim !== 0)
    throw new DimensionError(
      'data',
      `length ${data.length} is not a multiple of dim = ${dim}`,
      'pass a row-major batch',
    );
  const n = data.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * dim + j];
  return out;
}

/**
 * Quantile of sorted values by linear interpolation between order statistics (Hyndman & Fan type 7,
 * the default of R and numpy): position p (n - 1) in the sorted array.
 *
 * @example
 * quantile(Float64Array.of(1, 2, 3, 4), 0.5); // 2.5
 */
export function quantile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new InvalidArgumentError('sorted', 'is empty', 'pass at least one value');
  for (let i = 1; i < n; i++) {
    if (!(sorted[i] >= sorted[i - 1])) {
      throw new InvalidArgumentError(
        'sorted',
        `is not sorted ascending (entry ${i} = ${sorted[i]} after ${sorted[i - 1]})`,
        'sort it first (Float64Array.from(values).sort()), or use quantiles(values, probs)',
      );
    }
  }
  if (!(p >= 0 && p <= 1))
    throw new InvalidArgumentError('p', `must lie in [0, 1], got ${p}`, 'pass a probability');
  const r = p * (n - 1);
  const i = Math.floor(r);
  return i + 1 < n ? sorted[i] + (r - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * Several type-7 quantiles of unsorted values (sorted once, a copy; the input is not modified).
 * Throws NonFiniteError on NaN or Infinity.
 *
 * @example
 * quantiles(samples, [0.025, 0.5, 0.975]); // a 95 % band and the median
 */
export function quantiles(values: Float64Array, probs: ArrayLike<number>): Float64Array {
  checkFinite('values', values);
  const sorted = Float64Array.from(values).sort();
  const out = new Float64Array(probs.length);
  for (let k = 0; k < probs.length; k++) out[k] = quantile(sorted, probs[k]);
  return out;
}

import { column, quantiles } from '@sdekit/sde';
import type { TailBox } from './langevin-model.js';

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

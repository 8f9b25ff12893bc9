/**
 * Block bootstrap of time averages over a series made of independent segments (runs).
 *
 * A time average over a correlated series has a variance that independent resampling of single
 * samples underestimates by about the integrated autocorrelation time. Resampling whole blocks much
 * longer than that time keeps the within-block correlation and makes the blocks nearly independent
 * (Kunsch 1989; Politis & Romano 1994). Blocks never cross the boundary between two segments, and
 * when the segments are independent runs shorter than a block, each run is one block.
 *
 * Estimators that are ratios of sums over the series are re-estimated from per-block sums with the
 * multinomial block counts of each replicate, so a replicate costs O(blocks) and not a pass over the data.
 */
import { integratedAutocorrelationTime } from './acf.js';
import { InvalidArgumentError } from './errors.js';
import type { Rng } from './rng.js';
import { quantiles } from './summary.js';
import { checkInteger } from './validate.js';

/** Blocks of a segmented series for the block bootstrap. */
export interface BootstrapBlocks {
  /** Block b holds samples [bounds[b], bounds[b + 1]); blocks never cross a segment boundary. */
  bounds: Int32Array;
  /** Segment of each block. */
  segmentOf: Int32Array;
  /** Target block length in samples (blocks at segment ends may be up to twice as long). */
  blockLength: number;
  /** True when every segment is a single block (runs shorter than the block length). */
  runsAsBlocks: boolean;
}

/**
 * Cuts each segment [segBounds[k], segBounds[k + 1]) into floor(length / blockLength) blocks (at
 * least one; the remainder joins the last block of the segment).
 *
 * @example
 * bootstrapBlocks(Int32Array.of(0, 10, 25), 5).bounds; // [0, 5, 10, 15, 25]
 */
export function bootstrapBlocks(segBounds: Int32Array, blockLength: number): BootstrapBlocks {
  checkInteger('blockLength', blockLength, 1);
  const bounds: number[] = [];
  const segmentOf: number[] = [];
  let runsAsBlocks = true;
  for (let k = 0; k + 1 < segBounds.length; k++) {
    const a = segBounds[k];
    const len = segBounds[k + 1] - a;
    const count = Math.max(1, Math.floor(len / blockLength));
    if (count > 1) runsAsBlocks = false;
    for (let b = 0; b < count; b++) {
      bounds.push(a + b * blockLength);
      segmentOf.push(k);
    }
  }
  bounds.push(segBounds[segBounds.length - 1]);
  return {
    bounds: Int32Array.from(bounds),
    segmentOf: Int32Array.from(segmentOf),
    blockLength,
    runsAsBlocks,
  };
}

/**
 * Block index of every sample (length = the series length), for accumulating per-block sums.
 *
 * @example
 * blockIndex(bootstrapBlocks(Int32Array.of(0, 4), 2)); // [0, 0, 1, 1]
 */
export function blockIndex(blocks: BootstrapBlocks): Int32Array {
  const b = blocks.bounds;
  const out = new Int32Array(b[b.length - 1]);
  for (let k = 0; k + 1 < b.length; k++) out.fill(k, b[k], b[k + 1]);
  return out;
}

/**
 * Multinomial block counts of one bootstrap replicate: `blocks` draws with replacement, written as
 * the number of times each block was drawn (they sum to `blocks`).
 *
 * @example
 * const w = bootstrapCounts(10, Rng.fromSeed(1)); // Float64Array of 10 counts summing to 10
 */
export function bootstrapCounts(blocks: number, rng: Rng, out = new Float64Array(blocks)): Float64Array {
  checkInteger('blocks', blocks, 1);
  out.fill(0);
  for (let i = 0; i < blocks; i++) out[rng.integer(blocks)]++;
  return out;
}

/**
 * sum_b w_b S_b / (scale sum_b w_b n_b): the block-weighted mean of per-block sums S_b (`width` values
 * each, block b at b * width) over per-block counts n_b, with weights w (all 1 when absent; bootstrap
 * counts from `bootstrapCounts`) and an optional divisor `scale` (a lag time, say). NaN when the
 * weighted count is 0.
 *
 * @example
 * weightedBlockMean(Float64Array.of(2, 6), Float64Array.of(1, 3), 1); // [2]: (2 + 6) / (1 + 3)
 */
export function weightedBlockMean(
  sums: Float64Array,
  counts: Float64Array,
  width: number,
  weights?: Float64Array,
  scale = 1,
): Float64Array {
  const out = new Float64Array(width);
  let n = 0;
  for (let b = 0; b < counts.length; b++) {
    const wb = weights ? weights[b] : 1;
    if (wb === 0) continue;
    n += wb * counts[b];
    const o = b * width;
    for (let k = 0; k < width; k++) out[k] += wb * sums[o + k];
  }
  const factor = n > 0 ? 1 / (n * scale) : Number.NaN;
  for (let k = 0; k < width; k++) out[k] *= factor;
  return out;
}

/** Result of `autocorrelationTimeOf`. */
export interface SeriesAutocorrelationTime {
  /** Largest integrated autocorrelation time over the coordinates, in samples (1 + 2 sum rho). */
  tau: number;
  /** Integrated autocorrelation time of each coordinate, in samples. */
  perCoordinate: Float64Array;
}

/**
 * Integrated autocorrelation time (Sokal's window, `integratedAutocorrelationTime`) of every
 * coordinate of a segmented series, estimated on its longest segment (at most `maxSamples` samples
 * of it, default 2^17: the block length needs tau to about 20 %, not better), in samples.
 *
 * @example
 * const { tau } = autocorrelationTimeOf(series.data, series.dim, Int32Array.of(0, series.length));
 */
export function autocorrelationTimeOf(
  data: Float64Array,
  dim: number,
  segBounds: Int32Array,
  maxSamples = 1 << 17,
): SeriesAutocorrelationTime {
  let best = 0;
  for (let k = 1; k + 1 < segBounds.length; k++)
    if (segBounds[k + 1] - segBounds[k] > segBounds[best + 1] - segBounds[best]) best = k;
  const a = segBounds[best];
  const len = Math.min(maxSamples, segBounds[best + 1] - a);
  if (len < 4) {
    throw new InvalidArgumentError(
      'series',
      `its longest segment has ${len} samples`,
      'pass runs of at least 4 samples',
    );
  }
  const perCoordinate = new Float64Array(dim);
  const x = new Float64Array(len);
  for (let j = 0; j < dim; j++) {
    for (let t = 0; t < len; t++) x[t] = data[(a + t) * dim + j];
    perCoordinate[j] = integratedAutocorrelationTime(x).tau;
  }
  let tau = 1;
  for (let j = 0; j < dim; j++) tau = Math.max(tau, perCoordinate[j]);
  return { tau, perCoordinate };
}

/**
 * Type-7 quantiles `probs` of each column of `replicates` (R rows of `width` values): row q of the
 * result (q-th probability) holds the quantile of every column. The input is not reordered.
 */
export function columnQuantiles(
  replicates: Float64Array,
  width: number,
  probs: ArrayLike<number>,
): Float64Array[] {
  const r = replicates.length / width;
  const out = Array.from({ length: probs.length }, () => new Float64Array(width));
  const col = new Float64Array(r);
  for (let j = 0; j < width; j++) {
    for (let i = 0; i < r; i++) col[i] = replicates[i * width + j];
    const q = quantiles(col, probs);
    for (let k = 0; k < probs.length; k++) out[k][j] = q[k];
  }
  return out;
}

/** Standard deviation (n - 1 denominator) of each column of `replicates` (R rows of `width` values). */
export function columnStd(replicates: Float64Array, width: number): Float64Array {
  const r = replicates.length / width;
  const mean = new Float64Array(width);
  const out = new Float64Array(width);
  for (let i = 0; i < r; i++) for (let j = 0; j < width; j++) mean[j] += replicates[i * width + j];
  for (let j = 0; j < width; j++) mean[j] /= r;
  for (let i = 0; i < r; i++)
    for (let j = 0; j < width; j++) out[j] += (replicates[i * width + j] - mean[j]) ** 2;
  for (let j = 0; j < width; j++) out[j] = Math.sqrt(out[j] / Math.max(1, r - 1));
  return out;
}

/** Result of `groupJackknife`. */
export interface JackknifeEstimate {
  /** The statistic with every group left out in turn (one value per group). */
  readonly leaveOut: Float64Array;
  /**
   * Delete-a-group jackknife standard error (Efron 1982, The Jackknife, the Bootstrap and Other
   * Resampling Plans, ch. 3):
   * sqrt((G - 1) / G sum_g (theta_(g) - theta_(.))^2), theta_(.) the mean of the leave-outs.
   */
  readonly se: number;
}

/**
 * Jackknife standard error of a statistic of G independent groups of samples (the paths of a
 * simulation, split into G sets): `statistic(g)` is the statistic computed without group g. Unlike the
 * block bootstrap it needs no per-block sums, only G re-evaluations, so it fits a statistic that is
 * not a ratio of sums (a maximum over lags, a histogram KL) and pairs of sample sets that share
 * their noise (the same paths left out of both). For the mean of G equal groups it is exactly the
 * standard error sd(group means) / sqrt(G).
 *
 * @example
 * const { se } = groupJackknife(8, (g) => statisticWithout(g));
 */
export function groupJackknife(groups: number, statistic: (leftOut: number) => number): JackknifeEstimate {
  checkInteger('groups', groups, 2);
  const leaveOut = new Float64Array(groups);
  for (let g = 0; g < groups; g++) leaveOut[g] = statistic(g);
  let mean = 0;
  for (let g = 0; g < groups; g++) mean += leaveOut[g] / groups;
  let ss = 0;
  for (let g = 0; g < groups; g++) ss += (leaveOut[g] - mean) ** 2;
  return { leaveOut, se: Math.sqrt(((groups - 1) / groups) * ss) };
}

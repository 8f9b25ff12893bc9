/**
 * Stein matrix V = E[s(x) x^T] (docs/methods.md section 1) and Gaussian perturbation of samples.
 *
 * For any smooth density decaying at infinity, integration by parts gives V = -I exactly, so
 * ||V + I||_F / sqrt(D) measures how well a learned score satisfies Stein's identity. A score of the
 * smoothed density p_sigma must be evaluated on perturbed samples x~ = x + sigma z (docs/methods.md
 * section 2), which `steinMatrix` does when `sigma > 0`.
 */
import {
  type BootstrapBlocks,
  checkBatch,
  checkFinite,
  checkInteger,
  checkNonNegative,
  childSeed,
  DimensionError,
  Matrix,
  matmul,
  Rng,
  symmetricEigen,
  transpose,
} from '@sdekit/sde';
import { type StandardizedSeries, subsample, subsampleSource } from './langevin-data.js';
import type { ScoreEstimate } from './score-estimate.js';
import type { ScoreModel } from './score-model.js';

/** `estimateStein` warns when the smallest singular value of V is below this (exact: 1). */
const STEIN_MIN_SINGULAR_WARN = 0.5;
/** `estimateStein` warns when ||V + I||_F / sqrt(D) exceeds this (a failed Stein check). */
const STEIN_ERROR_WARN = 0.5;

/** x~ = x + sigma z with z ~ N(0, I); returns a new array. */
export function perturb(points: Float64Array, sigma: number, rng: Rng): Float64Array {
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) out[i] = points[i] + sigma * rng.normal();
  return out;
}

/** Options of `steinMatrix`. */
export interface SteinOptions {
  /** Perturb the samples with N(0, sigma^2 I) first (use the score model's sigma). Default 0. */
  sigma?: number;
  /** Seed of the perturbation noise (required when sigma > 0 for reproducibility; default 0). */
  seed?: number;
  /** Points per call of `score.score` (memory bound for networks). Default 8192. */
  chunk?: number;
}

/** Result of `steinMatrixByGroup`. */
export interface SteinGroupSums {
  /** V over all samples. */
  v: Matrix;
  /** Per group g, sum over its samples of s(x) x^T (D x D, row-major, at g * D * D). */
  sums: Float64Array;
  /** Samples per group. */
  counts: Float64Array;
}

/**
 * V = (1/N) sum_i s(x_i) x_i^T, a D x D matrix (V[a][b] = mean of s_a x_b), accumulated in float64.
 *
 * @example
 * const s = analyticScore(1, (x, out) => { out[0] = -x[0]; });
 * const v = steinMatrix(s, Rng.fromSeed(1).fillNormal(new Float64Array(10000)), 1); // ~ [[-1]]
 */
export function steinMatrix(
  score: ScoreModel,
  samples: Float64Array,
  dim: number,
  options: SteinOptions = {},
): Matrix {
  return steinMatrixByGroup(score, samples, dim, null, 1, options).v;
}

/**
 * `steinMatrix` with the sums of s(x) x^T kept per group of samples (group[i] in [0, groups)): the
 * sufficient statistics of V for a block bootstrap with the score held fixed. `group` null puts
 * every sample in group 0.
 *
 * @example
 * const { v, sums, counts } = steinMatrixByGroup(score, samples, 2, blockOfSample, 40);
 */
export function steinMatrixByGroup(
  score: ScoreModel,
  samples: Float64Array,
  dim: number,
  group: Int32Array | null,
  groups: number,
  options: SteinOptions = {},
): SteinGroupSums {
  const n = checkBatch('samples', samples, dim);
  if (score.dim !== dim) {
    throw new DimensionError(
      'score',
      `has dim ${score.dim}, samples have dim ${dim}`,
      "pass a score model of the samples' dimension",
    );
  }
  if (group !== null && group.length !== n) {
    throw new DimensionError(
      'group',
      `has ${group.length} entries for ${n} samples`,
      'pass one group per sample',
    );
  }
  checkInteger('groups', groups, 1);
  const sigma = options.sigma ?? 0;
  checkNonNegative('sigma', sigma, 'pass the noise level of the score (0 for an exact score)');
  const chunk = options.chunk ?? 8192;
  checkInteger('chunk', chunk, 1);
  const rng = Rng.fromSeed(options.seed ?? 0, 1);
  const dd = dim * dim;
  const sums = new Float64Array(groups * dd);
  const counts = new Float64Array(groups);
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    let x = samples.subarray(start * dim, (start + count) * dim);
    if (sigma > 0) x = perturb(x, sigma, rng);
    const s = score.score(x);
    checkFinite('score(samples)', s);
    for (let i = 0; i < count; i++) {
      const g = group === null ? 0 : group[start + i];
      counts[g]++;
      const o = g * dd;
      for (let a = 0; a < dim; a++) {
        const sa = s[i * dim + a];
        for (let b = 0; b < dim; b++) sums[o + a * dim + b] += sa * x[i * dim + b];
      }
    }
  }
  const v = new Matrix(dim, dim);
  for (let g = 0; g < groups; g++) for (let k = 0; k < dd; k++) v.data[k] += sums[g * dd + k];
  for (let k = 0; k < dd; k++) v.data[k] /= n;
  return { v, sums, counts };
}

/** Options of `estimateStein`. */
export interface SteinEstimateOptions {
  /**
   * Blocks of the block bootstrap (`planBootstrap(...).blocks`): the sums of s(x) x^T are kept per
   * block, for `estimateUncertainty`. Default none (one group).
   */
  blocks?: BootstrapBlocks | null;
  /** Points used (an evenly strided subsample of the series). Default 200000. */
  samples?: number;
  /**
   * The pipeline's seed (`fitLangevin`'s `seed`): the perturbation of the samples draws from its
   * child seed 'stein-samples' (@sdekit/sde `childSeed`), a stream of its own, so one seed serves
   * every step.
   */
  seed?: number;
}

/** The Stein matrix of a score on a standardized series: the result of `estimateStein`. */
export interface SteinEstimate extends SteinGroupSums {
  /** ||V + I||_F / sqrt(D): 0 when the score satisfies Stein's identity exactly. */
  error: number;
  /** Smallest singular value of V (1 for an exact score). */
  minSingularValue: number;
  /** A failed Stein check (error > 0.5) or a nearly singular V (smallest singular value < 0.5). */
  warnings: string[];
}

/**
 * Step 3 of the Langevin pipeline: the Stein matrix V = E[s(x~) x~^T] of the score on the z-scored
 * series (perturbed at the score's sigma, `steinMatrixByGroup`), with its per-block sums for the
 * bootstrap and Stein's-identity diagnostics. Phi = Cdot V^{-1} multiplies Cdot by up to
 * 1 / (smallest singular value of V) along the direction the score barely resolves, hence the warning.
 *
 * @example
 * const data = standardize(series);
 * const score = estimateScore(data, { score: { model: exactScore, units: 'original' }, seed: 1 });
 * const stein = estimateStein(data, score, { seed: 1 });
 * stein.v;       // ~ -I
 * stein.error;   // ||V + I||_F / sqrt(D), ~ 0.01
 */
export function estimateStein(
  data: StandardizedSeries,
  score: ScoreEstimate,
  options: SteinEstimateOptions = {},
): SteinEstimate {
  const { y, dim, length: n } = data;
  const blocks = options.blocks ?? null;
  const max = options.samples ?? 200_000;
  checkInteger('samples', max, 1);
  const points = subsample(y, n, dim, max);
  const count = points.length / dim;
  let group: Int32Array | null = null;
  if (blocks) {
    group = new Int32Array(count);
    const b = blocks.bounds;
    let k = 0;
    for (let i = 0; i < count; i++) {
      const t = subsampleSource(i, n, max);
      while (t >= b[k + 1]) k++;
      group[i] = k;
    }
  }
  const stein = steinMatrixByGroup(score.model, points, dim, group, blocks ? blocks.bounds.length - 1 : 1, {
    sigma: score.sigma,
    seed: childSeed(options.seed ?? 0, 'stein-samples'),
  });
  const v = stein.v;
  let error = 0;
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) error += (v.data[i * dim + j] + (i === j ? 1 : 0)) ** 2;
  error = Math.sqrt(error / dim);
  const minSingularValue = Math.sqrt(Math.max(0, symmetricEigen(matmul(transpose(v), v)).values[0]));
  const warnings: string[] = [];
  if (error > STEIN_ERROR_WARN) {
    warnings.push(
      `the score fails Stein's identity: ||V + I||_F / sqrt(D) = ${error.toPrecision(3)} (0 for an exact score, below about 0.1 for a good one), ` +
        'and Phi = Cdot V^{-1} inherits that error; check sigma (z units, typically 0.05-0.3) and train the score longer',
    );
  }
  if (minSingularValue < STEIN_MIN_SINGULAR_WARN) {
    warnings.push(
      `the Stein matrix V has a singular value of ${minSingularValue.toExponential(2)} (1 for an exact score): ` +
        `Phi = Cdot V^{-1} amplifies Cdot up to ${(1 / minSingularValue).toExponential(2)}x along a direction the score barely ` +
        'resolves, which can make the model stiff or blow up; train the score longer, or perturb less (perturbSeries)',
    );
  }
  return { ...stein, error, minSingularValue, warnings };
}

/**
 * Statistics used everywhere in sdekit (docs/benchmarks.md, "Statistics used everywhere"): moments,
 * covariances, per-coordinate z-scoring (with the maps of scores and mobility matrices of
 * docs/methods.md section 1), histograms on a common grid, Gaussian KDE, KL and Hellinger distances,
 * autocorrelation functions (FFT for long series), lagged covariances C(tau), drift errors, and
 * integrated autocorrelation times for error bars. All sums are accumulated in float64.
 *
 * Conventions: data are row-major batches (point i, coordinate j at i * dim + j). Variances and
 * covariances use the unbiased 1/(N-1) normalisation; skewness and kurtosis use the population
 * central moments m3 / m2^1.5 and m4 / m2^2 (kurtosis not excess: 3 for a Gaussian).
 *
 * @example
 * const m = moments(series.data, series.dim);          // mean, std, skewness, kurtosis per coordinate
 * const rho = acf(series.data, series.dim, 500);        // normalised ACF averaged over coordinates
 * const { mean: kl } = marginalKL(data, model, dim);    // marginal KL on common grids
 */
import { DimensionError, FormatError, InvalidArgumentError } from './errors.js';
import { nextPowerOfTwo, RealFft } from './fft.js';
import { Matrix } from './linalg.js';
import { acfPooledCoordinates } from './pooled.js';
import { checkBatch, checkFinite, checkInteger, checkPositive } from './validate.js';

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

/** Serialised ZScore. */
export interface ZScoreJSON {
  format: 'sdekit.zscore';
  version: 1;
  mean: number[];
  std: number[];
}

/**
 * Per-coordinate z-scoring y = S^{-1} (x - m), S = diag(std), with the maps of docs/methods.md section 1:
 * scores transform as s_x = S^{-1} s_y and mobility matrices as Phi_x = S Phi_y S.
 *
 * @example
 * const z = ZScore.fit(series.data, 2);
 * const y = z.apply(series.data);              // mean 0, std 1 per coordinate
 * const phiX = z.phiToOriginal(phiY);          // S Phi_y S
 * const sX = z.scoreToOriginal(sY);            // S^{-1} s_y
 */
export class ZScore {
  readonly dim: number;
  readonly mean: Float64Array;
  readonly std: Float64Array;

  constructor(mean: Float64Array, std: Float64Array) {
    if (mean.length !== std.length || mean.length === 0) {
      throw new DimensionError(
        'std',
        `length ${std.length} != mean length ${mean.length}`,
        'pass one mean and one std per coordinate',
      );
    }
    checkFinite('mean', mean);
    for (let j = 0; j < std.length; j++) {
      if (!(std[j] > 0) || !Number.isFinite(std[j])) {
        throw new InvalidArgumentError(
          `std[${j}]`,
          `must be finite and > 0, got ${std[j]} (a constant coordinate)`,
          'drop constant coordinates before z-scoring',
        );
      }
    }
    this.dim = mean.length;
    this.mean = Float64Array.from(mean);
    this.std = Float64Array.from(std);
  }

  /** Fits mean and unbiased std per coordinate. Throws on constant coordinates. */
  static fit(data: Float64Array, dim: number): ZScore {
    const m = mean(data, dim);
    const v = variance(data, dim);
    return new ZScore(m, v.map(Math.sqrt));
  }

  private check(name: string, data: Float64Array): number {
    if (!(data instanceof Float64Array) || data.length % this.dim !== 0) {
      throw new DimensionError(
        name,
        `must be a Float64Array with a multiple of dim = ${this.dim} values`,
        'pass a row-major batch of the fitted dimension',
      );
    }
    return data.length / this.dim;
  }

  /** y = (x - m) / s, a new array. */
  apply(data: Float64Array): Float64Array {
    const n = this.check('data', data);
    const d = this.dim;
    const out = new Float64Array(data.length);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) out[i * d + j] = (data[i * d + j] - this.mean[j]) / this.std[j];
    return out;
  }

  /** x = m + s y, a new array. */
  invert(data: Float64Array): Float64Array {
    const n = this.check('data', data);
    const d = this.dim;
    const out = new Float64Array(data.length);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) out[i * d + j] = this.mean[j] + this.std[j] * data[i * d + j];
    return out;
  }

  /** Scores from z-scored to original units: s_x = S^{-1} s_y (batch). */
  scoreToOriginal(scores: Float64Array): Float64Array {
    const n = this.check('scores', scores);
    const d = this.dim;
    const out = new Float64Array(scores.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = scores[i * d + j] / this.std[j];
    return out;
  }

  /** Scores from original to z-scored units: s_y = S s_x (batch). */
  scoreToStandard(scores: Float64Array): Float64Array {
    const n = this.check('scores', scores);
    const d = this.dim;
    const out = new Float64Array(scores.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = scores[i * d + j] * this.std[j];
    return out;
  }

  /** Mobility matrix from z-scored to original units: Phi_x = S Phi_y S. */
  phiToOriginal(phi: Matrix): Matrix {
    return this.scaleMatrix(phi, 1);
  }

  /** Mobility matrix from original to z-scored units: Phi_y = S^{-1} Phi_x S^{-1}. */
  phiToStandard(phi: Matrix): Matrix {
    return this.scaleMatrix(phi, -1);
  }

  private scaleMatrix(phi: Matrix, power: 1 | -1): Matrix {
    const d = this.dim;
    if (phi.rows !== d || phi.cols !== d) {
      throw new DimensionError(
        'phi',
        `is ${phi.rows} x ${phi.cols}, expected ${d} x ${d}`,
        'pass a dim x dim matrix',
      );
    }
    const out = new Matrix(d, d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const s = this.std[i] * this.std[j];
        out.data[i * d + j] = power === 1 ? phi.data[i * d + j] * s : phi.data[i * d + j] / s;
      }
    }
    return out;
  }

  toJSON(): ZScoreJSON {
    return { format: 'sdekit.zscore', version: 1, mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  static fromJSON(json: unknown): ZScore {
    const j = json as Partial<ZScoreJSON> | null;
    if (j?.format !== 'sdekit.zscore')
      throw new FormatError('ZScore', `format is ${String(j?.format)}, expected sdekit.zscore`);
    if (j.version !== 1)
      throw new FormatError('ZScore', `version ${String(j.version)} is not supported (expected 1)`);
    if (!Array.isArray(j.mean) || !Array.isArray(j.std))
      throw new FormatError('ZScore', 'mean and std must be arrays');
    return new ZScore(Float64Array.from(j.mean), Float64Array.from(j.std));
  }
}

// ---------------------------------------------------------------------------------------------
// Histograms, KDE and distances between densities
// ---------------------------------------------------------------------------------------------

/** A uniform grid of `bins` bins on [lo, hi]. */
export interface HistogramGrid {
  readonly lo: number;
  readonly hi: number;
  readonly bins: number;
  readonly width: number;
  /** Bin centres (length bins). */
  readonly centers: Float64Array;
}

/** Options of histogramGrid. */
export interface GridOptions {
  /** Number of bins (default 64). */
  bins?: number;
  /** Fixed range; by default the min and max over all samples. */
  lo?: number;
  hi?: number;
  /** Extra margin as a fraction of the range on each side (default 0; use e.g. 0.1 for KDEs). */
  padding?: number;
}

/**
 * A common uniform grid for one or more 1-D sample sets: [min, max] over all of them (optionally
 * padded), so that histograms of data and model are comparable bin by bin.
 *
 * @example
 * const grid = histogramGrid([dataX, modelX], { bins: 80 });
 */
export function histogramGrid(samples: Float64Array | Float64Array[], opts: GridOptions = {}): HistogramGrid {
  const bins = opts.bins ?? 64;
  checkInteger('bins', bins, 1);
  const sets = Array.isArray(samples) ? samples : [samples];
  let lo = opts.lo ?? Infinity;
  let hi = opts.hi ?? -Infinity;
  if (opts.lo === undefined || opts.hi === undefined) {
    sets.forEach((s, k) => {
      checkFinite(`samples[${k}]`, s);
      for (let i = 0; i < s.length; i++) {
        if (opts.lo === undefined && s[i] < lo) lo = s[i];
        if (opts.hi === undefined && s[i] > hi) hi = s[i];
      }
    });
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new InvalidArgumentError(
      'samples',
      'no finite values to span a grid',
      'pass non-empty samples or lo and hi',
    );
  }
  const pad = opts.padding ?? 0;
  if (!(pad >= 0))
    throw new InvalidArgumentError('padding', `must be >= 0, got ${pad}`, 'pass a non-negative fraction');
  const span0 = hi - lo;
  lo -= pad * span0;
  hi += pad * span0;
  if (!(hi > lo)) {
    throw new InvalidArgumentError(
      'samples',
      `span a zero-width range [${lo}, ${hi}]`,
      'pass lo < hi explicitly, or samples that vary',
    );
  }
  const width = (hi - lo) / bins;
  const centers = new Float64Array(bins);
  for (let i = 0; i < bins; i++) centers[i] = lo + (i + 0.5) * width;
  return { lo, hi, bins, width, centers };
}

/** A histogram on a grid. */
export interface Histogram {
  readonly grid: HistogramGrid;
  readonly counts: Float64Array;
  /** Probability per bin: counts / (number of values inside the grid); sums to 1. */
  readonly mass: Float64Array;
  /** mass / width: a density estimate. */
  readonly density: Float64Array;
  /** Values outside [lo, hi] (reported, not clamped into the edge bins). */
  readonly outside: number;
}

/**
 * Histogram of 1-D values on a grid (the upper edge hi belongs to the last bin).
 *
 * @example
 * const grid = histogramGrid([a, b]);
 * const kl = klDivergence(histogram(a, grid).mass, histogram(b, grid).mass);
 */
export function histogram(values: Float64Array, grid: HistogramGrid): Histogram {
  checkFinite('values', values);
  const counts = new Float64Array(grid.bins);
  let outside = 0;
  const inv = 1 / grid.width;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < grid.lo || v > grid.hi) {
      outside++;
      continue;
    }
    let k = Math.floor((v - grid.lo) * inv);
    if (k >= grid.bins) k = grid.bins - 1;
    counts[k]++;
  }
  const inside = values.length - outside;
  const mass = new Float64Array(grid.bins);
  const density = new Float64Array(grid.bins);
  if (inside > 0) {
    for (let k = 0; k < grid.bins; k++) {
      mass[k] = counts[k] / inside;
      density[k] = mass[k] * inv;
    }
  }
  return { grid, counts, mass, density, outside };
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

/**
 * Silverman's rule-of-thumb bandwidth 0.9 min(std, IQR / 1.34) n^(-1/5).
 *
 * @example
 * silvermanBandwidth(samples);
 */
export function silvermanBandwidth(values: Float64Array): number {
  const n = checkBatch('values', values, 1, 2);
  const sorted = Float64Array.from(values).sort();
  const sd = Math.sqrt(variance(values)[0]);
  const iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
  const spread = iqr > 0 ? Math.min(sd, iqr / 1.34) : sd;
  if (!(spread > 0))
    throw new InvalidArgumentError(
      'values',
      'are all equal, so no bandwidth can be chosen',
      'pass varying samples or an explicit bandwidth',
    );
  return 0.9 * spread * n ** -0.2;
}

/**
 * Gaussian kernel density estimate of 1-D values evaluated at `points`:
 * p(x) = (1/(n h)) sum_i phi((x - x_i)/h). Kernels are cut at 8 h (relative error < 1e-14); the
 * values are sorted once so each point only visits its neighbours.
 *
 * @example
 * const grid = histogramGrid([a, b], { bins: 100, padding: 0.1 });
 * const pa = kde1d(a, grid.centers);
 */
export function kde1d(
  values: Float64Array,
  points: Float64Array,
  opts: { bandwidth?: number } = {},
): Float64Array {
  const n = checkBatch('values', values, 1, 2);
  checkFinite('points', points);
  const h = opts.bandwidth ?? silvermanBandwidth(values);
  checkPositive('bandwidth', h);
  const sorted = Float64Array.from(values).sort();
  const out = new Float64Array(points.length);
  const cut = 8 * h;
  const norm = 1 / (n * h * Math.sqrt(2 * Math.PI));
  const lowerBound = (v: number) => {
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (sorted[mid] < v) a = mid + 1;
      else b = mid;
    }
    return a;
  };
  for (let k = 0; k < points.length; k++) {
    const x = points[k];
    let s = 0;
    for (let i = lowerBound(x - cut); i < n && sorted[i] <= x + cut; i++) {
      const u = (x - sorted[i]) / h;
      s += Math.exp(-0.5 * u * u);
    }
    out[k] = s * norm;
  }
  return out;
}

function checkPair(p: Float64Array, q: Float64Array): void {
  if (p.length !== q.length || p.length === 0) {
    throw new DimensionError(
      'q',
      `length ${q.length} != length of p ${p.length}`,
      'pass two probability vectors on the same grid',
    );
  }
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0) || !(q[i] >= 0) || !Number.isFinite(p[i]) || !Number.isFinite(q[i])) {
      throw new InvalidArgumentError(
        `p/q[${i}]`,
        `must be finite and >= 0, got ${p[i]}, ${q[i]}`,
        'pass bin probabilities (histogram(...).mass)',
      );
    }
  }
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sq += q[i];
  }
  // Probability vectors: a density (mass / width) or counts would give a meaningless distance.
  for (const [name, sum] of [
    ['p', sp],
    ['q', sq],
  ] as const) {
    if (Math.abs(sum - 1) > 1e-6) {
      throw new InvalidArgumentError(
        name,
        `sums to ${sum}, not 1`,
        'pass bin probabilities that sum to 1 (histogram(...).mass, or divide by the sum)',
      );
    }
  }
}

/**
 * KL(p || q) = sum_i p_i log(p_i / q_i) of two probability vectors on the same grid, with both
 * floored at `floor` (default 1e-10, docs/benchmarks.md) so empty bins give a finite value.
 *
 * @example
 * klDivergence(Float64Array.of(0.5, 0.5), Float64Array.of(0.9, 0.1)); // 0.5108...
 */
export function klDivergence(p: Float64Array, q: Float64Array, floor = 1e-10): number {
  checkPair(p, q);
  checkPositive('floor', floor);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = Math.max(p[i], floor);
    const b = Math.max(q[i], floor);
    s += a * Math.log(a / b);
  }
  return s;
}

/**
 * Hellinger distance H(p, q) = sqrt(1/2 sum_i (sqrt p_i - sqrt q_i)^2), in [0, 1] for probability
 * vectors.
 *
 * @example
 * hellinger(Float64Array.of(1, 0), Float64Array.of(0, 1)); // 1
 */
export function hellinger(p: Float64Array, q: Float64Array): number {
  checkPair(p, q);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const d = Math.sqrt(p[i]) - Math.sqrt(q[i]);
    s += d * d;
  }
  return Math.sqrt(0.5 * s);
}

/** Options of marginalKL. */
export interface MarginalKLOptions {
  /** Bins per coordinate (default 64). */
  bins?: number;
  /** 'histogram' (default) or 'kde' (Gaussian KDE evaluated at the bin centres). */
  method?: 'histogram' | 'kde';
  /** KL floor (default 1e-10). */
  floor?: number;
  /** Grid padding as a fraction of the range (default 0 for histograms, 0.1 for KDE). */
  padding?: number;
}

/** Result of marginalKL. */
export interface MarginalKL {
  /** KL(p_A || p_B) per coordinate. */
  kl: Float64Array;
  /** Mean of kl over coordinates. */
  mean: number;
  /** Hellinger distance per coordinate. */
  hellinger: Float64Array;
  /** The common grid of each coordinate. */
  grids: HistogramGrid[];
}

/**
 * KL(p_A || p_B) and Hellinger distance of every 1-D marginal, each on a common grid spanning both
 * sample sets (A is the reference, e.g. the data; B the model).
 *
 * @example
 * const { kl, mean } = marginalKL(dataSeries.data, modelSeries.data, 2, { bins: 64 });
 */
export function marginalKL(
  dataA: Float64Array,
  dataB: Float64Array,
  dim: number,
  opts: MarginalKLOptions = {},
): MarginalKL {
  checkBatch('dataA', dataA, dim, 2);
  checkBatch('dataB', dataB, dim, 2);
  const method = opts.method ?? 'histogram';
  if (method !== 'histogram' && method !== 'kde') {
    throw new InvalidArgumentError('method', `unknown method ${String(method)}`, "use 'histogram' or 'kde'");
  }
  const kl = new Float64Array(dim);
  const hel = new Float64Array(dim);
  const grids: HistogramGrid[] = [];
  for (let j = 0; j < dim; j++) {
    const a = column(dataA, dim, j);
    const b = column(dataB, dim, j);
    const grid = histogramGrid([a, b], {
      bins: opts.bins ?? 64,
      padding: opts.padding ?? (method === 'kde' ? 0.1 : 0),
    });
    let pa: Float64Array;
    let pb: Float64Array;
    if (method === 'histogram') {
      pa = histogram(a, grid).mass;
      pb = histogram(b, grid).mass;
    } else {
      pa = normaliseMass(kde1d(a, grid.centers));
      pb = normaliseMass(kde1d(b, grid.centers));
    }
    kl[j] = klDivergence(pa, pb, opts.floor ?? 1e-10);
    hel[j] = hellinger(pa, pb);
    grids.push(grid);
  }
  let s = 0;
  for (let j = 0; j < dim; j++) s += kl[j];
  return { kl, mean: s / dim, hellinger: hel, grids };
}

function normaliseMass(density: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < density.length; i++) s += density[i];
  const out = new Float64Array(density.length);
  if (s > 0) for (let i = 0; i < density.length; i++) out[i] = density[i] / s;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Autocorrelation, lagged covariances, error bars
// ---------------------------------------------------------------------------------------------

/** Below this many multiply-adds ((maxLag + 1) * N) the ACF is summed directly, above it by FFT. */
const DIRECT_ACF_WORK = 1 << 20;

/** FFT plans by size (building one costs as much as a few transforms); a few sizes are reused. */
const fftPlans = new Map<number, RealFft>();

function fftPlan(n: number): RealFft {
  let plan = fftPlans.get(n);
  if (!plan) {
    if (fftPlans.size >= 8) fftPlans.clear();
    plan = new RealFft(n);
    fftPlans.set(n, plan);
  }
  return plan;
}

/**
 * Normalised autocorrelation of each coordinate, rho_j(k) = sum_{t < N-k} e_t e_{t+k} / sum_t e_t^2
 * with e = x_j - mean (the standard biased estimator, positive semi-definite), for lags 0..maxLag.
 * Long series use the FFT (zero-padded to a power of two >= 2N, so the correlation is linear, not
 * circular); short ones a direct sum.
 *
 * @example
 * const [rho1, rho2] = acfCoordinates(series.data, 2, 100);
 */
export function acfCoordinates(series: Float64Array, dim: number, maxLag: number): Float64Array[] {
  const n = checkBatch('series', series, dim, 2);
  checkInteger('maxLag', maxLag, 0);
  if (maxLag >= n) {
    throw new InvalidArgumentError(
      'maxLag',
      `${maxLag} must be < series length ${n}`,
      'pass a smaller maxLag or a longer series',
    );
  }
  const m = mean(series, dim);
  const out: Float64Array[] = [];
  const e = new Float64Array(n);
  const sums = lagProductSummer(n, maxLag);
  for (let j = 0; j < dim; j++) {
    for (let t = 0; t < n; t++) e[t] = series[t * dim + j] - m[j];
    const rho = new Float64Array(maxLag + 1);
    sums(e, rho);
    const c0 = rho[0];
    if (!(c0 > 0))
      throw new InvalidArgumentError(
        `series coordinate ${j}`,
        'is constant, so its autocorrelation is undefined',
        'drop constant coordinates',
      );
    for (let k = 0; k <= maxLag; k++) rho[k] /= c0;
    out.push(rho);
  }
  return out;
}

/**
 * A function that writes sum_t e[t] e[t + k], k = 0..maxLag, of a length-n series into out (direct
 * sums for short work, zero-padded real FFT otherwise; buffers allocated once).
 */
/** Series longer than this (and much longer than maxLag) sum their lag products by segments. */
const SEGMENTED_ACF_LENGTH = 1 << 21;

/**
 * Lag sums s_k = sum_{t + k < n} e_t e_{t+k}, k = 0..maxLag, by segments (overlap-save): the series is
 * cut into segments a of S = P - maxLag samples; each is cross-correlated with b, the segment extended
 * by maxLag samples, through one FFT of size P >= S + maxLag (so no product wraps around), and the
 * segment sums add up to s_k exactly. Memory O(P) whatever n (one FFT over 2n samples of a 1e8-sample
 * series would need gigabytes), time O(n log P).
 */
function segmentedLagProductSummer(n: number, maxLag: number): (e: Float64Array, out: Float64Array) => void {
  const P = nextPowerOfTwo(Math.max(1 << 14, 4 * (maxLag + 1)));
  const S = P - maxLag;
  const fft = fftPlan(P);
  const a = new Float64Array(P);
  const b = new Float64Array(P);
  const h = P / 2 + 1;
  const ra = new Float64Array(h);
  const ia = new Float64Array(h);
  const rb = new Float64Array(h);
  const ib = new Float64Array(h);
  const corr = new Float64Array(P);
  return (e, out) => {
    out.fill(0, 0, maxLag + 1);
    for (let s = 0; s < n; s += S) {
      a.fill(0);
      a.set(e.subarray(s, Math.min(n, s + S)));
      b.fill(0);
      b.set(e.subarray(s, Math.min(n, s + S + maxLag)));
      fft.forward(a, ra, ia);
      fft.forward(b, rb, ib);
      // conj(A) B: the cross-correlation sum_t a_t b_{t+k}.
      for (let k = 0; k < h; k++) {
        const re = ra[k] * rb[k] + ia[k] * ib[k];
        const im = ra[k] * ib[k] - ia[k] * rb[k];
        ra[k] = re;
        ia[k] = im;
      }
      fft.inverse(ra, ia, corr);
      for (let k = 0; k <= maxLag; k++) out[k] += corr[k];
    }
  };
}

function lagProductSummer(n: number, maxLag: number): (e: Float64Array, out: Float64Array) => void {
  if ((maxLag + 1) * n <= DIRECT_ACF_WORK) {
    return (e, out) => {
      for (let k = 0; k <= maxLag; k++) {
        let s = 0;
        for (let t = 0; t + k < n; t++) s += e[t] * e[t + k];
        out[k] = s;
      }
    };
  }
  if (n > SEGMENTED_ACF_LENGTH && n > 8 * (maxLag + 1)) return segmentedLagProductSummer(n, maxLag);
  const nfft = nextPowerOfTwo(2 * n);
  const fft = fftPlan(nfft);
  const padded = new Float64Array(nfft);
  const re = new Float64Array(nfft / 2 + 1);
  const im = new Float64Array(nfft / 2 + 1);
  const corr = new Float64Array(nfft);
  return (e, out) => {
    padded.fill(0);
    padded.set(e);
    fft.forward(padded, re, im);
    for (let k = 0; k < re.length; k++) {
      re[k] = re[k] * re[k] + im[k] * im[k];
      im[k] = 0;
    }
    fft.inverse(re, im, corr);
    for (let k = 0; k <= maxLag; k++) out[k] = corr[k];
  };
}

/**
 * Normalised autocorrelation of many short paths of one stationary process, averaged over
 * coordinates: the mean and variance are pooled over all paths and times, and each lag k averages
 * its (length - k) products per path over all paths, rho(k) = gamma(k) / gamma(0). Unlike averaging
 * each path's own normalised ACF, this is not biased toward 0 when a path is not much longer than
 * the correlation time (per-path centring and the (n - k)/n factor both bias short paths).
 * `data` is laid out as a PathBundle: coordinate j of path p at time t is
 * data[(p * length + t) * dim + j]. The average over coordinates of `acfPooledCoordinates` (runs
 * of any lengths, one ACF per coordinate), which computes it.
 *
 * @example
 * const rho = acfPooled(bundle.data, bundle.dim, bundle.paths, 200); // lags 0..200 samples
 */
export function acfPooled(data: Float64Array, dim: number, paths: number, maxLag: number): Float64Array {
  checkInteger('paths', paths, 1);
  const total = checkBatch('data', data, dim, 2 * paths);
  if (total % paths !== 0) {
    throw new DimensionError(
      'data',
      `${total} points do not split into ${paths} paths`,
      'pass paths * length * dim values',
    );
  }
  const n = total / paths;
  checkInteger('maxLag', maxLag, 0);
  if (maxLag >= n) {
    throw new InvalidArgumentError(
      'maxLag',
      `${maxLag} must be < path length ${n}`,
      'pass a smaller maxLag or longer paths',
    );
  }
  const runs = Int32Array.from({ length: paths + 1 }, (_, p) => p * n);
  const out = new Float64Array(maxLag + 1);
  for (const rho of acfPooledCoordinates(data, dim, runs, maxLag))
    for (let k = 0; k <= maxLag; k++) out[k] += rho[k] / dim;
  return out;
}

/**
 * Normalised autocorrelation averaged over coordinates (docs/benchmarks.md), lags 0..maxLag in units of
 * the sampling interval.
 *
 * @example
 * const rho = acf(series.data, series.dim, Math.round(5 / series.dt)); // lags 0..5 time units
 */
export function acf(series: Float64Array, dim: number, maxLag: number): Float64Array {
  const per = acfCoordinates(series, dim, maxLag);
  const out = new Float64Array(maxLag + 1);
  for (const rho of per) for (let k = 0; k <= maxLag; k++) out[k] += rho[k];
  for (let k = 0; k <= maxLag; k++) out[k] /= dim;
  return out;
}

/**
 * ACF error of docs/benchmarks.md: max over lags of |acfA - acfB| (same lags).
 *
 * @example
 * acfError(acf(data, 2, 500), acf(model, 2, 500)) < 0.05;
 */
export function acfError(acfA: Float64Array, acfB: Float64Array): number {
  if (acfA.length !== acfB.length || acfA.length === 0) {
    throw new DimensionError(
      'acfB',
      `has ${acfB.length} lags, acfA has ${acfA.length}`,
      'compute both ACFs with the same maxLag',
    );
  }
  checkFinite('acfA', acfA);
  checkFinite('acfB', acfB);
  let e = 0;
  for (let k = 0; k < acfA.length; k++) e = Math.max(e, Math.abs(acfA[k] - acfB[k]));
  return e;
}

/**
 * Lagged covariance C(tau) = E[x(t + tau) x(t)^T] (dim x dim; entry (i, j) = mean over t of
 * x_i(t + lag) x_j(t)), centred by the series mean unless `center` is false; lag in samples.
 *
 * @example
 * const c1 = laggedCovariance(series.data, 2, 10); // C(10 dt)
 */
export function laggedCovariance(
  series: Float64Array,
  dim: number,
  lag: number,
  opts: { center?: boolean } = {},
): Matrix {
  const n = checkBatch('series', series, dim, 2);
  checkInteger('lag', lag, 0);
  if (lag >= n)
    throw new InvalidArgumentError(
      'lag',
      `${lag} must be < series length ${n}`,
      'pass a smaller lag or a longer series',
    );
  const m = opts.center === false ? new Float64Array(dim) : mean(series, dim);
  const c = new Matrix(dim, dim);
  const pairs = n - lag;
  for (let t = 0; t < pairs; t++) {
    const a = (t + lag) * dim;
    const b = t * dim;
    for (let i = 0; i < dim; i++) {
      const xi = series[a + i] - m[i];
      for (let j = 0; j < dim; j++) c.data[i * dim + j] += xi * (series[b + j] - m[j]);
    }
  }
  for (let i = 0; i < c.data.length; i++) c.data[i] /= pairs;
  return c;
}

/**
 * Drift error of docs/benchmarks.md: mean over grid points of |learned - truth|^2 (squared Euclidean
 * norm per point of dimension dim; for dim = 1 the plain mean squared error).
 *
 * @example
 * driftMse(model.bbar(grid), multiscaleDoubleWellAveragedDrift(grid, { m: 2, seed: 1 })); // truth from @sdekit/systems
 */
export function driftMse(learned: Float64Array, truth: Float64Array, dim = 1): number {
  checkInteger('dim', dim, 1);
  if (learned.length !== truth.length || learned.length === 0 || learned.length % dim !== 0) {
    throw new DimensionError(
      'truth',
      `length ${truth.length} != learned length ${learned.length} (or not a multiple of dim)`,
      'evaluate both drifts on the same grid',
    );
  }
  checkFinite('learned', learned);
  checkFinite('truth', truth);
  let s = 0;
  for (let i = 0; i < learned.length; i++) {
    const e = learned[i] - truth[i];
    s += e * e;
  }
  return s / (learned.length / dim);
}

/** Integrated autocorrelation time of a 1-D series (in samples) and its window. */
export interface AutocorrelationTime {
  /** tau = 1 + 2 sum_{k=1}^{W} rho(k); the variance of the mean is var(x) tau / N. */
  tau: number;
  /** Summation window W. */
  window: number;
  /** N / tau. */
  effectiveSampleSize: number;
}

/**
 * Integrated autocorrelation time with Sokal's automatic window (the smallest W >= c tau(W),
 * c = 5 by default; A. Sokal, "Monte Carlo methods in statistical mechanics", 1997). Used for error
 * bars of time averages: std error of the mean = std * sqrt(tau / N).
 *
 * @example
 * const { effectiveSampleSize } = integratedAutocorrelationTime(column(series.data, 2, 0));
 */
export function integratedAutocorrelationTime(series: Float64Array, c = 5): AutocorrelationTime {
  const n = checkBatch('series', series, 1, 4);
  checkPositive('c', c);
  const maxLag = Math.min(n - 1, Math.max(1, Math.floor(n / 2)));
  const rho = acfCoordinates(series, 1, maxLag)[0];
  let tau = 1;
  let window = maxLag;
  for (let k = 1; k <= maxLag; k++) {
    tau += 2 * rho[k];
    if (k >= c * tau) {
      window = k;
      break;
    }
  }
  tau = Math.max(tau, 1e-12);
  return { tau, window, effectiveSampleSize: n / tau };
}

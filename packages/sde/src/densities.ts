/**
 * Histograms on a common grid, Gaussian KDE and distances between densities (KL, Hellinger, the
 * marginal KL of docs/benchmarks.md), so that data and model are compared bin by bin.
 *
 * @example
 * const { mean: kl } = marginalKL(data, model, dim); // marginal KL on common grids
 */

import { DimensionError, InvalidArgumentError } from './errors.js';
import { column, quantile, variance } from './summary.js';
import { checkBatch, checkFinite, checkInteger, checkPositive } from './validate.js';

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

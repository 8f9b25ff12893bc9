/**
 * Statistics of samples made of independent runs (an ensemble of data runs, or the paths of a
 * simulation), and the comparison of two such sample sets with block-bootstrap noise levels.
 *
 * Runs and paths are treated alike: the mean and variance are pooled over every sample of every
 * run, and the lag-k products e_t e_{t+k} (e = x - pooled mean) are taken within a run only, never
 * across the boundary between two runs. The pooled ACF
 *
 *   gamma(k) = sum_r sum_{t + k < n_r} e_t e_{t+k} / sum_r (n_r - k),   rho(k) = gamma(k) / gamma(0)
 *
 * is the estimator of `acfPooled` (one implementation: `acfPooled` calls `acfPooledCoordinates`).
 * Unlike the average of each run's own normalised ACF it is not biased toward 0 when a run is not
 * much longer than the correlation time.
 *
 * Error bars come from a block bootstrap (Kunsch 1989; Politis & Romano 1994; `bootstrapBlocks`):
 * every sum above is accumulated per block, a pair (t, t + k) in the block of its head t, so a
 * replicate re-weights per-block sums with multinomial block counts and costs O(blocks x lags), not
 * a pass over the data. The replicate's mean is re-estimated too (exactly, from per-block sums of e
 * over the heads and the tails of the pairs), so the noise of the mean enters the noise of the ACF.
 */
import { autocorrelationTimeOf, bootstrapBlocks, bootstrapCounts, columnStd } from './bootstrap.js';
import {
  type HistogramGrid,
  hellinger,
  kde1d,
  klDivergence,
  marginalKL,
  silvermanBandwidth,
} from './densities.js';
import { DimensionError, InvalidArgumentError } from './errors.js';
import { nextPowerOfTwo, RealFft } from './fft.js';
import { Rng } from './rng.js';
import { column, mean, quantile } from './summary.js';
import { checkBatch, checkInteger } from './validate.js';

/**
 * Row bounds [0, n_1, n_1 + n_2, ..., N] of runs of the given lengths, for the `runs` arguments below.
 *
 * @example
 * runBounds([3, 5]); // Int32Array [0, 3, 8]
 */
export function runBounds(lengths: ArrayLike<number>): Int32Array {
  const out = new Int32Array(lengths.length + 1);
  for (let r = 0; r < lengths.length; r++) {
    checkInteger(`lengths[${r}]`, lengths[r], 1);
    out[r + 1] = out[r] + lengths[r];
  }
  return out;
}

/** Checks run bounds against `rows` samples: starts at 0, strictly increasing, ends at rows. */
function checkRuns(name: string, runs: Int32Array, rows: number): void {
  let ok = runs.length >= 2 && runs[0] === 0 && runs[runs.length - 1] === rows;
  for (let r = 1; ok && r < runs.length; r++) ok = runs[r] > runs[r - 1];
  if (!ok) {
    throw new DimensionError(
      name,
      `[${Array.from(runs.subarray(0, 6)).join(', ')}${runs.length > 6 ? ', ...' : ''}] are not increasing run bounds from 0 to ${rows}`,
      'pass runBounds(lengths) of the runs, which must add up to the number of samples',
    );
  }
}

/** Below this many multiply-adds per chunk the lag products are summed directly, above by FFT. */
const DIRECT_LAG_WORK = 1 << 15;
/** Chunks of a block longer than this are summed separately (the FFT size stays O(maxLag)). */
const CHUNK = 1 << 14;

/**
 * Per-unit sums of one centred coordinate e over the lag pairs (t, t + k stride) whose head t lies
 * in the unit and whose tail lies in the same run: s = sum e_t e_{t+k}, h = sum e_t, t = sum e_{t+k},
 * n = number of pairs; unit u at [u * width, (u + 1) * width) with width = maxLag + 1 grid lags.
 */
interface LagSums {
  readonly s: Float64Array;
  readonly h: Float64Array;
  readonly t: Float64Array;
  readonly n: Float64Array;
  readonly width: number;
}

/** Reusable FFT buffers of one size (cross-correlation of a chunk with its extension by maxLag). */
interface CrossPlan {
  fft: RealFft;
  a: Float64Array;
  b: Float64Array;
  ra: Float64Array;
  ia: Float64Array;
  rb: Float64Array;
  ib: Float64Array;
  corr: Float64Array;
}

function crossPlan(size: number): CrossPlan {
  const h = size / 2 + 1;
  return {
    fft: new RealFft(size),
    a: new Float64Array(size),
    b: new Float64Array(size),
    ra: new Float64Array(h),
    ia: new Float64Array(h),
    rb: new Float64Array(h),
    ib: new Float64Array(h),
    corr: new Float64Array(size),
  };
}

/**
 * Accumulates the lag sums of e (one coordinate, centred) into `out`. Blocks are [blocks[b],
 * blocks[b + 1]) inside the runs; `unitOf[b]` is the unit block b adds to. `prefix` (length
 * CHUNK + maxLag stride + 1) is scratch for the prefix sums of e over a chunk and its lag window. Pairs are summed directly for little work, otherwise by
 * overlap-save FFTs: a chunk a of L samples against b, the chunk extended by the lag window within
 * its run, in one FFT of size P >= L + window (no product wraps around).
 */
function accumulateLagSums(
  e: Float64Array,
  runs: Int32Array,
  blocks: Int32Array,
  unitOf: Int32Array,
  maxLag: number,
  stride: number,
  prefix: Float64Array,
  out: LagSums,
): void {
  const width = maxLag + 1;
  const window = maxLag * stride;
  const plans = new Map<number, CrossPlan>();
  let run = 0;
  for (let b = 0; b + 1 < blocks.length; b++) {
    const start = blocks[b];
    while (runs[run + 1] <= start) run++;
    const end = runs[run + 1];
    const o = unitOf[b] * width;
    for (let a = start; a < blocks[b + 1]; a += CHUNK) {
      const c = Math.min(blocks[b + 1], a + CHUNK);
      // Counts and sums of heads and tails from prefix sums over [a, min(end, c + window)):
      // heads t in [a, min(c, end - lag)), prefix[i] = sum of e over [a, a + i).
      const span = Math.min(end, c + window) - a;
      prefix[0] = 0;
      for (let i = 0; i < span; i++) prefix[i + 1] = prefix[i] + e[a + i];
      for (let k = 0; k < width; k++) {
        const lag = k * stride;
        const hi = Math.min(c, end - lag) - a;
        if (hi <= 0) continue;
        out.n[o + k] += hi;
        out.h[o + k] += prefix[hi];
        out.t[o + k] += prefix[hi + lag] - prefix[lag];
      }
      const len = c - a;
      if (len * width <= DIRECT_LAG_WORK || width <= 8) {
        for (let k = 0; k < width; k++) {
          const lag = k * stride;
          const hi = Math.min(c, end - lag);
          let s = 0;
          for (let t = a; t < hi; t++) s += e[t] * e[t + lag];
          out.s[o + k] += s;
        }
        continue;
      }
      const size = nextPowerOfTwo(len + window);
      let p = plans.get(size);
      if (!p) {
        p = crossPlan(size);
        plans.set(size, p);
      }
      p.a.fill(0);
      p.a.set(e.subarray(a, c));
      p.b.fill(0);
      p.b.set(e.subarray(a, Math.min(end, c + window)));
      p.fft.forward(p.a, p.ra, p.ia);
      p.fft.forward(p.b, p.rb, p.ib);
      // conj(A) B: the cross-correlation sum_t a_t b_{t+lag}.
      for (let k = 0; k < p.ra.length; k++) {
        const re = p.ra[k] * p.rb[k] + p.ia[k] * p.ib[k];
        const im = p.ra[k] * p.ib[k] - p.ia[k] * p.rb[k];
        p.ra[k] = re;
        p.ia[k] = im;
      }
      p.fft.inverse(p.ra, p.ia, p.corr);
      for (let k = 0; k < width; k++) out.s[o + k] += p.corr[k * stride];
    }
  }
}

function emptyLagSums(units: number, width: number): LagSums {
  return {
    s: new Float64Array(units * width),
    h: new Float64Array(units * width),
    t: new Float64Array(units * width),
    n: new Float64Array(units * width),
    width,
  };
}

/**
 * Normalised autocovariance rho(k) of weighted lag sums (weights per unit; all 1 when absent) into
 * `out`; returns gamma(0) and writes the weighted mean shift of e to `shift[0]`. The mean is
 * re-estimated from the weighted sums: with delta = sum w h(0) / sum w n(0),
 * gamma(k) = (sum w s - delta (sum w h + sum w t) + delta^2 sum w n) / sum w n.
 */
function weightedAcf(
  sums: LagSums,
  weights: Float64Array | null,
  out: Float64Array,
  shift: Float64Array,
): number {
  const width = sums.width;
  const units = sums.n.length / width;
  let h0 = 0;
  let n0 = 0;
  for (let u = 0; u < units; u++) {
    const w = weights ? weights[u] : 1;
    if (w === 0) continue;
    h0 += w * sums.h[u * width];
    n0 += w * sums.n[u * width];
  }
  const delta = h0 / n0;
  shift[0] = delta;
  let gamma0 = Number.NaN;
  for (let k = 0; k < width; k++) {
    let s = 0;
    let ht = 0;
    let n = 0;
    for (let u = 0; u < units; u++) {
      const w = weights ? weights[u] : 1;
      if (w === 0) continue;
      const i = u * width + k;
      s += w * sums.s[i];
      ht += w * (sums.h[i] + sums.t[i]);
      n += w * sums.n[i];
    }
    const gamma = n > 0 ? (s - delta * ht + delta * delta * n) / n : Number.NaN;
    if (k === 0) gamma0 = gamma;
    out[k] = gamma / gamma0;
  }
  return gamma0;
}

/**
 * The pooled normalised autocorrelation of every coordinate of samples made of independent runs:
 * mean and variance pooled over all samples, lag products within a run only,
 * rho_j(k) = gamma_j(k) / gamma_j(0) with gamma_j(k) = sum_r sum_{t + k < n_r} e_t e_{t+k} / sum_r (n_r - k)
 * (module comment). Lags k stride samples, k = 0..maxLag. Runs of any lengths; one run (the default)
 * is one stationary series, whose rho(k) is `acfCoordinates`' times n / (n - k).
 *
 * @example
 * // R runs of N samples each, stacked as R N rows of D values:
 * const [rho1, rho2] = acfPooledCoordinates(x, 2, runBounds(new Array(R).fill(N)), 100);
 */
export function acfPooledCoordinates(
  data: Float64Array,
  dim: number,
  runs: Int32Array | undefined,
  maxLag: number,
  stride = 1,
): Float64Array[] {
  const rows = checkBatch('data', data, dim, 2);
  const bounds = runs ?? Int32Array.of(0, rows);
  checkRuns('runs', bounds, rows);
  checkInteger('maxLag', maxLag, 0);
  checkInteger('stride', stride, 1);
  checkLagWindow('maxLag', bounds, maxLag * stride);
  // Chunks within runs only to bound the FFT size; every chunk adds to the one unit.
  const unitOf = new Int32Array(bounds.length - 1);
  const m = mean(data, dim);
  const e = new Float64Array(rows);
  const prefix = new Float64Array(CHUNK + maxLag * stride + 1);
  const shift = new Float64Array(1);
  const out: Float64Array[] = [];
  for (let j = 0; j < dim; j++) {
    for (let i = 0; i < rows; i++) e[i] = data[i * dim + j] - m[j];
    const sums = emptyLagSums(1, maxLag + 1);
    accumulateLagSums(e, bounds, bounds, unitOf, maxLag, stride, prefix, sums);
    const rho = new Float64Array(maxLag + 1);
    const gamma0 = weightedAcf(sums, null, rho, shift);
    if (!(gamma0 > 0)) {
      throw new InvalidArgumentError(
        `data coordinate ${j}`,
        'is constant, so its autocorrelation is undefined',
        'drop constant coordinates',
      );
    }
    out.push(rho);
  }
  return out;
}

/** The longest run must hold one pair at the largest lag. */
function checkLagWindow(name: string, runs: Int32Array, window: number): void {
  let longest = 0;
  for (let r = 0; r + 1 < runs.length; r++) longest = Math.max(longest, runs[r + 1] - runs[r]);
  if (window >= longest) {
    throw new InvalidArgumentError(
      name,
      `a lag of ${window} samples must be < the longest run (${longest} samples)`,
      'pass a smaller maxLag, or longer runs',
    );
  }
}

/** One sample set of `compareSamples`: rows = time, independent runs (or paths). */
export interface RunSamples {
  /** Row-major samples (rows x dim), the runs one after another. */
  readonly data: Float64Array;
  /** Row bounds of the runs (`runBounds`); default: one run. */
  readonly runs?: Int32Array;
  /** Samples per lag of the common lag grid (the coarse sampling interval / this set's); default 1. */
  readonly stride?: number;
}

/** Options of `compareSamples`. */
export interface CompareSamplesOptions {
  /** Largest lag of the ACFs, in steps of the common lag grid. */
  readonly maxLag: number;
  /** Bins of the marginal PDFs (default 64). */
  readonly bins?: number;
  /** PDF estimator, as `marginalKL` (default 'histogram'). */
  readonly method?: 'histogram' | 'kde';
  /** KL floor (default 1e-10, as `marginalKL`). */
  readonly floor?: number;
  /** Bootstrap replicates (default 200; at least 20). */
  readonly replicates?: number;
  /** Seed of the bootstrap (default 0): set A draws from stream 0, set B from stream 1. */
  readonly seed?: number;
  /** Most resampled units per set: more blocks are grouped, consecutively, into this many (default 500). */
  readonly maxUnits?: number;
  /**
   * Level of the pointwise ACF band and of the four flags of one coordinate together (default 0.95):
   * each flag (mean, std, PDF, ACF) is a test at level 1 - (1 - level) / 4 (Bonferroni), so a
   * comparison of two samples of one law flags nothing with probability >= level.
   */
  readonly level?: number;
}

/** Block bootstrap layout of one sample set. */
export interface BootstrapLayout {
  /** Block length in samples: max(5 integrated autocorrelation times, the lag window). */
  readonly blockLength: number;
  /** Blocks (never across a run boundary; runs shorter than a block are one block each). */
  readonly blocks: number;
  /** Resampled units: the blocks, grouped consecutively down to `maxUnits`. */
  readonly units: number;
  /** True when every run is one block. */
  readonly runsAsBlocks: boolean;
  /** Largest integrated autocorrelation time over the coordinates, in samples (`autocorrelationTimeOf`). */
  readonly autocorrelationTime: number;
}

/**
 * One set's statistics in `SampleComparison` (per coordinate unless said otherwise). Standard
 * errors and effective samples are NaN when the set is a single resampled block (no spread to
 * resample; a warning says so), as is every noise level of the comparison then.
 */
export interface SampleSideStats {
  readonly samples: number;
  readonly runs: number;
  readonly mean: Float64Array;
  /** Standard error of the mean (bootstrap). */
  readonly meanSe: Float64Array;
  /** Pooled standard deviation (1/N normalisation, as gamma(0)). */
  readonly std: Float64Array;
  readonly stdSe: Float64Array;
  /**
   * Effective number of independent samples, variance / SE(mean)^2 from the same bootstrap (at most
   * the number of samples): what the sample set is worth for the PDF and the moments.
   */
  readonly effectiveSamples: Float64Array;
  /** Pooled ACF on the common lag grid (`acfPooledCoordinates`), one array per coordinate. */
  readonly acf: Float64Array[];
  /** Bootstrap standard error of every ACF value. */
  readonly acfSe: Float64Array[];
  readonly layout: BootstrapLayout;
}

/** Result of `compareSamples`. */
export interface SampleComparison {
  readonly a: SampleSideStats;
  readonly b: SampleSideStats;
  readonly replicates: number;
  readonly level: number;
  /** Differences of the moments beyond z times their standard error (two-sided z tests, z = 2.50 at level 0.95). */
  readonly moments: {
    /** |mean_A - mean_B| > z sqrt(SE_A^2 + SE_B^2). */
    readonly meanSignificant: boolean[];
    /** |std_A - std_B| > z sqrt(SE_A^2 + SE_B^2). */
    readonly stdSignificant: boolean[];
  };
  readonly acf: {
    /** max over lags of |rho_A - rho_B| per coordinate. */
    readonly error: Float64Array;
    /**
     * Noise level of `error`: the 1 - (1 - level) / 4 quantile (0.9875) over replicates of max_k |Delta*(k) - Delta(k)|,
     * Delta = rho_A - rho_B (a simultaneous band over all lags). A larger error is significant.
     */
    readonly errorNoise: Float64Array;
    /** Pointwise half-width of the band of Delta(k) at `level`: z sqrt(SE_A(k)^2 + SE_B(k)^2), z = 1.96 at 0.95. */
    readonly band: Float64Array[];
    /** error > errorNoise. */
    readonly significant: boolean[];
  };
  readonly pdf: {
    /** KL(p_A || p_B) of the marginals, exactly `marginalKL`'s. */
    readonly kl: Float64Array;
    /** Bootstrap standard error of kl. */
    readonly klSe: Float64Array;
    /**
     * The part of kl that sampling noise alone produces: the bootstrap bias mean(KL*) - KL (the
     * plug-in KL of two finite samples of one law is positive, about (bins - 1) / (2 N_eff) per side).
     */
    readonly klNoise: Float64Array;
    readonly hellinger: Float64Array;
    readonly hellingerSe: Float64Array;
    /** kl - klNoise > z klSe (z of the moments): more than sampling noise. */
    readonly significant: boolean[];
    readonly grids: HistogramGrid[];
  };
  /** Notes on rough error bars (few blocks). */
  readonly warnings: string[];
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** Everything of one set that a replicate re-weights. */
interface SidePrep {
  rows: number;
  runs: Int32Array;
  layout: BootstrapLayout;
  mean: Float64Array;
  /** Per coordinate: lag sums per unit. */
  lagSums: LagSums[];
  /** Per coordinate: histogram counts (or kernel sums) per unit, bins wide. */
  pdfSums: Float64Array[];
  rng: Rng;
}

function prepareSide(
  name: string,
  set: RunSamples,
  dim: number,
  maxLag: number,
  units: number,
  grids: HistogramGrid[],
  method: 'histogram' | 'kde',
  seed: number,
  stream: number,
): SidePrep {
  const rows = checkBatch(`${name}.data`, set.data, dim, 2);
  const runs = set.runs ?? Int32Array.of(0, rows);
  checkRuns(`${name}.runs`, runs, rows);
  const stride = set.stride ?? 1;
  checkInteger(`${name}.stride`, stride, 1);
  const window = maxLag * stride;
  checkLagWindow('maxLag', runs, window);
  const tau = autocorrelationTimeOf(set.data, dim, runs).tau;
  // Blocks several autocorrelation times long and no shorter than the lag window, so that blocks
  // are nearly independent and a lag product rarely reaches past its block's neighbour.
  const blockLength = Math.max(1, Math.ceil(Math.max(5 * tau, window + 1)));
  const blocks = bootstrapBlocks(runs, blockLength);
  const count = blocks.bounds.length - 1;
  const u = Math.min(count, units);
  const unitOf = Int32Array.from({ length: count }, (_, b) => Math.floor((b * u) / count));
  const layout: BootstrapLayout = {
    blockLength,
    blocks: count,
    units: u,
    runsAsBlocks: blocks.runsAsBlocks,
    autocorrelationTime: tau,
  };
  const m = mean(set.data, dim);
  const e = new Float64Array(rows);
  const prefix = new Float64Array(CHUNK + window + 1);
  const lagSums: LagSums[] = [];
  const pdfSums: Float64Array[] = [];
  for (let j = 0; j < dim; j++) {
    for (let i = 0; i < rows; i++) e[i] = set.data[i * dim + j] - m[j];
    const sums = emptyLagSums(u, maxLag + 1);
    accumulateLagSums(e, runs, blocks.bounds, unitOf, maxLag, stride, prefix, sums);
    lagSums.push(sums);
    const grid = grids[j];
    const per = new Float64Array(u * grid.bins);
    if (method === 'histogram') {
      const inv = 1 / grid.width;
      for (let b = 0; b < count; b++) {
        const o = unitOf[b] * grid.bins;
        for (let i = blocks.bounds[b]; i < blocks.bounds[b + 1]; i++) {
          // The grid spans both sets, so every value lies in it (the top edge in the last bin).
          const k = Math.min(grid.bins - 1, Math.floor((set.data[i * dim + j] - grid.lo) * inv));
          per[o + k]++;
        }
      }
    } else {
      // A KDE is a sum of kernels: per-unit kernel sums with the whole set's bandwidth add up to it.
      const values = column(set.data, dim, j);
      const bandwidth = silvermanBandwidth(values);
      const norm = 1 / (bandwidth * Math.sqrt(2 * Math.PI));
      for (let b = 0, v = 0; v < u; v++) {
        const lo = blocks.bounds[b];
        while (b < count && unitOf[b] === v) b++;
        const hi = blocks.bounds[b];
        const o = v * grid.bins;
        if (hi - lo >= 2) {
          // kde1d normalises by its own count: times the count gives the plain kernel sum.
          const dens = kde1d(values.subarray(lo, hi), grid.centers, { bandwidth });
          for (let k = 0; k < grid.bins; k++) per[o + k] = dens[k] * (hi - lo);
        } else {
          for (let k = 0; k < grid.bins; k++)
            per[o + k] = norm * Math.exp(-0.5 * ((grid.centers[k] - values[lo]) / bandwidth) ** 2);
        }
      }
    }
    pdfSums.push(per);
  }
  return { rows, runs, layout, mean: m, lagSums, pdfSums, rng: Rng.fromSeed(seed, stream) };
}

/** Normalised weighted sum over units of per-unit bin sums into out (a probability vector). */
function weightedMass(
  per: Float64Array,
  bins: number,
  weights: Float64Array | null,
  out: Float64Array,
): void {
  out.fill(0);
  const units = per.length / bins;
  for (let u = 0; u < units; u++) {
    const w = weights ? weights[u] : 1;
    if (w === 0) continue;
    for (let k = 0; k < bins; k++) out[k] += w * per[u * bins + k];
  }
  let s = 0;
  for (let k = 0; k < bins; k++) s += out[k];
  for (let k = 0; k < bins; k++) out[k] /= s;
}

/**
 * Compares two sample sets made of independent runs (data and simulation), coordinate by
 * coordinate, with noise levels from a block bootstrap of each set (module comment): pooled means
 * and standard deviations with standard errors, the pooled ACFs (`acfPooledCoordinates`, the same
 * estimator on both sides) on a common lag grid with standard errors, the ACF error max_k |Delta(k)|
 * against its bootstrap noise level, KL(A || B) and the Hellinger distance of the marginals
 * (`marginalKL`'s values) with standard errors and the KL that sampling noise alone gives, and the
 * effective number of samples of each set. A difference is flagged `significant` when it exceeds
 * its noise: the four flags of a coordinate (mean, std, PDF, ACF) hold `level` together (Bonferroni).
 *
 * @example
 * const c = compareSamples({ data, runs: runBounds([5000, 5000]) }, { data: sim, runs: runBounds(new Array(8).fill(2001)) }, 1, { maxLag: 50 });
 * c.acf.error[0] > c.acf.errorNoise[0]; // the model's ACF differs by more than noise
 */
export function compareSamples(
  a: RunSamples,
  b: RunSamples,
  dim: number,
  options: CompareSamplesOptions,
): SampleComparison {
  checkInteger('dim', dim, 1);
  const maxLag = options.maxLag;
  checkInteger('maxLag', maxLag, 1);
  const replicates = options.replicates ?? 200;
  checkInteger('replicates', replicates, 20);
  const seed = options.seed ?? 0;
  checkInteger('seed', seed, 0);
  const maxUnits = options.maxUnits ?? 500;
  checkInteger('maxUnits', maxUnits, 2);
  const level = options.level ?? 0.95;
  if (!(level > 0.5 && level < 1))
    throw new InvalidArgumentError('level', `must lie in (0.5, 1), got ${level}`, 'pass e.g. 0.95');
  const method = options.method ?? 'histogram';
  checkBatch('a.data', a.data, dim, 2);
  checkBatch('b.data', b.data, dim, 2);
  const kl = marginalKL(a.data, b.data, dim, {
    bins: options.bins ?? 64,
    method,
    ...(options.floor !== undefined ? { floor: options.floor } : {}),
  });
  const floor = options.floor ?? 1e-10;
  const sides = [
    prepareSide('a', a, dim, maxLag, maxUnits, kl.grids, method, seed, 0),
    prepareSide('b', b, dim, maxLag, maxUnits, kl.grids, method, seed, 1),
  ];
  const width = maxLag + 1;
  const z = normalQuantile(0.5 + level / 2);
  // Four flags per coordinate (mean, std, PDF, ACF), each at the Bonferroni level.
  const perTest = 1 - (1 - level) / 4;
  const zTest = normalQuantile(0.5 + perTest / 2);

  // Point estimates (all weights 1) and replicates, side by side.
  const acfPoint = sides.map((s) => s.lagSums.map(() => new Float64Array(width)));
  const gamma0 = sides.map(() => new Float64Array(dim));
  const shift = new Float64Array(1);
  sides.forEach((s, i) => {
    s.lagSums.forEach((sums, j) => {
      gamma0[i][j] = weightedAcf(sums, null, acfPoint[i][j], shift);
      if (!(gamma0[i][j] > 0)) {
        throw new InvalidArgumentError(
          `${i === 0 ? 'a' : 'b'}.data coordinate ${j}`,
          'is constant, so its autocorrelation is undefined',
          'drop constant coordinates',
        );
      }
    });
  });
  // Replicate values, R rows: ACFs (per side and coordinate), means, stds, KL and Hellinger.
  const acfRep = sides.map(() => Array.from({ length: dim }, () => new Float64Array(replicates * width)));
  const meanRep = sides.map(() => new Float64Array(replicates * dim));
  const stdRep = sides.map(() => new Float64Array(replicates * dim));
  const klRep = new Float64Array(replicates * dim);
  const helRep = new Float64Array(replicates * dim);
  const weights = sides.map((s) => new Float64Array(s.layout.units));
  const masses = sides.map(() => kl.grids.map((g) => new Float64Array(g.bins)));
  const row = new Float64Array(width);
  for (let r = 0; r < replicates; r++) {
    sides.forEach((s, i) => {
      bootstrapCounts(s.layout.units, s.rng, weights[i]);
      for (let j = 0; j < dim; j++) {
        const g0 = weightedAcf(s.lagSums[j], weights[i], row, shift);
        acfRep[i][j].set(row, r * width);
        meanRep[i][r * dim + j] = s.mean[j] + shift[0];
        stdRep[i][r * dim + j] = Math.sqrt(Math.max(0, g0));
        weightedMass(s.pdfSums[j], kl.grids[j].bins, weights[i], masses[i][j]);
      }
    });
    for (let j = 0; j < dim; j++) {
      klRep[r * dim + j] = klDivergence(masses[0][j], masses[1][j], floor);
      helRep[r * dim + j] = hellinger(masses[0][j], masses[1][j]);
    }
  }

  // One resampled unit has no spread to resample: its noise is unknown (NaN), not zero, and so is
  // every noise level it enters; NaN fails every comparison, so nothing is flagged.
  const single = sides.map((s) => s.layout.units < 2);
  const unknown = single[0] || single[1];
  const nanIf = (flag: boolean, v: Float64Array) => (flag ? v.fill(Number.NaN) : v);
  const sideStats = sides.map((s, i): SampleSideStats => {
    const meanSe = nanIf(single[i], columnStd(meanRep[i], dim));
    const stdSe = nanIf(single[i], columnStd(stdRep[i], dim));
    const std = Float64Array.from(gamma0[i], Math.sqrt);
    const effectiveSamples = Float64Array.from({ length: dim }, (_, j) =>
      single[i] ? Number.NaN : meanSe[j] > 0 ? Math.min(s.rows, gamma0[i][j] / meanSe[j] ** 2) : s.rows,
    );
    return {
      samples: s.rows,
      runs: s.runs.length - 1,
      mean: s.mean,
      meanSe,
      std,
      stdSe,
      effectiveSamples,
      acf: acfPoint[i],
      acfSe: acfRep[i].map((rep) => nanIf(single[i], columnStd(rep, width))),
      layout: s.layout,
    };
  });
  const [sa, sb] = sideStats;

  const error = new Float64Array(dim);
  const errorNoise = new Float64Array(dim);
  const band: Float64Array[] = [];
  const maxDev = new Float64Array(replicates);
  for (let j = 0; j < dim; j++) {
    const pa = sa.acf[j];
    const pb = sb.acf[j];
    for (let k = 0; k < width; k++) error[j] = Math.max(error[j], Math.abs(pa[k] - pb[k]));
    for (let r = 0; r < replicates; r++) {
      let worst = 0;
      for (let k = 0; k < width; k++) {
        const d = acfRep[0][j][r * width + k] - acfRep[1][j][r * width + k] - (pa[k] - pb[k]);
        if (Math.abs(d) > worst) worst = Math.abs(d);
      }
      maxDev[r] = worst;
    }
    errorNoise[j] = unknown ? Number.NaN : quantile(Float64Array.from(maxDev).sort(), perTest);
    band.push(Float64Array.from({ length: width }, (_, k) => z * Math.hypot(sa.acfSe[j][k], sb.acfSe[j][k])));
  }

  const klSe = nanIf(unknown, columnStd(klRep, dim));
  const hellingerSe = nanIf(unknown, columnStd(helRep, dim));
  const klNoise = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    let s = 0;
    for (let r = 0; r < replicates; r++) s += klRep[r * dim + j];
    klNoise[j] = unknown ? Number.NaN : s / replicates - kl.kl[j];
  }

  const warnings: string[] = [];
  (['A', 'B'] as const).forEach((label, i) => {
    const l = sideStats[i].layout;
    if (l.units < 2) {
      warnings.push(
        `set ${label} is a single block (${l.runsAsBlocks ? 'one run' : `of ${l.blockLength} samples`}, 5 autocorrelation times or the lag window): its noise cannot be estimated, so no difference is flagged; pass more runs or paths, or longer ones`,
      );
    } else if (l.units < 20) {
      warnings.push(
        `set ${label} holds only ${l.units} independent block${l.units === 1 ? '' : 's'} (${l.runsAsBlocks ? 'whole runs' : `of ${l.blockLength} samples, 5 autocorrelation times or the lag window`}): its error bars are rough; more or longer runs make them reliable`,
      );
    }
  });

  return {
    a: sa,
    b: sb,
    replicates,
    level,
    moments: {
      meanSignificant: Array.from(
        sa.mean,
        (v, j) => Math.abs(v - sb.mean[j]) > zTest * Math.hypot(sa.meanSe[j], sb.meanSe[j]),
      ),
      stdSignificant: Array.from(
        sa.std,
        (v, j) => Math.abs(v - sb.std[j]) > zTest * Math.hypot(sa.stdSe[j], sb.stdSe[j]),
      ),
    },
    acf: {
      error,
      errorNoise,
      band,
      significant: Array.from(error, (v, j) => v > errorNoise[j]),
    },
    pdf: {
      kl: kl.kl,
      klSe,
      klNoise,
      hellinger: kl.hellinger,
      hellingerSe,
      significant: Array.from(kl.kl, (v, j) => v - klNoise[j] > zTest * klSe[j]),
      grids: kl.grids,
    },
    warnings,
  };
}

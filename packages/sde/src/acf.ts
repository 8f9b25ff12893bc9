/**
 * Autocorrelation functions (direct sums for short series, FFTs with cached plans for long ones,
 * segmented FFTs for very long ones), lagged covariances C(tau) and integrated autocorrelation times
 * for error bars. All sums are accumulated in float64.
 *
 * @example
 * const rho = acf(series.data, series.dim, 500); // normalised ACF averaged over coordinates
 */

import { DimensionError, InvalidArgumentError } from './errors.js';
import { nextPowerOfTwo, RealFft } from './fft.js';
import { Matrix } from './linalg.js';
import { acfPooledCoordinates } from './pooled.js';
import { mean } from './summary.js';
import { checkBatch, checkFinite, checkInteger, checkPositive } from './validate.js';

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

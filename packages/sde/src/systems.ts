/**
 * Built-in systems of the sdekit benchmarks (docs/benchmarks.md) with everything known about them
 * exactly: drifts, diffusions, scores, stationary densities and statistics, exact samplers of the
 * fast invariant measures, true averaged drifts.
 *
 * @example
 * const t1 = t1System();
 * const stats = t1Statistics(); // mean 0.021700, std 0.085181, ...
 */
import {
  DimensionError,
  InvalidArgumentError,
  NotPositiveDefiniteError,
  SingularMatrixError,
} from './errors.js';
import { cholesky, expm, lyapunovSolve, Matrix, matmul, transpose } from './linalg.js';
import { Rng } from './rng.js';
import type { SlowFastSystem } from './slowfast.js';
import type { SdeSystem } from './types.js';
import { checkFinite, checkInteger, checkPositive } from './validate.js';

// ---------------------------------------------------------------------------------------------
// T1: one-dimensional SDE with multiplicative noise (a reduced triad model) [G, reference code]
// ---------------------------------------------------------------------------------------------

/** Parameters of T1 (docs/benchmarks.md): f(x) = -Ft + a x + b x^2 - c x^3, g(x)^2 = (A - B x)^2 + s^2. */
export const T1_PARAMS = Object.freeze({
  a: -1.8091667,
  b: -0.0666667,
  c: 0.1666667,
  A: 0.1264911,
  B: -0.6324555,
  Ft: -0.04,
  s: 0.0632456,
});

const { a: T1a, b: T1b, c: T1c, A: T1A, B: T1B, Ft: T1Ft, s: T1s } = T1_PARAMS;

/** T1 drift f(x) = -Ft + a x + b x^2 - c x^3. */
export function t1Drift(x: number): number {
  return -T1Ft + x * (T1a + x * (T1b - T1c * x));
}

/** T1 diffusion g(x) = sqrt((A - B x)^2 + s^2) (scalar noise). */
export function t1Diffusion(x: number): number {
  const u = T1A - T1B * x;
  return Math.sqrt(u * u + T1s * T1s);
}

/** dg/dx = -B (A - B x) / g(x), for Milstein. */
export function t1DiffusionDerivative(x: number): number {
  const u = T1A - T1B * x;
  return (-T1B * u) / Math.sqrt(u * u + T1s * T1s);
}

function t1ScoreAt(x: number): number {
  const u = T1A - T1B * x;
  return (2 * (t1Drift(x) + T1B * u)) / (u * u + T1s * T1s);
}

/**
 * Exact stationary score of T1: s(x) = 2 (f(x) + B (A - B x)) / ((A - B x)^2 + s^2), from the
 * zero-flux Fokker-Planck solution p ~ exp(int 2 f / g^2) / g^2.
 *
 * @example
 * t1ExactScore(0.02); // about 0 near the mode
 */
export function t1ExactScore(x: number): number;
export function t1ExactScore(x: Float64Array): Float64Array;
export function t1ExactScore(x: number | Float64Array): number | Float64Array {
  if (typeof x === 'number') return t1ScoreAt(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = t1ScoreAt(x[i]);
  return out;
}

/**
 * T1 as an SdeSystem: dX = f(X) dt + g(X) dW (scalar noise, batched, with dg/dx for Milstein).
 *
 * @example
 * const bundle = simulate(t1System(), { x0: Float64Array.of(0), h: 1e-3, T: 100, saveEvery: 10, seed: 1 });
 */
export function t1System(): SdeSystem {
  return {
    dim: 1,
    noiseDim: 1,
    noise: 'scalar',
    additive: false,
    drift: (_t, x, out) => {
      out[0] = t1Drift(x[0]);
    },
    diffusion: (_t, x, out) => {
      out[0] = t1Diffusion(x[0]);
    },
    driftBatch: (_t, x, n, out) => {
      for (let i = 0; i < n; i++) out[i] = t1Drift(x[i]);
    },
    diffusionBatch: (_t, x, n, out) => {
      for (let i = 0; i < n; i++) out[i] = t1Diffusion(x[i]);
    },
    diffusionDerivative: (_t, x, out) => {
      out[0] = t1DiffusionDerivative(x[0]);
    },
  };
}

/** Tabulated log-density of T1: log p on a uniform grid, normalised (see t1StationaryDensity). */
interface T1Table {
  lo: number;
  step: number;
  logp: Float64Array;
  score: Float64Array;
}

let t1Table: T1Table | undefined;

/**
 * The grid [-4, 12] holds the mass of p to double precision: p at both ends is below 1e-40 of its
 * peak (for large |x| the score tends to -(2c / B^2) x, so the tails are Gaussian with variance
 * B^2 / (2c) = 1.2, much wider than the core).
 */
function getT1Table(): T1Table {
  if (t1Table) return t1Table;
  const lo = -4;
  const hi = 12;
  const cells = 1 << 17;
  const step = (hi - lo) / cells;
  const score = new Float64Array(cells + 1);
  for (let i = 0; i <= cells; i++) score[i] = t1ScoreAt(lo + i * step);
  // log p by integrating the score cell by cell with 3-point Gauss-Legendre (exact for polynomials
  // of degree 5; the score is smooth on the scale of the cell, so the error is ~step^6).
  const logp = new Float64Array(cells + 1);
  const gq = Math.sqrt(3 / 5);
  for (let i = 0; i < cells; i++) {
    const mid = lo + (i + 0.5) * step;
    const half = step / 2;
    const integral =
      half *
      ((5 / 9) * t1ScoreAt(mid - gq * half) +
        (8 / 9) * t1ScoreAt(mid) +
        (5 / 9) * t1ScoreAt(mid + gq * half));
    logp[i + 1] = logp[i] + integral;
  }
  let max = -Infinity;
  for (let i = 0; i <= cells; i++) max = Math.max(max, logp[i]);
  // Normalise with Simpson's rule on the density.
  let z = 0;
  for (let i = 0; i <= cells; i++) {
    const w = i === 0 || i === cells ? 1 : i % 2 === 1 ? 4 : 2;
    z += w * Math.exp(logp[i] - max);
  }
  z *= step / 3;
  const shift = max + Math.log(z);
  for (let i = 0; i <= cells; i++) logp[i] -= shift;
  t1Table = { lo, step, logp, score };
  return t1Table;
}

function t1DensityAt(x: number): number {
  const tab = getT1Table();
  const u = (x - tab.lo) / tab.step;
  const cells = tab.logp.length - 1;
  if (!(u >= 0 && u <= cells)) return 0; // beyond the table p < 1e-40 of its peak
  const i = Math.min(cells - 1, Math.floor(u));
  const s = u - i;
  // Cubic Hermite interpolation of log p with its exact derivative (the score).
  const h00 = (1 + 2 * s) * (1 - s) * (1 - s);
  const h10 = s * (1 - s) * (1 - s);
  const h01 = s * s * (3 - 2 * s);
  const h11 = s * s * (s - 1);
  const lp =
    h00 * tab.logp[i] +
    h10 * tab.step * tab.score[i] +
    h01 * tab.logp[i + 1] +
    h11 * tab.step * tab.score[i + 1];
  return Math.exp(lp);
}

/**
 * Exact stationary density of T1, p(x) = exp(int_0^x s(u) du) / Z, normalised numerically: log p is
 * integrated from the exact score by 3-point Gauss-Legendre on 131072 cells of [-4, 12] and
 * interpolated with cubic Hermite polynomials (relative error ~1e-12).
 *
 * @example
 * t1StationaryDensity(Float64Array.of(-0.1, 0, 0.1));
 */
export function t1StationaryDensity(x: number): number;
export function t1StationaryDensity(x: Float64Array): Float64Array;
export function t1StationaryDensity(x: number | Float64Array): number | Float64Array {
  if (typeof x === 'number') return t1DensityAt(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = t1DensityAt(x[i]);
  return out;
}

/** Exact statistics of a 1-D stationary density. */
export interface ExactStatistics1d {
  mean: number;
  std: number;
  skewness: number;
  /** Not excess: 3 for a Gaussian. */
  kurtosis: number;
  /** P(x < 0). */
  probNegative: number;
}

/** Moments of a tabulated density p_i on a uniform grid (Simpson's rule). */
function gridMoments(lo: number, step: number, p: Float64Array): ExactStatistics1d {
  const cells = p.length - 1;
  const w = (i: number) => (i === 0 || i === cells ? 1 : i % 2 === 1 ? 4 : 2) * (step / 3);
  let z = 0;
  let m1 = 0;
  for (let i = 0; i <= cells; i++) {
    z += w(i) * p[i];
    m1 += w(i) * p[i] * (lo + i * step);
  }
  const mean = m1 / z;
  let c2 = 0;
  let c3 = 0;
  let c4 = 0;
  let neg = 0;
  for (let i = 0; i <= cells; i++) {
    const x = lo + i * step;
    const e = x - mean;
    const wp = w(i) * p[i];
    c2 += wp * e * e;
    c3 += wp * e * e * e;
    c4 += wp * e * e * e * e;
  }
  c2 /= z;
  c3 /= z;
  c4 /= z;
  // P(x < 0): trapezoid on the cells left of 0 plus the partial cell (the grid need not hit 0).
  const i0 = Math.floor((0 - lo) / step);
  for (let i = 0; i < i0 && i < cells; i++) neg += (0.5 * (p[i] + p[i + 1]) * step) / z;
  if (i0 >= 0 && i0 < cells) {
    const frac = (0 - (lo + i0 * step)) / step;
    const pEnd = p[i0] + frac * (p[i0 + 1] - p[i0]);
    neg += (0.5 * (p[i0] + pEnd) * frac * step) / z;
  }
  return { mean, std: Math.sqrt(c2), skewness: c3 / c2 ** 1.5, kurtosis: c4 / (c2 * c2), probNegative: neg };
}

let t1Stats: ExactStatistics1d | undefined;

/**
 * Exact statistics of T1's stationary density by quadrature (docs/benchmarks.md: mean 0.021700,
 * std 0.085181, skewness 1.415, kurtosis 7.23).
 *
 * @example
 * t1Statistics().std; // 0.08518...
 */
export function t1Statistics(): ExactStatistics1d {
  if (t1Stats) return { ...t1Stats };
  const tab = getT1Table();
  const p = new Float64Array(tab.logp.length);
  for (let i = 0; i < p.length; i++) p[i] = Math.exp(tab.logp[i]);
  t1Stats = gridMoments(tab.lo, tab.step, p);
  return { ...t1Stats };
}

// ---------------------------------------------------------------------------------------------
// T2: two-dimensional asymmetric four-well with rotation [G, reference code]
// ---------------------------------------------------------------------------------------------

/** T2 parameters: U_i(x) = (x^2 - A_i^2)^2 + B_i x, Phi_true = [[1, -C], [C, 1]]. */
export const FOUR_WELL = Object.freeze({
  A: Object.freeze([1.0, 1.2]),
  B: Object.freeze([0.6, 0.3]),
  C: 0.8,
});

/** Phi_true = [[1, -C], [C, 1]] (a fresh copy). */
export function fourWellPhi(): Matrix {
  return Matrix.from([
    [1, -FOUR_WELL.C],
    [FOUR_WELL.C, 1],
  ]);
}

/** U(x1, x2) = U1(x1) + U2(x2) for a batch of 2-D points. */
export function fourWellPotential(points: Float64Array): Float64Array {
  if (points.length % 2 !== 0)
    throw new DimensionError(
      'points',
      `length ${points.length} is odd`,
      'pass a row-major batch of 2-D points',
    );
  const n = points.length / 2;
  const out = new Float64Array(n);
  const [A1, A2] = FOUR_WELL.A;
  const [B1, B2] = FOUR_WELL.B;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    out[i] = (x * x - A1 * A1) ** 2 + B1 * x + (y * y - A2 * A2) ** 2 + B2 * y;
  }
  return out;
}

/**
 * Exact score of T2, s = -grad U, for a batch of 2-D points (p is exactly proportional to exp(-U)).
 *
 * @example
 * fourWellScore(Float64Array.of(0, 0)); // [-0.6, -0.3]
 */
export function fourWellScore(points: Float64Array): Float64Array {
  if (points.length % 2 !== 0)
    throw new DimensionError(
      'points',
      `length ${points.length} is odd`,
      'pass a row-major batch of 2-D points',
    );
  const out = new Float64Array(points.length);
  const [A1, A2] = FOUR_WELL.A;
  const [B1, B2] = FOUR_WELL.B;
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    out[i] = -(4 * x * (x * x - A1 * A1) + B1);
    out[i + 1] = -(4 * y * (y * y - A2 * A2) + B2);
  }
  return out;
}

/**
 * T2 as an SdeSystem: dX = Phi_true (-grad U(X)) dt + sqrt(2) dW (additive scalar noise), with a
 * batched drift.
 *
 * @example
 * const bundle = simulate(fourWellSystem(), { x0: new Float64Array(2), paths: 100, h: 1e-3, T: 10, seed: 4 });
 */
export function fourWellSystem(): SdeSystem {
  const [A1, A2] = FOUR_WELL.A;
  const [B1, B2] = FOUR_WELL.B;
  const C = FOUR_WELL.C;
  const a1 = A1 * A1;
  const a2 = A2 * A2;
  const driftBatch = (_t: number, x: Float64Array, n: number, out: Float64Array): void => {
    for (let i = 0; i < 2 * n; i += 2) {
      const u = x[i];
      const v = x[i + 1];
      const s1 = -(4 * u * (u * u - a1) + B1);
      const s2 = -(4 * v * (v * v - a2) + B2);
      out[i] = s1 - C * s2;
      out[i + 1] = C * s1 + s2;
    }
  };
  return {
    dim: 2,
    noiseDim: 2,
    noise: 'scalar',
    additive: true,
    drift: (t, x, out) => driftBatch(t, x, 1, out),
    diffusion: (_t, _x, out) => {
      out[0] = Math.SQRT2;
    },
    driftBatch,
  };
}

/** Exact statistics of T2: per-coordinate marginals of p ~ exp(-U) (a product of 1-D densities). */
export interface FourWellStatistics {
  x1: ExactStatistics1d;
  x2: ExactStatistics1d;
  /** Phi_true in per-coordinate z-scored units: S^{-1} Phi S^{-1} with S = diag(std). */
  phiZScored: Matrix;
}

let fourWellStats: FourWellStatistics | undefined;

/**
 * Exact marginal statistics of T2 by quadrature of exp(-U_i) on [-4, 4] (docs/benchmarks.md: x1 mean
 * -0.46697, std 0.82411, P(x1 < 0) = 0.72946; x2 mean -0.35842, std 1.06052, P(x2 < 0) = 0.65182).
 *
 * @example
 * fourWellStatistics().x1.probNegative; // 0.7294...
 */
export function fourWellStatistics(): FourWellStatistics {
  if (!fourWellStats) {
    const cells = 1 << 15;
    const lo = -4;
    const step = 8 / cells;
    const marg = (A: number, B: number) => {
      const p = new Float64Array(cells + 1);
      for (let i = 0; i <= cells; i++) {
        const x = lo + i * step;
        p[i] = Math.exp(-((x * x - A * A) ** 2 + B * x));
      }
      return gridMoments(lo, step, p);
    };
    const x1 = marg(FOUR_WELL.A[0], FOUR_WELL.B[0]);
    const x2 = marg(FOUR_WELL.A[1], FOUR_WELL.B[1]);
    const phi = fourWellPhi();
    const s = [x1.std, x2.std];
    const z = new Matrix(2, 2);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) z.set(i, j, phi.get(i, j) / (s[i] * s[j]));
    fourWellStats = { x1, x2, phiZScored: z };
  }
  return {
    x1: { ...fourWellStats.x1 },
    x2: { ...fourWellStats.x2 },
    phiZScored: fourWellStats.phiZScored.clone(),
  };
}

// ---------------------------------------------------------------------------------------------
// Linear Ornstein-Uhlenbeck systems
// ---------------------------------------------------------------------------------------------

function checkOu(theta: Matrix, noise: Matrix): number {
  if (theta.rows !== theta.cols)
    throw new DimensionError('theta', `is ${theta.rows} x ${theta.cols}`, 'pass a square D x D matrix');
  if (noise.rows !== theta.rows) {
    throw new DimensionError(
      'noise',
      `has ${noise.rows} rows, theta is ${theta.rows} x ${theta.rows}`,
      'pass a D x m noise matrix Sigma',
    );
  }
  checkFinite('theta', theta.data);
  checkFinite('noise', noise.data);
  return theta.rows;
}

/**
 * Linear OU system dX = -Theta X dt + Sigma dW (Theta D x D, Sigma = noise D x m; general additive
 * noise, batched drift).
 *
 * @example
 * const ou = ouSystem(Matrix.from([[1, -0.5], [0.5, 2]]), Matrix.identity(2));
 */
export function ouSystem(theta: Matrix, noise: Matrix): SdeSystem {
  const d = checkOu(theta, noise);
  const m = noise.cols;
  const T = theta.data.slice();
  const G = noise.data.slice();
  const driftBatch = (_t: number, x: Float64Array, n: number, out: Float64Array): void => {
    for (let p = 0; p < n; p++) {
      const o = p * d;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += T[i * d + k] * x[o + k];
        out[o + i] = -s;
      }
    }
  };
  return {
    dim: d,
    noiseDim: m,
    noise: 'general',
    additive: true,
    drift: (t, x, out) => driftBatch(t, x, 1, out),
    diffusion: (_t, _x, out) => {
      out.set(G);
    },
    driftBatch,
  };
}

/**
 * Exact stationary covariance C0 of dX = -Theta X dt + Sigma dW: the solution of the Lyapunov
 * equation Theta C0 + C0 Theta^T = Sigma Sigma^T. Throws InvalidArgumentError when Theta has an
 * eigenvalue with non-positive real part (no stationary law), detected by Lyapunov's theorem.
 *
 * @example
 * ouStationaryCovariance(Matrix.from([[2]]), Matrix.from([[2]])); // [[1]]
 */
export function ouStationaryCovariance(theta: Matrix, noise: Matrix): Matrix {
  const dim = checkOu(theta, noise);
  // Stability test by Lyapunov's theorem: all eigenvalues of Theta have positive real part iff the
  // solution P of Theta P + P Theta^T = I exists and is positive definite.
  const unstable = (detail: string) =>
    new InvalidArgumentError(
      'theta',
      `has an eigenvalue with non-positive real part (${detail}), so the OU process has no stationary law`,
      'pass a stable drift matrix (all eigenvalues with positive real part)',
    );
  let p: Matrix;
  try {
    p = lyapunovSolve(theta, Matrix.identity(dim), 'theta');
  } catch (e) {
    if (e instanceof SingularMatrixError) throw unstable('two eigenvalues sum to zero');
    throw e;
  }
  try {
    cholesky(p, 'Lyapunov certificate');
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError)
      throw unstable('the Lyapunov certificate is not positive definite');
    throw e;
  }
  const c = lyapunovSolve(theta, matmul(noise, transpose(noise)), 'theta');
  // Symmetrise the round-off.
  const d = c.rows;
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (c.get(i, j) + c.get(j, i));
      c.set(i, j, v);
      c.set(j, i, v);
    }
  }
  return c;
}

/**
 * Exact stationary lagged covariance of the OU process, C(t) = E[x(s + t) x(s)^T] = exp(-Theta t) C0
 * for t >= 0 (and C(t) = C(-t)^T for t < 0).
 *
 * @example
 * ouCorrelation(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]]), 0.5).get(0, 0); // exp(-0.5)
 */
export function ouCorrelation(theta: Matrix, noise: Matrix, t: number): Matrix {
  if (!Number.isFinite(t))
    throw new InvalidArgumentError('t', `must be finite, got ${t}`, 'pass a finite lag');
  const c0 = ouStationaryCovariance(theta, noise);
  const a = new Matrix(theta.rows, theta.cols);
  const tt = Math.abs(t);
  for (let i = 0; i < a.data.length; i++) a.data[i] = -theta.data[i] * tt;
  const c = matmul(expm(a, 'theta * t'), c0);
  return t >= 0 ? c : transpose(c);
}

/** Options of `ouExactPath`. */
export interface OuExactPathOptions {
  /** Sampling interval. */
  dt: number;
  /** Number of samples. */
  length: number;
  seed: number;
  /** RNG stream of the seed (one per independent run). Default 0. */
  stream?: number;
  /** Start: a state, or a draw from the stationary law N(0, C0) (default). */
  x0?: Float64Array;
}

/**
 * An exact sample path of dX = -Theta X dt + Sigma dW at sampling interval dt (no discretisation
 * error): X_{t+dt} = A X_t + L xi with A = exp(-Theta dt), L L^T = C0 - A C0 A^T, xi ~ N(0, I), C0
 * the stationary covariance. Returns `length` samples (row-major, length x D).
 *
 * @example
 * const x = ouExactPath(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]]), { dt: 0.01, length: 1e5, seed: 1 });
 */
export function ouExactPath(theta: Matrix, noise: Matrix, options: OuExactPathOptions): Float64Array {
  const d = checkOu(theta, noise);
  checkPositive('dt', options.dt);
  checkInteger('length', options.length, 1);
  const c0 = ouStationaryCovariance(theta, noise);
  const scaled = new Matrix(d, d);
  for (let i = 0; i < d * d; i++) scaled.data[i] = -theta.data[i] * options.dt;
  const a = expm(scaled, 'theta * dt');
  const q = matmul(matmul(a, c0), transpose(a));
  for (let i = 0; i < d * d; i++) q.data[i] = c0.data[i] - q.data[i];
  // Symmetrise against round-off before the factorisation.
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++)
      q.data[i * d + j] = q.data[j * d + i] = 0.5 * (q.data[i * d + j] + q.data[j * d + i]);
  const l = cholesky(q, 'C0 - A C0 A^T');
  const rng = Rng.fromSeed(options.seed, options.stream ?? 0);
  const out = new Float64Array(options.length * d);
  const xi = new Float64Array(d);
  if (options.x0) {
    if (options.x0.length !== d)
      throw new DimensionError('x0', `has length ${options.x0.length}, expected ${d}`, 'pass one state');
    checkFinite('x0', options.x0);
    out.set(options.x0);
  } else {
    const l0 = cholesky(c0, 'C0');
    rng.fillNormal(xi);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += l0.data[i * d + k] * xi[k];
      out[i] = s;
    }
  }
  const A = a.data;
  const L = l.data;
  for (let t = 1; t < options.length; t++) {
    rng.fillNormal(xi);
    const o = t * d;
    const p = o - d;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += A[i * d + k] * out[p + k];
      for (let k = 0; k <= i; k++) s += L[i * d + k] * xi[k];
      out[o + i] = s;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// M1: multiscale double-well (averaging with a flow)
// ---------------------------------------------------------------------------------------------

/** Slow noise amplitude sigma = 0.5 of M1 and M2. */
export const M1_SIGMA = 0.5;
export const M2_SIGMA = 0.5;

function checkM1(m: number): void {
  checkInteger('m', m, 2);
  if (m % 2 !== 0)
    throw new InvalidArgumentError('m', `must be even (h = m / 2), got ${m}`, 'pass m in {2, 10, 20}');
}

/**
 * M1 slow drift b(x, y) = (x - x^3) / (1 + (1/h) sum_{i<=h} y_i^2) + (beta/h) sum_{i>h} tanh(x - y_i),
 * h = m / 2 (docs/benchmarks.md M1). Reads y[offset .. offset + m).
 *
 * @example
 * m1SlowDrift(0.5, Float64Array.of(0, 0), 2); // 0.375 + 0.5 tanh(0.5)
 */
export function m1SlowDrift(x: number, y: Float64Array, m: number, beta = 0.5, offset = 0): number {
  const h = m / 2;
  let q = 0;
  for (let i = 0; i < h; i++) q += y[offset + i] * y[offset + i];
  let t = 0;
  for (let i = h; i < m; i++) t += Math.tanh(x - y[offset + i]);
  return (x - x * x * x) / (1 + q / h) + (beta / h) * t;
}

/** Options of the M1 system. */
export interface M1Options {
  /** Fast dimension m (even). */
  m: number;
  /** Scale separation n. */
  n: number;
  /** Coupling beta (default 0.5). */
  beta?: number;
}

/**
 * The full M1 slow-fast system: dX = b(X, Y) dt + 0.5 dW, dY = -n (Y + Y^3) dt + sqrt(2 n) dW'
 * (fast coordinates independent, pi_0 ~ exp(-sum y^2/2 + y^4/4)).
 *
 * @example
 * const sys = m1System({ m: 2, n: 100 });
 */
export function m1System(opts: M1Options): SlowFastSystem {
  checkM1(opts.m);
  checkPositive('n', opts.n);
  const m = opts.m;
  const beta = opts.beta ?? 0.5;
  if (!Number.isFinite(beta))
    throw new InvalidArgumentError('beta', `must be finite, got ${beta}`, 'pass a finite coupling');
  return {
    slowDim: 1,
    fastDim: m,
    n: opts.n,
    slowNoise: 'scalar',
    slowNoiseDim: 1,
    fastNoise: 'scalar',
    fastNoiseDim: m,
    slowDrift: (x, y, out) => {
      out[0] = m1SlowDrift(x[0], y, m, beta);
    },
    slowDiffusion: (_x, _y, out) => {
      out[0] = M1_SIGMA;
    },
    fastDrift: (y, out) => {
      for (let i = 0; i < m; i++) out[i] = -(y[i] + y[i] * y[i] * y[i]);
    },
    fastDiffusion: (_y, out) => {
      out[0] = Math.SQRT2;
    },
  };
}

/**
 * Exact samples of M1's fast invariant law pi_0(y) ~ exp(-y^2/2 - y^4/4) per coordinate, by
 * rejection from N(0, 1) with acceptance probability exp(-y^4/4). Returns count * m values.
 *
 * @example
 * const y = sampleM1Fast(Rng.fromSeed(3), 1000, 2);
 */
export function sampleM1Fast(rng: Rng, count: number, m: number): Float64Array {
  checkInteger('count', count, 1);
  checkInteger('m', m, 1);
  const out = new Float64Array(count * m);
  const buf = new Float64Array(4096);
  const u = new Float64Array(4096);
  let k = buf.length;
  for (let i = 0; i < out.length; ) {
    if (k === buf.length) {
      rng.fillNormal(buf);
      rng.fillUniform(u);
      k = 0;
    }
    const y = buf[k];
    const v = u[k];
    k++;
    if (v < Math.exp(-0.25 * y * y * y * y)) out[i++] = y;
  }
  return out;
}

/** Options of m1TrueDrift. */
export interface M1DriftOptions {
  m: number;
  beta?: number;
  /** Monte Carlo samples of pi_0 (default 200000): standard error ~ 1 / sqrt(samples). */
  samples?: number;
  seed: number;
}

/**
 * True averaged drift of M1, bbar(x) = E_{y ~ pi_0} b(x, y), by Monte Carlo over exact samples of
 * pi_0 (the same samples for every x, so the estimate is smooth in x). Uses the exchangeability of
 * the fast coordinates: bbar(x) = (x - x^3) E[1 / (1 + |y_{1..h}|^2 / h)] + beta E[tanh(x - y_1)],
 * the second expectation averaged over all samples of all coordinates h+1..m.
 *
 * @example
 * const bbar = m1TrueDrift(Float64Array.of(-1, 0, 1), { m: 2, seed: 1 });
 */
export function m1TrueDrift(xs: Float64Array, opts: M1DriftOptions): Float64Array {
  checkM1(opts.m);
  checkFinite('xs', xs);
  const samples = opts.samples ?? 200000;
  checkInteger('samples', samples, 1);
  const beta = opts.beta ?? 0.5;
  const m = opts.m;
  const h = m / 2;
  const y = sampleM1Fast(Rng.fromSeed(opts.seed, 0), samples, m);
  let kMean = 0;
  for (let s = 0; s < samples; s++) {
    let q = 0;
    for (let i = 0; i < h; i++) q += y[s * m + i] * y[s * m + i];
    kMean += 1 / (1 + q / h);
  }
  kMean /= samples;
  const tail = new Float64Array(samples * h);
  for (let s = 0; s < samples; s++) for (let i = 0; i < h; i++) tail[s * h + i] = y[s * m + h + i];
  const out = new Float64Array(xs.length);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    let t = 0;
    for (let i = 0; i < tail.length; i++) t += Math.tanh(x - tail[i]);
    out[k] = (x - x * x * x) * kMean + (beta * t) / tail.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// M2: tagged particle in a solvent (averaging with a flow)
// ---------------------------------------------------------------------------------------------

/** M2 constants (docs/benchmarks.md): phi(r) = a exp(-|r|^2/(2 l^2)), W with k, g and centre c. */
export const M2_PARAMS = Object.freeze({ a: 1, l: 0.7, k: 1, g: 0.1, c: 0.5 });

/** Options of the M2 system. */
export interface M2Options {
  /** Spatial dimension d (1 or 2). */
  d: number;
  /** Number of solvent particles N. */
  N: number;
  /** Scale separation n (only for m2System). */
  n?: number;
}

function checkM2(d: number, N: number): void {
  checkInteger('d', d, 1);
  checkInteger('N', N, 1);
}

/**
 * M2 slow drift b(x, y) = -grad V(x) - (1/N) sum_j grad phi(x - y_j) with V = |x|^4/4 - |x|^2/2,
 * grad phi(r) = -(a / l^2) r exp(-|r|^2 / (2 l^2)); y holds particle j, coordinate c at j * d + c.
 *
 * @example
 * const out = new Float64Array(1);
 * m2SlowDrift(Float64Array.of(0.3), Float64Array.of(0.5, 0.5), out, 1, 2);
 */
export function m2SlowDrift(x: Float64Array, y: Float64Array, out: Float64Array, d: number, N: number): void {
  const { a, l } = M2_PARAMS;
  const il2 = 1 / (l * l);
  let r2 = 0;
  for (let c = 0; c < d; c++) r2 += x[c] * x[c];
  for (let c = 0; c < d; c++) out[c] = -(r2 * x[c] - x[c]);
  for (let j = 0; j < N; j++) {
    let q = 0;
    for (let c = 0; c < d; c++) {
      const r = x[c] - y[j * d + c];
      q += r * r;
    }
    const w = ((a * il2) / N) * Math.exp(-0.5 * q * il2);
    // -(1/N) grad phi(r) = +(a / (N l^2)) r exp(...)
    for (let c = 0; c < d; c++) out[c] += w * (x[c] - y[j * d + c]);
  }
}

/**
 * The full M2 slow-fast system: dX = b(X, Y) dt + 0.5 dW, dY = -n grad W(Y) dt + sqrt(2 n) dW' with
 * W(y) = (k/2) sum_j |y_j - c|^2 + (g/2) sum_{i<j} |y_i - y_j|^2.
 *
 * @example
 * const sys = m2System({ d: 1, N: 10, n: 100 });
 */
export function m2System(opts: M2Options): SlowFastSystem {
  checkM2(opts.d, opts.N);
  checkPositive('n', opts.n ?? Number.NaN);
  const { d, N } = opts;
  const { k, g, c } = M2_PARAMS;
  const mean = new Float64Array(d);
  return {
    slowDim: d,
    fastDim: N * d,
    n: opts.n as number,
    slowNoise: 'scalar',
    slowNoiseDim: d,
    fastNoise: 'scalar',
    fastNoiseDim: N * d,
    slowDrift: (x, y, out) => m2SlowDrift(x, y, out, d, N),
    slowDiffusion: (_x, _y, out) => {
      out[0] = M2_SIGMA;
    },
    fastDrift: (y, out) => {
      // dW/dy_j = k (y_j - c) + g (N y_j - sum_i y_i)
      mean.fill(0);
      for (let j = 0; j < N; j++) for (let q = 0; q < d; q++) mean[q] += y[j * d + q];
      for (let j = 0; j < N; j++) {
        for (let q = 0; q < d; q++) {
          const v = y[j * d + q];
          out[j * d + q] = -(k * (v - c) + g * (N * v - mean[q]));
        }
      }
    },
    fastDiffusion: (_y, out) => {
      out[0] = Math.SQRT2;
    },
  };
}

/**
 * Precision matrix P of one spatial coordinate of pi_0 ~ exp(-W): P = (k + g N) I - g 1 1^T
 * (N x N); the d coordinates are independent with the same P and mean c.
 */
export function m2FastPrecision(N: number): Matrix {
  checkInteger('N', N, 1);
  const { k, g } = M2_PARAMS;
  const p = new Matrix(N, N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) p.set(i, j, (i === j ? k + g * N : 0) - g);
  return p;
}

/**
 * Exact samples of M2's Gaussian pi_0: for each spatial coordinate, y = c + L^{-T} z with P = L L^T
 * the Cholesky factor of the precision (so Cov = P^{-1}). Returns count * N * d values, particle j
 * coordinate q of sample s at (s * N + j) * d + q.
 *
 * @example
 * const y = sampleM2Fast(Rng.fromSeed(1), 1000, { d: 2, N: 10 });
 */
export function sampleM2Fast(rng: Rng, count: number, opts: M2Options): Float64Array {
  checkInteger('count', count, 1);
  checkM2(opts.d, opts.N);
  const { d, N } = opts;
  const L = cholesky(m2FastPrecision(N), 'M2 precision').data;
  const out = new Float64Array(count * N * d);
  const z = new Float64Array(N);
  for (let s = 0; s < count; s++) {
    for (let q = 0; q < d; q++) {
      rng.fillNormal(z);
      // Back substitution L^T v = z.
      for (let i = N - 1; i >= 0; i--) {
        let v = z[i];
        for (let j = i + 1; j < N; j++) v -= L[j * N + i] * z[j];
        z[i] = v / L[i * N + i];
      }
      for (let j = 0; j < N; j++) out[(s * N + j) * d + q] = M2_PARAMS.c + z[j];
    }
  }
  return out;
}

/**
 * Exact averaged drift of M2 in closed form. Each solvent particle is marginally N(c, s2 I) with
 * s2 = (P^{-1})_{jj} = 1/(k + g N) + g / (k (k + g N)) (Sherman-Morrison), and a Gaussian kernel
 * averaged over a Gaussian is Gaussian:
 *   bbar(x) = -(|x|^2 - 1) x + a (l^2/(l^2 + s2))^{d/2} (x - c) / (l^2 + s2) exp(-|x - c|^2 / (2 (l^2 + s2))).
 * Points are row-major (point i, coordinate q at i * d + q).
 *
 * @example
 * const bbar = m2TrueDrift(Float64Array.of(-1, 0, 1), { d: 1, N: 10 });
 */
export function m2TrueDrift(xs: Float64Array, opts: M2Options): Float64Array {
  checkM2(opts.d, opts.N);
  const { d, N } = opts;
  if (xs.length % d !== 0)
    throw new DimensionError(
      'xs',
      `length ${xs.length} is not a multiple of d = ${d}`,
      'pass row-major points',
    );
  checkFinite('xs', xs);
  const { a, l, k, g, c } = M2_PARAMS;
  const alpha = k + g * N;
  const s2 = 1 / alpha + g / (alpha * k);
  const v = l * l + s2;
  const amp = a * ((l * l) / v) ** (d / 2);
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i += d) {
    let r2 = 0;
    let q2 = 0;
    for (let q = 0; q < d; q++) {
      r2 += xs[i + q] * xs[i + q];
      q2 += (xs[i + q] - c) * (xs[i + q] - c);
    }
    const e = (amp / v) * Math.exp(-q2 / (2 * v));
    for (let q = 0; q < d; q++) out[i + q] = -(r2 - 1) * xs[i + q] + e * (xs[i + q] - c);
  }
  return out;
}

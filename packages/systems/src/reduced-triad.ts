/**
 * The reduced triad model (benchmark T1, docs/benchmarks.md): a one-dimensional SDE with
 * multiplicative noise, with everything known about it exactly: drift, diffusion, score, stationary
 * density and its statistics.
 *
 * @example
 * const triad = reducedTriadSystem();
 * const stats = reducedTriadStatistics(); // mean 0.021700, std 0.085181, ...
 */
import type { SdeSystem } from '@sdekit/sde';
import { type ExactStatistics1d, gridMoments } from './quadrature.js';

/** Parameters of T1 (docs/benchmarks.md): f(x) = -Ft + a x + b x^2 - c x^3, g(x)^2 = (A - B x)^2 + s^2. */
export const REDUCED_TRIAD = Object.freeze({
  a: -1.8091667,
  b: -0.0666667,
  c: 0.1666667,
  A: 0.1264911,
  B: -0.6324555,
  Ft: -0.04,
  s: 0.0632456,
});

const { a: ka, b: kb, c: kc, A: kA, B: kB, Ft: kFt, s: ks } = REDUCED_TRIAD;

/** T1 drift f(x) = -Ft + a x + b x^2 - c x^3. */
export function reducedTriadDrift(x: number): number {
  return -kFt + x * (ka + x * (kb - kc * x));
}

/** T1 diffusion g(x) = sqrt((A - B x)^2 + s^2) (scalar noise). */
export function reducedTriadDiffusion(x: number): number {
  const u = kA - kB * x;
  return Math.sqrt(u * u + ks * ks);
}

/** dg/dx = -B (A - B x) / g(x), for Milstein. */
export function reducedTriadDiffusionDerivative(x: number): number {
  const u = kA - kB * x;
  return (-kB * u) / Math.sqrt(u * u + ks * ks);
}

function scoreAt(x: number): number {
  const u = kA - kB * x;
  return (2 * (reducedTriadDrift(x) + kB * u)) / (u * u + ks * ks);
}

/**
 * Exact stationary score of T1: s(x) = 2 (f(x) + B (A - B x)) / ((A - B x)^2 + s^2), from the
 * zero-flux Fokker-Planck solution p ~ exp(int 2 f / g^2) / g^2.
 *
 * @example
 * reducedTriadScore(0.02); // about 0 near the mode
 */
export function reducedTriadScore(x: number): number;
export function reducedTriadScore(x: Float64Array): Float64Array;
export function reducedTriadScore(x: number | Float64Array): number | Float64Array {
  if (typeof x === 'number') return scoreAt(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = scoreAt(x[i]);
  return out;
}

/**
 * T1 as an SdeSystem: dX = f(X) dt + g(X) dW (scalar noise, batched, with dg/dx for Milstein).
 *
 * @example
 * const bundle = simulate(reducedTriadSystem(), { x0: Float64Array.of(0), h: 1e-3, T: 100, saveEvery: 10, seed: 1 });
 */
export function reducedTriadSystem(): SdeSystem {
  return {
    dim: 1,
    noiseDim: 1,
    noise: 'scalar',
    additive: false,
    drift: (_t, x, out) => {
      out[0] = reducedTriadDrift(x[0]);
    },
    diffusion: (_t, x, out) => {
      out[0] = reducedTriadDiffusion(x[0]);
    },
    driftBatch: (_t, x, n, out) => {
      for (let i = 0; i < n; i++) out[i] = reducedTriadDrift(x[i]);
    },
    diffusionBatch: (_t, x, n, out) => {
      for (let i = 0; i < n; i++) out[i] = reducedTriadDiffusion(x[i]);
    },
    diffusionDerivative: (_t, x, out) => {
      out[0] = reducedTriadDiffusionDerivative(x[0]);
    },
  };
}

/** Tabulated log-density of T1: log p on a uniform grid, normalised (see reducedTriadStationaryDensity). */
interface DensityTable {
  lo: number;
  step: number;
  logp: Float64Array;
  score: Float64Array;
}

let table: DensityTable | undefined;

/**
 * The grid [-4, 12] holds the mass of p to double precision: p at both ends is below 1e-40 of its
 * peak (for large |x| the score tends to -(2c / B^2) x, so the tails are Gaussian with variance
 * B^2 / (2c) = 1.2, much wider than the core).
 */
function densityTable(): DensityTable {
  if (table) return table;
  const lo = -4;
  const hi = 12;
  const cells = 1 << 17;
  const step = (hi - lo) / cells;
  const score = new Float64Array(cells + 1);
  for (let i = 0; i <= cells; i++) score[i] = scoreAt(lo + i * step);
  // log p by integrating the score cell by cell with 3-point Gauss-Legendre (exact for polynomials
  // of degree 5; the score is smooth on the scale of the cell, so the error is ~step^6).
  const logp = new Float64Array(cells + 1);
  const gq = Math.sqrt(3 / 5);
  for (let i = 0; i < cells; i++) {
    const mid = lo + (i + 0.5) * step;
    const half = step / 2;
    const integral =
      half *
      ((5 / 9) * scoreAt(mid - gq * half) + (8 / 9) * scoreAt(mid) + (5 / 9) * scoreAt(mid + gq * half));
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
  table = { lo, step, logp, score };
  return table;
}

function densityAt(x: number): number {
  const tab = densityTable();
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
 * reducedTriadStationaryDensity(Float64Array.of(-0.1, 0, 0.1));
 */
export function reducedTriadStationaryDensity(x: number): number;
export function reducedTriadStationaryDensity(x: Float64Array): Float64Array;
export function reducedTriadStationaryDensity(x: number | Float64Array): number | Float64Array {
  if (typeof x === 'number') return densityAt(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = densityAt(x[i]);
  return out;
}

let stats: ExactStatistics1d | undefined;

/**
 * Exact statistics of T1's stationary density by quadrature (docs/benchmarks.md: mean 0.021700,
 * std 0.085181, skewness 1.415, kurtosis 7.23).
 *
 * @example
 * reducedTriadStatistics().std; // 0.08518...
 */
export function reducedTriadStatistics(): ExactStatistics1d {
  if (stats) return { ...stats };
  const tab = densityTable();
  const p = new Float64Array(tab.logp.length);
  for (let i = 0; i < p.length; i++) p[i] = Math.exp(tab.logp[i]);
  stats = gridMoments(tab.lo, tab.step, p);
  return { ...stats };
}

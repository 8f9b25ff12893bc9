/**
 * Diagnostics of Kuramoto-Sivashinsky fields and trajectories: energy, spatial mean (a conserved
 * quantity of KS), power spectrum, and the leading Lyapunov exponent (Benettin et al. 1980,
 * Meccanica 15, 9-20: two nearby trajectories with periodic renormalisation of their separation).
 */
import {
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkPositive,
  InvalidArgumentError,
  isPowerOfTwo,
  mean,
  RealFft,
  wholeMultiple,
} from '@sdekit/sde';
import { randomSmoothField } from './simulate.js';
import { KsSolver } from './solver.js';

function checkField(u: Float64Array): void {
  if (!(u instanceof Float64Array) || u.length === 0) {
    throw new InvalidArgumentError(
      'u',
      'must be a non-empty Float64Array',
      'pass the field on the grid points',
    );
  }
  checkFinite('u', u);
}

/**
 * Spatial mean (1/N) sum_j u_j, the grid version of (1/L) int_0^L u dx. KS conserves it exactly
 * (the nonlinear and linear terms are derivatives).
 *
 * @example
 * spatialMean(Float64Array.from([1, 2, 3, 6])); // 3
 */
export function spatialMean(u: Float64Array): number {
  checkField(u);
  return mean(u)[0];
}

/**
 * Energy (1/(2N)) sum_j u_j^2, the grid version of (1/(2L)) int_0^L u^2 dx.
 *
 * @example
 * energy(Float64Array.from([1, -1, 1, -1])); // 0.5
 */
export function energy(u: Float64Array): number {
  checkField(u);
  let s = 0;
  for (let j = 0; j < u.length; j++) s += u[j] * u[j];
  return s / (2 * u.length);
}

/** Result of {@link powerSpectrum}. */
export interface PowerSpectrum {
  /** k_m = 2 pi m / L, m = 0..N/2. */
  readonly wavenumbers: Float64Array;
  /**
   * Power per non-negative wavenumber, normalised so that sum_m power[m] = (1/N) sum_j u_j^2
   * (Parseval): power[m] = c_m |U_m|^2 / N^2 with c_m = 2 for 0 < m < N/2, 1 otherwise.
   */
  readonly power: Float64Array;
}

/**
 * One-sided power spectrum of a periodic field u (length N, a power of two) on [0, L).
 *
 * @example
 * const u = new Float64Array(64).map((_, j) => Math.sin((2 * Math.PI * 3 * j) / 64));
 * powerSpectrum(u, 22).power[3]; // 0.5 (the mean square of a unit sine)
 */
export function powerSpectrum(u: Float64Array, L: number): PowerSpectrum {
  checkField(u);
  checkPositive('L', L);
  const N = u.length;
  if (!isPowerOfTwo(N) || N < 2) {
    throw new InvalidArgumentError(
      'u',
      `length must be a power of two >= 2, got ${N}`,
      'pass the field on a power-of-two grid',
    );
  }
  const bins = N / 2 + 1;
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  new RealFft(N).forward(u, re, im);
  const wavenumbers = new Float64Array(bins);
  const power = new Float64Array(bins);
  for (let m = 0; m < bins; m++) {
    wavenumbers[m] = (2 * Math.PI * m) / L;
    const c = m === 0 || m === N / 2 ? 1 : 2;
    power[m] = (c * (re[m] * re[m] + im[m] * im[m])) / (N * N);
  }
  return { wavenumbers, power };
}

/** Options of {@link leadingLyapunovExponent}. */
export interface LyapunovOptions {
  readonly L: number;
  readonly N: number;
  readonly h: number;
  readonly dealias?: boolean;
  /** Initial condition; otherwise `randomSmoothField({ N, seed })`. */
  readonly u0?: Float64Array;
  /** Seed of the initial condition (stream 0) and of the perturbation direction (stream 1). */
  readonly seed: number;
  /** Time to reach the attractor before measuring (multiple of h; default 200). */
  readonly spinUp?: number;
  /** Measured time (multiple of renormEvery). */
  readonly T: number;
  /** Time between renormalisations (multiple of h; default 1). */
  readonly renormEvery?: number;
  /** RMS size of the separation after each renormalisation (default 1e-7). */
  readonly separation?: number;
  /** Number of blocks for the standard error (default 10). */
  readonly blocks?: number;
}

/** Result of {@link leadingLyapunovExponent}. */
export interface LyapunovEstimate {
  /** (1/T) sum log(d_i / d_0): the leading Lyapunov exponent. */
  readonly exponent: number;
  /**
   * Standard error from the spread of the block means (batch means; the blocks are long compared
   * with the decorrelation time of the finite-time exponents).
   */
  readonly standardError: number;
  /** Finite-time exponents of the blocks. */
  readonly blockExponents: Float64Array;
  readonly renormalisations: number;
}

/**
 * Leading Lyapunov exponent of KS by two nearby trajectories with periodic renormalisation
 * (Benettin et al. 1980): after spin-up, a zero-mean smooth perturbation of RMS size d_0 is added;
 * every `renormEvery` time units the RMS distance d_i is measured, log(d_i / d_0) accumulated, and
 * the perturbed state pulled back along the separation to distance d_0.
 * The spatial mean is conserved, so a change of mean is a neutral direction (exponent 0); the
 * separation is kept at zero mean (its round-off mean is removed at every renormalisation), so the
 * result is the leading exponent within the invariant subspace of fixed mean, the quantity quoted in
 * the KS literature. (For a chaotic L it exceeds 0 anyway; for a stable L it is the slowest decay
 * rate rather than the neutral 0.)
 *
 * @example
 * const { exponent, standardError } = leadingLyapunovExponent({ L: 22, N: 64, h: 0.25, seed: 1, T: 4000 });
 * // exponent ~ 0.043-0.048 (Cvitanovic, Davidchack & Siminos 2010; Edson et al. 2019)
 */
export function leadingLyapunovExponent(options: LyapunovOptions): LyapunovEstimate {
  const {
    L,
    N,
    h,
    dealias = false,
    seed,
    spinUp = 200,
    T,
    renormEvery = 1,
    separation = 1e-7,
    blocks = 10,
  } = options;
  const ref = new KsSolver({ L, N, h, dealias });
  const pert = new KsSolver({ L, N, h, dealias });
  checkPositive('T', T);
  checkPositive('renormEvery', renormEvery);
  checkPositive('separation', separation);
  checkInteger('blocks', blocks, 2);
  const stepsPerRenorm = wholeMultiple('renormEvery', renormEvery, h, 'h', {
    fix: 'pass renormEvery = m * h',
  });
  checkNonNegative('spinUp', spinUp, 'pass spinUp = m * h');
  const spinUpSteps = wholeMultiple('spinUp', spinUp, h, 'h', { min: 0, fix: 'pass spinUp = m * h' });
  const count = Math.round(T / renormEvery);
  if (count < blocks || Math.abs(count * renormEvery - T) > 1e-9 * T) {
    throw new InvalidArgumentError(
      'T',
      `must be a multiple of renormEvery = ${renormEvery} with at least ${blocks} renormalisations`,
      'pass a longer T',
    );
  }
  ref.setState(options.u0 ?? randomSmoothField({ N, seed }));
  ref.step(spinUpSteps);
  const u = ref.state();
  const w = randomSmoothField({ N, seed, stream: 1, rms: separation });
  const v = new Float64Array(N);
  for (let j = 0; j < N; j++) v[j] = u[j] + w[j];
  pert.setState(v, ref.time);

  const perBlock = Math.floor(count / blocks);
  const blockExponents = new Float64Array(blocks);
  let total = 0;
  for (let i = 0; i < count; i++) {
    ref.step(stepsPerRenorm);
    pert.step(stepsPerRenorm);
    ref.state(u);
    pert.state(v);
    // Separation with its spatial mean removed: the mean is conserved (exponent 0), so the
    // measurement stays in the fixed-mean subspace even when round-off puts a mean into v - u.
    let dm = 0;
    for (let j = 0; j < N; j++) dm += v[j] - u[j];
    dm /= N;
    let ss = 0;
    for (let j = 0; j < N; j++) {
      const d = v[j] - u[j] - dm;
      ss += d * d;
    }
    const d = Math.sqrt(ss / N);
    if (!(d > 0)) {
      throw new InvalidArgumentError(
        'separation',
        `the trajectories coincided (distance ${d}) at t = ${ref.time}`,
        'pass a larger separation',
      );
    }
    const growth = Math.log(d / separation);
    total += growth;
    const b = Math.min(Math.floor(i / perBlock), blocks - 1);
    blockExponents[b] += growth;
    const scale = separation / d;
    for (let j = 0; j < N; j++) v[j] = u[j] + scale * (v[j] - u[j] - dm);
    pert.setState(v, ref.time);
  }
  for (let b = 0; b < blocks; b++) {
    const n = b === blocks - 1 ? count - perBlock * (blocks - 1) : perBlock;
    blockExponents[b] /= n * renormEvery;
  }
  const exponent = total / (count * renormEvery);
  let sBlock = 0;
  for (let b = 0; b < blocks; b++) sBlock += (blockExponents[b] - exponent) ** 2;
  const standardError = Math.sqrt(sBlock / (blocks - 1) / blocks);
  return { exponent, standardError, blockExponents, renormalisations: count };
}

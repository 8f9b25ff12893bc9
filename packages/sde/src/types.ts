/**
 * Core data types shared across sdekit (docs/methods.md section 0).
 *
 * A batch of N points in R^D is a row-major Float64Array of length N*D. A time series is a batch
 * ordered in time with sampling interval dt.
 */

/** One path observed at times t0, t0 + dt, ...: value j at time index k is data[k * dim + j]. */
export interface TimeSeries {
  readonly data: Float64Array;
  readonly dim: number;
  /** Number of time samples. */
  readonly length: number;
  /** Time between consecutive samples. */
  readonly dt: number;
  /** Time of the first sample. */
  readonly t0: number;
}

/**
 * Many paths on a common time grid: coordinate j of path p at time index k is
 * data[(p * length + k) * dim + j].
 */
export interface PathBundle {
  readonly data: Float64Array;
  readonly dim: number;
  readonly length: number;
  readonly paths: number;
  readonly dt: number;
  readonly t0: number;
  /**
   * With `simulate`'s `watch`: the paths that left the watched box (widened by its reportFactor),
   * one entry per such path at its first saved state outside; empty when none did.
   */
  readonly excursions?: readonly Excursion[];
}

/** The first saved state at which a watched path was outside its box. */
export interface Excursion {
  path: number;
  time: number;
  coordinate: number;
  value: number;
  /** |value - centre| / half-width of the box in that coordinate. */
  factor: number;
}

/**
 * How G(x, t) is stored by `diffusion`:
 * - 'scalar': G = g(x, t) I (noiseDim = dim); writes 1 value.
 * - 'diagonal': G = diag(g_1..g_D) (noiseDim = dim); writes dim values.
 * - 'general': full dim x noiseDim matrix, row-major; writes dim * noiseDim values.
 */
export type NoiseKind = 'scalar' | 'diagonal' | 'general';

/**
 * dX = f(X, t) dt + G(X, t) dW (docs/methods.md section 0). Integrators only see this interface, so a
 * built-in toy, a learned Langevin model and an averaged model are simulated the same way.
 *
 * @example
 * const ou: SdeSystem = {
 *   dim: 1, noiseDim: 1, noise: 'scalar', additive: true,
 *   drift: (t, x, out) => { out[0] = -x[0]; },
 *   diffusion: (t, x, out) => { out[0] = Math.SQRT2; },
 * };
 */
export interface SdeSystem {
  readonly dim: number;
  readonly noiseDim: number;
  readonly noise: NoiseKind;
  /**
   * True when G depends on neither x nor t: integrators then evaluate `diffusion` once (at t = 0,
   * x = 0) and reuse it, and additive-noise schemes (sra1) become available.
   */
  readonly additive?: boolean;
  /** Writes f(x, t) into out (length dim). Must not allocate in hot use. */
  drift(t: number, x: Float64Array, out: Float64Array): void;
  /** Writes G(x, t) in the layout given by `noise`. */
  diffusion(t: number, x: Float64Array, out: Float64Array): void;
  /**
   * Optional batched drift over n points (x and out of length n*dim). Integrators prefer it when
   * present: learned models evaluate a network once per batch instead of once per point.
   */
  driftBatch?(t: number, x: Float64Array, n: number, out: Float64Array): void;
  /** Optional batched diffusion (out of length n times the per-point layout size). */
  diffusionBatch?(t: number, x: Float64Array, n: number, out: Float64Array): void;
  /**
   * Optional for diagonal/scalar noise: writes dG_ii/dx_i (length dim) for Milstein. Without it,
   * Milstein uses a central finite difference.
   */
  diffusionDerivative?(t: number, x: Float64Array, out: Float64Array): void;
}

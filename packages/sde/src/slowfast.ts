/**
 * Slow-fast systems (docs/methods.md section 4):
 *
 *   dX = b(X, Y) dt + sigma(X, Y) dW,        X in R^d (observed)
 *   dY = n B(Y) dt + sqrt(n) alpha(Y) dW',   Y in R^m (never observed)
 *
 * The system object holds b, sigma, B and alpha; the scale separation n is applied by the simulator,
 * so the same functions describe every n. `simulateSlowFast` integrates the full system by
 * Euler-Maruyama at the fast step and returns only the slow path at the observation spacing Delta
 * (optionally the fast path at the same times, for diagnostics).
 */
import { BlowUpError, DimensionError, InvalidArgumentError } from './errors.js';
import { Rng } from './rng.js';
import type { NoiseKind, TimeSeries } from './types.js';
import { checkFinite, checkInteger, checkPositive, wholeMultiple } from './validate.js';

/**
 * A slow-fast SDE. Diffusion layouts follow NoiseKind: 'scalar' writes 1 value (G = g I, noise
 * dimension = state dimension), 'diagonal' writes one value per coordinate, 'general' writes a
 * row-major (state dim) x (noise dim) matrix.
 *
 * @example
 * const sys = multiscaleDoubleWellSystem({ m: 2, n: 100 }); // the M1 model of @sdekit/systems
 */
export interface SlowFastSystem {
  readonly slowDim: number;
  readonly fastDim: number;
  /** Scale separation n (the fast process runs n times faster). */
  readonly n: number;
  readonly slowNoise: NoiseKind;
  readonly slowNoiseDim: number;
  readonly fastNoise: NoiseKind;
  readonly fastNoiseDim: number;
  /** b(x, y) into out (length slowDim). */
  slowDrift(x: Float64Array, y: Float64Array, out: Float64Array): void;
  /** sigma(x, y) into out, layout per slowNoise. */
  slowDiffusion(x: Float64Array, y: Float64Array, out: Float64Array): void;
  /** B(y) into out (length fastDim), without the factor n. */
  fastDrift(y: Float64Array, out: Float64Array): void;
  /** alpha(y) into out, layout per fastNoise, without the factor sqrt(n). */
  fastDiffusion(y: Float64Array, out: Float64Array): void;
}

/** Options of `simulateSlowFast`. */
export interface SlowFastOptions {
  /** Initial slow state (slowDim values). */
  x0: Float64Array;
  /** Initial fast state (fastDim values); an exact draw from pi_0 avoids a fast transient. */
  y0: Float64Array;
  /** Euler-Maruyama step of the full system (e.g. 0.02 / n). */
  fastStep: number;
  /** Observation spacing; must be a whole number of fast steps (to 1e-9 relative). */
  Delta: number;
  /** Observed time span; must be a whole number of Delta. The path has T / Delta + 1 samples. */
  T: number;
  seed: number;
  /** Also return the fast state at the observation times. */
  keepFast?: boolean;
  /** Called with (observations done, total) about every 1 % of the work. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of `simulateSlowFast`. */
export interface SlowFastPath {
  slow: TimeSeries;
  fast?: TimeSeries;
}

function layoutSize(kind: NoiseKind, dim: number, noiseDim: number): number {
  if (kind === 'scalar') return 1;
  if (kind === 'diagonal') return dim;
  return dim * noiseDim;
}

function checkSlowFast(sys: SlowFastSystem): void {
  checkInteger('system.slowDim', sys.slowDim, 1);
  checkInteger('system.fastDim', sys.fastDim, 1);
  checkPositive('system.n', sys.n);
  checkInteger('system.slowNoiseDim', sys.slowNoiseDim, 1);
  checkInteger('system.fastNoiseDim', sys.fastNoiseDim, 1);
  if (sys.slowNoise !== 'general' && sys.slowNoiseDim !== sys.slowDim) {
    throw new InvalidArgumentError(
      'system.slowNoiseDim',
      `must equal slowDim for ${sys.slowNoise} noise`,
      "set slowNoiseDim = slowDim or use 'general'",
    );
  }
  if (sys.fastNoise !== 'general' && sys.fastNoiseDim !== sys.fastDim) {
    throw new InvalidArgumentError(
      'system.fastNoiseDim',
      `must equal fastDim for ${sys.fastNoise} noise`,
      "set fastNoiseDim = fastDim or use 'general'",
    );
  }
}

/** x += scale * G w for one point. */
function addPointNoise(
  kind: NoiseKind,
  dim: number,
  noiseDim: number,
  g: Float64Array,
  w: Float64Array,
  wo: number,
  x: Float64Array,
  scale: number,
): void {
  if (kind === 'scalar') {
    const c = g[0] * scale;
    for (let j = 0; j < dim; j++) x[j] += c * w[wo + j];
  } else if (kind === 'diagonal') {
    for (let j = 0; j < dim; j++) x[j] += scale * g[j] * w[wo + j];
  } else {
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let k = 0; k < noiseDim; k++) s += g[i * noiseDim + k] * w[wo + k];
      x[i] += scale * s;
    }
  }
}

/**
 * Simulates the full slow-fast system by Euler-Maruyama at `fastStep` (both X and Y, from the same
 * pre-step state): X += b(X, Y) dt + sigma(X, Y) sqrt(dt) xi,
 * Y += n B(Y) dt + sqrt(n) alpha(Y) sqrt(dt) xi'. Returns the slow path sampled every Delta.
 * Noise: one stream `Rng.fromSeed(seed, 0)`, drawn in chunks. Throws BlowUpError at the first
 * observation time where the state is not finite.
 *
 * @example
 * // multiscaleDoubleWellSystem, sampleMultiscaleDoubleWellFast: @sdekit/systems
 * const sys = multiscaleDoubleWellSystem({ m: 2, n: 100 });
 * const y0 = sampleMultiscaleDoubleWellFast(Rng.fromSeed(1), 1, 2);
 * const { slow } = simulateSlowFast(sys, { x0: Float64Array.of(0), y0, fastStep: 2e-4, Delta: 0.01, T: 10, seed: 1 });
 * slow.length; // 1001
 */
export function simulateSlowFast(sys: SlowFastSystem, opts: SlowFastOptions): SlowFastPath {
  checkSlowFast(sys);
  const d = sys.slowDim;
  const m = sys.fastDim;
  if (!(opts.x0 instanceof Float64Array) || opts.x0.length !== d) {
    throw new DimensionError(
      'x0',
      `must be a Float64Array of length slowDim = ${d}`,
      'pass the initial slow state',
    );
  }
  if (!(opts.y0 instanceof Float64Array) || opts.y0.length !== m) {
    throw new DimensionError(
      'y0',
      `must be a Float64Array of length fastDim = ${m}`,
      'pass the initial fast state (e.g. an exact draw from pi_0)',
    );
  }
  checkFinite('x0', opts.x0);
  checkFinite('y0', opts.y0);
  checkPositive('fastStep', opts.fastStep);
  checkPositive('Delta', opts.Delta);
  checkPositive('T', opts.T);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) {
    throw new InvalidArgumentError(
      'seed',
      `must be a non-negative integer, got ${opts.seed}`,
      'pass an explicit integer seed',
    );
  }
  const perObs = wholeMultiple('Delta', opts.Delta, opts.fastStep, 'fastStep');
  const observations = wholeMultiple('T', opts.T, opts.Delta, 'Delta');
  const dt = opts.fastStep;
  const n = sys.n;
  const sqDt = Math.sqrt(dt);
  const sqNDt = Math.sqrt(n * dt);
  const x = opts.x0.slice();
  const y = opts.y0.slice();
  const bx = new Float64Array(d);
  const gx = new Float64Array(layoutSize(sys.slowNoise, d, sys.slowNoiseDim));
  const by = new Float64Array(m);
  const gy = new Float64Array(layoutSize(sys.fastNoise, m, sys.fastNoiseDim));
  const slow = new Float64Array((observations + 1) * d);
  const fast = opts.keepFast ? new Float64Array((observations + 1) * m) : undefined;
  const perStep = sys.slowNoiseDim + sys.fastNoiseDim;
  const chunkSteps = Math.max(1, Math.floor(16384 / perStep));
  const noise = new Float64Array(chunkSteps * perStep);
  const rng = Rng.fromSeed(opts.seed, 0);
  let used = chunkSteps; // forces a fill on the first step
  slow.set(x, 0);
  if (fast) fast.set(y, 0);
  const progressEvery = Math.max(1, Math.ceil(observations / 100));
  for (let k = 1; k <= observations; k++) {
    for (let s = 0; s < perObs; s++) {
      if (used === chunkSteps) {
        rng.fillNormal(noise);
        used = 0;
      }
      const wo = used * perStep;
      used++;
      sys.slowDrift(x, y, bx);
      sys.slowDiffusion(x, y, gx);
      sys.fastDrift(y, by);
      sys.fastDiffusion(y, gy);
      for (let j = 0; j < d; j++) x[j] += dt * bx[j];
      addPointNoise(sys.slowNoise, d, sys.slowNoiseDim, gx, noise, wo, x, sqDt);
      for (let j = 0; j < m; j++) y[j] += n * dt * by[j];
      addPointNoise(sys.fastNoise, m, sys.fastNoiseDim, gy, noise, wo + sys.slowNoiseDim, y, sqNDt);
    }
    const t = k * opts.Delta;
    for (let j = 0; j < d; j++)
      if (!Number.isFinite(x[j])) throw new BlowUpError(t, 0, `slow coordinate ${j} = ${x[j]}`);
    for (let j = 0; j < m; j++)
      if (!Number.isFinite(y[j]))
        throw new BlowUpError(
          t,
          0,
          `fast coordinate ${j} = ${y[j]}; reduce fastStep (n * fastStep sets the fast stability)`,
        );
    slow.set(x, k * d);
    if (fast) fast.set(y, k * m);
    if (opts.onProgress && (k % progressEvery === 0 || k === observations)) opts.onProgress(k, observations);
  }
  const result: SlowFastPath = {
    slow: { data: slow, dim: d, length: observations + 1, dt: opts.Delta, t0: 0 },
  };
  if (fast) result.fast = { data: fast, dim: m, length: observations + 1, dt: opts.Delta, t0: 0 };
  return result;
}

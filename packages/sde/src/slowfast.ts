/**
 * Slow-fast systems (docs/methods.md section 4):
 *
 *   dX = b(X, Y) dt + sigma(X, Y) dW,        X in R^d (observed)
 *   dY = n B(Y) dt + sqrt(n) alpha(Y) dW',   Y in R^m (never observed)
 *
 * The system object holds b, sigma, B and alpha; the scale separation n is applied by the simulator,
 * so the same functions describe every n. `slowFastSde` stacks it into one SdeSystem of the state
 * (X, Y), which `simulate` (and `simulateParallel`) integrate like any other system, with any solver
 * the noise allows, in batches of paths; `observe: slowCoordinates` saves only X.
 */
import { DimensionError, InvalidArgumentError } from './errors.js';
import { noiseLayoutSize } from './noise-layout.js';
import type { NoiseKind, SdeSystem } from './types.js';
import { checkInteger, checkPositive } from './validate.js';

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
  /**
   * True when sigma and alpha are constants (depend on neither x nor y): the stacked system is then
   * additive, so integrators evaluate its noise matrix once instead of at every step.
   */
  readonly additive?: boolean;
}

/** Whether `value` is a SlowFastSystem (it has the slow and fast drift and diffusion functions). */
export function isSlowFastSystem(value: unknown): value is SlowFastSystem {
  const s = value as SlowFastSystem | null;
  return (
    s !== null &&
    typeof s === 'object' &&
    typeof s.slowDrift === 'function' &&
    typeof s.fastDrift === 'function' &&
    typeof s.slowDiffusion === 'function' &&
    typeof s.fastDiffusion === 'function'
  );
}

/** The system itself, or the stacked `slowFastSde` of a slow-fast one (what worker threads build). */
export function asSdeSystem(system: SdeSystem | SlowFastSystem): SdeSystem {
  return isSlowFastSystem(system) ? slowFastSde(system) : system;
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

/**
 * A slow-fast system stacked into one SdeSystem of z = (x, y) in R^(d + m):
 *
 *   dz = [ b(x, y) ; n B(y) ] dt + [ sigma(x, y) 0 ; 0 sqrt(n) alpha(y) ] d(W, W'),
 *
 * noise (W, W') of dimension slowNoiseDim + fastNoiseDim, the slow components first. The noise kind
 * is 'diagonal' when both blocks are scalar or diagonal (a scalar block repeats its value), else
 * 'general' (the block-diagonal matrix, zeros off the blocks).
 */
export interface SlowFastSde extends SdeSystem {
  readonly slowDim: number;
  readonly fastDim: number;
  /** 0 .. slowDim - 1: pass as `simulate`'s `observe` to save the slow path only. */
  readonly slowCoordinates: readonly number[];
}

/** The stacked state (x, y) of a `SlowFastSde`, e.g. `simulate`'s x0 from a slow and a fast start. */
export function stackState(x: Float64Array, y: Float64Array): Float64Array {
  if (!(x instanceof Float64Array) || !(y instanceof Float64Array))
    throw new DimensionError(
      'x0',
      'the slow and the fast state must be Float64Arrays',
      'pass Float64Array.of(...)',
    );
  const z = new Float64Array(x.length + y.length);
  z.set(x, 0);
  z.set(y, x.length);
  return z;
}

/**
 * Stacks a slow-fast system into one SdeSystem (see `SlowFastSde`).
 *
 * @example
 * import { pathOf, Rng, simulate, slowFastSde, stackState } from '@sdekit/sde';
 * import { multiscaleDoubleWellSystem, sampleMultiscaleDoubleWellFast } from '@sdekit/systems';
 * const y0 = sampleMultiscaleDoubleWellFast(Rng.fromSeed(1, 1), 1, 2);
 * const bundle = simulate(slowFastSde(multiscaleDoubleWellSystem({ m: 2, n: 100 })), {
 *   x0: stackState(Float64Array.of(0), y0), h: 2e-4, T: 10, saveEvery: 50, seed: 1, observe: [0],
 * });
 * const slow = pathOf(bundle, 0); // the slow path every 0.01 time units, 1001 samples
 */
export function slowFastSde(sys: SlowFastSystem): SlowFastSde {
  checkSlowFast(sys);
  const d = sys.slowDim;
  const m = sys.fastDim;
  const ds = sys.slowNoiseDim;
  const ms = sys.fastNoiseDim;
  const n = sys.n;
  const sqrtN = Math.sqrt(n);
  const diagonal = sys.slowNoise !== 'general' && sys.fastNoise !== 'general';
  const x = new Float64Array(d);
  const y = new Float64Array(m);
  const b = new Float64Array(d);
  const by = new Float64Array(m);
  const gx = new Float64Array(noiseLayoutSize(sys.slowNoise, d, ds));
  const gy = new Float64Array(noiseLayoutSize(sys.fastNoise, m, ms));
  /** Copies the point at offset zo of z into the scratch x and y. */
  const split = (z: Float64Array, zo: number) => {
    for (let j = 0; j < d; j++) x[j] = z[zo + j];
    for (let j = 0; j < m; j++) y[j] = z[zo + d + j];
  };
  const noiseDim = ds + ms;
  const drift = (z: Float64Array, zo: number, out: Float64Array, oo: number) => {
    split(z, zo);
    sys.slowDrift(x, y, b);
    sys.fastDrift(y, by);
    for (let j = 0; j < d; j++) out[oo + j] = b[j];
    for (let j = 0; j < m; j++) out[oo + d + j] = n * by[j];
  };
  return {
    dim: d + m,
    noiseDim,
    noise: diagonal ? 'diagonal' : 'general',
    additive: sys.additive === true,
    slowDim: d,
    fastDim: m,
    slowCoordinates: Array.from({ length: d }, (_, j) => j),
    drift(_t, z, out) {
      drift(z, 0, out, 0);
    },
    // Batched, so the integrator does not copy each point out and back (the split copies it once).
    driftBatch(_t, z, count, out) {
      const w = d + m;
      for (let p = 0; p < count; p++) drift(z, p * w, out, p * w);
    },
    diffusion(_t, z, out) {
      split(z, 0);
      sys.slowDiffusion(x, y, gx);
      sys.fastDiffusion(y, gy);
      if (diagonal) {
        for (let j = 0; j < d; j++) out[j] = sys.slowNoise === 'scalar' ? gx[0] : gx[j];
        for (let j = 0; j < m; j++) out[d + j] = sqrtN * (sys.fastNoise === 'scalar' ? gy[0] : gy[j]);
        return;
      }
      out.fill(0);
      writeBlock(sys.slowNoise, d, ds, gx, 1, out, noiseDim, 0, 0);
      writeBlock(sys.fastNoise, m, ms, gy, sqrtN, out, noiseDim, d, ds);
    },
  };
}

/** Writes scale * (one block's G, in its layout) into rows row0.., columns col0.. of a general G. */
function writeBlock(
  kind: NoiseKind,
  dim: number,
  noiseDim: number,
  g: Float64Array,
  scale: number,
  out: Float64Array,
  stride: number,
  row0: number,
  col0: number,
): void {
  for (let i = 0; i < dim; i++) {
    const o = (row0 + i) * stride + col0;
    if (kind === 'general') for (let k = 0; k < noiseDim; k++) out[o + k] = scale * g[i * noiseDim + k];
    else out[o + i] = scale * (kind === 'scalar' ? g[0] : g[i]);
  }
}

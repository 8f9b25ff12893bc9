/**
 * The known slow coefficients b(x, y) and sigma(x, y) of a slow-fast system (docs/methods.md §4):
 *
 *     dX = b(X, Y) dt + sigma(X, Y) dW,   X in R^d observed, Y in R^m fast and never observed.
 *
 * Users give each coefficient twice: as a TensorFlow.js function of row-paired batches (x [N, d],
 * y [N, m]; used inside the training loss, differentiable in y and hence in the flow parameters) and
 * as a float64 function of one pair (used for simulation, the Monte Carlo averages of the fitted model
 * and the float64 likelihood bookkeeping). The two must agree to float32 precision; `checkCoefficients`
 * verifies shapes and agreement on a probe batch before any training starts.
 */
import type { NoiseKind } from '@sdekit/sde';
import { checkInteger, DimensionError, InvalidArgumentError, noiseLayoutSize } from '@sdekit/sde';
import {
  MULTISCALE_DOUBLE_WELL_SIGMA,
  multiscaleDoubleWellSlowDrift,
  multiscaleDoubleWellSlowDriftTf,
  multiscaleDoubleWellSlowDriftTfPairwise,
  TAGGED_PARTICLE_SIGMA,
  taggedParticleSlowDrift,
  taggedParticleSlowDriftTf,
  taggedParticleSlowDriftTfPairwise,
} from '@sdekit/systems';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Known slow coefficients of a slow-fast SDE. Layout of sigma (`noise`):
 * - 'scalar': sigma = s(x, y) I_d, one value per pair ([N, 1] in tf, 1 value in float64);
 * - 'diagonal': sigma = diag(s_1..s_d) ([N, d]; d values);
 * - 'general': full d x q matrix, row-major ([N, d*q]; d*q values), q = `noiseDim`.
 *
 * @example
 * // b(x, y) = -x + y_1, sigma = 0.5 (d = 1, m = 1)
 * const coef: SlowCoefficients = {
 *   slowDim: 1, fastDim: 1, noise: 'scalar', noiseDim: 1, constantDiffusion: true,
 *   driftTf: (x, y) => tf.add(tf.neg(x), y),
 *   diffusionTf: (x) => tf.fill([x.shape[0], 1], 0.5),
 *   drift: (x, y, out) => { out[0] = -x[0] + y[0]; },
 *   diffusion: (x, y, out) => { out[0] = 0.5; },
 * };
 */
export interface SlowCoefficients {
  /** d: dimension of the observed slow variable X. */
  readonly slowDim: number;
  /** m: dimension of the fast variable Y (the flow's dimension). */
  readonly fastDim: number;
  /** Layout of sigma, as in @sdekit/sde's SdeSystem. */
  readonly noise: NoiseKind;
  /** q: columns of sigma (= slowDim unless noise is 'general'). */
  readonly noiseDim: number;
  /** True when sigma depends on neither x nor y (then sigmabar = sigma and forecasts use additive-noise schemes). */
  readonly constantDiffusion?: boolean;
  /** Identifies a built-in family so a saved model can rebuild its coefficients (`AveragedModel.fromJSON`). */
  readonly descriptor?: CoefficientDescriptor;
  /** b on row-paired batches: x [N, d], y [N, m] -> [N, d]. */
  driftTf(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
  /**
   * Optional: b on every pair of x [B, d] and y [L, m] -> [B, L, d]. Coefficients with separable
   * parts (a factor in x only, another in y only) compute them on B or L rows instead of B*L, which
   * is what the training loss needs (every time point against every fast sample). When absent, the
   * row-paired `driftTf` is called on B*L broadcast rows.
   */
  driftTfPairwise?(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor3D;
  /** sigma on row-paired batches: x [N, d], y [N, m] -> [N, 1 | d | d*q] by `noise`. */
  diffusionTf(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
  /** b(x, y) for one pair in float64: x (d), y (m) -> out (d). */
  drift(x: Float64Array, y: Float64Array, out: Float64Array): void;
  /** sigma(x, y) for one pair in float64, in the layout given by `noise`. */
  diffusion(x: Float64Array, y: Float64Array, out: Float64Array): void;
}

/** Names a built-in coefficient family and its parameters (serialisable). */
export interface CoefficientDescriptor {
  readonly kind: string;
  readonly params: Record<string, number>;
}

/** Number of values sigma writes per pair for a given layout. */
export function sigmaSize(coef: Pick<SlowCoefficients, 'noise' | 'slowDim' | 'noiseDim'>): number {
  return noiseLayoutSize(coef.noise, coef.slowDim, coef.noiseDim);
}

/**
 * Checks a coefficient object on a probe batch: dimensions are positive integers, driftTf returns
 * [N, d], diffusionTf returns [N, 1 | d | d*q], the float64 versions write finite values and agree with
 * the tf versions to float32 precision (relative 1e-3 of the largest magnitude plus 1e-5). Throws a
 * DimensionError (wrong shape) or InvalidArgumentError (disagreement, non-finite output).
 *
 * @param probeX - n*d slow points (float64), e.g. the first points of the observed path
 * @param probeY - n*m fast points (float64), e.g. flow samples
 *
 * @example
 * checkCoefficients(m1Coefficients({ m: 2 }), Float64Array.of(0.1, -0.4), Float64Array.of(0.3, -1, 0.2, 0.5));
 */
export function checkCoefficients(coef: SlowCoefficients, probeX: Float64Array, probeY: Float64Array): void {
  checkInteger('coefficients.slowDim', coef.slowDim, 1);
  checkInteger('coefficients.fastDim', coef.fastDim, 1);
  checkInteger('coefficients.noiseDim', coef.noiseDim, 1);
  if (coef.noise !== 'scalar' && coef.noise !== 'diagonal' && coef.noise !== 'general') {
    throw new InvalidArgumentError(
      'coefficients.noise',
      `unknown kind '${coef.noise}'`,
      "use 'scalar', 'diagonal' or 'general'",
    );
  }
  if (coef.noise !== 'general' && coef.noiseDim !== coef.slowDim) {
    throw new InvalidArgumentError(
      'coefficients.noiseDim',
      `is ${coef.noiseDim} with noise '${coef.noise}'`,
      `set noiseDim = slowDim (${coef.slowDim}) for scalar or diagonal noise`,
    );
  }
  const d = coef.slowDim;
  const m = coef.fastDim;
  const n = probeX.length / d;
  if (!Number.isInteger(n) || n < 1 || probeY.length !== n * m) {
    throw new DimensionError(
      'probe',
      `x has ${probeX.length} values and y ${probeY.length}`,
      `pass n*${d} and n*${m} values`,
    );
  }
  const ds = sigmaSize(coef);
  const [bTf, sTf] = tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from(probeX), [n, d], 'float32');
    const y = tf.tensor2d(Float32Array.from(probeY), [n, m], 'float32');
    const b = coef.driftTf(x, y);
    if (!(b instanceof tf.Tensor) || b.rank !== 2 || b.shape[0] !== n || b.shape[1] !== d) {
      throw new DimensionError(
        'coefficients.driftTf',
        `returned shape [${b instanceof tf.Tensor ? b.shape.join(', ') : typeof b}] for x [${n}, ${d}], y [${n}, ${m}]`,
        `return b(x, y) as a [N, ${d}] tensor (one row per (x, y) pair)`,
      );
    }
    const s = coef.diffusionTf(x, y);
    if (!(s instanceof tf.Tensor) || s.rank !== 2 || s.shape[0] !== n || s.shape[1] !== ds) {
      throw new DimensionError(
        'coefficients.diffusionTf',
        `returned shape [${s instanceof tf.Tensor ? s.shape.join(', ') : typeof s}] for noise '${coef.noise}'`,
        `return sigma(x, y) as a [N, ${ds}] tensor (${coef.noise} layout)`,
      );
    }
    return [b.dataSync().slice(), s.dataSync().slice()];
  });
  if (coef.driftTfPairwise) checkPairwise(coef, probeX, probeY, n);
  const xi = new Float64Array(d);
  const yi = new Float64Array(m);
  const bo = new Float64Array(d);
  const so = new Float64Array(ds);
  for (let i = 0; i < n; i++) {
    xi.set(probeX.subarray(i * d, (i + 1) * d));
    yi.set(probeY.subarray(i * m, (i + 1) * m));
    bo.fill(Number.NaN);
    so.fill(Number.NaN);
    coef.drift(xi, yi, bo);
    coef.diffusion(xi, yi, so);
    compareProbe('coefficients.drift', bo, bTf, i * d);
    compareProbe('coefficients.diffusion', so, sTf, i * ds);
  }
}

/** driftTfPairwise must return [n, n, d] and entry (i, l) must equal drift(x_i, y_l). */
function checkPairwise(coef: SlowCoefficients, probeX: Float64Array, probeY: Float64Array, n: number): void {
  const d = coef.slowDim;
  const m = coef.fastDim;
  const pairs = tf.tidy(() => {
    const b = (coef.driftTfPairwise as NonNullable<SlowCoefficients['driftTfPairwise']>)(
      tf.tensor2d(Float32Array.from(probeX), [n, d], 'float32'),
      tf.tensor2d(Float32Array.from(probeY), [n, m], 'float32'),
    );
    if (
      !(b instanceof tf.Tensor) ||
      b.rank !== 3 ||
      b.shape[0] !== n ||
      b.shape[1] !== n ||
      b.shape[2] !== d
    ) {
      throw new DimensionError(
        'coefficients.driftTfPairwise',
        `returned shape [${b instanceof tf.Tensor ? b.shape.join(', ') : typeof b}] for x [${n}, ${d}], y [${n}, ${m}]`,
        `return b for every (x_i, y_l) pair as a [B, L, ${d}] tensor`,
      );
    }
    return b.dataSync().slice();
  });
  const out = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < n; l++) {
      coef.drift(probeX.subarray(i * d, (i + 1) * d), probeY.subarray(l * m, (l + 1) * m), out);
      compareProbe('coefficients.driftTfPairwise', out, pairs, (i * n + l) * d);
    }
  }
}

function compareProbe(name: string, f64: Float64Array, f32: ArrayLike<number>, offset: number): void {
  let scale = 0;
  for (let j = 0; j < f64.length; j++) scale = Math.max(scale, Math.abs(f64[j]));
  for (let j = 0; j < f64.length; j++) {
    if (!Number.isFinite(f64[j])) {
      throw new InvalidArgumentError(
        name,
        `wrote a non-finite value (${f64[j]}) at entry ${j}`,
        'write every entry of out with a finite value',
      );
    }
    if (Math.abs(f64[j] - f32[offset + j]) > 1e-3 * scale + 1e-5) {
      throw new InvalidArgumentError(
        name,
        `float64 value ${f64[j]} disagrees with the tf version ${f32[offset + j]} at entry ${j}`,
        'make the float64 and tf versions compute the same function',
      );
    }
  }
}

/** Options of the M1 benchmark coefficients (docs/benchmarks.md M1). */
export interface M1CoefficientOptions {
  /** Fast dimension m (even, >= 2). */
  m: number;
  /** Strength of the tanh coupling (docs/benchmarks.md: 0.5). */
  beta?: number;
}

/**
 * M1 slow coefficients (docs/benchmarks.md M1), d = 1, h = m/2:
 *
 *     b(x, y) = (x - x^3) / (1 + (1/h) sum_{i<=h} y_i^2) + (beta/h) sum_{i>h} tanh(x - y_i),  sigma = 0.5.
 *
 * @example
 * const coef = m1Coefficients({ m: 2, beta: 0.5 });
 */
export function m1Coefficients({ m, beta = 0.5 }: M1CoefficientOptions): SlowCoefficients {
  checkInteger('m', m, 2);
  if (m % 2 !== 0)
    throw new InvalidArgumentError('m', `must be even (h = m/2), got ${m}`, 'pass an even fast dimension');
  if (!Number.isFinite(beta))
    throw new InvalidArgumentError('beta', `must be finite, got ${beta}`, 'pass a finite beta');
  return {
    slowDim: 1,
    fastDim: m,
    noise: 'scalar',
    noiseDim: 1,
    constantDiffusion: true,
    descriptor: { kind: 'm1', params: { m, beta } },
    driftTf: (x, y) => multiscaleDoubleWellSlowDriftTf(x, y, m, beta),
    driftTfPairwise: (x, y) => multiscaleDoubleWellSlowDriftTfPairwise(x, y, m, beta),
    diffusionTf: (x) => tf.fill([x.shape[0], 1], MULTISCALE_DOUBLE_WELL_SIGMA) as tf.Tensor2D,
    drift: (x, y, out) => {
      out[0] = multiscaleDoubleWellSlowDrift(x[0], y, m, beta);
    },
    diffusion: (_x, _y, out) => {
      out[0] = MULTISCALE_DOUBLE_WELL_SIGMA;
    },
  };
}

/** Options of the M2 benchmark coefficients (docs/benchmarks.md M2). */
export interface M2CoefficientOptions {
  /** Slow dimension d (1 or 2 in the benchmark; any d >= 1 works). */
  d: number;
  /** Number of solvent particles N (fast dimension m = N d). */
  N: number;
}

/**
 * M2 slow coefficients (docs/benchmarks.md M2): a tagged particle X in R^d among N solvent particles
 * Y_j in R^d (y stored particle-major: y[j*d + c]):
 *
 *     b(x, y) = -grad V(x) - (1/N) sum_j grad phi(x - y_j),  V = |x|^4/4 - |x|^2/2,
 *     phi(r) = a exp(-|r|^2/(2 l^2))  =>  -grad phi(r) = (a/l^2) r exp(-|r|^2/(2 l^2)),   sigma = 0.5,
 *
 * with a = 1, l = 0.7 (`TAGGED_PARTICLE` of @sdekit/systems, which defines both forms of b).
 *
 * @example
 * const coef = m2Coefficients({ d: 1, N: 10 });
 */
export function m2Coefficients({ d, N }: M2CoefficientOptions): SlowCoefficients {
  checkInteger('d', d, 1);
  checkInteger('N', N, 1);
  const m = N * d;
  return {
    slowDim: d,
    fastDim: m,
    noise: 'scalar',
    noiseDim: d,
    constantDiffusion: true,
    descriptor: { kind: 'm2', params: { d, N } },
    driftTf: (x, y) => taggedParticleSlowDriftTf(x, y, d, N),
    driftTfPairwise: (x, y) => taggedParticleSlowDriftTfPairwise(x, y, d, N),
    diffusionTf: (x) => tf.fill([x.shape[0], 1], TAGGED_PARTICLE_SIGMA) as tf.Tensor2D,
    drift: (x, y, out) => taggedParticleSlowDrift(x, y, out, d, N),
    diffusion: (_x, _y, out) => {
      out[0] = TAGGED_PARTICLE_SIGMA;
    },
  };
}

/** Rebuilds built-in coefficients from a descriptor (undefined for user-defined kinds). */
export function coefficientsFromDescriptor(desc: CoefficientDescriptor): SlowCoefficients | undefined {
  if (desc.kind === 'm1') return m1Coefficients({ m: desc.params.m, beta: desc.params.beta });
  if (desc.kind === 'm2') {
    return m2Coefficients({ d: desc.params.d, N: desc.params.N });
  }
  return undefined;
}

/**
 * The multiscale double-well (benchmark M1, docs/benchmarks.md): a slow double-well coordinate x
 * driven by m fast coordinates y with independent quartic invariant laws,
 *
 *     dX = b(X, Y) dt + 0.5 dW,   dY = -n (Y + Y^3) dt + sqrt(2 n) dW',
 *
 * with its slow drift in float64 and TensorFlow.js forms (the tf forms are what a training loss
 * differentiates; the two agree to float32 precision), exact samples of the fast invariant law and
 * the true averaged drift.
 */
import {
  checkFinite,
  checkInteger,
  checkPositive,
  InvalidArgumentError,
  Rng,
  type SlowFastSystem,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Slow noise amplitude sigma = 0.5 (docs/benchmarks.md M1). */
export const MULTISCALE_DOUBLE_WELL_SIGMA = 0.5;

function checkFastDim(m: number): void {
  checkInteger('m', m, 2);
  if (m % 2 !== 0)
    throw new InvalidArgumentError('m', `must be even (h = m / 2), got ${m}`, 'pass m in {2, 10, 20}');
}

/**
 * M1 slow drift b(x, y) = (x - x^3) / (1 + (1/h) sum_{i<=h} y_i^2) + (beta/h) sum_{i>h} tanh(x - y_i),
 * h = m / 2 (docs/benchmarks.md M1). Reads y[offset .. offset + m).
 *
 * @example
 * multiscaleDoubleWellSlowDrift(0.5, Float64Array.of(0, 0), 2); // 0.375 + 0.5 tanh(0.5)
 */
export function multiscaleDoubleWellSlowDrift(
  x: number,
  y: Float64Array,
  m: number,
  beta = 0.5,
  offset = 0,
): number {
  const h = m / 2;
  let q = 0;
  for (let i = 0; i < h; i++) q += y[offset + i] * y[offset + i];
  let t = 0;
  for (let i = h; i < m; i++) t += Math.tanh(x - y[offset + i]);
  return (x - x * x * x) / (1 + q / h) + (beta / h) * t;
}

/** Options of the M1 system. */
export interface MultiscaleDoubleWellOptions {
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
 * const sys = multiscaleDoubleWellSystem({ m: 2, n: 100 });
 */
export function multiscaleDoubleWellSystem(opts: MultiscaleDoubleWellOptions): SlowFastSystem {
  checkFastDim(opts.m);
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
      out[0] = multiscaleDoubleWellSlowDrift(x[0], y, m, beta);
    },
    slowDiffusion: (_x, _y, out) => {
      out[0] = MULTISCALE_DOUBLE_WELL_SIGMA;
    },
    fastDrift: (y, out) => {
      for (let i = 0; i < m; i++) out[i] = -(y[i] + y[i] * y[i] * y[i]);
    },
    fastDiffusion: (_y, out) => {
      out[0] = Math.SQRT2;
    },
    additive: true,
  };
}

/**
 * Exact samples of M1's fast invariant law pi_0(y) ~ exp(-y^2/2 - y^4/4) per coordinate, by
 * rejection from N(0, 1) with acceptance probability exp(-y^4/4). Returns count * m values.
 *
 * @example
 * const y = sampleMultiscaleDoubleWellFast(Rng.fromSeed(3), 1000, 2);
 */
export function sampleMultiscaleDoubleWellFast(rng: Rng, count: number, m: number): Float64Array {
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

/** Options of multiscaleDoubleWellAveragedDrift. */
export interface MultiscaleDoubleWellDriftOptions {
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
 * const bbar = multiscaleDoubleWellAveragedDrift(Float64Array.of(-1, 0, 1), { m: 2, seed: 1 });
 */
export function multiscaleDoubleWellAveragedDrift(
  xs: Float64Array,
  opts: MultiscaleDoubleWellDriftOptions,
): Float64Array {
  checkFastDim(opts.m);
  checkFinite('xs', xs);
  const samples = opts.samples ?? 200000;
  checkInteger('samples', samples, 1);
  const beta = opts.beta ?? 0.5;
  const m = opts.m;
  const h = m / 2;
  const y = sampleMultiscaleDoubleWellFast(Rng.fromSeed(opts.seed, 0), samples, m);
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

/**
 * The slow drift b of `multiscaleDoubleWellSlowDrift` on row-paired batches, in TensorFlow.js:
 * x [N, 1], y [N, m] -> [N, 1] (differentiable in y, which is what a flow for the fast law needs).
 *
 * @example
 * const b = multiscaleDoubleWellSlowDriftTf(tf.tensor2d([[0.5]]), tf.tensor2d([[0, 0]]), 2); // [[0.375 + 0.5 tanh(0.5)]]
 */
export function multiscaleDoubleWellSlowDriftTf(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  m: number,
  beta = 0.5,
): tf.Tensor2D {
  const h = m / 2;
  return tf.tidy(() => {
    const n = x.shape[0];
    const y1 = tf.slice(y, [0, 0], [n, h]);
    const y2 = tf.slice(y, [0, h], [n, m - h]);
    const den = tf.add(1, tf.div(tf.sum(tf.square(y1), 1, true), h));
    const cubic = tf.sub(x, tf.pow(x, 3));
    const coupling = tf.mul(beta / h, tf.sum(tf.tanh(tf.sub(x, y2)), 1, true));
    return tf.add(tf.div(cubic, den), coupling) as tf.Tensor2D;
  });
}

/**
 * The slow drift b on every pair of x [B, 1] and y [L, m] -> [B, L, 1]: the factor in y of the
 * double-well term is computed on L rows instead of B L (the averaging loss pairs every time point
 * with every fast sample).
 *
 * @example
 * const b = multiscaleDoubleWellSlowDriftTfPairwise(tf.tensor2d([[0], [0.5]]), tf.tensor2d([[0, 0]]), 2); // [2, 1, 1]
 */
export function multiscaleDoubleWellSlowDriftTfPairwise(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  m: number,
  beta = 0.5,
): tf.Tensor3D {
  const h = m / 2;
  return tf.tidy(() => {
    const L = y.shape[0];
    const den = tf.add(1, tf.div(tf.sum(tf.square(tf.slice(y, [0, 0], [L, h])), 1), h)); // [L]
    const cubic = tf.sub(x, tf.pow(x, 3)); // [B, 1]
    const first = tf.div(cubic, tf.reshape(den, [1, L])); // [B, L]
    const y2 = tf.reshape(tf.slice(y, [0, h], [L, m - h]), [1, L, m - h]);
    const coupling = tf.mul(beta / h, tf.sum(tf.tanh(tf.sub(tf.expandDims(x, 1), y2)), 2)); // [B, L]
    return tf.expandDims(tf.add(first, coupling), 2) as tf.Tensor3D;
  });
}

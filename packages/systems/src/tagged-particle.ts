/**
 * The tagged particle in a solvent (benchmark M2, docs/benchmarks.md): a particle X in R^d among N
 * solvent particles Y_j in R^d that relax fast in a harmonic well with a mean-field attraction,
 *
 *     dX = b(X, Y) dt + 0.5 dW,   dY = -n grad W(Y) dt + sqrt(2 n) dW',
 *
 * with its slow drift in float64 and TensorFlow.js forms, exact samples of the Gaussian fast
 * invariant law and the averaged drift in closed form.
 */
import {
  checkFinite,
  checkInteger,
  checkPositive,
  cholesky,
  DimensionError,
  Matrix,
  type Rng,
  type SlowFastSystem,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** M2 constants (docs/benchmarks.md): phi(r) = a exp(-|r|^2/(2 l^2)), W with k, g and centre c. */
export const TAGGED_PARTICLE = Object.freeze({ a: 1, l: 0.7, k: 1, g: 0.1, c: 0.5 });

/** Slow noise amplitude sigma = 0.5 (docs/benchmarks.md M2). */
export const TAGGED_PARTICLE_SIGMA = 0.5;

/** Options of the M2 system. */
export interface TaggedParticleOptions {
  /** Spatial dimension d (1 or 2). */
  d: number;
  /** Number of solvent particles N. */
  N: number;
  /** Scale separation n (only for taggedParticleSystem). */
  n?: number;
}

function checkSizes(d: number, N: number): void {
  checkInteger('d', d, 1);
  checkInteger('N', N, 1);
}

/**
 * M2 slow drift b(x, y) = -grad V(x) - (1/N) sum_j grad phi(x - y_j) with V = |x|^4/4 - |x|^2/2,
 * grad phi(r) = -(a / l^2) r exp(-|r|^2 / (2 l^2)); y holds particle j, coordinate c at j * d + c.
 *
 * @example
 * const out = new Float64Array(1);
 * taggedParticleSlowDrift(Float64Array.of(0.3), Float64Array.of(0.5, 0.5), out, 1, 2);
 */
export function taggedParticleSlowDrift(
  x: Float64Array,
  y: Float64Array,
  out: Float64Array,
  d: number,
  N: number,
): void {
  const { a, l } = TAGGED_PARTICLE;
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
 * const sys = taggedParticleSystem({ d: 1, N: 10, n: 100 });
 */
export function taggedParticleSystem(opts: TaggedParticleOptions): SlowFastSystem {
  checkSizes(opts.d, opts.N);
  checkPositive('n', opts.n ?? Number.NaN);
  const { d, N } = opts;
  const { k, g, c } = TAGGED_PARTICLE;
  const mean = new Float64Array(d);
  return {
    slowDim: d,
    fastDim: N * d,
    n: opts.n as number,
    slowNoise: 'scalar',
    slowNoiseDim: d,
    fastNoise: 'scalar',
    fastNoiseDim: N * d,
    slowDrift: (x, y, out) => taggedParticleSlowDrift(x, y, out, d, N),
    slowDiffusion: (_x, _y, out) => {
      out[0] = TAGGED_PARTICLE_SIGMA;
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
    additive: true,
  };
}

/**
 * Precision matrix P of one spatial coordinate of pi_0 ~ exp(-W): P = (k + g N) I - g 1 1^T
 * (N x N); the d coordinates are independent with the same P and mean c.
 */
export function taggedParticleFastPrecision(N: number): Matrix {
  checkInteger('N', N, 1);
  const { k, g } = TAGGED_PARTICLE;
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
 * const y = sampleTaggedParticleFast(Rng.fromSeed(1), 1000, { d: 2, N: 10 });
 */
export function sampleTaggedParticleFast(rng: Rng, count: number, opts: TaggedParticleOptions): Float64Array {
  checkInteger('count', count, 1);
  checkSizes(opts.d, opts.N);
  const { d, N } = opts;
  const L = cholesky(taggedParticleFastPrecision(N), 'M2 precision').data;
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
      for (let j = 0; j < N; j++) out[(s * N + j) * d + q] = TAGGED_PARTICLE.c + z[j];
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
 * const bbar = taggedParticleAveragedDrift(Float64Array.of(-1, 0, 1), { d: 1, N: 10 });
 */
export function taggedParticleAveragedDrift(xs: Float64Array, opts: TaggedParticleOptions): Float64Array {
  checkSizes(opts.d, opts.N);
  const { d, N } = opts;
  if (xs.length % d !== 0)
    throw new DimensionError(
      'xs',
      `length ${xs.length} is not a multiple of d = ${d}`,
      'pass row-major points',
    );
  checkFinite('xs', xs);
  const { a, l, k, g, c } = TAGGED_PARTICLE;
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

/**
 * The slow drift b of `taggedParticleSlowDrift` on row-paired batches, in TensorFlow.js: x [n, d],
 * y [n, N d] (particle-major) -> [n, d], with -grad V = (1 - |x|^2) x and
 * -grad phi(r) = (a / l^2) r exp(-|r|^2 / (2 l^2)).
 *
 * @example
 * const b = taggedParticleSlowDriftTf(tf.tensor2d([[0.3]]), tf.tensor2d([[0.5, 0.5]]), 1, 2);
 */
export function taggedParticleSlowDriftTf(x: tf.Tensor2D, y: tf.Tensor2D, d: number, N: number): tf.Tensor2D {
  const { a, l } = TAGGED_PARTICLE;
  const inv2l2 = 1 / (2 * l * l);
  const al2 = a / (l * l);
  return tf.tidy(() => {
    const n = x.shape[0];
    const r2x = tf.sum(tf.square(x), 1, true);
    const confining = tf.mul(tf.sub(1, r2x), x); // -grad V = (1 - |x|^2) x
    const diff = tf.sub(tf.expandDims(x, 1), tf.reshape(y, [n, N, d])); // x - y_j, [n, N, d]
    const w = tf.mul(al2, tf.exp(tf.mul(-inv2l2, tf.sum(tf.square(diff), 2, true))));
    const interaction = tf.div(tf.sum(tf.mul(diff, w), 1), N);
    return tf.add(confining, interaction) as tf.Tensor2D;
  });
}

/**
 * The slow drift b on every pair of x [B, d] and y [L, N d] -> [B, L, d]: the confining part is
 * computed on B rows instead of B L (the averaging loss pairs every time point with every fast
 * sample).
 *
 * @example
 * const b = taggedParticleSlowDriftTfPairwise(tf.tensor2d([[0], [0.3]]), tf.tensor2d([[0.5, 0.5]]), 1, 2); // [2, 1, 1]
 */
export function taggedParticleSlowDriftTfPairwise(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  d: number,
  N: number,
): tf.Tensor3D {
  const { a, l } = TAGGED_PARTICLE;
  const inv2l2 = 1 / (2 * l * l);
  const al2 = a / (l * l);
  return tf.tidy(() => {
    const B = x.shape[0];
    const L = y.shape[0];
    const confining = tf.mul(tf.sub(1, tf.sum(tf.square(x), 1, true)), x); // [B, d]
    const diff = tf.sub(tf.reshape(x, [B, 1, 1, d]), tf.reshape(y, [1, L, N, d])); // [B, L, N, d]
    const w = tf.mul(al2, tf.exp(tf.mul(-inv2l2, tf.sum(tf.square(diff), 3, true))));
    const interaction = tf.div(tf.sum(tf.mul(diff, w), 2), N); // [B, L, d]
    return tf.add(tf.expandDims(confining, 1), interaction) as tf.Tensor3D;
  });
}

// Test helpers: seeded batches and float64 determinants.

import { mean, Rng, variance } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** n x d standard normal values scaled by `scale`, as float32. */
export function normalBatch(n: number, d: number, seed: number, scale = 1): Float32Array {
  const rng = Rng.fromSeed(seed);
  const v = new Float32Array(n * d);
  for (let i = 0; i < v.length; i++) v[i] = scale * rng.normal();
  return v;
}

/** log|det A| of a row-major d x d float64 matrix by LU with partial pivoting. */
export function logAbsDet(a: Float64Array, d: number): number {
  const m = Float64Array.from(a);
  let logDet = 0;
  for (let k = 0; k < d; k++) {
    let p = k;
    for (let i = k + 1; i < d; i++) if (Math.abs(m[i * d + k]) > Math.abs(m[p * d + k])) p = i;
    if (p !== k) for (let j = 0; j < d; j++) [m[k * d + j], m[p * d + j]] = [m[p * d + j], m[k * d + j]];
    const piv = m[k * d + k];
    logDet += Math.log(Math.abs(piv));
    for (let i = k + 1; i < d; i++) {
      const f = m[i * d + k] / piv;
      for (let j = k; j < d; j++) m[i * d + j] -= f * m[k * d + j];
    }
  }
  return logDet;
}

/**
 * Numerical log|det J| of a map R^d -> R^d at each row of x, by central differences with step h,
 * all perturbed points evaluated in one batch. J[i][j] = d y_i / d x_j.
 */
export function numericalLogDet(
  map: (x: tf.Tensor2D) => tf.Tensor2D,
  x: Float32Array,
  d: number,
  h: number,
): Float64Array {
  const n = x.length / d;
  const pts = new Float32Array(n * 2 * d * d);
  const steps = new Float64Array(n * d);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < d; j++) {
      const base = (r * 2 * d + 2 * j) * d;
      for (let l = 0; l < d; l++) {
        pts[base + l] = x[r * d + l];
        pts[base + d + l] = x[r * d + l];
      }
      pts[base + j] += h;
      pts[base + d + j] -= h;
      steps[r * d + j] = pts[base + j] - pts[base + d + j]; // the float32 step actually taken
    }
  const y = tf.tidy(() => map(tf.tensor2d(pts, [n * 2 * d, d])).dataSync());
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const jac = new Float64Array(d * d);
    for (let j = 0; j < d; j++) {
      const base = (r * 2 * d + 2 * j) * d;
      for (let i = 0; i < d; i++) jac[i * d + j] = (y[base + i] - y[base + d + i]) / steps[r * d + j];
    }
    out[r] = logAbsDet(jac, d);
  }
  return out;
}

/** Sample mean and standard deviation of a list of scalars (float64, via @sdekit/sde). */
export function meanAndSd(v: ArrayLike<number>): { mean: number; sd: number } {
  const data = Float64Array.from(v);
  return { mean: mean(data)[0], sd: Math.sqrt(variance(data)[0]) };
}

/**
 * Conjugate Gaussian linear regression, the exact reference for the VI tests and benches:
 *
 *   y = X beta + noise, noise ~ N(0, sigma^2 I_n), prior beta ~ N(0, s0^2 I_D).
 *
 * Posterior: precision Lambda = X^T X / sigma^2 + I / s0^2, mean m = Lambda^{-1} X^T y / sigma^2.
 * Evidence: y ~ N(0, C), C = sigma^2 I_n + s0^2 X X^T, so
 *   log Z = -n/2 log(2 pi) - 1/2 log det C - 1/2 y^T C^{-1} y
 * (Bishop 2006, PRML eqs. 3.53-3.54 and 3.86). All float64 via @sdekit/sde linear algebra.
 */

import { matMul } from '@sdekit/nn';
import { cholesky, choleskySolve, Matrix, matmul, Rng, transpose } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

export interface ConjugateModel {
  n: number;
  dim: number;
  sigma: number;
  s0: number;
  x: Float64Array; // n x dim
  y: Float64Array;
  postMean: Float64Array;
  postCov: Matrix;
  logEvidence: number;
  /** Precision Lambda. */
  precision: Matrix;
}

/**
 * Random design with equicorrelated columns: x_ij = sqrt(1 - c) z_ij + sqrt(c) w_i (z, w standard
 * normal), so c > 0 gives a posterior with correlated coordinates.
 */
export function conjugateModel(
  n: number,
  dim: number,
  seed: number,
  { sigma = 0.5, s0 = 1, correlation = 0 } = {},
): ConjugateModel {
  const rng = Rng.fromSeed(seed, 0);
  const x = new Float64Array(n * dim);
  rng.fillNormal(x);
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    for (let j = 0; j < dim; j++)
      x[i * dim + j] = Math.sqrt(1 - correlation) * x[i * dim + j] + Math.sqrt(correlation) * w;
  }
  const beta = new Float64Array(dim);
  rng.fillNormal(beta, 0, s0);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j] * beta[j];
    y[i] = s + sigma * rng.normal();
  }
  const X = new Matrix(n, dim, x.slice());
  const Xt = transpose(X);
  const precision = matmul(Xt, X);
  for (let i = 0; i < dim * dim; i++) precision.data[i] /= sigma * sigma;
  for (let i = 0; i < dim; i++) precision.data[i * dim + i] += 1 / (s0 * s0);
  const L = cholesky(precision, 'precision');
  const postCov = choleskySolve(L, Matrix.identity(dim));
  const xty = matmul(Xt, new Matrix(n, 1, y.slice()));
  for (let i = 0; i < dim; i++) xty.data[i] /= sigma * sigma;
  const postMean = choleskySolve(L, xty).data;
  // log Z by the matrix determinant lemma and Woodbury (D x D work only):
  // log det C = n log sigma^2 + D log s0^2 + log det Lambda;
  // y^T C^{-1} y = y^T y / sigma^2 - m^T Lambda m.
  let logDetLambda = 0;
  for (let i = 0; i < dim; i++) logDetLambda += 2 * Math.log(L.data[i * dim + i]);
  const logDetC = n * Math.log(sigma * sigma) + dim * Math.log(s0 * s0) + logDetLambda;
  let yy = 0;
  for (let i = 0; i < n; i++) yy += y[i] * y[i];
  let mLm = 0;
  for (let i = 0; i < dim; i++) mLm += postMean[i] * xty.data[i];
  const quad = yy / (sigma * sigma) - mLm;
  const logEvidence = -0.5 * n * Math.log(2 * Math.PI) - 0.5 * logDetC - 0.5 * quad;
  return { n, dim, sigma, s0, x, y, postMean, postCov, logEvidence, precision };
}

/**
 * Batched tfjs log-likelihood sum_i log N(y_i; x_i . beta, sigma^2) for K rows of beta. Returns the
 * callback and the tensors to dispose after fitting.
 */
export function conjugateLogLikelihood(model: ConjugateModel): {
  batch: (thetas: tf.Tensor2D) => tf.Tensor1D;
  dispose: () => void;
} {
  const x = tf.tensor2d(Float32Array.from(model.x), [model.n, model.dim]);
  const xT = tf.transpose(x) as tf.Tensor2D;
  x.dispose();
  const yT = tf.tensor1d(Float32Array.from(model.y));
  const c = -0.5 * model.n * Math.log(2 * Math.PI * model.sigma * model.sigma);
  const inv = -0.5 / (model.sigma * model.sigma);
  return {
    batch: (thetas) =>
      tf.tidy(() => {
        const pred = matMul(thetas, xT); // [K, n]
        return tf.add(tf.mul(tf.sum(tf.square(tf.sub(pred, yT)), 1), inv), c) as tf.Tensor1D;
      }),
    dispose: () => {
      xT.dispose();
      yT.dispose();
    },
  };
}

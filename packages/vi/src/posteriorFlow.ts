/**
 * The variational family q_phi of @sdekit/vi (docs/methods.md section 5): a normalizing flow over a flat
 * parameter vector theta in R^D that stays cheap when D is 1e3-1e4 (the flow parameters of an
 * averaging model), composed from transforms of @sdekit/flows. Base e ~ N(0, I_D), then
 *
 *   z_j = SinhArcsinh(z_{j-1})             j = 1..layers, z_0 = e (elementwise skewness and tails)
 *   w   = LowRankMixing(z_layers)          rank rank-1 updates (I + u^_k v_k^T) (absent for rank 0)
 *   theta = ElementwiseAffine(w) = mu + exp(logScale) * w
 *
 * so log q(theta) = log N(e; 0, I) - sum_j log|det SinhArcsinh_j| - sum_k log(1 + v_k . u^_k)
 * - sum_i logScale_i, exact at any theta by the transforms' inverses. With rank = D the Gaussian part
 * spans every covariance; the sinh-arcsinh layers add per-coordinate skewness and tail weight. Cost
 * per sample is O(D (layers + rank)) and the parameter count D (2 + 2 layers + 2 rank), so D = 1e4
 * is fine, where coupling layers with MLP conditioners would need O(D * hidden) weights per layer.
 *
 * Flat layout of phi (length D (2 + 2 layers + 2 rank)), blocks row-major:
 *   [mu (D) | logScale (D) | eps (layers x D) | logDelta (layers x D) | U (rank x D) | V (rank x D)]:
 * ElementwiseAffine's [b, s] = [mu, logScale], layer j's SinhArcsinh [eps, logDelta] = rows j of the
 * eps and logDelta blocks, LowRankMixing's [U, V] (stored scaled by 1 / sqrt(D), see @sdekit/flows).
 * The layout is that of the saved posteriors (format 'sdekit.vi.posterior' v1).
 *
 * Two evaluations of the same maps: the transforms' float64 twins (sampling, log-density, bands) and
 * their TensorFlow.js float32 forms (training, differentiable in phi). In float32 the log-densities
 * leave out their additive constants (`flowLogProbConstant`), which the caller adds in float64.
 *
 * @example
 * const shape = { dim: 3, layers: 2, rank: 1 };
 * const phi = initialFlowParams(shape, { mean: new Float64Array(3), std: new Float64Array(3).fill(0.1) }, Rng.fromSeed(1));
 * const { theta, logProb } = flowSampleAndLogProb(phi, shape, 5, Rng.fromSeed(2));
 */

import { ElementwiseAffine, LowRankMixing, SinhArcsinh } from '@sdekit/flows';
import { checkInteger, InvalidArgumentError, type Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Sizes of the variational flow. */
export interface PosteriorFlowShape {
  /** Dimension D of the parameter vector theta. */
  readonly dim: number;
  /** Number of elementwise sinh-arcsinh layers. */
  readonly layers: number;
  /** Number of rank-1 mixing steps (0: mean-field, D: full covariance). */
  readonly rank: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** Validates a flow shape; throws InvalidArgumentError naming the field. */
export function checkFlowShape(shape: PosteriorFlowShape): void {
  checkInteger('dim', shape.dim, 1);
  checkInteger('flow.layers', shape.layers, 0);
  checkInteger('flow.rank', shape.rank, 0);
  if (shape.rank > shape.dim) {
    throw new InvalidArgumentError(
      'flow.rank',
      `must be <= dim = ${shape.dim}, got ${shape.rank}`,
      'pass a rank between 0 and dim',
    );
  }
}

/**
 * Converts non-centred params (location block m, theta = anchor + S (m + w)) to the centred layout
 * (mu = anchor + S m) used by flowForward/flowLogProb and Posterior. Returns a new array.
 */
export function toCentredParams(
  phi: ArrayLike<number>,
  shape: PosteriorFlowShape,
  anchor: Float64Array,
): Float64Array {
  const d = shape.dim;
  const out = Float64Array.from(phi);
  for (let i = 0; i < d; i++) out[i] = anchor[i] + Math.exp(out[d + i]) * out[i];
  return out;
}

/** Number of entries of phi: D (2 + 2 layers + 2 rank). */
export function numFlowParams(shape: PosteriorFlowShape): number {
  return shape.dim * (2 + 2 * shape.layers + 2 * shape.rank);
}

/** Offsets of the blocks of phi (see the module comment). */
function offsets(shape: PosteriorFlowShape) {
  const d = shape.dim;
  return {
    mu: 0,
    logScale: d,
    eps: (j: number) => (2 + j) * d,
    logDelta: (j: number) => (2 + shape.layers + j) * d,
    u: (k: number) => (2 + 2 * shape.layers + k) * d,
    v: (k: number) => (2 + 2 * shape.layers + shape.rank + k) * d,
  };
}

/**
 * The transforms of q for a shape: one SinhArcsinh evaluated at each layer's parameters, the
 * LowRankMixing (null for rank 0) and the ElementwiseAffine. They hold no tensors (parameters are
 * always passed explicitly).
 */
function transformsOf(shape: PosteriorFlowShape) {
  return {
    sinhArcsinh: new SinhArcsinh({ dim: shape.dim }),
    mixing: shape.rank > 0 ? new LowRankMixing({ dim: shape.dim, rank: shape.rank }) : null,
    affine: new ElementwiseAffine({ dim: shape.dim, dataInit: false }),
  };
}

/**
 * Initial phi: theta ~ N(mean, diag(std^2)) exactly (sinh-arcsinh layers at the identity, u = 0),
 * with v_k ~ N(0, I / D) drawn from `rng` (LowRankMixing.initialParams) so the gradient in u_k is
 * not zero at the start.
 */
export function initialFlowParams(
  shape: PosteriorFlowShape,
  init: { mean: Float64Array; std: Float64Array },
  rng: Rng,
): Float64Array {
  checkFlowShape(shape);
  const d = shape.dim;
  const phi = new Float64Array(numFlowParams(shape));
  const o = offsets(shape);
  for (let i = 0; i < d; i++) {
    phi[o.mu + i] = init.mean[i];
    phi[o.logScale + i] = Math.log(init.std[i]);
  }
  // eps_j = 0 and logDelta_j = 0: identity layers (already zero).
  const { mixing } = transformsOf(shape);
  if (mixing) phi.set(mixing.initialParams(rng)[1], o.v(0));
  return phi;
}

/** Float64 views of phi's blocks as the transforms' parameters. */
function params64(phi: Float64Array, shape: PosteriorFlowShape) {
  const d = shape.dim;
  const o = offsets(shape);
  const r = shape.rank;
  return {
    affine: [phi.subarray(o.mu, o.mu + d), phi.subarray(o.logScale, o.logScale + d)],
    layer: (j: number) => [
      phi.subarray(o.eps(j), o.eps(j) + d),
      phi.subarray(o.logDelta(j), o.logDelta(j) + d),
    ],
    mixing: [phi.subarray(o.u(0), o.u(0) + r * d), phi.subarray(o.v(0), o.v(0) + r * d)],
  };
}

/**
 * Float64 push-forward of base points e (n x D, row-major) through the flow: returns theta (n x D)
 * and log q(theta) (length n).
 */
export function flowForward(
  phi: Float64Array,
  shape: PosteriorFlowShape,
  e: Float64Array,
): { theta: Float64Array; logProb: Float64Array } {
  const d = shape.dim;
  const n = e.length / d;
  const t = transformsOf(shape);
  const p = params64(phi, shape);
  const theta = Float64Array.from(e);
  const logProb = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let lq = -0.5 * d * LOG_2PI;
    for (let i = 0; i < d; i++) lq -= 0.5 * e[s * d + i] * e[s * d + i];
    logProb[s] = lq;
  }
  for (let j = 0; j < shape.layers; j++) t.sinhArcsinh.forward64(p.layer(j), theta, logProb);
  // The parameter-only log-determinants, subtracted together.
  let logDetMix = 0;
  if (t.mixing) {
    t.mixing.forward64(p.mixing, theta);
    logDetMix = t.mixing.logDet64(p.mixing);
  }
  const logDet = logDetMix + t.affine.logDet64(p.affine);
  for (let s = 0; s < n; s++) logProb[s] -= logDet;
  t.affine.forward64(p.affine, theta);
  return { theta, logProb };
}

/** Float64 log q(theta) for a batch theta (n x D) by the exact inverse of the flow. */
export function flowLogProb(phi: Float64Array, shape: PosteriorFlowShape, theta: Float64Array): Float64Array {
  const d = shape.dim;
  const n = theta.length / d;
  const t = transformsOf(shape);
  const p = params64(phi, shape);
  const logDetMix = t.mixing ? t.mixing.logDet64(p.mixing) : 0;
  const logProb = new Float64Array(n).fill(-0.5 * d * LOG_2PI - logDetMix - t.affine.logDet64(p.affine));
  const z = Float64Array.from(theta);
  t.affine.inverse64(p.affine, z);
  t.mixing?.inverse64(p.mixing, z);
  for (let j = shape.layers - 1; j >= 0; j--) t.sinhArcsinh.inverse64(p.layer(j), z, logProb);
  for (let s = 0; s < n; s++) {
    let lq = logProb[s];
    for (let i = 0; i < d; i++) lq -= 0.5 * z[s * d + i] * z[s * d + i];
    logProb[s] = lq;
  }
  return logProb;
}

/** Draws n points of q with their log-densities (float64). */
export function flowSampleAndLogProb(
  phi: Float64Array,
  shape: PosteriorFlowShape,
  n: number,
  rng: Rng,
): { theta: Float64Array; logProb: Float64Array } {
  const e = new Float64Array(n * shape.dim);
  rng.fillNormal(e);
  return flowForward(phi, shape, e);
}

// ---------------------------------------------------------------------------------------------
// TensorFlow.js (float32) versions, differentiable in phi. The additive constants of log q are
// returned separately (`flowLogProbConstant`) and added in float64 by the caller.

/**
 * The constant part of log q: -D/2 log(2 pi) minus the SinhArcsinh layers' logDetConstant
 * (-D log 2 each), which their float32 log-determinants leave out.
 */
export function flowLogProbConstant(shape: PosteriorFlowShape): number {
  return -0.5 * shape.dim * LOG_2PI + shape.layers * shape.dim * Math.LN2;
}

/**
 * phi's blocks as the transforms' parameter tensors, split by one op (op count matters more than
 * arithmetic here: small tensors, per-op overhead of the backends).
 */
function paramsTf(phi: tf.Tensor1D, shape: PosteriorFlowShape) {
  const { dim: d, layers: nl, rank: r } = shape;
  const sizes = [d, d, ...new Array<number>(2 * nl).fill(d)];
  if (r > 0) sizes.push(r * d, r * d);
  const blocks = tf.split(phi, sizes);
  return {
    mu: blocks[0],
    logScale: blocks[1],
    layer: (j: number) => [blocks[2 + j], blocks[2 + nl + j]],
    mixing: r > 0 ? [tf.reshape(blocks[2 + 2 * nl], [r, d]), tf.reshape(blocks[3 + 2 * nl], [r, d])] : [],
  };
}

/**
 * theta = g_phi(e) for base points e [K, D], and the variable part of log q(theta):
 * log q = flowLogProbConstant(shape) + logProbVar. Differentiable in phi. Call inside tf.tidy.
 *
 * With `anchor` the location block is non-centred: theta = anchor + S (m + w) with m the mu block
 * (`toCentredParams` converts), so an optimiser step of size lr in m moves theta by lr times the
 * current scale S: location steps adapt to the posterior width, whatever the units of theta.
 */
export function flowForwardTensor(
  phi: tf.Tensor1D,
  shape: PosteriorFlowShape,
  e: tf.Tensor2D,
  anchor?: tf.Tensor1D,
): { theta: tf.Tensor2D; logProbVar: tf.Tensor1D } {
  const t = transformsOf(shape);
  const p = paramsTf(phi, shape);
  // log q = -1/2 |e|^2 - sum_j log|det SinhArcsinh_j| - log|det mixing| - sum logScale
  let logProbVar: tf.Tensor1D = tf.mul(tf.sum(tf.square(e), 1), -0.5);
  let z = e;
  for (let j = 0; j < shape.layers; j++) {
    const r = t.sinhArcsinh.forwardSplit(z, p.layer(j));
    logProbVar = tf.sub(logProbVar, r.logDet as tf.Tensor1D);
    z = r.y;
  }
  let logDetMix: tf.Tensor1D | null = null;
  if (t.mixing) {
    const r = t.mixing.forward(z, p.mixing);
    z = r.y;
    logDetMix = r.logDet;
  }
  const affine = anchor
    ? t.affine.forward(tf.add(p.mu, z), [anchor, p.logScale])
    : t.affine.forward(z, [p.mu, p.logScale]);
  const logDetAffine = affine.logDet as tf.Tensor1D;
  logProbVar = tf.sub(logProbVar, logDetMix ? tf.add(logDetAffine, logDetMix) : logDetAffine);
  return { theta: affine.y, logProbVar };
}

/**
 * Variable part of log q_phi(theta) for points theta [K, D] by the exact inverse. Used with a
 * frozen copy of phi for the "sticking the landing" gradient (Roeder, Wu & Duvenaud 2017, NeurIPS):
 * the gradient then reaches phi only through theta = g_phi(e). Call inside tf.tidy.
 */
export function flowLogProbTensor(
  phi: tf.Tensor1D,
  shape: PosteriorFlowShape,
  theta: tf.Tensor2D,
  anchor?: tf.Tensor1D,
): tf.Tensor1D {
  const t = transformsOf(shape);
  const p = paramsTf(phi, shape);
  const affine = anchor
    ? t.affine.inverse(theta, [anchor, p.logScale])
    : t.affine.inverse(theta, [p.mu, p.logScale]);
  let z = anchor ? (tf.sub(affine.y, p.mu) as tf.Tensor2D) : affine.y;
  let logProbVar = affine.logDet as tf.Tensor1D;
  if (t.mixing) {
    const r = t.mixing.inverse(z, p.mixing);
    z = r.y;
    logProbVar = tf.add(logProbVar, r.logDet as tf.Tensor1D);
  }
  for (let j = shape.layers - 1; j >= 0; j--) {
    const r = t.sinhArcsinh.inverseSplit(z, p.layer(j));
    logProbVar = tf.add(logProbVar, r.logDet as tf.Tensor1D);
    z = r.y;
  }
  return tf.sub(logProbVar, tf.mul(tf.sum(tf.square(z), 1), 0.5));
}

/**
 * The variational family q_phi of @sdekit/vi (docs/methods.md section 5): a normalizing flow over a flat
 * parameter vector theta in R^D that stays cheap when D is 1e3-1e4 (the flow parameters of an
 * averaging model). Base e ~ N(0, I_D), then
 *
 *   z_0 = e
 *   z_j = h_j(z_{j-1})                                   j = 1..layers, elementwise sinh-arcsinh
 *         h(z) = sinh(delta * asinh(z) + eps)           (Jones & Pewsey 2009, Biometrika 96:761)
 *   w_k = w_{k-1} + u^_k (v_k . w_{k-1})                 k = 1..rank, w_0 = z_layers (rank-1 mixing)
 *   theta = mu + exp(logScale) * w_rank                  (diagonal affine)
 *
 * so log q(theta) = log N(e; 0, I) - sum_j sum_i log h_j'(z_{j-1,i}) - sum_k log(1 + v_k . u^_k)
 * - sum_i logScale_i. The rank-1 steps are the invertible linear part of planar flows (Rezende &
 * Mohamed 2015, ICML, appendix A): u^ = u + (m(v.u) - v.u) v / |v|^2 with m(a) = softplus(a + c) - 1,
 * c = log(e - 1), so 1 + v.u^ = softplus(v.u + c) > 0 and u = 0 is the identity. Their inverse is
 * Sherman-Morrison, (I + u^ v^T)^{-1} y = y - u^ (v.y) / (1 + v.u^), so log q is exact at any theta.
 * With rank = D the Gaussian part spans every covariance (a lower-triangular factor is a product of
 * D column updates I + (l_k - e_k) e_k^T); the sinh-arcsinh layers add per-coordinate skewness and
 * tail weight. Cost per sample is O(D (layers + rank)) and the parameter count D (2 + 2 layers +
 * 2 rank), so D = 1e4 is fine, where coupling layers with MLP conditioners would need O(D * hidden)
 * weights per layer.
 *
 * Flat layout of phi (length D (2 + 2 layers + 2 rank)), blocks row-major:
 *   [mu (D) | logScale (D) | eps (layers x D) | logDelta (layers x D) | U (rank x D) | V (rank x D)].
 * The stored U, V are scaled: u_k = U_k / sqrt(D), v_k = V_k / sqrt(D). Adam moves every stored
 * coordinate by about lr per step, so without the scaling a step would change |u_k| by lr sqrt(D)
 * (unstable for D ~ 1e3); with it, by about lr.
 *
 * Two implementations of the same maps: float64 loops (sampling, log-density, bands) and
 * TensorFlow.js float32 (training, differentiable in phi).
 *
 * @example
 * const shape = { dim: 3, layers: 2, rank: 1 };
 * const phi = initialFlowParams(shape, { mean: new Float64Array(3), std: new Float64Array(3).fill(0.1) }, Rng.fromSeed(1));
 * const { theta, logProb } = flowSampleAndLogProb(phi, shape, 5, Rng.fromSeed(2));
 */

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
const LN2 = Math.LN2;
/** c = log(e - 1): softplus(c) = 1, so m(0) = 0 and u = 0 gives the identity. */
const SOFTPLUS_SHIFT = Math.log(Math.E - 1);

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
 * Initial phi: theta ~ N(mean, diag(std^2)) exactly (sinh-arcsinh layers at the identity, u = 0),
 * with v_k ~ N(0, I / D) drawn from `rng` so the gradient in u_k is not zero at the start.
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
  for (let k = 0; k < shape.rank; k++) {
    const vo = o.v(k);
    for (let i = 0; i < d; i++) phi[vo + i] = rng.normal(); // v = v_raw / sqrt(D) ~ N(0, I / D)
  }
  return phi;
}

function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}

/** log cosh(a) = |a| + log1p(exp(-2|a|)) - log 2, without overflow. */
function logCosh(a: number): number {
  const b = Math.abs(a);
  return b + Math.log1p(Math.exp(-2 * b)) - LN2;
}

/** Precomputed float64 pieces of phi: the constrained u^_k and log(1 + v_k . u^_k). */
interface Unpacked64 {
  readonly uHat: Float64Array[];
  readonly v: Float64Array[];
  readonly logDetMix: number;
  readonly scale: Float64Array;
  readonly sumLogScale: number;
}

function unpack64(phi: Float64Array, shape: PosteriorFlowShape): Unpacked64 {
  const d = shape.dim;
  const mixScale = 1 / Math.sqrt(d);
  const o = offsets(shape);
  const uHat: Float64Array[] = [];
  const vs: Float64Array[] = [];
  let logDetMix = 0;
  for (let k = 0; k < shape.rank; k++) {
    const u = Float64Array.from(phi.subarray(o.u(k), o.u(k) + d), (x) => x * mixScale);
    const v = Float64Array.from(phi.subarray(o.v(k), o.v(k) + d), (x) => x * mixScale);
    let w = 0;
    let vv = 0;
    for (let i = 0; i < d; i++) {
      w += v[i] * u[i];
      vv += v[i] * v[i];
    }
    const sp = softplus(w + SOFTPLUS_SHIFT);
    const coef = (sp - 1 - w) / vv;
    const uh = new Float64Array(d);
    for (let i = 0; i < d; i++) uh[i] = u[i] + coef * v[i];
    uHat.push(uh);
    vs.push(v.slice());
    logDetMix += Math.log(sp);
  }
  const scale = new Float64Array(d);
  let sumLogScale = 0;
  for (let i = 0; i < d; i++) {
    const ls = phi[o.logScale + i];
    scale[i] = Math.exp(ls);
    sumLogScale += ls;
  }
  return { uHat, v: vs, logDetMix, scale, sumLogScale };
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
  const o = offsets(shape);
  const p = unpack64(phi, shape);
  const theta = new Float64Array(n * d);
  const logProb = new Float64Array(n);
  const z = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    let lq = -0.5 * d * LOG_2PI;
    for (let i = 0; i < d; i++) {
      z[i] = e[s * d + i];
      lq -= 0.5 * z[i] * z[i];
    }
    for (let j = 0; j < shape.layers; j++) {
      const eo = o.eps(j);
      const lo = o.logDelta(j);
      for (let i = 0; i < d; i++) {
        const logDelta = phi[lo + i];
        const a = Math.exp(logDelta) * Math.asinh(z[i]) + phi[eo + i];
        lq -= logCosh(a) + logDelta - 0.5 * Math.log1p(z[i] * z[i]);
        z[i] = Math.sinh(a);
      }
    }
    for (let k = 0; k < shape.rank; k++) {
      const v = p.v[k];
      const uh = p.uHat[k];
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i] * z[i];
      for (let i = 0; i < d; i++) z[i] += uh[i] * dot;
    }
    lq -= p.logDetMix + p.sumLogScale;
    for (let i = 0; i < d; i++) theta[s * d + i] = phi[o.mu + i] + p.scale[i] * z[i];
    logProb[s] = lq;
  }
  return { theta, logProb };
}

/** Float64 log q(theta) for a batch theta (n x D) by the exact inverse of the flow. */
export function flowLogProb(phi: Float64Array, shape: PosteriorFlowShape, theta: Float64Array): Float64Array {
  const d = shape.dim;
  const n = theta.length / d;
  const o = offsets(shape);
  const p = unpack64(phi, shape);
  const logProb = new Float64Array(n);
  const z = new Float64Array(d);
  const spMix: number[] = [];
  for (let k = 0; k < shape.rank; k++) {
    let vu = 0;
    for (let i = 0; i < d; i++) vu += p.v[k][i] * p.uHat[k][i];
    spMix.push(1 + vu);
  }
  for (let s = 0; s < n; s++) {
    let lq = -0.5 * d * LOG_2PI - p.logDetMix - p.sumLogScale;
    for (let i = 0; i < d; i++) z[i] = (theta[s * d + i] - phi[o.mu + i]) / p.scale[i];
    for (let k = shape.rank - 1; k >= 0; k--) {
      const v = p.v[k];
      const uh = p.uHat[k];
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i] * z[i];
      const c = dot / spMix[k];
      for (let i = 0; i < d; i++) z[i] -= uh[i] * c;
    }
    for (let j = shape.layers - 1; j >= 0; j--) {
      const eo = o.eps(j);
      const lo = o.logDelta(j);
      for (let i = 0; i < d; i++) {
        const logDelta = phi[lo + i];
        const a = Math.asinh(z[i]);
        // Preimage zp = sinh((asinh(z) - eps) / delta); log h'(zp) = log cosh(a') + log delta - log1p(zp^2)/2
        // with a' = delta asinh(zp) + eps = asinh(z), so cosh(a') = sqrt(1 + z^2).
        const zp = Math.sinh((a - phi[eo + i]) / Math.exp(logDelta));
        lq -= 0.5 * Math.log1p(z[i] * z[i]) + logDelta - 0.5 * Math.log1p(zp * zp);
        z[i] = zp;
      }
    }
    for (let i = 0; i < d; i++) lq -= 0.5 * z[i] * z[i];
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

/** The constant part of log q: -D/2 log(2 pi) + layers * D * log 2 (from log cosh). */
export function flowLogProbConstant(shape: PosteriorFlowShape): number {
  return -0.5 * shape.dim * LOG_2PI + shape.layers * shape.dim * LN2;
}

interface UnpackedTf {
  mu: tf.Tensor1D;
  logScale: tf.Tensor1D;
  /** [layers, D] each. */
  eps: tf.Tensor2D;
  logDelta: tf.Tensor2D;
  /** Constrained u^_k as rows of [rank, D]. */
  uHat: tf.Tensor2D;
  v: tf.Tensor2D;
  /** 1 + v_k . u^_k = softplus(v_k . u_k + c), [rank, 1]. */
  onePlusVu: tf.Tensor2D;
}

// Op count matters more than arithmetic here (small tensors, per-op overhead of the backends), so
// blocks are split once and rows are taken with a single tf.slice each; rows of [n, D] broadcast
// against [K, D] without reshaping.
function unpackTf(phi: tf.Tensor1D, shape: PosteriorFlowShape): UnpackedTf {
  const { dim: d, layers: nl, rank: r } = shape;
  const blocks = tf.split(phi, [d, d, nl * d, nl * d, r * d, r * d]);
  const mixScale = 1 / Math.sqrt(d);
  const u = tf.mul(tf.reshape(blocks[4], [r, d]), mixScale);
  const v = tf.mul(tf.reshape(blocks[5], [r, d]), mixScale) as tf.Tensor2D;
  // All r constrained vectors at once: w = rowwise u.v, u^ = u + (softplus(w + c) - 1 - w) v / |v|^2.
  const w = tf.sum(tf.mul(u, v), 1, true);
  const sp = tf.softplus(tf.add(w, SOFTPLUS_SHIFT)) as tf.Tensor2D;
  const coef = tf.div(tf.sub(tf.sub(sp, 1), w), tf.sum(tf.square(v), 1, true));
  return {
    mu: blocks[0] as tf.Tensor1D,
    logScale: blocks[1] as tf.Tensor1D,
    eps: tf.reshape(blocks[2], [nl, d]) as tf.Tensor2D,
    logDelta: tf.reshape(blocks[3], [nl, d]) as tf.Tensor2D,
    uHat: tf.add(u, tf.mul(coef, v)) as tf.Tensor2D,
    v,
    onePlusVu: sp,
  };
}

/** Row j of a [n, D] tensor as [1, D] (one op; broadcasts against [K, D]). */
function row(t: tf.Tensor2D, j: number): tf.Tensor2D {
  return tf.slice(t, [j, 0], [1, t.shape[1]]);
}

/** log cosh(a) + log 2 elementwise, stable for large |a|. */
function logCoshPlusLn2(a: tf.Tensor): tf.Tensor {
  const b = tf.abs(a);
  return tf.add(b, tf.log1p(tf.exp(tf.mul(b, -2))));
}

/** Sum over the flow of the phi-only log-determinant terms: sum_k log(1 + v_k.u^_k) + sum_i logScale_i. */
function parameterLogDet(p: UnpackedTf, shape: PosteriorFlowShape): tf.Tensor {
  const s = tf.sum(p.logScale);
  return shape.rank > 0 ? tf.add(s, tf.sum(tf.log(p.onePlusVu))) : s;
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
  const p = unpackTf(phi, shape);
  // log q = -1/2 |e|^2 - sum log h' - sum log(1 + v.u^) - sum logScale
  let logProbVar: tf.Tensor = tf.mul(tf.sum(tf.square(e), 1), -0.5);
  let z: tf.Tensor = e;
  if (shape.layers > 0) {
    let logDeriv: tf.Tensor | null = null;
    const logDelta = p.logDelta;
    const delta = tf.exp(logDelta);
    for (let j = 0; j < shape.layers; j++) {
      const a = tf.add(tf.mul(row(delta, j), tf.asinh(z)), row(p.eps, j));
      // log h'(z) + log 2 = log(2 cosh a) + log delta - log1p(z^2) / 2
      const term = tf.sub(logCoshPlusLn2(a), tf.mul(tf.log1p(tf.square(z)), 0.5));
      logDeriv = logDeriv ? tf.add(logDeriv, term) : term;
      z = tf.sinh(a);
    }
    logProbVar = tf.sub(logProbVar, tf.add(tf.sum(logDeriv as tf.Tensor, 1), tf.sum(logDelta)));
  }
  for (let k = 0; k < shape.rank; k++) {
    const dot = tf.sum(tf.mul(z, row(p.v, k)), 1, true);
    z = tf.add(z, tf.mul(dot, row(p.uHat, k)));
  }
  logProbVar = tf.sub(logProbVar, parameterLogDet(p, shape));
  const scale = tf.exp(p.logScale);
  const theta = (
    anchor ? tf.add(anchor, tf.mul(scale, tf.add(p.mu, z))) : tf.add(p.mu, tf.mul(scale, z))
  ) as tf.Tensor2D;
  return { theta, logProbVar: logProbVar as tf.Tensor1D };
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
  const p = unpackTf(phi, shape);
  const invScale = tf.exp(tf.neg(p.logScale));
  let z: tf.Tensor = anchor
    ? tf.sub(tf.mul(tf.sub(theta, anchor), invScale), p.mu)
    : tf.mul(tf.sub(theta, p.mu), invScale);
  if (shape.rank > 0) {
    // Sherman-Morrison: (I + u^ v^T)^{-1} y = y - (u^ / (1 + v.u^)) (v.y)
    const uTilde = tf.div(p.uHat, p.onePlusVu) as tf.Tensor2D;
    for (let k = shape.rank - 1; k >= 0; k--) {
      const dot = tf.sum(tf.mul(z, row(p.v, k)), 1, true);
      z = tf.sub(z, tf.mul(dot, row(uTilde, k)));
    }
  }
  let logProbVar: tf.Tensor = tf.neg(parameterLogDet(p, shape));
  if (shape.layers > 0) {
    let logDeriv: tf.Tensor | null = null;
    const invDelta = tf.exp(tf.neg(p.logDelta));
    for (let j = shape.layers - 1; j >= 0; j--) {
      const a = tf.asinh(z);
      const zp = tf.sinh(tf.mul(tf.sub(a, row(p.eps, j)), row(invDelta, j)));
      // log h'(zp) + log 2 = log(2 cosh(asinh z)) + log delta - log1p(zp^2)/2 (cosh(asinh z) = sqrt(1 + z^2))
      const term = tf.sub(logCoshPlusLn2(a), tf.mul(tf.log1p(tf.square(zp)), 0.5));
      logDeriv = logDeriv ? tf.add(logDeriv, term) : term;
      z = zp;
    }
    logProbVar = tf.sub(logProbVar, tf.add(tf.sum(logDeriv as tf.Tensor, 1), tf.sum(p.logDelta)));
  }
  return tf.sub(logProbVar, tf.mul(tf.sum(tf.square(z), 1), 0.5)) as tf.Tensor1D;
}

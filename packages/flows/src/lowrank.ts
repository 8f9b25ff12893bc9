/**
 * Low-rank mixing: a product of `rank` invertible rank-1 updates of the identity,
 *
 *   w_k = w_{k-1} + u^_k (v_k . w_{k-1}),   k = 1..rank,   v = w_rank,  w_0 = u,
 *
 * the invertible linear part of planar flows (Rezende & Mohamed 2015, ICML, appendix A):
 * u^ = u + (m(v.u) - v.u) v / |v|^2 with m(a) = softplus(a + c) - 1, c = log(e - 1), so
 * 1 + v.u^ = softplus(v.u + c) > 0 (each factor is invertible) and u = 0 is the identity.
 *
 *   log|det dv/du| = sum_k log(1 + v_k . u^_k)                  (matrix determinant lemma),
 *   (I + u^ v^T)^{-1} y = y - u^ (v.y) / (1 + v.u^)             (Sherman-Morrison),
 *
 * so both directions are exact and cost O(rank dim) per row; the log-determinant does not depend on
 * the point. With rank = dim the product spans every linear map with positive determinant reachable
 * from the identity (a lower-triangular factor is a product of dim column updates
 * I + (l_k - e_k) e_k^T), at 2 rank dim parameters instead of dim^2.
 *
 * Parameters U, V (rank x dim) are stored scaled: u_k = U_k / sqrt(dim), v_k = V_k / sqrt(dim).
 * Adam moves every stored coordinate by about lr per step, so without the scaling a step would
 * change |u_k| by lr sqrt(dim) (unstable for dim ~ 1e3); with it, by about lr. At construction
 * U = 0 (the identity) and V = 0; give V non-zero values before training (a random V, as in
 * `LowRankMixing.initialParams`), since the gradient in U is proportional to v.
 */

import { checkInteger, InvalidArgumentError, type Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkParams64, checkRows64, checkWidth } from './sinharcsinh.js';
import type { Transform, TransformJSON, TransformResult } from './transform.js';

/** c = log(e - 1): softplus(c) = 1, so m(0) = 0 and U = 0 gives the identity. */
const SOFTPLUS_SHIFT = Math.log(Math.E - 1);

function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}

/** Options of LowRankMixing. */
export interface LowRankMixingOptions {
  dim: number;
  /** Number of rank-1 factors, 1..dim. */
  rank: number;
}

/**
 * Product of `rank` invertible rank-1 updates I + u^_k v_k^T; parameters [U (rank x dim),
 * V (rank x dim)] (scaled by 1 / sqrt(dim)).
 *
 * @example
 * const mix = new LowRankMixing({ dim: 3, rank: 2 });
 * const params = Array.from(mix.initialParams(Rng.fromSeed(1)), (p, i) =>
 *   tf.tensor(i === 0 ? p.map(() => 0.5) : p, mix.paramShapes[i]));
 * const { y, logDet } = mix.forward(tf.randomNormal([4, 3]), params); // logDet: one value, every row
 */
export class LowRankMixing implements Transform {
  readonly dim: number;
  readonly rank: number;
  readonly contextDim = 0;
  readonly paramShapes: readonly number[][];
  readonly numParams: number;
  private vars: tf.Variable[] | null = null;

  constructor(options: LowRankMixingOptions) {
    checkInteger('dim', options.dim, 1);
    checkInteger('rank', options.rank, 1);
    if (options.rank > options.dim) {
      throw new InvalidArgumentError(
        'rank',
        `must be <= dim = ${options.dim}, got ${options.rank}`,
        'pass a rank between 1 and dim',
      );
    }
    this.dim = options.dim;
    this.rank = options.rank;
    this.paramShapes = [
      [this.rank, this.dim],
      [this.rank, this.dim],
    ];
    this.numParams = 2 * this.rank * this.dim;
  }

  /** [U, V], created (zero) on first use: a transform evaluated only at explicit parameters holds no tensors. */
  get variables(): readonly tf.Variable[] {
    this.vars ??= tf.tidy(() => [
      tf.variable(tf.zeros([this.rank, this.dim]), true),
      tf.variable(tf.zeros([this.rank, this.dim]), true),
    ]);
    return this.vars;
  }

  /**
   * Parameters of the identity with a random direction: U = 0, V ~ N(0, I) (so v_k ~ N(0, I / dim)
   * and the gradient in U is not zero), drawn from `rng` row by row.
   */
  initialParams(rng: Rng): [Float64Array, Float64Array] {
    const v = new Float64Array(this.rank * this.dim);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    return [new Float64Array(this.rank * this.dim), v];
  }

  // All rank constrained vectors at once (op count matters more than arithmetic for small tensors):
  // w = rowwise u.v, u^ = u + (softplus(w + c) - 1 - w) v / |v|^2, 1 + v.u^ = softplus(w + c).
  private unpack(params: readonly tf.Tensor[]) {
    const scale = 1 / Math.sqrt(this.dim);
    const u = tf.mul(params[0], scale);
    const v = tf.mul(params[1], scale) as tf.Tensor2D;
    const w = tf.sum(tf.mul(u, v), 1, true);
    const sp = tf.softplus(tf.add(w, SOFTPLUS_SHIFT)) as tf.Tensor2D;
    const coef = tf.div(tf.sub(tf.sub(sp, 1), w), tf.sum(tf.square(v), 1, true));
    return { uHat: tf.add(u, tf.mul(coef, v)) as tf.Tensor2D, v, onePlusVu: sp };
  }

  /** Row k of a [rank, dim] tensor as [1, dim] (one op; broadcasts against [n, dim]). */
  private row(t: tf.Tensor2D, k: number): tf.Tensor2D {
    return tf.slice(t, [k, 0], [1, this.dim]);
  }

  forward(u: tf.Tensor2D, params: readonly tf.Tensor[]): TransformResult {
    checkWidth(u, this.dim);
    return tf.tidy(() => {
      const p = this.unpack(params);
      let z: tf.Tensor = u;
      for (let k = 0; k < this.rank; k++) {
        const dot = tf.sum(tf.mul(z, this.row(p.v, k)), 1, true);
        z = tf.add(z, tf.mul(dot, this.row(p.uHat, k)));
      }
      const logDet = tf.add(tf.zeros([u.shape[0]]), tf.sum(tf.log(p.onePlusVu))) as tf.Tensor1D;
      return { y: z as tf.Tensor2D, logDet };
    });
  }

  inverse(v: tf.Tensor2D, params: readonly tf.Tensor[]): TransformResult {
    checkWidth(v, this.dim);
    return tf.tidy(() => {
      const p = this.unpack(params);
      // Sherman-Morrison: (I + u^ v^T)^{-1} y = y - (u^ / (1 + v.u^)) (v.y), last factor first
      const uTilde = tf.div(p.uHat, p.onePlusVu) as tf.Tensor2D;
      let z: tf.Tensor = v;
      for (let k = this.rank - 1; k >= 0; k--) {
        const dot = tf.sum(tf.mul(z, this.row(p.v, k)), 1, true);
        z = tf.sub(z, tf.mul(dot, this.row(uTilde, k)));
      }
      const logDet = tf.sub(tf.zeros([v.shape[0]]), tf.sum(tf.log(p.onePlusVu))) as tf.Tensor1D;
      return { y: z as tf.Tensor2D, logDet };
    });
  }

  /** Float64 u^_k, v_k (unscaled from U, V) and log|det| = sum_k log(1 + v_k . u^_k). */
  private unpack64(params: readonly Float64Array[]) {
    checkParams64(params, this.paramShapes as number[][]);
    const d = this.dim;
    const scale = 1 / Math.sqrt(d);
    const uHat: Float64Array[] = [];
    const vs: Float64Array[] = [];
    let logDet = 0;
    for (let k = 0; k < this.rank; k++) {
      const u = Float64Array.from(params[0].subarray(k * d, (k + 1) * d), (x) => x * scale);
      const v = Float64Array.from(params[1].subarray(k * d, (k + 1) * d), (x) => x * scale);
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
      vs.push(v);
      logDet += Math.log(sp);
    }
    return { uHat, v: vs, logDet };
  }

  /** Float64 log|det dv/du| at params [U, V] (the same at every point). */
  logDet64(params: readonly Float64Array[]): number {
    return this.unpack64(params).logDet;
  }

  /**
   * Float64 twin of `forward`: maps the rows of u (n x dim) in place and, when given, subtracts
   * log|det dv/du| (`logDet64`) from logDensity[r].
   */
  forward64(params: readonly Float64Array[], u: Float64Array, logDensity?: Float64Array): void {
    const d = this.dim;
    const n = checkRows64(u, d, logDensity);
    const p = this.unpack64(params);
    for (let s = 0; s < n; s++) {
      const z = u.subarray(s * d, (s + 1) * d);
      for (let k = 0; k < this.rank; k++) {
        const v = p.v[k];
        const uh = p.uHat[k];
        let dot = 0;
        for (let i = 0; i < d; i++) dot += v[i] * z[i];
        for (let i = 0; i < d; i++) z[i] += uh[i] * dot;
      }
      if (logDensity) logDensity[s] -= p.logDet;
    }
  }

  /**
   * Float64 twin of `inverse`: maps the rows of v in place (Sherman-Morrison, last factor first)
   * and, when given, adds log|det du/dv| = -`logDet64` to logDensity[r].
   */
  inverse64(params: readonly Float64Array[], v: Float64Array, logDensity?: Float64Array): void {
    const d = this.dim;
    const n = checkRows64(v, d, logDensity);
    const p = this.unpack64(params);
    const onePlusVu: number[] = [];
    for (let k = 0; k < this.rank; k++) {
      let vu = 0;
      for (let i = 0; i < d; i++) vu += p.v[k][i] * p.uHat[k][i];
      onePlusVu.push(1 + vu);
    }
    for (let s = 0; s < n; s++) {
      const z = v.subarray(s * d, (s + 1) * d);
      for (let k = this.rank - 1; k >= 0; k--) {
        const vk = p.v[k];
        const uh = p.uHat[k];
        let dot = 0;
        for (let i = 0; i < d; i++) dot += vk[i] * z[i];
        const c = dot / onePlusVu[k];
        for (let i = 0; i < d; i++) z[i] -= uh[i] * c;
      }
      if (logDensity) logDensity[s] -= p.logDet;
    }
  }

  toJSON(): TransformJSON {
    return { type: 'LowRankMixing', dim: this.dim, rank: this.rank };
  }

  dispose(): void {
    for (const v of this.vars ?? []) v.dispose();
    this.vars = null;
  }
}

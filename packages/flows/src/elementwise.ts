/**
 * Elementwise affine layer v = u * exp(s) + b with learned s, b in R^dim (ActNorm of Kingma &
 * Dhariwal 2018, Glow, §3.1, for vectors), log|det| = sum_j s_j.
 *
 * Data-dependent initialisation (`dataInit`, default true): before training, Flow.fit calls
 * initializeFromData with the data-side inputs of this layer, which sets b = mean and s = log std
 * per coordinate (computed in float64), so the layer's inverse standardises its input. At
 * construction s = b = 0: the identity.
 *
 * `forward64` / `inverse64` / `logDet64` are float64 twins at explicit parameters (the Gaussian part
 * of a variational posterior, @sdekit/vi).
 */

import { checkInteger, DimensionError, InvalidArgumentError, mean, variance } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkParams64, checkRows64 } from './sinharcsinh.js';
import type { Transform, TransformJSON, TransformResult } from './transform.js';

/** Options of ElementwiseAffine. */
export interface ElementwiseAffineOptions {
  dim: number;
  /** Initialise from data before the first fit (default true). */
  dataInit?: boolean;
}

/**
 * Elementwise affine / ActNorm transform.
 *
 * @example
 * const norm = new ElementwiseAffine({ dim: 2 });
 * norm.initializeFromData(tf.tensor2d([[0, 10], [2, 30]]));  // b = (1, 20), s = log(1, 10)
 * const { y } = norm.inverse(tf.tensor2d([[0, 10], [2, 30]]), norm.variables, null); // standardised
 */
export class ElementwiseAffine implements Transform {
  readonly dim: number;
  readonly contextDim = 0;
  readonly dataInit: boolean;
  readonly paramShapes: readonly number[][];
  readonly numParams: number;
  private initialized = false;
  private vars: tf.Variable[] | null = null;

  constructor(options: ElementwiseAffineOptions) {
    checkInteger('dim', options.dim, 1);
    this.dim = options.dim;
    this.dataInit = options.dataInit ?? true;
    this.paramShapes = [[this.dim], [this.dim]];
    this.numParams = 2 * this.dim;
  }

  /**
   * [shift b, logScale s], created (zero) on first use: a layer evaluated only at explicit
   * parameters holds no tensors.
   */
  get variables(): readonly tf.Variable[] {
    this.vars ??= tf.tidy(() => [
      tf.variable(tf.zeros([this.dim]), true),
      tf.variable(tf.zeros([this.dim]), true),
    ]);
    return this.vars;
  }

  /** Whether data-dependent initialisation is still pending. */
  get needsDataInit(): boolean {
    return this.dataInit && !this.initialized;
  }

  private check(x: tf.Tensor2D): void {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new DimensionError(
        'x',
        `shape [${x.shape}] does not match dim ${this.dim}`,
        `pass a [batch, ${this.dim}] tensor`,
      );
    }
  }

  forward(u: tf.Tensor2D, params: readonly tf.Tensor[]): TransformResult {
    this.check(u);
    return tf.tidy(() => {
      const [b, s] = params;
      const logDet = tf.add(tf.zeros([u.shape[0]]), tf.sum(s)) as tf.Tensor1D;
      return { y: tf.add(tf.mul(u, tf.exp(s)), b) as tf.Tensor2D, logDet };
    });
  }

  inverse(v: tf.Tensor2D, params: readonly tf.Tensor[]): TransformResult {
    this.check(v);
    return tf.tidy(() => {
      const [b, s] = params;
      const logDet = tf.sub(tf.zeros([v.shape[0]]), tf.sum(s)) as tf.Tensor1D;
      return { y: tf.mul(tf.sub(v, b), tf.exp(tf.neg(s))) as tf.Tensor2D, logDet };
    });
  }

  /**
   * Sets b = mean(v), s = log std(v) per coordinate (float64 statistics of the batch v, >= 2 rows).
   * Throws InvalidArgumentError for a constant coordinate (no density exists on a constant).
   */
  initializeFromData(v: tf.Tensor2D): void {
    this.check(v);
    const n = v.shape[0];
    if (n < 2)
      throw new InvalidArgumentError(
        'data',
        `has ${n} points`,
        'pass at least 2 points for data-dependent initialisation',
      );
    const data = Float64Array.from(v.dataSync());
    const mu = mean(data, this.dim);
    const vars = variance(data, this.dim);
    const logStd = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) {
      if (!(vars[j] > 0)) {
        throw new InvalidArgumentError(
          'data',
          `coordinate ${j} is constant (${mu[j]})`,
          'drop constant coordinates before fitting a density',
        );
      }
      logStd[j] = 0.5 * Math.log(vars[j]);
    }
    tf.tidy(() => {
      this.variables[0].assign(tf.tensor1d(Float32Array.from(mu)));
      this.variables[1].assign(tf.tensor1d(logStd));
    });
    this.initialized = true;
  }

  /** Float64 log|det dv/du| = sum_j s_j at params [b, s] (the same at every point). */
  logDet64(params: readonly Float64Array[]): number {
    checkParams64(params, this.paramShapes as number[][]);
    const s = params[1];
    let sum = 0;
    for (let j = 0; j < this.dim; j++) sum += s[j];
    return sum;
  }

  /**
   * Float64 twin of `forward` at params [b, s]: maps the rows of u (n x dim, row-major) in place,
   * v = b + exp(s) u, and, when given, subtracts log|det| (`logDet64`) from logDensity[r].
   */
  forward64(params: readonly Float64Array[], u: Float64Array, logDensity?: Float64Array): void {
    const n = checkRows64(u, this.dim, logDensity);
    const ld = this.logDet64(params);
    const d = this.dim;
    const [b, s] = params;
    const scale = Float64Array.from(s, Math.exp);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) u[r * d + j] = b[j] + scale[j] * u[r * d + j];
      if (logDensity) logDensity[r] -= ld;
    }
  }

  /**
   * Float64 twin of `inverse`: maps the rows of v in place, u = (v - b) / exp(s), and, when given,
   * adds log|det du/dv| = -`logDet64` to logDensity[r].
   */
  inverse64(params: readonly Float64Array[], v: Float64Array, logDensity?: Float64Array): void {
    const n = checkRows64(v, this.dim, logDensity);
    const ld = this.logDet64(params);
    const d = this.dim;
    const [b, s] = params;
    const scale = Float64Array.from(s, Math.exp);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) v[r * d + j] = (v[r * d + j] - b[j]) / scale[j];
      if (logDensity) logDensity[r] -= ld;
    }
  }

  /** Marks data initialisation as done (used when parameters are loaded). */
  markInitialized(): void {
    this.initialized = true;
  }

  toJSON(): TransformJSON {
    return {
      type: 'ElementwiseAffine',
      dim: this.dim,
      dataInit: this.dataInit,
      initialized: this.initialized,
    };
  }

  dispose(): void {
    for (const v of this.vars ?? []) v.dispose();
    this.vars = null;
  }
}

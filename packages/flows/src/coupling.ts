/**
 * Coupling transforms (Dinh et al. 2017, RealNVP; Durkan et al. 2019, neural spline flows).
 *
 * The first `identityDims` coordinates u_a pass unchanged; the rest u_b are transformed elementwise
 * by a bijection whose parameters are computed by a conditioner network from (u_a, context):
 *
 *   v_a = u_a,   v_b = g(u_b; NN(u_a, c)),   log|det dv/du| = sum_j log g'(u_b,j).
 *
 * The conditioner is an Mlp from @sdekit/nn with a zero-initialised last layer, and both bijections
 * are parameterised so that zero conditioner output is the identity: a fresh coupling is exactly
 * the identity map. Interleave couplings with a Permutation or OrthogonalMixing so that every
 * coordinate gets transformed.
 *
 * When u_a is empty (dim 1, or identityDims = 0) and there is no context, the conditioner input is a
 * constant 1: the layer is then an unconditional elementwise bijection with learned parameters.
 */

import { type ActivationName, Mlp, type MlpInit } from '@sdekit/nn';
import { checkInteger, checkPositive, DimensionError, InvalidArgumentError, type Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { rqsForward, rqsInverse } from './spline.js';
import type { Transform, TransformJSON, TransformResult } from './transform.js';

/** Options shared by the coupling transforms. */
export interface CouplingOptions {
  /** Width of the points. */
  dim: number;
  /** Width of a context input for conditional flows (default 0). */
  contextDim?: number;
  /** Number of leading coordinates passed unchanged (default floor(dim / 2)). */
  identityDims?: number;
  /** Hidden widths of the conditioner (default [64, 64]). */
  hiddenDims?: readonly number[];
  /** Conditioner activation (default 'swish'). */
  activation?: ActivationName;
  /** Initialisation of the conditioner's hidden layers (@sdekit/nn `MlpInit`; default the Mlp's). */
  init?: MlpInit;
}

/** Validated common configuration. */
interface CouplingConfig {
  dim: number;
  contextDim: number;
  identityDims: number;
  hiddenDims: number[];
  activation: ActivationName;
  init?: MlpInit;
}

function couplingConfig(o: CouplingOptions): CouplingConfig {
  checkInteger('dim', o.dim, 1);
  const contextDim = o.contextDim ?? 0;
  checkInteger('contextDim', contextDim, 0);
  const identityDims = o.identityDims ?? Math.floor(o.dim / 2);
  checkInteger('identityDims', identityDims, 0);
  if (identityDims >= o.dim) {
    throw new InvalidArgumentError(
      'identityDims',
      `must be < dim = ${o.dim}, got ${identityDims}`,
      'leave at least one coordinate to transform',
    );
  }
  return {
    dim: o.dim,
    contextDim,
    identityDims,
    hiddenDims: [...(o.hiddenDims ?? [64, 64])],
    activation: o.activation ?? 'swish',
    ...(o.init !== undefined ? { init: o.init } : {}),
  };
}

/** Output of a coupling's elementwise bijection: the transformed block and its log|det| per row. */
type BlockResult = { y: tf.Tensor2D; logDet: tf.Tensor1D };

/** Shared split/condition/merge logic of coupling layers. */
abstract class Coupling implements Transform {
  readonly dim: number;
  readonly contextDim: number;
  readonly identityDims: number;
  /** Conditioner network (its variables are this transform's variables). */
  readonly conditioner: Mlp;
  readonly variables: readonly tf.Variable[];
  readonly paramShapes: readonly number[][];
  readonly numParams: number;
  protected readonly cfg: CouplingConfig;

  protected constructor(cfg: CouplingConfig, paramsPerDim: number, seed: number | Rng) {
    this.cfg = cfg;
    this.dim = cfg.dim;
    this.contextDim = cfg.contextDim;
    this.identityDims = cfg.identityDims;
    const inputDim = Math.max(1, cfg.identityDims + cfg.contextDim);
    this.conditioner = new Mlp(
      {
        inputDim,
        hiddenDims: cfg.hiddenDims,
        outputDim: (cfg.dim - cfg.identityDims) * paramsPerDim,
        activation: cfg.activation,
        zeroInitOutput: true,
        ...(cfg.init !== undefined ? { init: cfg.init } : {}),
      },
      seed,
    );
    this.variables = this.conditioner.variables;
    this.paramShapes = this.conditioner.paramShapes;
    this.numParams = this.conditioner.numParams;
  }

  /** Elementwise bijection of the transformed block given conditioner output h: [N, db * paramsPerDim]. */
  protected abstract transformBlock(ub: tf.Tensor2D, h: tf.Tensor2D, inverse: boolean): BlockResult;

  private run(
    x: tf.Tensor2D,
    params: readonly tf.Tensor[],
    context: tf.Tensor2D | null,
    inverse: boolean,
  ): TransformResult {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new DimensionError(
        'x',
        `shape [${x.shape}] does not match dim ${this.dim}`,
        `pass a [batch, ${this.dim}] tensor`,
      );
    }
    if (
      this.contextDim > 0 &&
      (!context || context.shape[1] !== this.contextDim || context.shape[0] !== x.shape[0])
    ) {
      throw new DimensionError(
        'context',
        `expected [${x.shape[0]}, ${this.contextDim}], got ${context ? `[${context.shape}]` : 'none'}`,
        'pass one context row per point',
      );
    }
    return tf.tidy(() => {
      const n = x.shape[0];
      const da = this.identityDims;
      const xa = da > 0 ? (tf.slice(x, [0, 0], [n, da]) as tf.Tensor2D) : null;
      const xb = da > 0 ? (tf.slice(x, [0, da], [n, this.dim - da]) as tf.Tensor2D) : x;
      const parts: tf.Tensor2D[] = [];
      if (xa) parts.push(xa);
      if (this.contextDim > 0 && context) parts.push(context);
      const input =
        parts.length === 0 ? tf.ones([n, 1]) : parts.length === 1 ? parts[0] : tf.concat(parts, 1);
      const h = this.conditioner.applyParams(input as tf.Tensor2D, params);
      const { y: yb, logDet } = this.transformBlock(xb, h, inverse);
      const y = xa ? (tf.concat([xa, yb], 1) as tf.Tensor2D) : yb;
      return { y, logDet };
    });
  }

  forward(u: tf.Tensor2D, params: readonly tf.Tensor[], context: tf.Tensor2D | null): TransformResult {
    return this.run(u, params, context, false);
  }

  inverse(v: tf.Tensor2D, params: readonly tf.Tensor[], context: tf.Tensor2D | null): TransformResult {
    return this.run(v, params, context, true);
  }

  abstract toJSON(): TransformJSON;

  /** The common configuration for toJSON (a copy). */
  protected configJSON(): CouplingConfig {
    return { ...this.cfg, hiddenDims: [...this.cfg.hiddenDims] };
  }

  dispose(): void {
    this.conditioner.dispose();
  }
}

/** Options of AffineCoupling. */
export interface AffineCouplingOptions extends CouplingOptions {
  /** Bound S of the log-scale: s = S tanh(s_raw / S), so |s| < S (default 3). */
  logScaleBound?: number;
}

/**
 * Affine coupling layer (RealNVP; Dinh, Sohl-Dickstein & Bengio 2017, eq. 4-6) with a tanh-bounded
 * log-scale for stability: v_b = u_b * exp(s) + t, s = S tanh(s_raw / S), (s_raw, t) = NN(u_a, c),
 * log|det| = sum s. Identity at initialisation (zero conditioner output).
 *
 * @example
 * const layer = new AffineCoupling({ dim: 4, hiddenDims: [32, 32] }, 7);
 * const { y, logDet } = layer.forward(tf.randomNormal([8, 4]), layer.variables, null);
 */
export class AffineCoupling extends Coupling {
  readonly logScaleBound: number;

  constructor(options: AffineCouplingOptions, seed: number | Rng) {
    const cfg = couplingConfig(options);
    super(cfg, 2, seed);
    this.logScaleBound = options.logScaleBound ?? 3;
    checkPositive('logScaleBound', this.logScaleBound);
  }

  protected transformBlock(ub: tf.Tensor2D, h: tf.Tensor2D, inverse: boolean): BlockResult {
    const n = ub.shape[0];
    const db = ub.shape[1];
    const bound = this.logScaleBound;
    const s = tf.mul(bound, tf.tanh(tf.div(tf.slice(h, [0, 0], [n, db]), bound)));
    const t = tf.slice(h, [0, db], [n, db]);
    if (!inverse) {
      return { y: tf.add(tf.mul(ub, tf.exp(s)), t) as tf.Tensor2D, logDet: tf.sum(s, 1) as tf.Tensor1D };
    }
    return {
      y: tf.mul(tf.sub(ub, t), tf.exp(tf.neg(s))) as tf.Tensor2D,
      logDet: tf.neg(tf.sum(s, 1)) as tf.Tensor1D,
    };
  }

  toJSON(): TransformJSON {
    return {
      type: 'AffineCoupling',
      ...this.configJSON(),
      logScaleBound: this.logScaleBound,
    };
  }
}

/** Options of RationalQuadraticSplineCoupling. */
export interface SplineCouplingOptions extends CouplingOptions {
  /** Number of bins K (default 8). */
  bins?: number;
  /** Half-width B of the spline interval [-B, B]; identity (linear tails) outside (default 5). */
  bound?: number;
}

/**
 * Rational-quadratic spline coupling (Durkan, Bekasov, Murray & Papamakarios 2019, "Neural Spline
 * Flows", §3.1 and Appendix A): each transformed coordinate goes through a monotone rational-
 * quadratic spline with K bins on [-B, B], knots and interior derivatives predicted by the
 * conditioner (3K - 1 numbers per coordinate), identity tails outside [-B, B] (boundary
 * derivatives fixed to 1 so the map is C^1). Identity at initialisation.
 *
 * @example
 * const layer = new RationalQuadraticSplineCoupling({ dim: 2, bins: 8, bound: 5 }, 3);
 * const { y, logDet } = layer.inverse(tf.randomNormal([16, 2]), layer.variables, null);
 */
export class RationalQuadraticSplineCoupling extends Coupling {
  readonly bins: number;
  readonly bound: number;

  constructor(options: SplineCouplingOptions, seed: number | Rng) {
    const cfg = couplingConfig(options);
    const bins = options.bins ?? 8;
    checkInteger('bins', bins, 2);
    super(cfg, 3 * bins - 1, seed);
    this.bins = bins;
    this.bound = options.bound ?? 5;
    checkPositive('bound', this.bound);
  }

  protected transformBlock(ub: tf.Tensor2D, h: tf.Tensor2D, inverse: boolean): BlockResult {
    const n = ub.shape[0];
    const db = ub.shape[1];
    const k = this.bins;
    const raw = tf.reshape(h, [n, db, 3 * k - 1]) as tf.Tensor3D;
    const f = inverse ? rqsInverse : rqsForward;
    const { y, logDet } = f(ub, raw, k, this.bound);
    return { y, logDet: tf.sum(logDet, 1) as tf.Tensor1D };
  }

  toJSON(): TransformJSON {
    return {
      type: 'RationalQuadraticSplineCoupling',
      ...this.configJSON(),
      bins: this.bins,
      bound: this.bound,
    };
  }
}

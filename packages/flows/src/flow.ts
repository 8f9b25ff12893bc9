/**
 * A normalizing flow: a standard-normal base distribution pushed through a list of invertible
 * transforms (Rezende & Mohamed 2015; Papamakarios et al. 2021, "Normalizing flows for probabilistic
 * modeling and inference", eq. 2-3):
 *
 *   x = T_L(... T_1(z)),  z ~ N(0, I_D),
 *   log p(x) = log N(T^{-1}(x); 0, I) + sum_l log|det dT_l^{-1}/dv|.
 *
 * Three APIs over one implementation:
 * - arrays (float64 in and out): sample, logProb, sampleAndLogProb, fit;
 * - tensors, differentiable in the flow's own tf.Variables: forward, inverse, forwardTensor,
 *   logProbTensor, sampleAndLogProbTensor;
 * - functional, differentiable in a flat parameter vector theta laid out as getParams():
 *   forwardFlat, logProbFlat, sampleAndLogProbFlat (the reparameterised samples of docs/methods.md §4 and
 *   the variational posterior of §5 need derivatives in theta).
 * The base log-density of the array APIs is evaluated in float64 from the float32 latent values.
 */

import {
  assignFlat,
  flatten,
  type LearningRate,
  type TrainingCheckpoint,
  type TrainingHistory,
  type TrainingProblem,
  type TrainingProgress,
  type TrainOptions,
  train,
  unflatten,
  warmupCosine,
} from '@sdekit/nn';
import {
  checkBatch,
  checkFinite,
  checkInteger,
  checkOpenInterval,
  checkPositive,
  DimensionError,
  FormatError,
  InvalidArgumentError,
  Rng,
  ShuffledBatches,
  type ShuffledBatchesState,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { AffineCoupling, RationalQuadraticSplineCoupling } from './coupling.js';
import { ElementwiseAffine } from './elementwise.js';
import { OrthogonalMixing, Permutation } from './linear.js';
import { LowRankMixing } from './lowrank.js';
import { SinhArcsinh } from './sinharcsinh.js';
import type { Transform, TransformJSON } from './transform.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** Rows per tensor chunk in the array APIs (bounds memory for large batches). */
const CHUNK = 8192;
/** Points used for data-dependent initialisation. */
const INIT_POINTS = 4096;

/** Serialised Flow (format 'sdekit.flow', version 1). */
export interface FlowJSON {
  format: 'sdekit.flow';
  version: 1;
  dim: number;
  contextDim: number;
  transforms: TransformJSON[];
  params: number[];
}

/** Options of Flow.fit. */
export interface FitOptions {
  /** Seed of the train/held-out split, the mini-batch order (required: same seed, same fit). */
  seed: number;
  /** Maximum number of Adam steps (default 2000). */
  steps?: number;
  /** Mini-batch size (default 256). */
  batchSize?: number;
  /** Learning rate or schedule (default warmupCosine peak 1e-3, floor 1e-5, 5% warm-up). */
  lr?: LearningRate;
  /** Global gradient-norm clip (default 10). */
  clipNorm?: number;
  /** Fraction of the data held out for early stopping (default 0.1; 0 disables early stopping). */
  heldOutFraction?: number;
  /** Explicit held-out data (overrides heldOutFraction). */
  heldOutData?: Float64Array;
  /** Steps between records: the mean training NLL and the held-out NLL (default 100). */
  evaluateEvery?: number;
  /** Records without a better held-out NLL before stopping (default 10; only with held-out data). */
  patience?: number;
  /** Context rows for conditional flows, one per data point (n * contextDim). */
  context?: Float64Array;
  /** Context rows of heldOutData. */
  heldOutContext?: Float64Array;
  /** Called with every record. */
  onProgress?: (p: TrainingProgress) => void;
  /**
   * Hands a checkpoint (weights, Adam state, the mini-batch stream) to `save` every `every` steps;
   * `resume` with it, the same data and options, continues bit for bit.
   */
  checkpoint?: TrainOptions['checkpoint'];
  /** A checkpoint of a fit of this flow on the same data with the same options. */
  resume?: TrainingCheckpoint;
  /** Aborting it ends the fit (throws the signal's reason) before the next step. */
  signal?: AbortSignal;
}

/**
 * Result of Flow.fit: train()'s history (records of the mean training NLL and, with held-out data,
 * the held-out NLL, nats per point) and the fit's warnings.
 */
export type FitHistory = TrainingHistory & { warnings: string[] };

/** Mini-batch stream state in a checkpoint (see `Flow.fit`). */
interface BatchState {
  seed: number;
  nTrain: number;
  batchSize: number;
  /** The mini-batch stream (@sdekit/sde `ShuffledBatches.state`). */
  batches: ShuffledBatchesState;
}

function logNormal64(z: ArrayLike<number>, row: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += z[row * dim + j] ** 2;
  return -0.5 * s - 0.5 * dim * LOG_2PI;
}

function logNormalTensor(z: tf.Tensor2D): tf.Tensor1D {
  return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), 1)), 0.5 * z.shape[1] * LOG_2PI) as tf.Tensor1D;
}

function rowsTensor(data: Float64Array, start: number, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(data.subarray(start * cols, (start + rows) * cols)), [rows, cols]);
}

/**
 * Normalizing flow with a standard-normal base.
 *
 * @example
 * const flow = splineFlow({ dim: 2, layers: 4, hidden: 64, seed: 1 });
 * const history = flow.fit(data, { seed: 2, steps: 2000, batchSize: 256 });
 * const x = flow.sample(1000, 3);        // Float64Array of 1000 * 2
 * const lp = flow.logProb(x);            // Float64Array of 1000 log-densities
 * const restored = Flow.fromJSON(JSON.parse(JSON.stringify(flow.toJSON())));
 */
export class Flow {
  readonly dim: number;
  readonly contextDim: number;
  /** Transforms in generative order (base -> data). */
  readonly transforms: readonly Transform[];
  /** All trainable variables, in flat-layout order. */
  readonly variables: readonly tf.Variable[];
  readonly numParams: number;
  private readonly offsets: number[];

  constructor(transforms: readonly Transform[]) {
    if (!Array.isArray(transforms) || transforms.length === 0) {
      throw new InvalidArgumentError(
        'transforms',
        'is empty',
        'pass at least one transform (layers >= 1 in realNvp/splineFlow)',
      );
    }
    this.dim = transforms[0].dim;
    let contextDim = 0;
    transforms.forEach((t, i) => {
      if (t.dim !== this.dim) {
        throw new DimensionError(
          `transforms[${i}]`,
          `has dim ${t.dim}, transforms[0] has ${this.dim}`,
          'build every transform with the same dim',
        );
      }
      if (t.contextDim > 0) {
        if (contextDim > 0 && t.contextDim !== contextDim) {
          throw new DimensionError(
            `transforms[${i}]`,
            `has contextDim ${t.contextDim}, another has ${contextDim}`,
            'use one context width',
          );
        }
        contextDim = t.contextDim;
      }
    });
    this.contextDim = contextDim;
    this.transforms = [...transforms];
    this.variables = this.transforms.flatMap((t) => [...t.variables]);
    this.offsets = [];
    let o = 0;
    for (const t of this.transforms) {
      this.offsets.push(o);
      o += t.numParams;
    }
    this.numParams = o;
  }

  // ---- checks -------------------------------------------------------------------------------

  private checkPoints(name: string, x: tf.Tensor2D): void {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new DimensionError(
        name,
        `shape [${x.shape}] does not match the flow's dim ${this.dim}`,
        `pass a [batch, ${this.dim}] tensor`,
      );
    }
  }

  private contextTensor(context: tf.Tensor2D | undefined, rows: number): tf.Tensor2D | null {
    if (this.contextDim === 0) {
      if (context)
        throw new DimensionError(
          'context',
          'given to an unconditional flow',
          'omit the context or build the flow with contextDim',
        );
      return null;
    }
    if (context?.rank !== 2 || context.shape[0] !== rows || context.shape[1] !== this.contextDim) {
      throw new DimensionError(
        'context',
        `expected shape [${rows}, ${this.contextDim}], got ${context ? `[${context.shape}]` : 'none'}`,
        'pass one context row per point',
      );
    }
    return context;
  }

  private contextArray(
    context: Float64Array | undefined,
    rows: number,
    name = 'context',
  ): Float64Array | null {
    if (this.contextDim === 0) {
      if (context)
        throw new DimensionError(
          name,
          'given to an unconditional flow',
          'omit the context or build the flow with contextDim',
        );
      return null;
    }
    if (!context)
      throw new DimensionError(
        name,
        `missing (the flow has contextDim ${this.contextDim})`,
        'pass one context row per point',
      );
    const n = checkBatch(name, context, this.contextDim);
    if (n !== rows)
      throw new DimensionError(name, `has ${n} rows, expected ${rows}`, 'pass one context row per point');
    return context;
  }

  private checkTheta(theta: tf.Tensor1D): void {
    if (theta.rank !== 1 || theta.shape[0] !== this.numParams) {
      throw new DimensionError(
        'theta',
        `shape [${theta.shape}] != [numParams = ${this.numParams}]`,
        'pass a flat vector laid out as getParams()',
      );
    }
  }

  /** Per-transform parameter tensors: the variables, or slices of theta. */
  private paramsOf(theta?: tf.Tensor1D): (readonly tf.Tensor[])[] {
    if (!theta) return this.transforms.map((t) => t.variables);
    this.checkTheta(theta);
    return this.transforms.map((t, i) => unflatten(theta, t.paramShapes, this.offsets[i]));
  }

  // ---- core ---------------------------------------------------------------------------------

  private runForward(
    z: tf.Tensor2D,
    params: (readonly tf.Tensor[])[],
    ctx: tf.Tensor2D | null,
  ): { x: tf.Tensor2D; logDet: tf.Tensor1D } {
    let h = z;
    let logDet: tf.Tensor1D = tf.zeros([z.shape[0]]);
    this.transforms.forEach((t, i) => {
      const r = t.forward(h, params[i], ctx);
      h = r.y;
      if (r.logDet) logDet = tf.add(logDet, r.logDet);
    });
    return { x: h, logDet };
  }

  private runInverse(
    x: tf.Tensor2D,
    params: (readonly tf.Tensor[])[],
    ctx: tf.Tensor2D | null,
  ): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
    let h = x;
    let logDet: tf.Tensor1D = tf.zeros([x.shape[0]]);
    for (let i = this.transforms.length - 1; i >= 0; i--) {
      const r = this.transforms[i].inverse(h, params[i], ctx);
      h = r.y;
      if (r.logDet) logDet = tf.add(logDet, r.logDet);
    }
    return { z: h, logDet };
  }

  // ---- tensor API (flow's variables) -------------------------------------------------------

  /** Base -> data: x = T(z) and log|det dx/dz| per row. */
  forward(z: tf.Tensor2D, context?: tf.Tensor2D): { x: tf.Tensor2D; logDet: tf.Tensor1D } {
    this.checkPoints('z', z);
    const ctx = this.contextTensor(context, z.shape[0]);
    return tf.tidy(() => this.runForward(z, this.paramsOf(), ctx));
  }

  /** Data -> base: z = T^{-1}(x) and log|det dz/dx| per row. */
  inverse(x: tf.Tensor2D, context?: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
    this.checkPoints('x', x);
    const ctx = this.contextTensor(context, x.shape[0]);
    return tf.tidy(() => this.runInverse(x, this.paramsOf(), ctx));
  }

  /** x = T(z), differentiable in the flow's variables. */
  forwardTensor(z: tf.Tensor2D, context?: tf.Tensor2D): tf.Tensor2D {
    this.checkPoints('z', z);
    const ctx = this.contextTensor(context, z.shape[0]);
    return tf.tidy(() => this.runForward(z, this.paramsOf(), ctx).x);
  }

  /** log p(x) per row, differentiable in the flow's variables. */
  logProbTensor(x: tf.Tensor2D, context?: tf.Tensor2D): tf.Tensor1D {
    this.checkPoints('x', x);
    const ctx = this.contextTensor(context, x.shape[0]);
    return tf.tidy(() => {
      const { z, logDet } = this.runInverse(x, this.paramsOf(), ctx);
      return tf.add(logNormalTensor(z), logDet) as tf.Tensor1D;
    });
  }

  /** x = T(z) and log p(x) = log N(z) - log|det dx/dz|, differentiable in the flow's variables. */
  sampleAndLogProbTensor(z: tf.Tensor2D, context?: tf.Tensor2D): { x: tf.Tensor2D; logProb: tf.Tensor1D } {
    this.checkPoints('z', z);
    const ctx = this.contextTensor(context, z.shape[0]);
    return tf.tidy(() => {
      const { x, logDet } = this.runForward(z, this.paramsOf(), ctx);
      return { x, logProb: tf.sub(logNormalTensor(z), logDet) as tf.Tensor1D };
    });
  }

  // ---- functional API (flat theta) ---------------------------------------------------------

  /** x = T_theta(z), differentiable in theta (laid out as getParams()). */
  forwardFlat(z: tf.Tensor2D, theta: tf.Tensor1D, context?: tf.Tensor2D): tf.Tensor2D {
    this.checkPoints('z', z);
    const ctx = this.contextTensor(context, z.shape[0]);
    return tf.tidy(() => this.runForward(z, this.paramsOf(theta), ctx).x);
  }

  /** log p_theta(x) per row, differentiable in theta. */
  logProbFlat(x: tf.Tensor2D, theta: tf.Tensor1D, context?: tf.Tensor2D): tf.Tensor1D {
    this.checkPoints('x', x);
    const ctx = this.contextTensor(context, x.shape[0]);
    return tf.tidy(() => {
      const { z, logDet } = this.runInverse(x, this.paramsOf(theta), ctx);
      return tf.add(logNormalTensor(z), logDet) as tf.Tensor1D;
    });
  }

  /** x = T_theta(z) and log p_theta(x), differentiable in theta (one pass, no inverse needed). */
  sampleAndLogProbFlat(
    z: tf.Tensor2D,
    theta: tf.Tensor1D,
    context?: tf.Tensor2D,
  ): { x: tf.Tensor2D; logProb: tf.Tensor1D } {
    this.checkPoints('z', z);
    const ctx = this.contextTensor(context, z.shape[0]);
    return tf.tidy(() => {
      const { x, logDet } = this.runForward(z, this.paramsOf(theta), ctx);
      return { x, logProb: tf.sub(logNormalTensor(z), logDet) as tf.Tensor1D };
    });
  }

  // ---- array API (float64) -----------------------------------------------------------------

  /** n samples (row-major n * dim). Same seed, same samples. */
  sample(n: number, seed: number, context?: Float64Array): Float64Array {
    return this.sampleAndLogProb(n, seed, context).x;
  }

  /** n samples and their log-densities (the base term in float64). */
  sampleAndLogProb(
    n: number,
    seed: number,
    context?: Float64Array,
  ): { x: Float64Array; logProb: Float64Array } {
    return this.sampleArrays(n, seed, context, null);
  }

  /**
   * n samples and their log-densities under the flow with the parameters `params` (a flat vector
   * laid out as getParams()), leaving the flow's own parameters untouched: the same numbers as
   * setParams(params) followed by sampleAndLogProb(n, seed, context). For evaluations at many
   * parameter vectors, e.g. the draws of a posterior over theta.
   */
  sampleAndLogProbAt(
    params: ArrayLike<number>,
    n: number,
    seed: number,
    context?: Float64Array,
  ): { x: Float64Array; logProb: Float64Array } {
    if (params.length !== this.numParams) {
      throw new DimensionError(
        'params',
        `length ${params.length} != numParams = ${this.numParams}`,
        'pass a flat vector laid out as getParams()',
      );
    }
    checkFinite('params', params);
    const theta = tf.tensor1d(Float32Array.from(params));
    try {
      return this.sampleArrays(n, seed, context, theta);
    } finally {
      theta.dispose();
    }
  }

  /** `sampleAndLogProbAt(params, n, seed, context).x`. */
  sampleAt(params: ArrayLike<number>, n: number, seed: number, context?: Float64Array): Float64Array {
    return this.sampleAndLogProbAt(params, n, seed, context).x;
  }

  private sampleArrays(
    n: number,
    seed: number,
    context: Float64Array | undefined,
    theta: tf.Tensor1D | null,
  ): { x: Float64Array; logProb: Float64Array } {
    checkInteger('n', n, 1);
    const ctx = this.contextArray(context, n);
    const d = this.dim;
    const z = Rng.fromSeed(seed).fillNormal(new Float64Array(n * d));
    const x = new Float64Array(n * d);
    const logProb = new Float64Array(n);
    for (let start = 0; start < n; start += CHUNK) {
      const rows = Math.min(CHUNK, n - start);
      const [xs, ld, zs] = tf.tidy(() => {
        const zt = rowsTensor(z, start, rows, d);
        const ct = ctx ? rowsTensor(ctx, start, rows, this.contextDim) : null;
        const r = this.runForward(zt, this.paramsOf(theta ?? undefined), ct);
        return [r.x.dataSync(), r.logDet.dataSync(), zt.dataSync()];
      });
      x.set(xs, start * d);
      for (let i = 0; i < rows; i++) logProb[start + i] = logNormal64(zs, i, d) - ld[i];
    }
    return { x, logProb };
  }

  /** log p(x) for a row-major batch (n * dim); the base term in float64. */
  logProb(x: Float64Array, context?: Float64Array): Float64Array {
    const n = checkBatch('x', x, this.dim);
    const ctx = this.contextArray(context, n);
    const d = this.dim;
    const out = new Float64Array(n);
    for (let start = 0; start < n; start += CHUNK) {
      const rows = Math.min(CHUNK, n - start);
      const [zs, ld] = tf.tidy(() => {
        const ct = ctx ? rowsTensor(ctx, start, rows, this.contextDim) : null;
        const r = this.runInverse(rowsTensor(x, start, rows, d), this.paramsOf(), ct);
        return [r.z.dataSync(), r.logDet.dataSync()];
      });
      for (let i = 0; i < rows; i++) out[start + i] = logNormal64(zs, i, d) + ld[i];
    }
    return out;
  }

  // ---- parameters and serialisation --------------------------------------------------------

  /** Current parameters as one flat vector (the layout of theta in the *Flat methods). */
  getParams(): Float64Array {
    return Float64Array.from(flatten(this.variables));
  }

  /**
   * Overwrites all parameters (length numParams, finite). Marks data-dependent initialisation as
   * done, so a later fit() keeps these values.
   */
  setParams(values: ArrayLike<number>): void {
    assignFlat(this.variables, values, 'values');
    for (const t of this.transforms) if (t instanceof ElementwiseAffine) t.markInitialized();
  }

  /**
   * Data-dependent initialisation: passes `data` from the data side through the transforms and
   * lets every layer that asks for it (ElementwiseAffine with dataInit) initialise from its input.
   * Called by fit() on up to 4096 training points.
   */
  initializeFromData(data: Float64Array, context?: Float64Array): void {
    const n = checkBatch('data', data, this.dim, 2);
    const ctx = this.contextArray(context, n);
    tf.tidy(() => {
      let h = rowsTensor(data, 0, n, this.dim);
      const ct = ctx ? rowsTensor(ctx, 0, n, this.contextDim) : null;
      for (let i = this.transforms.length - 1; i >= 0; i--) {
        const t = this.transforms[i];
        if (t instanceof ElementwiseAffine && t.needsDataInit) t.initializeFromData(h);
        h = t.inverse(h, t.variables, ct).y;
      }
    });
  }

  toJSON(): FlowJSON {
    return {
      format: 'sdekit.flow',
      version: 1,
      dim: this.dim,
      contextDim: this.contextDim,
      transforms: this.transforms.map((t) => t.toJSON()),
      params: Array.from(this.getParams()),
    };
  }

  /** Restores a flow written by toJSON(). Throws FormatError for another format or version. */
  static fromJSON(json: FlowJSON): Flow {
    if (json?.format !== 'sdekit.flow')
      throw new FormatError('Flow.fromJSON', `format is '${json?.format}', expected 'sdekit.flow'`);
    if (json.version !== 1)
      throw new FormatError('Flow.fromJSON', `version ${json.version} is not supported (expected 1)`);
    if (!Array.isArray(json.transforms)) throw new FormatError('Flow.fromJSON', 'transforms is missing');
    // A bad entry (a transform, the flow's shape or params) must not leave the transforms built so
    // far holding tensors.
    const transforms: Transform[] = [];
    try {
      json.transforms.forEach((t, i) => {
        transforms.push(transformFromJSON(t, i));
      });
      const flow = new Flow(transforms);
      assignFlat(flow.variables, json.params, 'params');
      return flow;
    } catch (err) {
      for (const t of transforms) t.dispose();
      throw err;
    }
  }

  /** Frees every tensor owned by the flow. */
  dispose(): void {
    for (const t of this.transforms) t.dispose();
  }

  // ---- training ----------------------------------------------------------------------------

  /**
   * Maximum-likelihood fit with Adam on mini-batches, run by @sdekit/nn's `train`: minimises the
   * mean negative log-likelihood -(1/B) sum_i log p(x_i). Holds out a split, evaluates its NLL
   * (float64 mean) every `evaluateEvery` steps, stops after `patience` records without improvement,
   * and restores the best parameters. Runs data-dependent initialisation first (ElementwiseAffine
   * layers).
   */
  fit(data: Float64Array, options: FitOptions): FitHistory {
    const d = this.dim;
    const n = checkBatch('data', data, d, 2);
    const ctx = this.contextArray(options.context, n);
    if (this.numParams === 0) {
      throw new InvalidArgumentError(
        'flow',
        'has no trainable parameters',
        'include at least one coupling or elementwise layer',
      );
    }
    const steps = options.steps ?? 2000;
    checkInteger('steps', steps, 1);
    const evaluateEvery = options.evaluateEvery ?? 100;
    checkInteger('evaluateEvery', evaluateEvery, 1);
    const patience = options.patience ?? 10;
    checkInteger('patience', patience, 1);
    const warnings: string[] = [];
    const seed = options.seed;
    const rng = Rng.fromSeed(seed, 0);

    // split
    const order = new Int32Array(n);
    rng.permutation(order);
    let trainIdx: Int32Array;
    let val: Float64Array | null = null;
    let valCtx: Float64Array | null = null;
    if (options.heldOutData) {
      const nv = checkBatch('heldOutData', options.heldOutData, d);
      val = options.heldOutData;
      valCtx = this.contextArray(options.heldOutContext, nv, 'heldOutContext');
      trainIdx = order;
    } else {
      const frac = options.heldOutFraction ?? 0.1;
      if (frac !== 0) checkOpenInterval('heldOutFraction', frac, 0, 1);
      const nVal = Math.floor(n * frac);
      if (frac > 0 && (nVal < 1 || n - nVal < 1)) {
        throw new InvalidArgumentError(
          'data',
          `${n} points cannot be split with heldOutFraction ${frac}`,
          'pass more data or heldOutFraction: 0',
        );
      }
      trainIdx = order.subarray(nVal);
      if (nVal > 0) {
        val = new Float64Array(nVal * d);
        for (let i = 0; i < nVal; i++) for (let j = 0; j < d; j++) val[i * d + j] = data[order[i] * d + j];
        if (ctx) {
          const c = this.contextDim;
          valCtx = new Float64Array(nVal * c);
          for (let i = 0; i < nVal; i++)
            for (let j = 0; j < c; j++) valCtx[i * c + j] = ctx[order[i] * c + j];
        }
      }
    }
    const nTrain = trainIdx.length;
    let batchSize = options.batchSize ?? 256;
    checkInteger('batchSize', batchSize, 1);
    if (batchSize > nTrain) {
      warnings.push(`batchSize ${batchSize} > ${nTrain} training points; used ${nTrain}`);
      batchSize = nTrain;
    }

    // data-dependent initialisation on (up to) INIT_POINTS training points
    if (this.transforms.some((t) => t instanceof ElementwiseAffine && t.needsDataInit)) {
      const m = Math.min(nTrain, INIT_POINTS);
      if (m < 2) throw new InvalidArgumentError('data', `has ${m} training points`, 'pass at least 2 points');
      const sub = new Float64Array(m * d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) sub[i * d + j] = data[trainIdx[i] * d + j];
      let subCtx: Float64Array | undefined;
      if (ctx) {
        const c = this.contextDim;
        subCtx = new Float64Array(m * c);
        for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) subCtx[i * c + j] = ctx[trainIdx[i] * c + j];
      }
      this.initializeFromData(sub, subCtx);
    }

    const lr =
      options.lr ??
      warmupCosine({
        peak: 1e-3,
        warmupSteps: Math.floor(steps / 20),
        totalSteps: Math.max(steps, Math.floor(steps / 20) + 1),
        floor: 1e-5,
      });
    const clipNorm = options.clipNorm ?? 10;
    checkPositive('clipNorm', clipNorm);

    const xb = new Float32Array(batchSize * d);
    const cb = ctx ? new Float32Array(batchSize * this.contextDim) : null;
    // After the held-out split the stream serves only the batches, so it checkpoints with them.
    let batches = new ShuffledBatches(nTrain, batchSize, rng);
    const params = this.paramsOf();
    const problem: TrainingProblem = {
      variables: this.variables,
      step: () => {
        const cursor = batches.next();
        const perm = batches.order;
        for (let i = 0; i < batchSize; i++) {
          const src = trainIdx[perm[cursor + i]];
          for (let j = 0; j < d; j++) xb[i * d + j] = data[src * d + j];
          if (cb && ctx)
            for (let j = 0; j < this.contextDim; j++)
              cb[i * this.contextDim + j] = ctx[src * this.contextDim + j];
        }
        const xt = tf.tensor2d(xb, [batchSize, d]);
        const ct = cb ? tf.tensor2d(cb, [batchSize, this.contextDim]) : null;
        return {
          loss: () => {
            const { z, logDet } = this.runInverse(xt, params, ct);
            return tf.neg(tf.mean(tf.add(logNormalTensor(z), logDet))) as tf.Scalar;
          },
          release: () => {
            xt.dispose();
            ct?.dispose();
          },
        };
      },
      evaluate: val ? () => -mean(this.logProb(val, valCtx ?? undefined)) : undefined,
      saveState: (): BatchState => ({ seed, nTrain, batchSize, batches: batches.state() }),
      restoreState: (state) => {
        const s = state as BatchState;
        if (s?.seed !== seed || s.nTrain !== nTrain || s.batchSize !== batchSize) {
          throw new InvalidArgumentError(
            'resume',
            `is a checkpoint of a fit with seed ${s?.seed}, ${s?.nTrain} training points, batch ${s?.batchSize}; this fit has seed ${seed}, ${nTrain}, ${batchSize}`,
            'resume with the data and options of the checkpointed fit',
          );
        }
        batches = ShuffledBatches.fromState(s.batches);
      },
    };
    const onProgress = options.onProgress;
    const history = train(problem, {
      steps,
      optimizer: { lr, clipNorm },
      evaluateEvery,
      // Early stopping needs a held-out NLL; without one the last parameters are kept.
      patience: val ? patience : undefined,
      checkpoint: options.checkpoint,
      resume: options.resume,
      signal: options.signal,
      onRecord: onProgress ? (record, total) => onProgress({ ...record, steps: total }) : undefined,
    });
    // train restores the best parameters when some held-out NLL was below +Infinity.
    if (val && !history.records.some((r) => (r.heldOutLoss as number) < Number.POSITIVE_INFINITY))
      warnings.push('held-out NLL was never finite; kept the last parameters');
    if (history.skippedSteps > 0)
      warnings.push(`${history.skippedSteps} steps had a non-finite loss and were skipped`);
    return { ...history, warnings };
  }
}

function mean(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
}

function transformFromJSON(t: TransformJSON, i: number): Transform {
  switch (t?.type) {
    case 'AffineCoupling':
      return new AffineCoupling(t, 0);
    case 'RationalQuadraticSplineCoupling':
      return new RationalQuadraticSplineCoupling(t, 0);
    case 'ElementwiseAffine': {
      const e = new ElementwiseAffine(t);
      if (t.initialized) e.markInitialized();
      return e;
    }
    case 'Permutation':
      return new Permutation(t.permutation);
    case 'OrthogonalMixing':
      return new OrthogonalMixing(t.dim, t.matrix);
    case 'SinhArcsinh':
      return new SinhArcsinh(t);
    case 'LowRankMixing':
      return new LowRankMixing(t);
    default:
      throw new FormatError(
        'Flow.fromJSON',
        `transforms[${i}] has unknown type '${(t as { type?: string })?.type}'`,
      );
  }
}

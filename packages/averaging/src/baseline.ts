/**
 * The baseline the averaging method must beat (docs/benchmarks.md M1/M2): an unstructured MLP drift
 * dX = g_w(X) dt + s dW fitted to the same path by the same Euler-Maruyama likelihood (docs/methods.md §4
 * with bbar replaced by the network and a constant diagonal diffusion, known or learned).
 */
import {
  Mlp,
  type TrainingCheckpoint,
  type TrainingProblem,
  type TrainingProgress,
  type TrainingRecord,
  type TrainOptions,
  train,
} from '@sdekit/nn';
import type { SdeSystem, ShuffledBatchesState, TimeSeries } from '@sdekit/sde';
import {
  ConvergenceError,
  checkBatch,
  checkInteger,
  checkPositive,
  FormatError,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { emNll64, emNllTermsTf } from './likelihood.js';
import { pathTransitions } from './path.js';
import {
  type AdamSettings,
  adamOptions,
  isEvaluationStep,
  readSumAndDispose,
  TransitionBatches,
} from './training.js';

export const MLP_DRIFT_FORMAT = 'sdekit.mlp-drift-baseline';
export const MLP_DRIFT_VERSION = 1;

/** Options of `fitMlpDriftBaseline`. */
export interface MlpDriftBaselineOptions {
  path: TimeSeries | readonly TimeSeries[];
  /** Known constant diffusion: a scalar s (sigma = s I) or d diagonal entries. Omitted: learned (constant, diagonal). */
  sigma?: number | Float64Array;
  /** Hidden layer widths (default [64, 64]). */
  hidden?: number[];
  activation?: 'swish' | 'tanh' | 'relu' | 'softplus';
  adam?: AdamSettings;
  /** Transitions per mini-batch (default 512). */
  batchSize?: number;
  /** Optimiser steps (default 2000; the likelihood is flat in the weights, so give it many). */
  steps?: number;
  /** Fraction of transitions at the end of the path held out (default 0.1). */
  heldOutFraction?: number;
  /**
   * Evaluate the float64 held-out NLL per transition every this many steps, counted back from the
   * last (as `fitAveraged`; default `steps`: at the last step only). Every step is recorded.
   */
  evaluateEvery?: number;
  seed?: number;
  /**
   * Called after every step: `loss` the mini-batch NLL per transition (float32, as Adam saw it),
   * `metrics.nll` the same as a float64 sum of the float32 terms, `heldOutLoss` at the evaluation steps.
   */
  onProgress?: (p: TrainingProgress) => void;
  /** Checkpoints of the run (weights, Adam, the mini-batch stream); see @sdekit/nn `train`. */
  checkpoint?: TrainOptions['checkpoint'];
  /** Continue from a checkpoint of a fit with the same data and options (bit for bit). */
  resume?: TrainingCheckpoint;
  /** Checked before every step: an aborted signal ends the fit by throwing its reason. */
  signal?: AbortSignal;
}

/**
 * Fits an MLP drift by the Euler-Maruyama likelihood: minimises mean_k [ sum_j r_kj^2/(2 Delta s_j^2)
 * + (1/2) log(2 pi Delta s_j^2) ] with r_k = x_{k+1} - x_k - g_w(x_k) Delta, with @sdekit/nn's `train`.
 *
 * @example
 * const baseline = fitMlpDriftBaseline({ path, sigma: 0.5, steps: 800, seed: 1 });
 * baseline.drift(new Float64Array([-1, 0, 1]));
 */
export function fitMlpDriftBaseline(options: MlpDriftBaselineOptions): MlpDriftModel {
  const {
    path,
    hidden = [64, 64],
    activation = 'swish',
    batchSize = 512,
    steps = 2000,
    heldOutFraction = 0.1,
    seed = 0,
    onProgress,
  } = options;
  const d = (Array.isArray(path) ? path[0] : (path as TimeSeries))?.dim;
  checkInteger('path.dim', d, 1);
  const observed = pathTransitions(path, d, heldOutFraction);
  const { transitions, trainEnd } = observed;
  checkInteger('batchSize', batchSize, 1);
  checkInteger('steps', steps, 1);
  const evaluateEvery = options.evaluateEvery ?? steps;
  checkInteger('evaluateEvery', evaluateEvery, 1);
  const known = options.sigma === undefined ? undefined : diagonalSigma(options.sigma, d);
  const dt = observed.dt;
  // Every tensor created from here on is freed on every exit path: the network unless it is
  // returned, log s and each step's kept loss terms (train frees Adam's moments).
  const mlp = new Mlp(
    { inputDim: d, hiddenDims: hidden, outputDim: d, activation, zeroInitOutput: true },
    seed,
  );
  let logS: tf.Variable<tf.Rank.R1> | undefined;
  let terms: tf.Tensor | undefined;
  let model: MlpDriftModel | undefined;
  try {
    // Learned log s_j, started at the quadratic-variation estimate s_j^2 = sum dx_j^2 / (M Delta).
    const dxAll = observed.dx;
    if (!known) {
      const init = tf.tensor1d(Float32Array.from(quadraticVariationLogSigma(dxAll, d, trainEnd, dt)));
      logS = tf.variable(init, true, 'baseline-log-sigma') as tf.Variable<tf.Rank.R1>;
      init.dispose();
    }
    const ls = logS;
    const variables = ls ? [...mlp.variables, ls] : [...mlp.variables];
    const optimizer = adamOptions(options.adam, steps, 1e-2);
    const batches = new TransitionBatches(observed.x, dxAll, d, trainEnd, batchSize, Rng.fromSeed(seed, 3));
    const B = batches.size;
    const knownCov = known ? Float32Array.from(known, (s) => s * s) : undefined;
    const noise = { noise: 'diagonal' as const, slowDim: d };
    let nll = Number.NaN;
    const problem: TrainingProblem = {
      variables,
      step() {
        batches.next();
        nll = Number.NaN;
        return {
          loss: () =>
            tf.tidy(() => {
              const g = mlp.apply(tf.tensor2d(batches.x, [B, d]));
              const cov = ls
                ? tf.reshape(tf.exp(tf.mul(2, ls)), [1, d])
                : tf.tensor2d(knownCov as Float32Array, [1, d]);
              const t = emNllTermsTf(
                noise,
                tf.tensor2d(batches.dx, [B, d]),
                g as tf.Tensor2D,
                cov as tf.Tensor2D,
                dt,
              );
              terms = tf.keep(t);
              return tf.mean(t) as tf.Scalar;
            }),
          // Freed before afterStep, also when Adam threw after the loss ran (a bad lr schedule).
          release: () => {
            const t = terms;
            terms = undefined;
            if (t) nll = readSumAndDispose(t) / B;
          },
        };
      },
      afterStep(k) {
        if (!Number.isFinite(nll)) {
          throw new ConvergenceError(
            'fitMlpDriftBaseline',
            `the loss became non-finite at step ${k}`,
            'lower the learning rate',
          );
        }
      },
      evaluate(k) {
        if (trainEnd >= transitions || !isEvaluationStep(k, steps, evaluateEvery)) return undefined;
        const tmp = new MlpDriftModel(mlp, currentSigma(known, ls), dt);
        return (
          tmp.negLogLikelihood(observed.x, observed.dx, trainEnd, transitions) / (transitions - trainEnd)
        );
      },
      metrics: () => ({ nll }),
      saveState: () => ({ batches: batches.state() }),
      restoreState(state) {
        batches.restore((state as { batches: ShuffledBatchesState } | null)?.batches as ShuffledBatchesState);
      },
    };
    train(problem, {
      steps,
      optimizer,
      evaluateEvery: 1,
      ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
      ...(options.resume !== undefined ? { resume: options.resume } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(onProgress ? { onRecord: (r: TrainingRecord, n: number) => onProgress({ ...r, steps: n }) } : {}),
    });
    model = new MlpDriftModel(mlp, currentSigma(known, ls), dt);
  } finally {
    (terms as tf.Tensor | undefined)?.dispose();
    logS?.dispose();
    if (!model) mlp.dispose();
  }
  return model;
}

function currentSigma(known: Float64Array | undefined, logS: tf.Variable | undefined): Float64Array {
  if (known) return known;
  return Float64Array.from((logS as tf.Variable).dataSync(), (v) => Math.exp(v));
}

function diagonalSigma(sigma: number | Float64Array, d: number): Float64Array {
  if (typeof sigma === 'number') {
    checkPositive('sigma', sigma);
    return new Float64Array(d).fill(sigma);
  }
  if (!(sigma instanceof Float64Array) || sigma.length !== d) {
    throw new InvalidArgumentError(
      'sigma',
      `must be a number or ${d} diagonal entries`,
      'pass the known constant diffusion',
    );
  }
  for (let j = 0; j < d; j++) checkPositive(`sigma[${j}]`, sigma[j]);
  return sigma;
}

function quadraticVariationLogSigma(dx: Float64Array, d: number, count: number, dt: number): Float64Array {
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < count; k++) s += dx[k * d + j] * dx[k * d + j];
    out[j] = 0.5 * Math.log(s / (count * dt));
  }
  return out;
}

/**
 * An MLP drift with constant diagonal diffusion (the baseline model).
 *
 * @example
 * const sys = baseline.system(); // for @sdekit/sde simulate
 */
export class MlpDriftModel {
  readonly mlp: Mlp;
  /** Constant diagonal diffusion (d values). */
  readonly sigma: Float64Array;
  readonly dt: number;

  constructor(mlp: Mlp, sigma: Float64Array, dt: number) {
    this.mlp = mlp;
    this.sigma = sigma;
    this.dt = dt;
  }

  get dim(): number {
    return this.sigma.length;
  }

  /** The drift at n points (n*d in, n*d out; float32 network, float64 result). */
  drift(xs: Float64Array): Float64Array {
    const n = checkBatch('xs', xs, this.dim);
    const out = tf.tidy(() => this.mlp.apply(tf.tensor2d(Float32Array.from(xs), [n, this.dim], 'float32')));
    const values = Float64Array.from(out.dataSync());
    out.dispose();
    return values;
  }

  /**
   * Float64 NLL (sum) of transitions [from, to) with origins x and increments dx (row-major; for one
   * path, x = its data and dx its increments).
   */
  negLogLikelihood(x: Float64Array, dx: Float64Array, from: number, to: number): number {
    const d = this.dim;
    const bbar = this.drift(x.slice(from * d, to * d));
    const cov = new Float64Array((to - from) * d);
    for (let i = 0; i < to - from; i++) for (let j = 0; j < d; j++) cov[i * d + j] = this.sigma[j] ** 2;
    return emNll64({ noise: 'diagonal', slowDim: d }, dx, from, to, bbar, cov, this.dt);
  }

  /** SdeSystem with batched drift (one network call per step for all paths), constant diagonal noise. */
  system(): SdeSystem {
    const d = this.dim;
    const sigma = this.sigma;
    return {
      dim: d,
      noiseDim: d,
      noise: 'diagonal',
      additive: true,
      drift: (_t, x, out) => out.set(this.drift(x)),
      diffusion: (_t, _x, out) => out.set(sigma),
      driftBatch: (_t, x, _n, out) => out.set(this.drift(x)),
      diffusionBatch: (_t, _x, n, out) => {
        for (let p = 0; p < n; p++) out.set(sigma, p * d);
      },
    };
  }

  toJSON(): { format: string; version: number; dt: number; sigma: number[]; mlp: ReturnType<Mlp['toJSON']> } {
    return {
      format: MLP_DRIFT_FORMAT,
      version: MLP_DRIFT_VERSION,
      dt: this.dt,
      sigma: Array.from(this.sigma),
      mlp: this.mlp.toJSON(),
    };
  }

  static fromJSON(json: ReturnType<MlpDriftModel['toJSON']>): MlpDriftModel {
    if (!json || json.format !== MLP_DRIFT_FORMAT || json.version !== MLP_DRIFT_VERSION) {
      throw new FormatError(
        'MlpDriftModel.fromJSON',
        `format/version ${json?.format}/${json?.version} not supported`,
      );
    }
    const bad = (field: string, detail: string) =>
      new FormatError('MlpDriftModel.fromJSON', `${field} ${detail}`);
    if (!(typeof json.dt === 'number' && json.dt > 0 && Number.isFinite(json.dt)))
      throw bad('dt', `must be a finite number > 0, got ${JSON.stringify(json.dt)}`);
    if (
      !Array.isArray(json.sigma) ||
      json.sigma.length === 0 ||
      json.sigma.some((v) => !(typeof v === 'number' && v > 0 && Number.isFinite(v)))
    )
      throw bad('sigma', `must be an array of finite numbers > 0, got ${JSON.stringify(json.sigma)}`);
    if (json.mlp === null || typeof json.mlp !== 'object') throw bad('mlp', 'is missing');
    const mlp = Mlp.fromJSON(json.mlp);
    if (mlp.config.inputDim !== json.sigma.length || mlp.config.outputDim !== json.sigma.length) {
      mlp.dispose();
      throw bad(
        'mlp',
        `maps R^${mlp.config.inputDim} to R^${mlp.config.outputDim}, sigma has ${json.sigma.length} entries`,
      );
    }
    return new MlpDriftModel(mlp, Float64Array.from(json.sigma), json.dt);
  }

  dispose(): void {
    this.mlp.dispose();
  }
}

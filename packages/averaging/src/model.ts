/**
 * The fitted reduced model dX = bbar(X) dt + sigmabar(X) dW of docs/methods.md §4, with pi_0 represented
 * by a normalizing flow (push-forward of N(0, I_m)).
 */
import { Flow } from '@sdekit/flows';
import type { TrainingRecord } from '@sdekit/nn';
import type { SdeSystem, TimeSeries } from '@sdekit/sde';
import {
  checkBatch,
  checkInteger,
  cholesky,
  FormatError,
  InvalidArgumentError,
  Matrix,
  Rng,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { SlowCoefficients } from './coefficients.js';
import { coefficientsFromDescriptor } from './coefficients.js';
import {
  averageCoefficients64,
  averagedCoefficientsTf,
  covarianceSize,
  emNll64,
  emNllTermsTf,
} from './likelihood.js';
import { pathTransitions } from './path.js';

/**
 * Format name and version written by `AveragedModel.toJSON`. Version 2 holds the training history
 * as @sdekit/nn records (`TrainingSummary`); version 1 files (per-iteration records { iteration,
 * trainNll, penalty, lambda, validationNll? }) are still read and converted by `fromJSON`.
 */
export const AVERAGED_MODEL_FORMAT = 'sdekit.averaged-model';
export const AVERAGED_MODEL_VERSION = 2;

/**
 * What training did; kept in the model and saved with it. `history` holds one @sdekit/nn
 * `TrainingRecord` per step: `loss` the mini-batch objective, `metrics` { nll, penalty, lambda }
 * (the training NLL per transition and the penalty (1/L) sum_l |f(z_l)|^p, float64 sums of the
 * per-transition float32 terms, and the penalty weight), `heldOutLoss` the float64 held-out NLL per
 * transition at the evaluation steps.
 */
export interface TrainingSummary {
  steps: number;
  trainTransitions: number;
  heldOutTransitions: number;
  /**
   * Set when the held-out part was longer than `heldOutMaxTransitions`: the size of the fixed
   * seeded subsample every `heldOutLoss` was evaluated on. Absent: on all held-out transitions.
   */
  heldOutSubsample?: number;
  history: TrainingRecord[];
  warnings: string[];
}

/** A Monte Carlo average with its standard error (per entry). */
export interface MonteCarloEstimate {
  value: Float64Array;
  stdError: Float64Array;
}

/** sigmabar at points: the covariance S = E sigma sigma^T and a square root in the system's layout. */
export interface SigmabarEstimate {
  /** sigmabar in the layout of `noise`: scalar sqrt(S/ I) (1 per point), diagonal sqrt(S_ii) (d), general lower Cholesky of S (d*d). */
  value: Float64Array;
  /** Standard error of `value` (delta method) for scalar and diagonal noise; undefined for general noise. */
  stdError?: Float64Array;
  /** S per point (1, d or d*d values by noise layout). */
  covariance: Float64Array;
  covarianceStdError: Float64Array;
}

/** Options of the Monte Carlo averages over the learned pi_0. */
export interface AverageOptions {
  /**
   * Number of fast samples of the learned pi_0 (default 4096; 512 for `system`). Standard errors
   * scale as 1/sqrt(fastSamples). (Called `samples` before 0.2; the old name is refused.)
   */
  fastSamples?: number;
  seed?: number;
  /**
   * The flow's parameters theta to evaluate at (a flat vector laid out as getParams(); default:
   * the model's own). The model is left untouched: the same numbers as setParams(params) followed
   * by the call, without the set and restore (e.g. for the draws of a posterior over theta).
   */
  params?: ArrayLike<number>;
}

/** Refuses the pre-0.2 name `samples` (it would otherwise be ignored for the default). */
function checkAverageOptions(options: AverageOptions): AverageOptions {
  if (options !== null && typeof options === 'object' && 'samples' in options)
    throw new InvalidArgumentError(
      'samples',
      'was renamed fastSamples (the number of fast samples of pi_0)',
      'pass { fastSamples: n } instead of { samples: n }',
    );
  return options ?? {};
}

/** Options of the flat-parameter path log-likelihood used by variational inference. */
export interface FlatLikelihoodOptions {
  /** The observed slow path, or several independent paths (same Delta and dimension as training). */
  path: TimeSeries | readonly TimeSeries[];
  /** Inner fast samples per evaluation (default 64), fresh at every call. */
  L?: number;
  /** Seed of the stream of inner samples. */
  seed?: number;
  /**
   * The stream of inner samples and transition subsets itself (default `Rng.fromSeed(seed, 11)`),
   * advanced call by call: a caller that holds it can save its state in a checkpoint and resume.
   */
  rng?: Rng;
  /**
   * Subtract the Monte Carlo bias Delta tr(S^{-1} C_k) / (2 L) of each squared residual (default
   * false; needs L >= 2), so the estimate is unbiased for the Euler-Maruyama log-likelihood (constant
   * diffusion; `emNllTermsTf`). Without it E[estimate] is lower by Delta tr(S^{-1} Cov b) / (2 L)
   * per transition, which favours parameters where b varies less over the fast samples. For a
   * y-dependent scalar or diagonal diffusion the second-order bias of the L-sample S is removed too
   * (`emNllTermsTf`), to O(1/L^2).
   */
  debias?: boolean;
  /**
   * Transitions per evaluation: all (default) or a random subset of this size, scaled by
   * transitions/batchSize so the estimate of the full-path log-likelihood stays unbiased.
   */
  batchSize?: number;
}

/**
 * The averaged SDE learned by `fitAveraged`. bbar and sigmabar are Monte Carlo averages of the known
 * coefficients over samples of the learned flow; they are what is identifiable (docs/methods.md §4), so
 * evaluate by them, by paths and by statistics, not by the learned density itself.
 *
 * @example
 * const model = fitAveraged({ path, coefficients: m1Coefficients({ m: 2 }), steps: 500, seed: 1 });
 * const grid = Float64Array.from({ length: 31 }, (_, i) => -1.5 + 0.1 * i);
 * const { value, stdError } = model.bbar(grid);
 * const paths = simulate(model.system(), { x0: new Float64Array([0]), paths: 1, h: 0.01, T: 100, seed: 2 });
 */
export class AveragedModel {
  readonly coefficients: SlowCoefficients;
  readonly flow: Flow;
  /** Observation spacing Delta of the training path. */
  readonly dt: number;
  readonly training: TrainingSummary;

  constructor(flow: Flow, coefficients: SlowCoefficients, dt: number, training: TrainingSummary) {
    if (flow.dim !== coefficients.fastDim) {
      throw new InvalidArgumentError(
        'flow',
        `has dim ${flow.dim} but fastDim = ${coefficients.fastDim}`,
        'build the flow on the fast dimension m',
      );
    }
    this.flow = flow;
    this.coefficients = coefficients;
    this.dt = dt;
    this.training = training;
  }

  get slowDim(): number {
    return this.coefficients.slowDim;
  }

  get fastDim(): number {
    return this.coefficients.fastDim;
  }

  /** Number of flow parameters (the length of theta in `logLikelihoodFlat`). */
  get numParams(): number {
    return this.flow.numParams;
  }

  /** The flow's flat parameter vector (float64 copy). */
  getParams(): Float64Array {
    return Float64Array.from(this.flow.getParams());
  }

  /** Replaces the flow's parameters (e.g. by a posterior sample). */
  setParams(theta: ArrayLike<number>): void {
    this.flow.setParams(Float64Array.from(theta));
  }

  /** n samples of the learned pi_0 (n*m, float64). */
  sampleFast(n: number, seed: number): Float64Array {
    checkInteger('n', n, 1);
    return this.flow.sample(n, seed);
  }

  /**
   * bbar(x) = E_{y ~ pi_theta} b(x, y) at the points xs (n*d), with Monte Carlo standard errors over
   * `samples` flow samples (float64 coefficients; docs/methods.md §4).
   */
  bbar(xs: Float64Array, options: AverageOptions = {}): MonteCarloEstimate {
    const a = this.averages(xs, options);
    return { value: a.bbar, stdError: a.bbarStdError };
  }

  /** sigmabar(x) with S(x) = E sigma sigma^T, Monte Carlo standard errors as in `bbar`. */
  sigmabar(xs: Float64Array, options: AverageOptions = {}): SigmabarEstimate {
    const a = this.averages(xs, options);
    const coef = this.coefficients;
    const d = coef.slowDim;
    const n = xs.length / d;
    if (coef.noise === 'general') {
      const value = new Float64Array(n * d * d);
      const sm = new Matrix(d, d);
      for (let i = 0; i < n; i++) {
        sm.data.set(a.cov.subarray(i * d * d, (i + 1) * d * d));
        value.set(cholesky(sm, 'sigmabar sigmabar^T').data, i * d * d);
      }
      return { value, covariance: a.cov, covarianceStdError: a.covStdError };
    }
    const value = new Float64Array(a.cov.length);
    const stdError = new Float64Array(a.cov.length);
    for (let i = 0; i < value.length; i++) {
      value[i] = Math.sqrt(a.cov[i]);
      stdError[i] = a.covStdError[i] / (2 * value[i]); // delta method: d sqrt(v) = dv / (2 sqrt(v))
    }
    return { value, stdError, covariance: a.cov, covarianceStdError: a.covStdError };
  }

  private averages(xs: Float64Array, options: AverageOptions) {
    const { fastSamples = 4096, seed = 0, params } = checkAverageOptions(options);
    checkBatch('xs', xs, this.slowDim);
    checkInteger('fastSamples', fastSamples, 2);
    return averageCoefficients64(this.coefficients, xs, this.fastSamplesAt(fastSamples, seed, params));
  }

  /** `samples` flow samples at theta = params (default: the model's parameters). */
  private fastSamplesAt(samples: number, seed: number, params: ArrayLike<number> | undefined): Float64Array {
    return params === undefined ? this.flow.sample(samples, seed) : this.flow.sampleAt(params, samples, seed);
  }

  /**
   * The averaged SDE as an @sdekit/sde system for `simulate` (forecasts beyond the observation window).
   * bbar and sigmabar are averages over ONE fixed set of `samples` flow samples drawn here (a quenched
   * Monte Carlo estimate: a smooth deterministic drift, with error ~ std(b)/sqrt(samples) against the
   * flow's exact average), evaluated with the float64 coefficients; driftBatch advances all paths.
   * Cost per step and path: `samples` evaluations of b (and of sigma unless it is constant).
   */
  system(options: AverageOptions = {}): SdeSystem {
    const { fastSamples: samples = 512, seed = 0, params } = checkAverageOptions(options);
    checkInteger('fastSamples', samples, 1);
    const coef = this.coefficients;
    const d = coef.slowDim;
    const m = coef.fastDim;
    const ys = this.fastSamplesAt(samples, seed, params);
    const b = new Float64Array(d);
    const yl = new Float64Array(m);
    const xi = new Float64Array(d);
    const cs = covarianceSize(coef);
    const s = new Float64Array(coef.noise === 'general' ? d * coef.noiseDim : cs);
    const cov = new Float64Array(cs);
    const sm = new Matrix(d, d);
    const inv = 1 / samples;
    const driftAt = (x: Float64Array, xOff: number, out: Float64Array, outOff: number) => {
      for (let j = 0; j < d; j++) {
        xi[j] = x[xOff + j];
        out[outOff + j] = 0;
      }
      for (let l = 0; l < samples; l++) {
        for (let j = 0; j < m; j++) yl[j] = ys[l * m + j];
        coef.drift(xi, yl, b);
        for (let j = 0; j < d; j++) out[outOff + j] += b[j] * inv;
      }
    };
    const diffusionAt = (x: Float64Array, xOff: number, out: Float64Array, outOff: number) => {
      for (let j = 0; j < d; j++) xi[j] = x[xOff + j];
      cov.fill(0);
      const count = coef.constantDiffusion ? 1 : samples;
      for (let l = 0; l < count; l++) {
        for (let j = 0; j < m; j++) yl[j] = ys[l * m + j];
        coef.diffusion(xi, yl, s);
        if (coef.noise === 'general') {
          const q = coef.noiseDim;
          for (let a = 0; a < d; a++) {
            for (let e = 0; e < d; e++) {
              let acc = 0;
              for (let k = 0; k < q; k++) acc += s[a * q + k] * s[e * q + k];
              cov[a * d + e] += acc / count;
            }
          }
        } else {
          for (let j = 0; j < cs; j++) cov[j] += (s[j] * s[j]) / count;
        }
      }
      if (coef.noise === 'general') {
        sm.data.set(cov);
        out.set(cholesky(sm, 'sigmabar sigmabar^T').data, outOff);
      } else {
        for (let j = 0; j < cs; j++) out[outOff + j] = Math.sqrt(cov[j]);
      }
    };
    const gSize = coef.noise === 'general' ? d * d : cs;
    return {
      dim: d,
      noiseDim: d,
      noise: coef.noise,
      additive: coef.constantDiffusion === true,
      drift: (_t, x, out) => driftAt(x, 0, out, 0),
      diffusion: (_t, x, out) => diffusionAt(x, 0, out, 0),
      driftBatch: (_t, x, n, out) => {
        for (let p = 0; p < n; p++) driftAt(x, p * d, out, p * d);
      },
      diffusionBatch: (_t, x, n, out) => {
        for (let p = 0; p < n; p++) diffusionAt(x, p * d, out, p * gSize);
      },
    };
  }

  /**
   * Float64 Euler-Maruyama log-likelihood of a path under the averaged SDE (docs/methods.md §4), with bbar
   * and S from `samples` flow samples. Returns the sum over transitions and the mean per transition.
   */
  logLikelihood(
    path: TimeSeries | readonly TimeSeries[],
    options: AverageOptions = {},
  ): { total: number; perTransition: number } {
    const { x, dx, transitions, dt } = pathTransitions(path, this.slowDim, 0);
    const a = this.averages(x, options);
    const nll = emNll64(this.coefficients, dx, 0, transitions, a.bbar, a.cov, dt);
    return { total: -nll, perTransition: -nll / transitions };
  }

  /**
   * A doubly-stochastic estimator of the path log-likelihood as a differentiable function of the
   * flow's flat parameter vector theta (for @sdekit/vi): each call draws L fresh base samples z
   * (from its own seeded stream) and returns -sum_k nll_k(theta) (docs/methods.md §4-5), float32 tf.
   *
   * @example
   * const logLik = model.logLikelihoodFunction({ path, L: 32, seed: 3 });
   * const value = tf.tidy(() => logLik(tf.tensor1d(model.getParams())));
   */
  logLikelihoodFunction(options: FlatLikelihoodOptions): (theta: tf.Tensor1D) => tf.Scalar {
    const { path, L = 64, seed = 0, batchSize, debias = false } = options;
    const observed = pathTransitions(path, this.slowDim, 0);
    const { transitions, dt } = observed;
    checkInteger('L', L, debias ? 2 : 1);
    if (batchSize !== undefined) checkInteger('batchSize', batchSize, 1);
    const d = this.slowDim;
    const m = this.fastDim;
    const coef = this.coefficients;
    const dxAll = observed.dx;
    const rng = options.rng ?? Rng.fromSeed(seed, 11);
    const z = new Float64Array(L * m);
    const z32 = new Float32Array(L * m);
    const B = batchSize === undefined ? transitions : Math.min(batchSize, transitions);
    const xb = new Float32Array(B * d);
    const dxb = new Float32Array(B * d);
    const scale = transitions / B;
    const flow = this.flow;
    return (theta: tf.Tensor1D) => {
      rng.fillNormal(z);
      z32.set(z);
      for (let i = 0; i < B; i++) {
        const k = B === transitions ? i : rng.integer(transitions);
        for (let j = 0; j < d; j++) {
          xb[i * d + j] = observed.x[k * d + j];
          dxb[i * d + j] = dxAll[k * d + j];
        }
      }
      return tf.tidy(() => {
        const y = flow.forwardFlat(tf.tensor2d(z32, [L, m], 'float32'), theta);
        const { bbar, cov, driftSpread, diffusionSpread } = averagedCoefficientsTf(
          coef,
          tf.tensor2d(xb, [B, d]),
          y,
          {
            driftSpread: debias,
          },
        );
        const spread =
          debias && driftSpread !== null
            ? { spread: driftSpread, L, ...(diffusionSpread === null ? {} : { diffusion: diffusionSpread }) }
            : undefined;
        const terms = emNllTermsTf(coef, tf.tensor2d(dxb, [B, d]), bbar, cov, dt, spread);
        return tf.mul(-scale, tf.sum(terms)) as tf.Scalar;
      });
    };
  }

  /**
   * One evaluation of the path log-likelihood at theta (see `logLikelihoodFunction`); differentiable
   * in theta.
   */
  logLikelihoodFlat(theta: tf.Tensor1D, options: FlatLikelihoodOptions): tf.Scalar {
    return this.logLikelihoodFunction(options)(theta);
  }

  /** Serialisable form: `format`, `version`, the flow, Delta, the coefficient descriptor, training. */
  toJSON(): AveragedModelJSON {
    const c = this.coefficients;
    return {
      format: AVERAGED_MODEL_FORMAT,
      version: AVERAGED_MODEL_VERSION,
      dt: this.dt,
      slowDim: c.slowDim,
      fastDim: c.fastDim,
      noise: c.noise,
      noiseDim: c.noiseDim,
      coefficients: c.descriptor ?? null,
      flow: this.flow.toJSON(),
      training: this.training,
    };
  }

  /**
   * Rebuilds a model from `toJSON()` (or a version 1 file, whose training summary is converted:
   * `trainingFromVersion1`). Built-in coefficients (m1, m2) are rebuilt from their
   * descriptor; user-defined coefficients (functions) are not serialisable and must be passed again.
   */
  static fromJSON(json: AveragedModelJSON, options: { coefficients?: SlowCoefficients } = {}): AveragedModel {
    checkAveragedModelJson(json);
    let coef = options.coefficients;
    if (!coef && json.coefficients) {
      coef = coefficientsFromDescriptor(json.coefficients);
      if (!coef) {
        throw new FormatError(
          'AveragedModel.fromJSON',
          `coefficients.kind '${json.coefficients.kind}' is not a built-in kind (m1, m2)`,
        );
      }
    }
    if (!coef) {
      throw new InvalidArgumentError(
        'options.coefficients',
        'the saved model uses user-defined coefficients, which are functions and are not saved',
        'pass the same SlowCoefficients: AveragedModel.fromJSON(json, { coefficients })',
      );
    }
    if (
      coef.slowDim !== json.slowDim ||
      coef.fastDim !== json.fastDim ||
      coef.noise !== json.noise ||
      coef.noiseDim !== json.noiseDim
    ) {
      throw new InvalidArgumentError(
        'options.coefficients',
        `have (d, m, noise, noiseDim) = (${coef.slowDim}, ${coef.fastDim}, ${coef.noise}, ${coef.noiseDim}), the saved model (${json.slowDim}, ${json.fastDim}, ${json.noise}, ${json.noiseDim})`,
        'pass the coefficients the model was trained with',
      );
    }
    const training =
      json.version === 1
        ? trainingFromVersion1(json.training as unknown as TrainingSummaryVersion1)
        : {
            ...json.training,
            history: json.training.history.map((r) => (r.loss === null ? { ...r, loss: Number.NaN } : r)),
          };
    const flow = Flow.fromJSON(json.flow);
    try {
      return new AveragedModel(flow, coef, json.dt, training);
    } catch (err) {
      flow.dispose();
      throw err;
    }
  }

  /** Frees the flow's tensors. */
  dispose(): void {
    this.flow.dispose();
  }
}

/** JSON form of an AveragedModel. */
export interface AveragedModelJSON {
  format: string;
  version: number;
  dt: number;
  slowDim: number;
  fastDim: number;
  noise: string;
  noiseDim: number;
  coefficients: { kind: string; params: Record<string, number> } | null;
  flow: ReturnType<Flow['toJSON']>;
  training: TrainingSummary;
}

const NOISE_KINDS = ['scalar', 'diagonal', 'general'];

/**
 * Checks the JSON of an averaged model (`AveragedModel.toJSON`) before anything is built from it:
 * format and version, dt a finite number > 0, slowDim / fastDim / noiseDim positive integers (noiseDim
 * = slowDim unless the noise is 'general'), noise one of scalar / diagonal / general, coefficients
 * null or { kind, params } with finite numeric params, a flow on R^fastDim whose params are finite
 * numbers, and a training block (non-negative integer counts, a history of records with finite
 * numbers in the layout of the file's version, warnings as strings). Throws FormatError naming the first bad field (missing fields, null
 * entries, non-finite numbers, wrong shapes). `AveragedModel.fromJSON` calls it.
 *
 * @example
 * checkAveragedModelJson(JSON.parse(text)); // throws FormatError 'AveragedModel.fromJSON: dt must be ...'
 */
export function checkAveragedModelJson(json: unknown): asserts json is AveragedModelJSON {
  const bad = (field: string, detail: string) =>
    new FormatError('AveragedModel.fromJSON', `${field} ${detail}`);
  const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const positiveInteger = (field: string, v: unknown) => {
    if (!(Number.isInteger(v) && (v as number) >= 1))
      throw bad(field, `must be a positive integer, got ${show(v)}`);
  };
  const count = (field: string, v: unknown) => {
    if (!(Number.isInteger(v) && (v as number) >= 0))
      throw bad(field, `must be an integer >= 0, got ${show(v)}`);
  };
  const finiteNumber = (field: string, v: unknown) => {
    if (!finite(v)) throw bad(field, `must be a finite number, got ${show(v)}`);
  };
  if (!isObject(json)) throw bad('json', `must be an object (the output of toJSON()), got ${show(json)}`);
  if (json.format !== AVERAGED_MODEL_FORMAT)
    throw bad('format', `is ${show(json.format)}, expected '${AVERAGED_MODEL_FORMAT}'`);
  if (json.version !== AVERAGED_MODEL_VERSION && json.version !== 1)
    throw bad('version', `${show(json.version)} is not supported (expected 1 or ${AVERAGED_MODEL_VERSION})`);
  if (!(finite(json.dt) && (json.dt as number) > 0))
    throw bad('dt', `must be a finite number > 0 (the observation spacing Delta), got ${show(json.dt)}`);
  positiveInteger('slowDim', json.slowDim);
  positiveInteger('fastDim', json.fastDim);
  if (typeof json.noise !== 'string' || !NOISE_KINDS.includes(json.noise))
    throw bad('noise', `must be one of ${NOISE_KINDS.join(', ')}, got ${show(json.noise)}`);
  positiveInteger('noiseDim', json.noiseDim);
  if (json.noise !== 'general' && json.noiseDim !== json.slowDim)
    throw bad(
      'noiseDim',
      `is ${json.noiseDim} with noise '${json.noise}', must equal slowDim (${json.slowDim})`,
    );
  const c = json.coefficients;
  if (c === undefined)
    throw bad('coefficients', 'is missing (null for user-defined coefficients, else { kind, params })');
  if (c !== null) {
    if (!isObject(c)) throw bad('coefficients', `must be null or { kind, params }, got ${show(c)}`);
    if (typeof c.kind !== 'string') throw bad('coefficients.kind', `must be a string, got ${show(c.kind)}`);
    if (!isObject(c.params)) throw bad('coefficients.params', `must be an object, got ${show(c.params)}`);
    for (const [k, v] of Object.entries(c.params)) finiteNumber(`coefficients.params.${k}`, v);
  }
  const f = json.flow;
  if (!isObject(f)) throw bad('flow', `must be a flow's JSON (Flow.toJSON), got ${show(f)}`);
  if (f.dim !== json.fastDim)
    throw bad('flow.dim', `is ${show(f.dim)}, must equal fastDim (${json.fastDim})`);
  if (f.contextDim !== undefined && f.contextDim !== 0)
    throw bad('flow.contextDim', `is ${show(f.contextDim)}; the flow of pi_0 has no context (0)`);
  if (!Array.isArray(f.transforms) || f.transforms.length === 0)
    throw bad('flow.transforms', `must be a non-empty array, got ${show(f.transforms)}`);
  for (const [i, tr] of f.transforms.entries())
    if (!isObject(tr)) throw bad(`flow.transforms[${i}]`, `must be an object, got ${show(tr)}`);
  if (!Array.isArray(f.params))
    throw bad('flow.params', `must be an array of finite numbers, got ${show(f.params)}`);
  for (const [i, v] of f.params.entries()) finiteNumber(`flow.params[${i}]`, v);
  const t = json.training;
  if (!isObject(t)) throw bad('training', `must be the training summary, got ${show(t)}`);
  const v1 = json.version === 1;
  count(v1 ? 'training.iterations' : 'training.steps', v1 ? t.iterations : t.steps);
  count('training.trainTransitions', t.trainTransitions);
  const heldOut = v1 ? 'validation' : 'heldOut';
  count(`training.${heldOut}Transitions`, t[`${heldOut}Transitions`]);
  if (t[`${heldOut}Subsample`] !== undefined)
    positiveInteger(`training.${heldOut}Subsample`, t[`${heldOut}Subsample`]);
  if (!Array.isArray(t.history)) throw bad('training.history', `must be an array, got ${show(t.history)}`);
  for (const [i, r] of t.history.entries()) {
    const at = `training.history[${i}]`;
    if (!isObject(r)) throw bad(at, `must be a training record, got ${show(r)}`);
    if (v1) {
      count(`${at}.iteration`, r.iteration);
      for (const k of ['trainNll', 'penalty', 'lambda']) finiteNumber(`${at}.${k}`, r[k]);
      if (r.validationNll !== undefined) finiteNumber(`${at}.validationNll`, r.validationNll);
      continue;
    }
    positiveInteger(`${at}.step`, r.step);
    // null: what JSON.stringify writes for the NaN of a record without a finite loss (a skipped step).
    if (r.loss !== null) finiteNumber(`${at}.loss`, r.loss);
    if (r.heldOutLoss !== undefined) finiteNumber(`${at}.heldOutLoss`, r.heldOutLoss);
    if (r.metrics !== undefined) {
      if (!isObject(r.metrics)) throw bad(`${at}.metrics`, `must be an object, got ${show(r.metrics)}`);
      for (const [k, v] of Object.entries(r.metrics)) finiteNumber(`${at}.metrics.${k}`, v);
    }
  }
  if (!Array.isArray(t.warnings) || t.warnings.some((w) => typeof w !== 'string'))
    throw bad('training.warnings', `must be an array of strings, got ${show(t.warnings)}`);
}

/** The training summary of a version 1 file (`AVERAGED_MODEL_VERSION` 1). */
export interface TrainingSummaryVersion1 {
  iterations: number;
  trainTransitions: number;
  validationTransitions: number;
  validationSubsample?: number;
  history: { iteration: number; trainNll: number; penalty: number; lambda: number; validationNll?: number }[];
  warnings: string[];
}

/**
 * The summary of a version 1 file in today's form: iteration i becomes step i + 1, trainNll /
 * penalty / lambda the record's metrics nll / penalty / lambda, validationNll its heldOutLoss, and
 * `loss` the objective nll + lambda / trainTransitions * penalty (docs/methods.md §4, per transition)
 * in float64 (version 1 did not store the float32 value Adam saw).
 */
export function trainingFromVersion1(t: TrainingSummaryVersion1): TrainingSummary {
  const summary: TrainingSummary = {
    steps: t.iterations,
    trainTransitions: t.trainTransitions,
    heldOutTransitions: t.validationTransitions,
    history: t.history.map((r) => {
      const record: TrainingRecord = {
        step: r.iteration + 1,
        loss: r.trainNll + (r.lambda / t.trainTransitions) * r.penalty,
        metrics: { nll: r.trainNll, penalty: r.penalty, lambda: r.lambda },
      };
      if (r.validationNll !== undefined) record.heldOutLoss = r.validationNll;
      return record;
    }),
    warnings: [...t.warnings],
  };
  if (t.validationSubsample !== undefined) summary.heldOutSubsample = t.validationSubsample;
  return summary;
}

/**
 * Variational inference with a normalizing-flow posterior (docs/methods.md section 5; [SG] section on
 * variational inference): maximise
 *
 *   ELBO(phi) = E_e[ log L(g_phi(e)) + log p_prior(g_phi(e)) - log q_phi(g_phi(e)) ],  e ~ N(0, I)
 *
 * by Adam on a K-sample reparameterised estimate. The likelihood may itself be stochastic (e.g. the
 * L inner fast samples of an averaging model: a doubly stochastic estimate, Titsias & Lazaro-Gredilla
 * 2014). Float32 TensorFlow.js computes the per-sample terms and the gradient; the ELBO values are
 * read back and averaged in float64 with the additive constants (prior and base normalisers) added
 * in float64.
 */

import {
  type LearningRate,
  type TrainingCheckpoint,
  type TrainingProblem,
  type TrainingProgress,
  type TrainOptions,
  train,
  warmupCosine,
} from '@sdekit/nn';
import {
  ConvergenceError,
  checkFinite,
  checkInteger,
  checkPositive,
  DimensionError,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { elboConvergence, MIN_CONVERGENCE_STEPS } from './convergence.js';
import { type GaussianPrior, Posterior } from './posterior.js';
import {
  checkFlowShape,
  flowForwardTensor,
  flowLogProbConstant,
  flowLogProbTensor,
  initialFlowParams,
  type PosteriorFlowShape,
  toCentredParams,
} from './posteriorFlow.js';

/** What a log-likelihood callback learns about the call it serves. */
export interface LikelihoodContext {
  /** Optimisation step (0-based); -1 outside training (e.g. estimateElbo). */
  readonly step: number;
  /** Index of the sample within the step (0..K-1), or -1 for a batched call. */
  readonly sample: number;
  /**
   * A generator for the likelihood's own randomness (inner Monte Carlo samples), one stream per
   * fit, advanced call by call: the same seed gives the same fit.
   */
  readonly rng: Rng;
}

/** log L(theta) for one parameter vector: a float32 scalar, differentiable in theta. */
export type LogLikelihood = (theta: tf.Tensor1D, context: LikelihoodContext) => tf.Scalar;
/** log L for K parameter vectors at once (rows of thetas), returning K values. */
export type BatchLogLikelihood = (thetas: tf.Tensor2D, context: LikelihoodContext) => tf.Tensor1D;

/** Gaussian prior N(mean, diag(std^2)); numbers broadcast to every coordinate. */
export interface PriorOptions {
  /** Default 0. */
  mean?: number | Float64Array;
  /** s0 of docs/methods.md section 5; default 1. */
  std?: number | Float64Array;
}

/** Shape of the variational flow (see posteriorFlow.ts). */
export interface PosteriorFlowOptions {
  /** Elementwise sinh-arcsinh layers; default 1. */
  layers?: number;
  /** Rank-1 mixing steps (0 = mean-field, dim = full covariance); default min(dim, 4). */
  rank?: number;
}

/** State of a stateful log-likelihood that a checkpoint must carry (e.g. its own random stream). */
export interface LikelihoodState {
  /** JSON-serialisable state after the steps so far. */
  save(): unknown;
  /** Restores what `save` returned (before the first resumed step). */
  restore(state: unknown): void;
}

export interface FitPosteriorOptions {
  /** Dimension of theta, >= 1. */
  dim: number;
  /** log L(theta), called K times per step. Give this or `logLikelihoodBatch`. */
  logLikelihood?: LogLikelihood;
  /** log L for K rows at once (faster when the likelihood batches well). */
  logLikelihoodBatch?: BatchLogLikelihood;
  /** Gaussian prior; default N(0, I) (docs/methods.md section 5, s0 = 1). */
  prior?: PriorOptions;
  /** Variational flow shape. */
  flow?: PosteriorFlowOptions;
  /**
   * Initial q = N(mean, diag(std^2)): default mean = prior mean, std = 0.1 * prior std. Start
   * narrow around a point estimate when one is known (the likelihood is then evaluated where it
   * is finite and informative).
   */
  init?: { mean?: number | Float64Array; std?: number | Float64Array };
  /** K reparameterised samples per step; default 8. */
  samples?: number;
  /** Adam steps; default 1000. */
  steps?: number;
  /**
   * Adam (@sdekit/nn) settings; lr may be a schedule of the step. Default: cosine decay from 5e-2
   * to 1e-3 over the steps (warmupCosine): Adam moves each parameter by about lr per step, so the
   * start must be able to cross several posterior widths, and the end must not blur q with gradient
   * noise. Rescale theta to O(1) units or pass a smaller lr when that does not suit.
   */
  adam?: { lr?: LearningRate; beta1?: number; beta2?: number; eps?: number };
  /**
   * 'stl' (default): "sticking the landing" (Roeder et al. 2017), log q evaluated with phi frozen
   * so the gradient has zero variance when q equals the posterior; 'standard': the plain
   * reparameterisation gradient.
   */
  gradient?: 'stl' | 'standard';
  /**
   * Fraction of the steps (from the start) during which the sinh-arcsinh layers stay at the
   * identity and only the Gaussian part (mu, scale, rank-1 mixing) is trained; default 0.5. The
   * nonlinear layers are then fitted from a good Gaussian approximation instead of competing with
   * the location and scale parameters during the transient (they are redundant with them near
   * the identity).
   */
  gaussianWarmup?: number;
  /**
   * How the location of q is parameterised for the optimiser: 'absolute' (default) trains mu
   * itself, so Adam moves it by about lr per step in the units of theta (right when init is far
   * from the posterior, e.g. at the prior mean); 'relative' trains m in theta = init.mean + S (m + w),
   * so steps scale with the current width S (right when init.mean is already a point estimate and
   * the posterior is much narrower than lr, e.g. network weights after training).
   */
  location?: 'absolute' | 'relative';
  seed: number;
  /**
   * Called at every record (every `evaluateEvery` steps and after the last) with @sdekit/nn's
   * `TrainingProgress`: `loss` is the mean negated ELBO of the finite steps since the previous
   * record without its additive constants (float32), `metrics.elbo` the mean float64 ELBO of the
   * same steps, `metrics.nonFiniteSteps` the steps skipped so far.
   */
  onProgress?: (progress: TrainingProgress) => void;
  /** Steps between records (progress reports); default max(1, floor(steps / 20)). */
  evaluateEvery?: number;
  /**
   * Run until the ELBO convergence test (`elboConvergence`: the change over the last quarter within
   * `tolerance` standard errors, default 3) holds, judged at every record from `minSteps` (default
   * 200) on; `steps` is then the cap, and a run that reaches it unconverged says so in `warnings`.
   * The learning-rate schedule still spans `steps`. Default: run all `steps`.
   */
  untilConverged?: { tolerance?: number; minSteps?: number };
  /**
   * Hand a checkpoint (nn's `TrainingCheckpoint`: q's parameters, Adam's moments, the base-sample
   * and likelihood streams, the ELBO trace so far) to `save` every `every` steps and after the last.
   */
  checkpoint?: TrainOptions['checkpoint'];
  /** Continue from a checkpoint of a fit with the same options: the result is the same bits. */
  resume?: TrainingCheckpoint;
  /** Checked before every step: an aborted signal ends the fit by throwing its reason. */
  signal?: AbortSignal;
  /**
   * State of a log-likelihood that keeps its own random stream instead of `LikelihoodContext.rng`
   * (e.g. the inner samples of `AveragedModel.logLikelihoodFunction`): checkpoints carry it, so a
   * resumed fit continues that stream.
   */
  likelihoodState?: LikelihoodState;
}

function perCoordinate(
  name: string,
  value: number | Float64Array | undefined,
  fallback: number,
  dim: number,
): Float64Array {
  if (value === undefined) return new Float64Array(dim).fill(fallback);
  if (typeof value === 'number') {
    checkFinite(name, [value]);
    return new Float64Array(dim).fill(value);
  }
  if (!(value instanceof Float64Array) || value.length !== dim) {
    throw new DimensionError(
      name,
      `must be a number or a Float64Array of length dim = ${dim}`,
      `pass one value per coordinate`,
    );
  }
  checkFinite(name, value);
  return value.slice();
}

function positivePerCoordinate(
  name: string,
  value: number | Float64Array | undefined,
  fallback: number,
  dim: number,
): Float64Array {
  const v = perCoordinate(name, value, fallback, dim);
  for (let i = 0; i < dim; i++) checkPositive(`${name}[${i}]`, v[i]);
  return v;
}

/** Resolves prior options into per-coordinate vectors (default N(0, I)). */
export function resolvePrior(prior: PriorOptions | undefined, dim: number): GaussianPrior {
  return {
    mean: perCoordinate('prior.mean', prior?.mean, 0, dim),
    std: positivePerCoordinate('prior.std', prior?.std, 1, dim),
  };
}

/**
 * Fits the variational posterior q_phi by maximising the ELBO (docs/methods.md section 5).
 *
 * Steps whose ELBO or gradient is not finite (a log-likelihood returning NaN or -Infinity for some
 * sampled theta) are skipped: no update, counted in `nonFiniteSteps`, recorded as NaN in
 * `elboHistory`, and a warning is returned. If every step fails a ConvergenceError is thrown.
 *
 * The optimisation runs in @sdekit/nn's `train` (records every `evaluateEvery` steps, checkpoints,
 * resume bit for bit, cancellation by `signal`); the fit adds the float64 ELBO trace to it.
 *
 * @example
 * // y_i = theta + noise, unit noise, prior N(0, 10^2): the posterior is Gaussian
 * const y = [1.2, 0.8, 1.1];
 * const post = fitPosterior({
 *   dim: 1,
 *   logLikelihood: (t) => tf.mul(-0.5, tf.sum(tf.square(tf.sub(tf.tensor1d(y), t)))),
 *   prior: { std: 10 },
 *   steps: 500,
 *   seed: 1,
 * });
 * const draws = post.sample(2000, 2);
 */
export function fitPosterior(options: FitPosteriorOptions): Posterior {
  const { dim, seed } = options;
  checkInteger('dim', dim, 1);
  checkInteger('seed', seed, 0);
  const haveOne = options.logLikelihood !== undefined;
  const haveBatch = options.logLikelihoodBatch !== undefined;
  if (haveOne === haveBatch) {
    throw new InvalidArgumentError(
      'logLikelihood',
      haveOne ? 'both logLikelihood and logLikelihoodBatch were given' : 'no log-likelihood was given',
      'pass exactly one of logLikelihood(theta) or logLikelihoodBatch(thetas)',
    );
  }
  const shape: PosteriorFlowShape = {
    dim,
    layers: options.flow?.layers ?? 1,
    rank: options.flow?.rank ?? Math.min(dim, 4),
  };
  checkFlowShape(shape);
  const K = options.samples ?? 8;
  checkInteger('samples', K, 1);
  const steps = options.steps ?? 1000;
  checkInteger('steps', steps, 1);
  const gradientKind = options.gradient ?? 'stl';
  if (gradientKind !== 'stl' && gradientKind !== 'standard') {
    throw new InvalidArgumentError('gradient', `unknown value '${gradientKind}'`, "pass 'stl' or 'standard'");
  }
  const evaluateEvery = options.evaluateEvery ?? Math.max(1, Math.floor(steps / 20));
  checkInteger('evaluateEvery', evaluateEvery, 1);
  const until = options.untilConverged
    ? {
        tolerance: options.untilConverged.tolerance ?? 3,
        minSteps: options.untilConverged.minSteps ?? Math.max(MIN_CONVERGENCE_STEPS, Math.min(steps, 200)),
      }
    : null;
  if (until) {
    checkPositive('untilConverged.tolerance', until.tolerance);
    checkInteger('untilConverged.minSteps', until.minSteps, MIN_CONVERGENCE_STEPS);
  }

  const warmupFraction = options.gaussianWarmup ?? 0.5;
  if (!(warmupFraction >= 0 && warmupFraction <= 1)) {
    throw new InvalidArgumentError(
      'gaussianWarmup',
      `must lie in [0, 1], got ${warmupFraction}`,
      'pass a fraction of the steps, e.g. 0.5',
    );
  }
  const warmupSteps = shape.layers > 0 ? Math.floor(warmupFraction * steps) : 0;

  const prior = resolvePrior(options.prior, dim);
  const init = {
    mean: perCoordinate('init.mean', options.init?.mean, Number.NaN, dim),
    std: positivePerCoordinate('init.std', options.init?.std, 1, dim),
  };
  if (options.init?.mean === undefined) init.mean.set(prior.mean);
  if (options.init?.std === undefined) for (let i = 0; i < dim; i++) init.std[i] = 0.1 * prior.std[i];

  // Reassigned (not mutated) by a resume: the callbacks receive the current stream at every call.
  let baseRng = Rng.fromSeed(seed, 0);
  let likelihoodRng = Rng.fromSeed(seed, 1);
  const relative = (options.location ?? 'absolute') === 'relative';
  if (options.location !== undefined && options.location !== 'absolute' && options.location !== 'relative') {
    throw new InvalidArgumentError(
      'location',
      `unknown value '${options.location}'`,
      "pass 'absolute' or 'relative'",
    );
  }
  // 'relative': trained in the non-centred layout, location block m = 0 at the start.
  const phi0 = initialFlowParams(
    shape,
    { mean: relative ? new Float64Array(dim) : init.mean, std: init.std },
    Rng.fromSeed(seed, 2),
  );

  // Float64 constants of one ELBO term: log q const is subtracted, the prior's is added.
  let priorConstant = -0.5 * dim * Math.log(2 * Math.PI);
  for (let i = 0; i < dim; i++) priorConstant -= Math.log(prior.std[i]);
  const termConstant = priorConstant - flowLogProbConstant(shape);

  const phiInit = tf.tensor1d(Float32Array.from(phi0));
  const phi = tf.variable(phiInit, true);
  phiInit.dispose();
  const anchor = relative ? tf.tensor1d(Float32Array.from(init.mean)) : undefined;
  const priorMean = tf.tensor1d(Float32Array.from(prior.mean));
  const priorInvStd = tf.tensor1d(Float32Array.from(prior.std, (s) => 1 / s));
  // 1 for the Gaussian part, 0 for the sinh-arcsinh blocks (frozen during the warm-up).
  const gaussianMask = tf.tensor1d(
    Float32Array.from({ length: phi0.length }, (_, i) =>
      i < 2 * dim || i >= (2 + 2 * shape.layers) * dim ? 1 : 0,
    ),
  );
  const elboHistory = new Float64Array(steps).fill(Number.NaN);
  const e = new Float64Array(K * dim);
  const e32 = new Float32Array(K * dim);
  let nonFiniteSteps = 0;
  // Float64 ELBOs of the finite steps since the previous record (its `metrics.elbo`).
  let recentSum = 0;
  let recentCount = 0;
  // Per-sample ELBO terms of the latest step, read back when the step's tensors are released.
  let termValues: ArrayLike<number> = new Float32Array(0);
  // Steps completed (the filled prefix of elboHistory, which a checkpoint carries).
  let stepsDone = 0;

  // train's step k (1-based) is optimisation step k - 1 of the ELBO: the warm-up test, the
  // likelihood's context and the ELBO trace are 0-based.
  const problem: TrainingProblem = {
    variables: [phi],
    step(k) {
      const step = k - 1;
      baseRng.fillNormal(e);
      e32.set(e);
      const eT = tf.tensor2d(e32, [K, dim]);
      // STL: a copy of phi made outside the gradient tape, so log q's own phi-dependence is not
      // differentiated (Roeder et al. 2017).
      const inWarmup = step < warmupSteps;
      const frozen = gradientKind === 'stl' || inWarmup ? tf.tidy(() => phi.clone()) : null;
      let perSample: tf.Tensor1D | null = null;
      termValues = new Float32Array(0);
      return {
        loss: () => {
          // During the warm-up the masked blocks enter as constants (zero gradient, no Adam update).
          const phiUsed = inWarmup
            ? (tf.add(
                tf.mul(phi, gaussianMask),
                tf.mul(frozen as tf.Tensor1D, tf.sub(1, gaussianMask)),
              ) as tf.Tensor1D)
            : phi;
          const { theta, logProbVar } = flowForwardTensor(phiUsed, shape, eT, anchor);
          const logLik = evaluateLogLikelihood(options, theta, K, step, likelihoodRng);
          const r = tf.mul(tf.sub(theta, priorMean), priorInvStd);
          const logPriorVar = tf.mul(tf.sum(tf.square(r), 1), -0.5);
          const logQVar =
            gradientKind === 'stl'
              ? flowLogProbTensor(frozen as tf.Tensor1D, shape, theta, anchor)
              : logProbVar;
          const terms = tf.sub(tf.add(logLik, logPriorVar), logQVar) as tf.Tensor1D;
          perSample = tf.keep(terms);
          return tf.neg(tf.mean(terms)) as tf.Scalar;
        },
        release: () => {
          eT.dispose();
          frozen?.dispose();
          const kept = perSample as tf.Tensor1D | null;
          perSample = null;
          if (kept) {
            termValues = kept.dataSync();
            kept.dispose();
          }
        },
      };
    },
    afterStep(k, loss) {
      const step = k - 1;
      stepsDone = k;
      if (Number.isFinite(loss)) {
        // Adam skips a non-finite loss or gradient; a finite update must leave phi finite: check.
        const phiSum = tf.tidy(() => tf.sum(phi).dataSync()[0]);
        if (!Number.isFinite(phiSum)) {
          throw new ConvergenceError(
            'logLikelihood',
            `the ELBO was finite at step ${step} but its gradient was not (the parameters became non-finite)`,
            'make log L(theta) differentiable where it is finite (avoid sqrt(0), log(0) inside tf.where)',
          );
        }
        let sum = 0;
        for (let j = 0; j < K; j++) sum += termValues[j];
        const elbo = sum / K + termConstant;
        elboHistory[step] = elbo;
        recentSum += elbo;
        recentCount++;
      } else {
        nonFiniteSteps++;
      }
    },
    metrics() {
      const elbo = recentCount > 0 ? recentSum / recentCount : Number.NaN;
      recentSum = 0;
      recentCount = 0;
      return { elbo, nonFiniteSteps };
    },
    saveState() {
      const state: PosteriorFitState = {
        baseRng: Array.from(baseRng.state()),
        likelihoodRng: Array.from(likelihoodRng.state()),
        elboHistory: Array.from(elboHistory.subarray(0, stepsDone), (v) => (Number.isNaN(v) ? null : v)),
        nonFiniteSteps,
        recent: { sum: recentSum, count: recentCount },
      };
      if (options.likelihoodState) state.likelihood = options.likelihoodState.save();
      return state;
    },
    restoreState(raw) {
      const state = checkFitState(raw, options.resume?.step ?? 0, options.likelihoodState !== undefined);
      baseRng = Rng.fromState(Uint32Array.from(state.baseRng));
      likelihoodRng = Rng.fromState(Uint32Array.from(state.likelihoodRng));
      elboHistory.fill(Number.NaN);
      state.elboHistory.forEach((v, i) => {
        elboHistory[i] = v ?? Number.NaN;
      });
      stepsDone = state.elboHistory.length;
      nonFiniteSteps = state.nonFiniteSteps;
      recentSum = state.recent.sum;
      recentCount = state.recent.count;
      if (options.likelihoodState) options.likelihoodState.restore(state.likelihood);
    },
  };

  try {
    const history = train(problem, {
      steps,
      optimizer: {
        lr: options.adam?.lr ?? warmupCosine({ peak: 5e-2, warmupSteps: 0, totalSteps: steps, floor: 1e-3 }),
        beta1: options.adam?.beta1,
        beta2: options.adam?.beta2,
        eps: options.adam?.eps,
      },
      evaluateEvery,
      ...(until
        ? {
            stopWhen: (records: readonly { step: number }[]) => {
              const n = records[records.length - 1].step;
              return (
                n >= until.minSteps && elboConvergence(elboHistory.subarray(0, n), until.tolerance).converged
              );
            },
          }
        : {}),
      checkpoint: options.checkpoint,
      resume: options.resume,
      signal: options.signal,
      onRecord: options.onProgress
        ? (record, total) => options.onProgress?.({ ...record, steps: total })
        : undefined,
    });
    const stepsRun = history.stepsRun;
    if (nonFiniteSteps === stepsRun) {
      throw new ConvergenceError(
        'logLikelihood',
        `all ${steps} steps gave a non-finite ELBO or gradient`,
        'check that log L(theta) is finite near the prior mean / init.mean, or start narrower (init.std)',
      );
    }
    const params = relative
      ? toCentredParams(phi.dataSync(), shape, init.mean)
      : Float64Array.from(phi.dataSync());
    const warnings: string[] = [];
    if (nonFiniteSteps > 0) {
      warnings.push(
        `${nonFiniteSteps} of ${stepsRun} steps were skipped because the ELBO or its gradient was not finite`,
      );
    }
    const trace = elboHistory.slice(0, stepsRun);
    if (until && history.stopReason !== 'converged') {
      const test = elboConvergence(trace, until.tolerance);
      if (!test.converged)
        warnings.push(
          `the ELBO convergence test did not hold within the cap of ${steps} steps: ${test.reason}`,
        );
    }
    return new Posterior(shape, params, prior, { elboHistory: trace, nonFiniteSteps, warnings });
  } finally {
    phi.dispose();
    priorMean.dispose();
    anchor?.dispose();
    priorInvStd.dispose();
    gaussianMask.dispose();
  }
}

/** What a checkpoint of `fitPosterior` holds besides q's parameters and Adam's state. */
interface PosteriorFitState {
  /** `Rng.state()` of the base-sample stream e ~ N(0, I). */
  baseRng: number[];
  /** `Rng.state()` of the stream handed to the log-likelihood (`LikelihoodContext.rng`). */
  likelihoodRng: number[];
  /** ELBO of each completed step (null where skipped). */
  elboHistory: (number | null)[];
  nonFiniteSteps: number;
  /** Float64 ELBO bookkeeping since the last record. */
  recent: { sum: number; count: number };
  /** `LikelihoodState.save()`, when the fit has one. */
  likelihood?: unknown;
}

function isRngState(v: unknown): v is number[] {
  return Array.isArray(v) && v.length === 4 && v.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
}

/** Checks the problem state of a checkpoint taken after `step` steps (see `PosteriorFitState`). */
function checkFitState(raw: unknown, step: number, withLikelihood: boolean): PosteriorFitState {
  const s = raw as PosteriorFitState | null;
  const fail = (detail: string, fix: string) => {
    throw new InvalidArgumentError('resume', detail, fix);
  };
  if (
    !s ||
    !isRngState(s.baseRng) ||
    !isRngState(s.likelihoodRng) ||
    !Array.isArray(s.elboHistory) ||
    !Number.isInteger(s.nonFiniteSteps) ||
    typeof s.recent?.sum !== 'number' ||
    !Number.isInteger(s.recent?.count)
  ) {
    fail(
      'is not a checkpoint of fitPosterior (its problem state lacks the random streams or the ELBO trace)',
      'pass a checkpoint written by fitPosterior',
    );
  }
  if (s!.elboHistory.length !== step) {
    fail(
      `holds ${s!.elboHistory.length} ELBO values for ${step} steps`,
      'pass an unmodified checkpoint written by fitPosterior',
    );
  }
  if (withLikelihood !== (s!.likelihood !== undefined)) {
    fail(
      withLikelihood
        ? 'holds no likelihood state, and this fit has a likelihoodState'
        : 'holds a likelihood state, and this fit has no likelihoodState',
      'resume with the options (likelihood included) of the checkpointed fit',
    );
  }
  return s as PosteriorFitState;
}

/** log L at the K rows of theta, as a [K] tensor (inside the gradient tape). */
function evaluateLogLikelihood(
  options: FitPosteriorOptions,
  theta: tf.Tensor2D,
  K: number,
  step: number,
  rng: Rng,
): tf.Tensor1D {
  if (options.logLikelihoodBatch) {
    const out = options.logLikelihoodBatch(theta, { step, sample: -1, rng });
    if (out.rank !== 1 || out.shape[0] !== K) {
      throw new DimensionError(
        'logLikelihoodBatch',
        `returned shape [${out.shape}], expected [${K}]`,
        'return one log-likelihood per row of thetas',
      );
    }
    return out;
  }
  const d = theta.shape[1];
  const values: tf.Scalar[] = [];
  for (let k = 0; k < K; k++) {
    // Slices, not tf.unstack (whose gradient fails for K = 1 in tfjs 4.22).
    const row = tf.reshape(tf.slice(theta, [k, 0], [1, d]), [d]) as tf.Tensor1D;
    const v = (options.logLikelihood as LogLikelihood)(row, { step, sample: k, rng });
    if (v.size !== 1) {
      throw new DimensionError(
        'logLikelihood',
        `returned shape [${v.shape}], expected a scalar`,
        'return tf.Scalar (e.g. tf.sum(...))',
      );
    }
    values.push(tf.reshape(v, []) as tf.Scalar);
  }
  return tf.stack(values) as tf.Tensor1D;
}

/**
 * Float64 Monte Carlo estimate of the ELBO of a fitted posterior: log q and log prior in float64,
 * log L from the (float32) callback. Returns the mean and its standard error over `samples` draws.
 *
 * @example
 * const { mean, stdError } = estimateElbo(post, { logLikelihood: ll, samples: 2000, seed: 5 });
 */
export function estimateElbo(
  posterior: Posterior,
  options: {
    logLikelihood?: LogLikelihood;
    logLikelihoodBatch?: BatchLogLikelihood;
    samples?: number;
    seed: number;
    chunk?: number;
  },
): { mean: number; stdError: number; values: Float64Array } {
  const n = options.samples ?? 1000;
  checkInteger('samples', n, 2);
  const chunk = options.chunk ?? 256;
  checkInteger('chunk', chunk, 1);
  if ((options.logLikelihood === undefined) === (options.logLikelihoodBatch === undefined)) {
    throw new InvalidArgumentError(
      'logLikelihood',
      'pass exactly one of logLikelihood or logLikelihoodBatch',
      'give one log-likelihood callback',
    );
  }
  const d = posterior.dim;
  const { samples, logProb } = posterior.sampleAndLogProb(n, options.seed);
  const logPrior = posterior.logPrior(samples);
  const rng = Rng.fromSeed(options.seed, 1);
  const values = new Float64Array(n);
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const ll = tf.tidy(() => {
      const theta = tf.tensor2d(Float32Array.from(samples.subarray(start * d, (start + m) * d)), [m, d]);
      return evaluateLogLikelihood(options as FitPosteriorOptions, theta, m, -1, rng).dataSync();
    });
    for (let k = 0; k < m; k++) values[start + k] = ll[k] + logPrior[start + k] - logProb[start + k];
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, stdError: Math.sqrt(ss / (n - 1) / n), values };
}

/**
 * fitAveraged: learn pi_0 as a normalizing flow by minimising the Euler-Maruyama negative
 * log-likelihood of the averaged SDE plus a moment penalty (docs/methods.md §4, [SG]):
 *
 *     loss(theta) = sum_k [ r_k^T S_k^{-1} r_k / (2 Delta) + (1/2) log det(2 pi Delta S_k) ]
 *                   + lambda (1/L) sum_l |f_theta(z_l)|^p,
 *
 * with L reparameterised base samples z_l ~ N(0, I_m) shared by all time indices of a step and
 * fresh at each step, mini-batches over time, Adam (@sdekit/nn `train`), and lambda decreasing to 0.
 */
import type { Flow } from '@sdekit/flows';
import { realNvp } from '@sdekit/flows';
import {
  type MlpInit,
  type TrainingCheckpoint,
  type TrainingProblem,
  type TrainingProgress,
  type TrainingRecord,
  type TrainOptions,
  train,
} from '@sdekit/nn';
import type { ShuffledBatchesState, TimeSeries } from '@sdekit/sde';
import {
  ConvergenceError,
  checkInteger,
  checkNonNegative,
  checkPositive,
  childSeed,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { SlowCoefficients } from './coefficients.js';
import { checkCoefficients, sigmaSize } from './coefficients.js';
import { averageCoefficients64, averagedCoefficientsTf, emNll64, emNllTermsTf } from './likelihood.js';
import { AveragedModel, type TrainingSummary } from './model.js';
import { type PathTransitions, pathTransitions } from './path.js';
import {
  type AdamSettings,
  adamOptions,
  isEvaluationStep,
  readSumAndDispose,
  TransitionBatches,
} from './training.js';

export type { AdamSettings };

/** Architecture of the default flow (a RealNVP from @sdekit/flows). */
export interface FlowArchitecture {
  /** Coupling layers (default 4). */
  layers?: number;
  /** Hidden width of each coupling network (default 32). */
  hidden?: number;
  /**
   * Initialisation of the coupling networks (@sdekit/nn `MlpInit`). Default 'glorot', unlike the
   * library's other networks (PyTorch's 'fan-in'): trained through the averaging formula, the flow
   * converged faster from Glorot in every case measured (docs/findings.md, averaging: the closed-form
   * MLE test 0.1 % off after 300 steps against 4.6 % from fan-in; M1 quick drift MSE 3.0e-4
   * against 3.5e-4).
   */
  init?: MlpInit;
}

/**
 * Why a likelihood turned non-finite, when the user's coefficients are the cause: the first slow point
 * of the batch and fast sample where b is not finite, or where sigma is not finite or entirely 0 (a
 * Gaussian transition density without variance). Null when the coefficients look fine there.
 */
function coefficientFault(
  coef: SlowCoefficients,
  xs: Float32Array | Float64Array,
  B: number,
  ys: Float64Array,
): string | null {
  const d = coef.slowDim;
  const m = coef.fastDim;
  const x = new Float64Array(d);
  const y = new Float64Array(m);
  const b = new Float64Array(d);
  const sg = new Float64Array(sigmaSize(coef));
  const fmt = (a: Float64Array) => `[${Array.from(a, (v) => Number(v.toPrecision(4))).join(', ')}]`;
  for (let i = 0; i < Math.min(B, 1024); i++) {
    x.set(xs.subarray(i * d, (i + 1) * d));
    for (let l = 0; l < ys.length / m; l++) {
      y.set(ys.subarray(l * m, (l + 1) * m));
      coef.drift(x, y, b);
      if (!b.every(Number.isFinite))
        return `the coefficients' b(x, y) is ${fmt(b)} at x = ${fmt(x)}, y = ${fmt(y)}`;
      coef.diffusion(x, y, sg);
      if (!sg.every(Number.isFinite))
        return `the coefficients' sigma(x, y) is ${fmt(sg)} at x = ${fmt(x)}, y = ${fmt(y)}`;
      if (sg.every((v) => v === 0))
        return `the coefficients' sigma(x, y) is 0 at x = ${fmt(x)}, y = ${fmt(y)} (no noise: the Gaussian likelihood has no variance)`;
    }
  }
  return null;
}

/** Options of `fitAveraged`. */
export interface FitAveragedOptions {
  /**
   * One observed slow path x_0..x_M at spacing Delta = path.dt, or several independent paths of the
   * same process (an array, one Delta): their transitions are pooled, none across two paths.
   */
  path: TimeSeries | readonly TimeSeries[];
  /** The known slow coefficients b, sigma. */
  coefficients: SlowCoefficients;
  /** Fast dimension m; optional check against coefficients.fastDim. */
  fastDim?: number;
  /** A ready flow on R^m (trained in place) or the architecture of a new seeded RealNVP. */
  flow?: Flow | FlowArchitecture;
  /** Fast samples per step (default 64), shared across time within a step. */
  L?: number;
  /**
   * Remove the Monte Carlo bias of the squared residual (default false; needs L >= 2): each
   * transition's term gets - Delta tr(S^{-1} C_k) / (2 L), C_k the sample covariance of b(x_k, y_l)
   * over the L samples, so the loss is an unbiased estimate of the Euler-Maruyama NLL (constant
   * diffusion). Without it the loss carries + Delta tr(S^{-1} Cov b) / (2 L) per transition, which
   * the flow lowers by shrinking the spread of b: a bias of bbar that does not shrink with T, but
   * also an implicit penalty on the spread along unidentified directions of pi_0 (see the README).
   * For a y-dependent scalar or diagonal diffusion, the second-order bias of the L-sample S is
   * removed too (+ f''(S_k) V_k / (2 L), likelihood.ts header), a bias that grows with the number of
   * transitions and favours fast laws under which sigma varies less.
   */
  debias?: boolean;
  /**
   * Penalty weight, on the scale of the full-path loss of docs/methods.md §4: a constant or a
   * function of the 0-based step index (as a learning-rate schedule). Default: 0.01 T (T = training
   * transitions * Delta, the observed time span) decreasing linearly to 0 at half of the steps. The
   * likelihood's curvature in bbar grows like T / sigma^2, so a penalty proportional to T keeps the
   * same relative weight for every Delta.
   */
  lambda?: number | ((step: number) => number);
  /** Penalty exponent p >= 1 (default 2): |f(z)|^p with |.| the Euclidean norm. */
  p?: number;
  adam?: AdamSettings;
  /** Transitions per mini-batch (default 512; the whole training set if larger). */
  batchSize?: number;
  /** Optimiser steps (default 1000). */
  steps?: number;
  /** Fraction of transitions at the END of the path held out (default 0.1). */
  heldOutFraction?: number;
  /** Flow samples for the float64 held-out likelihood (default 256, a fixed set). */
  heldOutSamples?: number;
  /**
   * Evaluate the held-out NLL every this many steps, counted back from the last one (default
   * max(1, floor(steps / 20))): at steps S, S - v, S - 2v, ... >= v, so max(1, floor(S / v))
   * evaluations in all (the last step always, when a held-out part exists). Every step is recorded
   * in the history (its loss terms); only these records carry a `heldOutLoss`.
   */
  evaluateEvery?: number;
  /**
   * Most held-out transitions the held-out likelihood is evaluated on (default 100000). A longer
   * held-out part is represented by a fixed, seeded subsample of this many transitions (drawn once,
   * without replacement; the same at every evaluation): `heldOutLoss` is then the subsample's
   * mean, an unbiased estimate of the held-out mean with standard error about sd / sqrt(N). A
   * shorter one is used whole (the exact value).
   */
  heldOutMaxTransitions?: number;
  seed?: number;
  /** Called after every step with its record (`metrics`: nll, penalty, lambda). */
  onProgress?: (progress: TrainingProgress) => void;
  /**
   * Hand a checkpoint (weights, Adam's moments, the mini-batch and base-sample streams, the history)
   * to `save` every `every` steps and after the last; see @sdekit/nn `train`.
   */
  checkpoint?: TrainOptions['checkpoint'];
  /** Continue from a checkpoint of a fit with the same data and options: the same bits as an uninterrupted fit. */
  resume?: TrainingCheckpoint;
  /** Checked before every step: an aborted signal ends the fit by throwing its reason. */
  signal?: AbortSignal;
}

/** Checkpoint state of `fitAveraged` besides weights and optimiser: its two random streams. */
interface FitAveragedState {
  batches: ShuffledBatchesState;
  /** Generator of the base samples z. */
  z: number[];
}

/**
 * Fits the averaged SDE of docs/methods.md §4 to one slow path. The objective handed to Adam is the loss
 * above divided by the number of training transitions (Adam is invariant to the scale up to eps),
 * estimated on a mini-batch as mean_k nll_k + lambda/M (1/L) sum_l |f(z_l)|^p, and minimised by
 * @sdekit/nn's `train`. Every step is recorded: `loss` is that objective (float32), `metrics.nll`
 * and `metrics.penalty` its two terms as float64 sums of the per-transition float32 terms,
 * `metrics.lambda` the weight; `heldOutLoss` is pure float64.
 *
 * @example
 * const coefficients = m1Coefficients({ m: 2, beta: 0.5 });
 * const model = fitAveraged({ path, coefficients, L: 64, steps: 800, seed: 1 });
 * model.bbar(new Float64Array([-1, 0, 1])).value;
 */
export function fitAveraged(options: FitAveragedOptions): AveragedModel {
  const {
    path,
    coefficients: coef,
    L = 64,
    debias = false,
    p = 2,
    batchSize = 512,
    steps = 1000,
    heldOutFraction = 0.1,
    heldOutSamples = 256,
    seed = 0,
    onProgress,
  } = options;
  if (!coef || typeof coef.driftTf !== 'function') {
    throw new InvalidArgumentError(
      'coefficients',
      'is missing or has no driftTf',
      'pass a SlowCoefficients object, e.g. m1Coefficients({ m: 2 })',
    );
  }
  const d = coef.slowDim;
  const m = coef.fastDim;
  if (options.fastDim !== undefined && options.fastDim !== m) {
    throw new InvalidArgumentError(
      'fastDim',
      `is ${options.fastDim} but coefficients.fastDim = ${m}`,
      'make them agree',
    );
  }
  const observed = pathTransitions(path, d, heldOutFraction);
  const { transitions, trainEnd } = observed;
  checkInteger('L', L, debias ? 2 : 1);
  checkInteger('batchSize', batchSize, 1);
  checkInteger('steps', steps, 1);
  checkInteger('heldOutSamples', heldOutSamples, 2);
  if (!(p >= 1 && Number.isFinite(p)))
    throw new InvalidArgumentError('p', `must be >= 1, got ${p}`, 'use p = 2');
  const evaluateEvery = options.evaluateEvery ?? Math.max(1, Math.floor(steps / 20));
  checkInteger('evaluateEvery', evaluateEvery, 1);
  const heldOutMax = options.heldOutMaxTransitions ?? DEFAULT_HELD_OUT_MAX_TRANSITIONS;
  checkInteger('heldOutMaxTransitions', heldOutMax, 1);
  const dt = observed.dt;
  const lambdaAt = lambdaFunction(options.lambda, trainEnd, dt, steps);
  const heldOut = heldOutSet(observed, d, trainEnd, transitions, heldOutMax, seed);

  // Every tensor created from here on is freed on every exit path: the flow when this call built it
  // and does not return it, theta and each step's kept loss terms (train frees Adam's moments).
  const ownFlow = !(options.flow !== undefined && 'forwardFlat' in options.flow);
  const flow: Flow = ownFlow
    ? realNvp({
        dim: m,
        layers: (options.flow as FlowArchitecture | undefined)?.layers ?? 4,
        hidden: (options.flow as FlowArchitecture | undefined)?.hidden ?? 32,
        init: (options.flow as FlowArchitecture | undefined)?.init ?? 'glorot',
        seed,
      })
    : (options.flow as Flow);
  let theta: tf.Variable<tf.Rank.R1> | undefined;
  let terms: tf.Tensor | undefined;
  let penalty: tf.Tensor | undefined;
  let model: AveragedModel | undefined;
  try {
    if (flow.dim !== m) {
      throw new InvalidArgumentError(
        'flow',
        `has dim ${flow.dim}, fastDim is ${m}`,
        'build the flow on the fast dimension',
      );
    }

    // Shape and agreement check of the user's coefficients on the first path points and flow samples.
    const probe = Math.min(4, trainEnd);
    checkCoefficients(
      coef,
      observed.x.slice(0, probe * d),
      flow.sample(probe, childSeed(seed, 'coefficient-probe')),
    );

    const batches = new TransitionBatches(
      observed.x,
      observed.dx,
      d,
      trainEnd,
      batchSize,
      Rng.fromSeed(seed, 1),
    );
    const B = batches.size;
    let zRng = Rng.fromSeed(seed, 2);
    const z = new Float64Array(L * m);
    const z32 = new Float32Array(L * m);

    const init = tf.tensor1d(Float32Array.from(flow.getParams()));
    theta = tf.variable(init, true, 'averaging-flow-theta') as tf.Variable<tf.Rank.R1>;
    init.dispose();
    const th = theta;

    // The two terms of the current step, read back when its tensors are freed.
    let nll = Number.NaN;
    let penaltyValue = Number.NaN;
    let lambda = 0;
    const problem: TrainingProblem = {
      variables: [th],
      step(k) {
        // k is 1-based: the schedules take the 0-based index k - 1.
        batches.next();
        zRng.fillNormal(z);
        z32.set(z);
        lambda = lambdaAt(k - 1);
        checkLambdaAt(lambda, k);
        nll = Number.NaN;
        penaltyValue = Number.NaN;
        return {
          loss: () =>
            tf.tidy(() => {
              const y = flow.forwardFlat(tf.tensor2d(z32, [L, m], 'float32'), th);
              const { bbar, cov, driftSpread, diffusionSpread } = averagedCoefficientsTf(
                coef,
                tf.tensor2d(batches.x, [B, d]),
                y,
                { driftSpread: debias },
              );
              const spread =
                debias && driftSpread !== null
                  ? {
                      spread: driftSpread,
                      L,
                      ...(diffusionSpread === null ? {} : { diffusion: diffusionSpread }),
                    }
                  : undefined;
              const t = emNllTermsTf(coef, tf.tensor2d(batches.dx, [B, d]), bbar, cov, dt, spread);
              const sq = tf.sum(tf.square(y), 1);
              const pen = tf.mean(p === 2 ? sq : tf.pow(sq, p / 2)) as tf.Scalar;
              terms = tf.keep(t);
              penalty = tf.keep(pen);
              return tf.add(tf.mean(t), tf.mul(lambda / trainEnd, pen)) as tf.Scalar;
            }),
          // train frees the step before afterStep, also when Adam threw after the loss ran (a bad
          // lr schedule): the kept terms are read here and go on every path.
          release: () => {
            const [t, pen] = [terms, penalty];
            terms = undefined;
            penalty = undefined;
            try {
              if (t && pen) {
                nll = readSumAndDispose(t) / B;
                penaltyValue = readSumAndDispose(pen);
              }
            } finally {
              t?.dispose();
              pen?.dispose();
            }
          },
        };
      },
      afterStep(k) {
        if (Number.isFinite(nll) && Number.isFinite(penaltyValue)) return;
        flow.setParams(Float64Array.from(th.dataSync()));
        const cause = coefficientFault(coef, batches.x, B, flow.sample(8, childSeed(seed, 'fault-probe')));
        if (cause !== null) {
          throw new ConvergenceError(
            'coefficients',
            `the loss became non-finite at step ${k} because ${cause}`,
            'make b finite and sigma non-zero wherever the data and the fast samples can be',
          );
        }
        throw new ConvergenceError(
          'fitAveraged',
          `the loss became non-finite at step ${k} (nll ${nll}, penalty ${penaltyValue})`,
          'lower the learning rate, raise lambda (the moment penalty keeps flow samples bounded) or use more samples L',
        );
      },
      evaluate(k) {
        if (heldOut === null || !isEvaluationStep(k, steps, evaluateEvery)) return undefined;
        flow.setParams(Float64Array.from(th.dataSync()));
        return heldOutNll(coef, flow, heldOut, heldOutSamples, childSeed(seed, 'held-out-samples'));
      },
      metrics: () => ({ nll, penalty: penaltyValue, lambda }),
      saveState: (): FitAveragedState => ({ batches: batches.state(), z: Array.from(zRng.state()) }),
      restoreState(state) {
        const s = state as FitAveragedState;
        if (!Array.isArray(s?.z) || s.z.length !== 4)
          throw new InvalidArgumentError(
            'resume',
            'holds no base-sample stream (problem.z)',
            'pass a checkpoint written by fitAveraged',
          );
        batches.restore(s.batches);
        zRng = Rng.fromState(Uint32Array.from(s.z));
      },
    };
    const history = train(problem, {
      steps,
      optimizer: adamOptions(options.adam, steps, 5e-3),
      // Every step is recorded (its own loss terms), as the fit always did.
      evaluateEvery: 1,
      ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
      ...(options.resume !== undefined ? { resume: options.resume } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(onProgress ? { onRecord: (r: TrainingRecord, n: number) => onProgress({ ...r, steps: n }) } : {}),
    });
    flow.setParams(Float64Array.from(th.dataSync()));
    const warnings: string[] = [];
    const lastLambda = history.records[history.records.length - 1].metrics?.lambda ?? 0;
    if (lastLambda > 0) {
      warnings.push(
        `lambda = ${lastLambda} at the last step: the penalty still biases pi_0 (docs/methods.md §4 takes lambda -> 0)`,
      );
    }
    const summary: TrainingSummary = {
      steps,
      trainTransitions: trainEnd,
      heldOutTransitions: transitions - trainEnd,
      history: history.records,
      warnings,
    };
    if (heldOut !== null && heldOut.count < transitions - trainEnd) summary.heldOutSubsample = heldOut.count;
    model = new AveragedModel(flow, coef, dt, summary);
  } finally {
    (terms as tf.Tensor | undefined)?.dispose();
    (penalty as tf.Tensor | undefined)?.dispose();
    theta?.dispose();
    if (!model && ownFlow) flow.dispose();
  }
  return model;
}

/** Default of `heldOutMaxTransitions`: the held-out transitions the held-out NLL is computed on. */
export const DEFAULT_HELD_OUT_MAX_TRANSITIONS = 100_000;

/** The held-out transitions an evaluation uses: origins x, increments dx, their count. */
interface HeldOutSet {
  x: Float64Array;
  dx: Float64Array;
  count: number;
  dt: number;
}

/**
 * Transitions [from, to) of `observed`, whole when there are at most `max` of them (views, no
 * copy), otherwise a subsample of `max` distinct ones in increasing order (selection sampling,
 * Knuth's algorithm S, from its own stream of `seed`): fixed for the whole fit. Null when none is held out.
 */
function heldOutSet(
  observed: PathTransitions,
  d: number,
  from: number,
  to: number,
  max: number,
  seed: number,
): HeldOutSet | null {
  const total = to - from;
  if (total <= 0) return null;
  if (total <= max) {
    return {
      x: observed.x.subarray(from * d, to * d),
      dx: observed.dx.subarray(from * d, to * d),
      count: total,
      dt: observed.dt,
    };
  }
  const rng = Rng.fromSeed(seed, 4);
  const x = new Float64Array(max * d);
  const dx = new Float64Array(max * d);
  let chosen = 0;
  for (let k = from; k < to && chosen < max; k++) {
    // Selects k with probability (still needed) / (still available): exactly `max`, uniformly.
    if ((to - k) * rng.uniform() < max - chosen) {
      x.set(observed.x.subarray(k * d, (k + 1) * d), chosen * d);
      dx.set(observed.dx.subarray(k * d, (k + 1) * d), chosen * d);
      chosen++;
    }
  }
  return { x, dx, count: max, dt: observed.dt };
}

/** Float64 NLL per transition of the held-out set, bbar and S from a fixed set of flow samples. */
function heldOutNll(
  coef: SlowCoefficients,
  flow: Flow,
  set: HeldOutSet,
  samples: number,
  seed: number,
): number {
  const a = averageCoefficients64(coef, set.x, flow.sample(samples, seed));
  return emNll64(coef, set.dx, 0, set.count, a.bbar, a.cov, set.dt) / set.count;
}

/** Checks lambda(step - 1), the weight of 1-based step `step`. */
function checkLambdaAt(v: number, step: number): void {
  if (!(v >= 0 && Number.isFinite(v))) {
    throw new InvalidArgumentError(
      'lambda',
      `is ${v} at step ${step} (lambda(${step - 1}); the schedule takes the 0-based step index)`,
      'use a finite lambda >= 0 at every step',
    );
  }
}

/**
 * The penalty schedule: a constant, a user function, or the default linear decay from
 * 0.01 * (trainTransitions * dt) to 0 at half of the steps.
 */
function lambdaFunction(
  lambda: FitAveragedOptions['lambda'],
  trainTransitions: number,
  dt: number,
  steps: number,
): (step: number) => number {
  if (typeof lambda === 'function') return lambda;
  if (typeof lambda === 'number') {
    checkNonNegative('lambda', lambda, 'pass e.g. 0 or a decreasing schedule');
    return () => lambda;
  }
  return decayingLambda({ start: 0.01 * trainTransitions * dt, steps: Math.ceil(0.5 * steps) });
}

/**
 * A linear penalty schedule toward 0 over the 0-based step index i: lambda(i) = start * max(0, 1 - i / steps).
 *
 * @example
 * const lambda = decayingLambda({ start: 100, steps: 600 }); // 0 from step index 600 on
 */
export function decayingLambda({ start, steps }: { start: number; steps: number }): (step: number) => number {
  checkNonNegative('start', start, 'pass a non-negative start');
  checkPositive('steps', steps);
  return (i) => start * Math.max(0, 1 - i / steps);
}

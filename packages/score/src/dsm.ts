/**
 * Denoising score matching at one noise level (docs/methods.md section 2; Vincent 2011; [G] section 2):
 * draw x from the data, z ~ N(0, I), x~ = x + sigma z, and minimise E||eps_theta(x~) - z||^2 with
 * Adam under a linear warm-up then cosine decay. The minimiser is eps*(x~) = -sigma grad log p_sigma(x~),
 * so s_sigma = -eps_theta / sigma is the score of p_sigma = p * N(0, sigma^2 I).
 */

import {
  ExponentialMovingAverage,
  flatten,
  type MlpInit,
  type MlpJSON,
  type TrainingCheckpoint,
  type TrainingHistory,
  type TrainingProblem,
  type TrainingProgress,
  type TrainingRecord,
  train,
  warmupCosine,
} from '@sdekit/nn';
import {
  ConvergenceError,
  checkBatch,
  checkInteger,
  checkOpenInterval,
  checkPositive,
  differingSettings,
  FormatError,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  type EpsNetwork,
  epsNetworkFromJSON,
  MlpEpsNetwork,
  NetworkScore,
  UNetEpsNetwork,
} from './network-score.js';
import { UNet1d, type UNet1dConfig, type UNet1dJSON } from './unet.js';

/** Held-out DSM loss above which training counts as diverged (a network predicting 0 has 1). */
const DIVERGED_LOSS = 10;

/** Options of `trainDsm`. */
export interface DsmOptions {
  /** Noise level (in the units of the data; 0.05 for z-scored low-dimensional toys, 0.1 for KS). */
  sigma: number;
  /** 'mlp' (Swish MLP, D <= ~8) or 'unet' (periodic 1-D U-Net). Default 'mlp'. */
  network?: 'mlp' | 'unet';
  /** Hidden widths of the MLP. Default [128, 128]. */
  hiddenDims?: number[];
  /** Initialisation of the MLP (@sdekit/nn `MlpInit`): PyTorch's 'fan-in' (default) or 'glorot'. */
  init?: MlpInit;
  /** U-Net settings (width is the data dimension). Default base 16, multipliers [1, 2, 4], k = 5. */
  unet?: Omit<UNet1dConfig, 'width'>;
  /** Optimisation steps. Default 4000. */
  steps?: number;
  /** Mini-batch size. Default 256. */
  batchSize?: number;
  /** Peak learning rate. Default 2e-3. */
  lr?: number;
  /** Linear warm-up steps. Default min(500, steps / 10). */
  warmupSteps?: number;
  /** Final learning rate of the cosine decay. Default 1e-5. */
  lrFloor?: number;
  /** Antithetic noise pairs (z, -z) for the same data point (variance reduction). Default true. */
  antithetic?: boolean;
  /** Global gradient-norm clip. Default 10. */
  clipNorm?: number;
  /** Fraction of the points (the last ones) held out for the held-out loss. Default 0.1. */
  heldOutFraction?: number;
  /** Held-out points evaluated (at most). Default 4096. */
  maxHeldOut?: number;
  /** Record the training loss and evaluate the held-out loss every this many steps (and at the end). Default steps / 10. */
  evaluateEvery?: number;
  /**
   * Decay of an exponential moving average of the weights (@sdekit/nn `ExponentialMovingAverage`),
   * in (0, 1), e.g. 0.999; the held-out loss and the returned model use the averaged weights.
   * Default: none (the last weights).
   */
  ema?: number;
  seed: number;
  /** Called with every record (@sdekit/nn `TrainingProgress`); may throw to stop the run. */
  onProgress?: (p: TrainingProgress) => void;
  /** Checked before every step: an aborted signal ends the run (nothing leaks) by throwing its reason. */
  signal?: AbortSignal;
  /**
   * Hand a checkpoint to `save` every `every` steps (and after the last step), for runs that may be
   * interrupted (the full KS profile trains for hours). `save` is called synchronously; persist the
   * object as JSON (the weights twice, in the network and in the training checkpoint, and two Adam
   * moments, as text: about 87 bytes per parameter,
   * 24 MB for the KS U-Net: docs/findings.md, score).
   */
  checkpoint?: { every: number; save: (c: DsmCheckpoint) => void };
  /**
   * Continue from a checkpoint of a run with the same data, options and seed: the result is identical
   * to an uninterrupted run (network weights, optimiser moments, random stream and loss bookkeeping
   * are all restored). A checkpoint of other settings throws.
   */
  resume?: DsmCheckpoint;
}

/**
 * State of `trainDsm` after `step` steps (see `DsmOptions.checkpoint`): the @sdekit/nn training
 * checkpoint (weights, Adam state, records, the mini-batch stream and the weight average) with the
 * network's architecture and batch-norm running statistics, and the settings a resumed run must share.
 * Version 1 files (written before the fit ran on `train`) are read too.
 */
export interface DsmCheckpoint {
  format: 'sdekit.dsm-checkpoint';
  version: 2;
  /** Steps completed. */
  step: number;
  /** Settings the run must share to resume (checked by `trainDsm`). */
  settings: DsmSettings;
  /** The network at this step (architecture, weights, running statistics). */
  network: MlpJSON | UNet1dJSON;
  /** The training loop's checkpoint; its `problem` is a `DsmProblemState`. */
  training: TrainingCheckpoint;
}

/** Settings shared by a run and its resumption. */
export type DsmSettings = {
  dim: number;
  points: number;
  sigma: number;
  steps: number;
  batchSize: number;
  seed: number;
  /** The weight-average decay, present only when the run averages. */
  ema?: number;
};

/** What a DSM checkpoint carries besides the weights and the optimiser. */
interface DsmProblemState {
  /** xoshiro128** state of the mini-batch stream. */
  rng: number[];
  /** The averaged weights (flat, the network's variable layout) when settings.ema is set. */
  ema?: number[];
}

/** The format of version 1 (its own loop's bookkeeping), converted on reading. */
interface DsmCheckpointV1 {
  format: 'sdekit.dsm-checkpoint';
  version: 1;
  step: number;
  settings: DsmSettings;
  network: MlpJSON | UNet1dJSON;
  ema?: number[];
  optimizer: TrainingCheckpoint['optimizer'];
  rng: number[];
  history: TrainingRecord[];
  lossSum: number;
  lossCount: number;
}

/** Result of `trainDsm`. */
export interface DsmResult {
  model: NetworkScore;
  history: TrainingRecord[];
  /** Final held-out loss (mean squared noise error per coordinate); 1 would mean eps = 0. */
  heldOutLoss: number;
  /** Steps skipped by Adam because the loss was not finite. */
  skippedSteps: number;
}

function buildNetwork(dim: number, options: DsmOptions, seed: number): EpsNetwork {
  const kind = options.network ?? 'mlp';
  if (kind === 'mlp') return MlpEpsNetwork.create(dim, options.hiddenDims ?? [128, 128], seed, options.init);
  if (kind === 'unet') return new UNetEpsNetwork(new UNet1d({ ...options.unet, width: dim }, seed));
  throw new InvalidArgumentError('network', `unknown network '${kind}'`, "pass 'mlp' or 'unet'");
}

/** Held-out loss with fixed noise, in eval mode, accumulated in float64. */
function evaluateLoss(net: EpsNetwork, x: Float32Array, z: Float32Array, n: number, dim: number): number {
  let total = 0;
  const chunk = 4096;
  for (let s = 0; s < n; s += chunk) {
    const c = Math.min(chunk, n - s);
    const part = tf.tidy(() => {
      const xt = tf.tensor2d(x.subarray(s * dim, (s + c) * dim), [c, dim]);
      const zt = tf.tensor2d(z.subarray(s * dim, (s + c) * dim), [c, dim]);
      return tf.sum(tf.squaredDifference(net.apply(xt, false), zt)).dataSync()[0];
    });
    total += part;
  }
  return total / (n * dim);
}

/** A version 1 checkpoint in today's layout (same weights, moments, stream and records). */
function upgradeCheckpoint(c: DsmCheckpointV1): DsmCheckpoint {
  const net = epsNetworkFromJSON(c.network);
  const weights = Array.from(flatten(net.variables));
  net.dispose();
  return {
    format: 'sdekit.dsm-checkpoint',
    version: 2,
    step: c.step,
    settings: c.settings,
    network: c.network,
    training: {
      format: 'sdekit.training-checkpoint',
      version: 1,
      step: c.step,
      steps: c.settings.steps,
      weights,
      optimizer: c.optimizer,
      problem: { rng: c.rng, ...(c.ema ? { ema: c.ema } : {}) } satisfies DsmProblemState,
      records: c.history,
      window: { sum: c.lossSum, count: c.lossCount },
      best: { loss: null, step: 0, since: 0, weights: null },
    },
  };
}

/** Throws unless `c` is a DSM checkpoint of a run with these settings and network kind. */
function checkResume(
  c: DsmCheckpoint | DsmCheckpointV1,
  settings: DsmSettings,
  kind: 'mlp' | 'unet',
): DsmCheckpoint {
  if (c?.format !== 'sdekit.dsm-checkpoint' || (c.version !== 1 && c.version !== 2)) {
    throw new FormatError(
      'resume',
      `expected format sdekit.dsm-checkpoint version 1 or 2, got ${c?.format} ${c?.version}`,
    );
  }
  const ema = c.version === 1 ? c.ema : (c.training?.problem as DsmProblemState | undefined)?.ema;

  const differ: string[] = differingSettings(settings, c.settings);
  if (settings.ema === undefined && c.settings?.ema !== undefined) differ.push('ema');
  if (settings.ema !== undefined && !Array.isArray(ema)) differ.push('ema (no averaged weights saved)');
  const netKind = c.network?.format === 'sdekit.unet1d' ? 'unet' : 'mlp';
  if (netKind !== kind) differ.push('network');
  if (differ.length > 0) {
    throw new InvalidArgumentError(
      'resume',
      `is a checkpoint of another run (differs in ${differ.join(', ')})`,
      'resume with the data, options and seed of the checkpointed run, or start afresh without resume',
    );
  }
  if (!(Number.isInteger(c.step) && c.step >= 0 && c.step <= settings.steps)) {
    throw new InvalidArgumentError(
      'resume',
      `has step ${c.step}, outside [0, ${settings.steps}]`,
      'pass a checkpoint written by trainDsm',
    );
  }
  return c.version === 1 ? upgradeCheckpoint(c) : c;
}

/**
 * Trains eps_theta by denoising score matching and returns the score model s_sigma = -eps_theta / sigma.
 * The last `heldOutFraction` of the points is held out (contiguous, so for a time series the held-out
 * part is the end of the record).
 *
 * @example
 * const { model, heldOutLoss } = trainDsm(data, 2, { sigma: 0.05, network: 'mlp', steps: 3000, seed: 1 });
 * const s = model.score(points);
 * model.dispose();
 */
export function trainDsm(data: Float64Array, dim: number, options: DsmOptions): DsmResult {
  const nAll = checkBatch('data', data, dim, 10);
  checkPositive('sigma', options.sigma);
  const steps = options.steps ?? 4000;
  const batchSize = options.batchSize ?? 256;
  checkInteger('steps', steps, 1);
  checkInteger('batchSize', batchSize, 1);
  const heldOutFraction = options.heldOutFraction ?? 0.1;
  checkOpenInterval('heldOutFraction', heldOutFraction, 0, 0.9);
  const nHeld = Math.max(1, Math.floor(nAll * heldOutFraction));
  const nTrain = nAll - nHeld;
  const sigma = options.sigma;
  const seed = options.seed;
  const emaDecay = options.ema;
  if (emaDecay !== undefined && !(typeof emaDecay === 'number' && emaDecay > 0 && emaDecay < 1))
    throw new InvalidArgumentError(
      'ema',
      `must lie in (0, 1), got ${String(emaDecay)}`,
      'pass e.g. 0.999, or leave it out',
    );
  const settings: DsmSettings = {
    dim,
    points: nAll,
    sigma,
    steps,
    batchSize,
    seed,
    ...(emaDecay !== undefined ? { ema: emaDecay } : {}),
  };
  const resume =
    options.resume !== undefined
      ? checkResume(options.resume as DsmCheckpoint | DsmCheckpointV1, settings, options.network ?? 'mlp')
      : undefined;
  const checkpoint = options.checkpoint;
  if (checkpoint !== undefined && typeof checkpoint.save !== 'function')
    throw new InvalidArgumentError(
      'checkpoint.save',
      'must be a function',
      'pass save: (c) => writeFileSync(path, JSON.stringify(c))',
    );
  const peak = options.lr ?? 2e-3;
  if (!(typeof peak === 'number' && peak > 0 && Number.isFinite(peak)))
    throw new InvalidArgumentError(
      'lr',
      `must be a finite number > 0, got ${String(peak)}`,
      'pass a learning rate such as 2e-3',
    );
  const evaluateEvery = options.evaluateEvery ?? Math.max(1, Math.floor(steps / 10));
  checkInteger('evaluateEvery', evaluateEvery, 1);
  const built = buildNetwork(dim, options, seed);
  if (resume) {
    // The checkpoint's architecture must be the one these options build.
    // `init` only says how the weights started; the checkpoint's weights replace them.
    const architecture = (config: object) => JSON.stringify({ ...config, init: undefined });
    const same = architecture(built.toJSON().config) === architecture(resume.network.config);
    built.dispose();
    if (!same) {
      throw new InvalidArgumentError(
        'resume',
        'holds a network of another architecture than these options build',
        'resume with the network options (hiddenDims / unet) of the checkpointed run',
      );
    }
  }
  // The resumed network carries the checkpoint's batch-norm running statistics; train() restores
  // the weights and Adam's moments.
  const net = resume ? epsNetworkFromJSON(resume.network) : built;
  const ema = emaDecay !== undefined ? new ExponentialMovingAverage(net.variables, emaDecay) : null;

  // Held-out set: fixed noise, evenly spread over the held-out block.
  const heldCount = Math.min(nHeld, options.maxHeldOut ?? 4096);
  const heldX = new Float32Array(heldCount * dim);
  const heldZ = new Float32Array(heldCount * dim);
  const heldRng = Rng.fromSeed(seed, 12);
  for (let i = 0; i < heldCount; i++) {
    const src = nTrain + Math.floor((i * nHeld) / heldCount);
    for (let j = 0; j < dim; j++) {
      const z = heldRng.normal();
      heldZ[i * dim + j] = z;
      heldX[i * dim + j] = data[src * dim + j] + sigma * z;
    }
  }

  const antithetic = options.antithetic ?? true;
  let rng = Rng.fromSeed(seed, 11);
  const xb = new Float32Array(batchSize * dim);
  const zb = new Float32Array(batchSize * dim);
  const problem: TrainingProblem = {
    variables: net.variables,
    step: () => {
      for (let i = 0; i < batchSize; i++) {
        // Antithetic pairs (rows 2k, 2k+1 share x and use z, -z): the loss is unchanged in expectation,
        // while the part of the gradient linear in z cancels, which matters at small sigma, where the
        // score signal is an O(sigma^2) fraction of the loss.
        if (antithetic && i % 2 === 1) {
          for (let j = 0; j < dim; j++) {
            const z = -zb[(i - 1) * dim + j];
            zb[i * dim + j] = z;
            xb[i * dim + j] = xb[(i - 1) * dim + j] + 2 * sigma * z;
          }
          continue;
        }
        const src = rng.integer(nTrain);
        for (let j = 0; j < dim; j++) {
          const z = rng.normal();
          zb[i * dim + j] = z;
          xb[i * dim + j] = data[src * dim + j] + sigma * z;
        }
      }
      const xt = tf.tensor2d(xb, [batchSize, dim]);
      const zt = tf.tensor2d(zb, [batchSize, dim]);
      return {
        loss: () => tf.mean(tf.squaredDifference(net.apply(xt, true), zt)) as tf.Scalar,
        release: () => tf.dispose([xt, zt]),
      };
    },
    afterStep: (step) => ema?.update(step),
    // With a weight average the held-out loss is that of the averaged weights (the model returned).
    evaluate: () => {
      ema?.swap();
      try {
        return evaluateLoss(net, heldX, heldZ, heldCount, dim);
      } finally {
        ema?.swap();
      }
    },
    saveState: (): DsmProblemState => ({
      rng: Array.from(rng.state()),
      ...(ema ? { ema: Array.from(ema.state()) } : {}),
    }),
    restoreState: (state) => {
      const s = state as DsmProblemState;
      rng = Rng.fromState(Uint32Array.from(s.rng));
      if (ema && s.ema) ema.restore(s.ema);
    },
  };
  const warmupSteps = options.warmupSteps ?? Math.min(500, Math.floor(steps / 10));
  let history: TrainingHistory;
  try {
    history = train(problem, {
      steps,
      optimizer: {
        lr: warmupCosine({ peak, warmupSteps, totalSteps: steps, floor: options.lrFloor ?? 1e-5 }),
        clipNorm: options.clipNorm ?? 10,
      },
      evaluateEvery,
      ...(checkpoint
        ? {
            checkpoint: {
              every: checkpoint.every,
              save: (training: TrainingCheckpoint) =>
                checkpoint.save({
                  format: 'sdekit.dsm-checkpoint',
                  version: 2,
                  step: training.step,
                  settings,
                  network: net.toJSON(),
                  training,
                }),
            },
          }
        : {}),
      ...(resume ? { resume: resume.training } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onRecord: (record, total) => {
        options.onProgress?.({ ...record, steps: total });
        // A network that predicts 0 has loss 1 per component: ten times that means training diverged.
        const held = record.heldOutLoss ?? Number.NaN;
        if (Number.isFinite(held) && held > DIVERGED_LOSS)
          throw new ConvergenceError(
            'lr',
            `DSM training diverged: held-out loss ${held.toPrecision(3)} at step ${record.step} (a network predicting 0 has 1) with lr = ${peak}`,
            'lower lr (default 2e-3) or clipNorm',
          );
      },
    });
  } catch (err) {
    // No tensor outlives a failed run (a throwing onProgress or checkpoint save, divergence, abort).
    ema?.dispose();
    net.dispose();
    throw err;
  }
  if (ema) {
    ema.swap(); // the network keeps the averaged weights
    ema.dispose();
  }
  const heldOutLoss = history.records.at(-1)?.heldOutLoss ?? Number.NaN;
  return {
    model: new NetworkScore(dim, sigma, 'dsm', net, heldOutLoss),
    history: history.records,
    heldOutLoss,
    skippedSteps: history.skippedSteps,
  };
}

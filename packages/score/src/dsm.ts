/**
 * Denoising score matching at one noise level (docs/methods.md section 2; Vincent 2011; [G] section 2):
 * draw x from the data, z ~ N(0, I), x~ = x + sigma z, and minimise E||eps_theta(x~) - z||^2 with
 * Adam under a linear warm-up then cosine decay. The minimiser is eps*(x~) = -sigma grad log p_sigma(x~),
 * so s_sigma = -eps_theta / sigma is the score of p_sigma = p * N(0, sigma^2 I).
 */

import {
  Adam,
  type AdamState,
  ExponentialMovingAverage,
  type MlpInit,
  type MlpJSON,
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
  type TrainingRecord,
  UNetEpsNetwork,
} from './network-score.js';
import { UNet1d, type UNet1dConfig, type UNet1dJSON } from './unet.js';

/** Progress report of a training loop. */
export interface TrainingProgress {
  step: number;
  steps: number;
  /** Mean training loss since the previous report. */
  loss: number;
  heldOutLoss?: number;
}

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
  /** Evaluate the held-out loss every this many steps (and at the end). Default steps / 10. */
  evalEvery?: number;
  /**
   * Decay of an exponential moving average of the weights (@sdekit/nn `ExponentialMovingAverage`),
   * in (0, 1), e.g. 0.999; the held-out loss and the returned model use the averaged weights.
   * Default: none (the last weights).
   */
  ema?: number;
  seed: number;
  onProgress?: (p: TrainingProgress) => void;
  /**
   * Hand a checkpoint to `save` every `every` steps (and after the last step), for runs that may be
   * interrupted (the full KS profile trains for hours). `save` is called synchronously; persist the
   * object as JSON (weights and two Adam moments as text, about 66 bytes per parameter; the KS
   * U-Net's size: docs/findings.md, score).
   */
  checkpoint?: { every: number; save: (c: DsmCheckpoint) => void };
  /**
   * Continue from a checkpoint of a run with the same data, options and seed: the result is identical
   * to an uninterrupted run (network weights, optimiser moments, random stream and loss bookkeeping
   * are all restored). A checkpoint of other settings throws.
   */
  resume?: DsmCheckpoint;
}

/** State of `trainDsm` after `step` steps (see `DsmOptions.checkpoint`). */
export interface DsmCheckpoint {
  format: 'sdekit.dsm-checkpoint';
  version: 1;
  /** Steps completed. */
  step: number;
  /** Settings the run must share to resume (checked by `trainDsm`). */
  settings: {
    dim: number;
    points: number;
    sigma: number;
    steps: number;
    batchSize: number;
    seed: number;
    /** The weight-average decay, present only when the run averages. */
    ema?: number;
  };
  network: MlpJSON | UNet1dJSON;
  /** The averaged weights (flat, the network's variable layout) when settings.ema is set. */
  ema?: number[];
  optimizer: AdamState;
  /** xoshiro128** state of the mini-batch stream. */
  rng: number[];
  history: TrainingRecord[];
  /** Loss bookkeeping since the last record. */
  lossSum: number;
  lossCount: number;
  heldOutLoss: number | null;
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

/** Throws unless `c` is a DSM checkpoint of a run with these settings and network kind. */
function checkResume(c: DsmCheckpoint, settings: DsmCheckpoint['settings'], kind: 'mlp' | 'unet'): void {
  if (c?.format !== 'sdekit.dsm-checkpoint' || c.version !== 1) {
    throw new FormatError(
      'resume',
      `expected format sdekit.dsm-checkpoint version 1, got ${c?.format} ${c?.version}`,
    );
  }
  const differ: string[] = differingSettings(settings, c.settings);
  if (settings.ema === undefined && c.settings?.ema !== undefined) differ.push('ema');
  if (settings.ema !== undefined && !Array.isArray(c.ema)) differ.push('ema (no averaged weights saved)');
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
  const settings: DsmCheckpoint['settings'] = {
    dim,
    points: nAll,
    sigma,
    steps,
    batchSize,
    seed,
    ...(emaDecay !== undefined ? { ema: emaDecay } : {}),
  };
  const resume = options.resume;
  if (resume !== undefined) checkResume(resume, settings, options.network ?? 'mlp');
  const checkpointEvery = options.checkpoint?.every;
  if (options.checkpoint !== undefined) {
    checkInteger('checkpoint.every', checkpointEvery as number, 1);
    if (typeof options.checkpoint.save !== 'function')
      throw new InvalidArgumentError(
        'checkpoint.save',
        'must be a function',
        'pass save: (c) => writeFileSync(path, JSON.stringify(c))',
      );
  }
  const rng = resume ? Rng.fromState(Uint32Array.from(resume.rng)) : Rng.fromSeed(seed, 11);
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
  const net = resume ? epsNetworkFromJSON(resume.network) : built;
  const peak = options.lr ?? 2e-3;
  if (!(typeof peak === 'number' && peak > 0 && Number.isFinite(peak))) {
    net.dispose();
    throw new InvalidArgumentError(
      'lr',
      `must be a finite number > 0, got ${String(peak)}`,
      'pass a learning rate such as 2e-3',
    );
  }
  const warmupSteps = options.warmupSteps ?? Math.min(500, Math.floor(steps / 10));
  const adam = new Adam(net.variables, {
    lr: warmupCosine({ peak, warmupSteps, totalSteps: steps, floor: options.lrFloor ?? 1e-5 }),
    clipNorm: options.clipNorm ?? 10,
  });
  if (resume) adam.restore(resume.optimizer);
  const ema = emaDecay !== undefined ? new ExponentialMovingAverage(net.variables, emaDecay) : null;
  if (ema && resume?.ema) ema.restore(resume.ema);

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
  const evalEvery = options.evalEvery ?? Math.max(1, Math.floor(steps / 10));
  const xb = new Float32Array(batchSize * dim);
  const zb = new Float32Array(batchSize * dim);
  const history: TrainingRecord[] = resume ? resume.history.map((r) => ({ ...r })) : [];
  let lossSum = resume?.lossSum ?? 0;
  let lossCount = resume?.lossCount ?? 0;
  let heldOutLoss = resume?.heldOutLoss ?? Number.NaN;
  const saveCheckpoint = (step: number) =>
    options.checkpoint!.save({
      format: 'sdekit.dsm-checkpoint',
      version: 1,
      step,
      settings,
      network: net.toJSON(),
      optimizer: adam.state(),
      ...(ema ? { ema: Array.from(ema.state()) } : {}),
      rng: Array.from(rng.state()),
      history: history.map((r) => ({ ...r })),
      lossSum,
      lossCount,
      heldOutLoss: Number.isFinite(heldOutLoss) ? heldOutLoss : null,
    });
  try {
    for (let step = (resume?.step ?? 0) + 1; step <= steps; step++) {
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
      const loss = adam.step(() => tf.mean(tf.squaredDifference(net.apply(xt, true), zt)) as tf.Scalar);
      xt.dispose();
      zt.dispose();
      ema?.update(step);
      if (Number.isFinite(loss)) {
        lossSum += loss;
        lossCount++;
      }
      if (step % evalEvery === 0 || step === steps) {
        // With a weight average the held-out loss is that of the averaged weights (the model returned).
        ema?.swap();
        heldOutLoss = evaluateLoss(net, heldX, heldZ, heldCount, dim);
        ema?.swap();
        const record: TrainingRecord = {
          step,
          loss: lossCount > 0 ? lossSum / lossCount : Number.NaN,
          heldOutLoss,
        };
        history.push(record);
        options.onProgress?.({ ...record, steps });
        lossSum = 0;
        lossCount = 0;
      }
      // A network that predicts 0 has loss 1 per component: ten times that means training diverged.
      if (Number.isFinite(heldOutLoss) && heldOutLoss > DIVERGED_LOSS) {
        throw new ConvergenceError(
          'lr',
          `DSM training diverged: held-out loss ${heldOutLoss.toPrecision(3)} at step ${step} (a network predicting 0 has 1) with lr = ${peak}`,
          'lower lr (default 2e-3) or clipNorm',
        );
      }
      if (checkpointEvery !== undefined && (step % checkpointEvery === 0 || step === steps))
        saveCheckpoint(step);
    }
  } catch (err) {
    // No tensor outlives a failed run (a throwing onProgress or checkpoint save, divergence).
    adam.dispose();
    ema?.dispose();
    net.dispose();
    throw err;
  }
  const skippedSteps = adam.skippedSteps;
  adam.dispose();
  if (ema) {
    ema.swap(); // the network keeps the averaged weights
    ema.dispose();
  }
  return { model: new NetworkScore(dim, sigma, 'dsm', net, heldOutLoss), history, heldOutLoss, skippedSteps };
}

/**
 * Training plumbing shared by `fitAveraged` and `fitMlpDriftBaseline`: both minimise the same
 * Euler-Maruyama likelihood over shuffled mini-batches of transitions with @sdekit/nn's `train` and
 * the same Adam defaults.
 */
import { type AdamOptions, warmupCosine } from '@sdekit/nn';
import { InvalidArgumentError, type Rng, ShuffledBatches, type ShuffledBatchesState } from '@sdekit/sde';
import type * as tf from '@tensorflow/tfjs-core';

/** Adam settings (see @sdekit/nn Adam). Default lr: warmupCosine(peak 5e-3 for fitAveraged, 1e-2 for the baseline; 5 % warmup; floor 2.5e-4). */
export interface AdamSettings {
  lr?: number | ((step: number) => number);
  beta1?: number;
  beta2?: number;
  eps?: number;
  clipNorm?: number;
}

/**
 * Adam options with the package defaults: lr warmupCosine(peak, 5 % warmup over `steps`, floor
 * 2.5e-4), beta1 0.9, beta2 0.999, eps 1e-8; `settings` override each.
 */
export function adamOptions(settings: AdamSettings | undefined, steps: number, peak: number): AdamOptions {
  const s = settings ?? {};
  return {
    lr:
      s.lr ??
      warmupCosine({
        peak,
        // At least one step after the warm-up (1 step: no warm-up; unchanged from 2 on).
        warmupSteps: Math.min(Math.ceil(0.05 * steps), steps - 1),
        totalSteps: steps,
        floor: 2.5e-4,
      }),
    beta1: s.beta1 ?? 0.9,
    beta2: s.beta2 ?? 0.999,
    eps: s.eps ?? 1e-8,
    clipNorm: s.clipNorm,
  };
}

/**
 * Mini-batches of `size = min(batchSize, count)` training transitions in the shuffled epochs of
 * @sdekit/sde's `ShuffledBatches` (indices [0, count), reshuffled by `rng`, a stream of its own).
 * `next()` fills `x` (states x_k) and `dx` (increments) in float32; `state()` / `restore()`
 * checkpoint the stream (`ShuffledBatches.state`).
 */
export class TransitionBatches {
  readonly size: number;
  /** States x_k of the current batch, size*dim row-major. */
  readonly x: Float32Array;
  /** Increments x_{k+1} - x_k of the current batch, size*dim row-major. */
  readonly dx: Float32Array;
  private batches: ShuffledBatches;

  /**
   * @param data origins x_k of (at least) transitions [0, count), row-major (`PathTransitions.x`)
   * @param increments float64 increments of (at least) transitions [0, count) (`PathTransitions.dx`)
   */
  constructor(
    private readonly data: Float64Array,
    private readonly increments: Float64Array,
    private readonly dim: number,
    private readonly count: number,
    batchSize: number,
    rng: Rng,
  ) {
    this.batches = new ShuffledBatches(count, batchSize, rng);
    this.size = this.batches.size;
    this.x = new Float32Array(this.size * dim);
    this.dx = new Float32Array(this.size * dim);
  }

  /** Fills `x` and `dx` with the next batch. */
  next(): void {
    const { size: B, dim: d, data, increments, x, dx } = this;
    const start = this.batches.next();
    const order = this.batches.order;
    for (let i = 0; i < B; i++) {
      const k = order[start + i];
      for (let j = 0; j < d; j++) {
        x[i * d + j] = data[k * d + j];
        dx[i * d + j] = increments[k * d + j];
      }
    }
  }

  /** The stream's position, for a checkpoint. */
  state(): ShuffledBatchesState {
    return this.batches.state();
  }

  /** Returns to a position from `state()` of batches over the same transitions and batch size. */
  restore(state: ShuffledBatchesState): void {
    if (state?.count !== this.count || state.size !== this.size) {
      throw new InvalidArgumentError(
        'resume',
        `holds mini-batch state ${JSON.stringify({ count: state?.count, size: state?.size, drawn: state?.drawn })}, this fit has ${this.count} training transitions in batches of ${this.size}`,
        'resume with the path, heldOutFraction and batchSize of the checkpointed fit',
      );
    }
    this.batches = ShuffledBatches.fromState(state);
  }
}

/**
 * Whether step `step` (1-based) of `steps` evaluates the held-out NLL: the last one and every
 * `every` before it, down to step `every` (max(1, floor(steps / every)) in all). When `every`
 * divides `steps` these are the steps with step % every === 0.
 */
export function isEvaluationStep(step: number, steps: number, every: number): boolean {
  const back = steps - step;
  return back === 0 || (back % every === 0 && step >= every);
}

/** Reads a tensor back, disposes it and returns the float64 sum of its (float32) values. */
export function readSumAndDispose(t: tf.Tensor): number {
  const values = t.dataSync();
  t.dispose();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum;
}

/**
 * Training plumbing shared by `fitAveraged` and `fitMlpDriftBaseline`: both minimise the same
 * Euler-Maruyama likelihood over shuffled mini-batches of transitions with the same Adam defaults.
 */
import { Adam, warmupCosine } from '@sdekit/nn';
import { type Rng, ShuffledBatches } from '@sdekit/sde';
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
 * Adam over `variables` with the package defaults: lr warmupCosine(peak, 5 % warmup over
 * `iterations`, floor 2.5e-4), beta1 0.9, beta2 0.999, eps 1e-8; `settings` override each.
 */
export function adamWithDefaults(
  variables: tf.Variable[],
  settings: AdamSettings | undefined,
  iterations: number,
  peak: number,
): Adam {
  const s = settings ?? {};
  return new Adam(variables, {
    lr:
      s.lr ??
      warmupCosine({
        peak,
        // At least one step after the warm-up (1 iteration: no warm-up; unchanged from 2 on).
        warmupSteps: Math.min(Math.ceil(0.05 * iterations), iterations - 1),
        totalSteps: iterations,
        floor: 2.5e-4,
      }),
    beta1: s.beta1 ?? 0.9,
    beta2: s.beta2 ?? 0.999,
    eps: s.eps ?? 1e-8,
    clipNorm: s.clipNorm,
  });
}

/**
 * Mini-batches of `size = min(batchSize, count)` training transitions in the shuffled epochs of
 * @sdekit/sde's `ShuffledBatches` (indices [0, count), reshuffled by `rng`). `next()` fills `x`
 * (states x_k) and `dx` (increments) in float32.
 */
export class TransitionBatches {
  readonly size: number;
  /** States x_k of the current batch, size*dim row-major. */
  readonly x: Float32Array;
  /** Increments x_{k+1} - x_k of the current batch, size*dim row-major. */
  readonly dx: Float32Array;
  private readonly batches: ShuffledBatches;

  /**
   * @param data origins x_k of (at least) transitions [0, count), row-major (`PathTransitions.x`)
   * @param increments float64 increments of (at least) transitions [0, count) (`PathTransitions.dx`)
   */
  constructor(
    private readonly data: Float64Array,
    private readonly increments: Float64Array,
    private readonly dim: number,
    count: number,
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
    const order = this.batches.order;
    const start = this.batches.next();
    for (let i = 0; i < B; i++) {
      const k = order[start + i];
      for (let j = 0; j < d; j++) {
        x[i * d + j] = data[k * d + j];
        dx[i * d + j] = increments[k * d + j];
      }
    }
  }
}

/** Reads a tensor back, disposes it and returns the float64 sum of its (float32) values. */
export function readSumAndDispose(t: tf.Tensor): number {
  const values = t.dataSync();
  t.dispose();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum;
}

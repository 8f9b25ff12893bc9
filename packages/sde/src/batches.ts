/**
 * Mini-batch index orders for the training loops of sdekit (flows, averaging): epochs of shuffled
 * indices drawn without replacement, so that every training point is used once per epoch.
 */
import type { Rng } from './rng.js';
import { checkInteger } from './validate.js';

/**
 * Shuffled mini-batches over the indices 0..count-1. The order is redrawn with `rng.permutation`
 * before the first batch and whenever fewer than `size` indices remain (the remainder of an epoch is
 * skipped), so a batch never repeats an index. `size` is min(batchSize, count).
 *
 * @example
 * const batches = new ShuffledBatches(1000, 64, Rng.fromSeed(1));
 * const start = batches.next();
 * const batch = batches.order.subarray(start, start + batches.size); // 64 distinct indices
 */
export class ShuffledBatches {
  /** Indices per batch: min(batchSize, count). */
  readonly size: number;
  /** The current epoch's order of 0..count-1 (a batch is `size` consecutive entries). */
  readonly order: Int32Array;
  private readonly rng: Rng;
  private cursor: number;

  constructor(count: number, batchSize: number, rng: Rng) {
    checkInteger('count', count, 1);
    checkInteger('batchSize', batchSize, 1);
    this.size = Math.min(batchSize, count);
    this.order = new Int32Array(count);
    this.rng = rng;
    this.cursor = count; // forces a shuffle at the first batch
  }

  /** Moves to the next batch and returns the offset of its `size` indices in `order`. */
  next(): number {
    if (this.cursor + this.size > this.order.length) {
      this.rng.permutation(this.order);
      this.cursor = 0;
    }
    const start = this.cursor;
    this.cursor += this.size;
    return start;
  }
}

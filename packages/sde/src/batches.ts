/**
 * Mini-batch index orders for the training loops of sdekit (flows, averaging): epochs of shuffled
 * indices drawn without replacement, so that every training point is used once per epoch.
 */
import { InvalidArgumentError } from './errors.js';
import { Rng } from './rng.js';
import { checkInteger } from './validate.js';

/** Checkpoint state of `ShuffledBatches` (JSON-serialisable). */
export interface ShuffledBatchesState {
  /** Indices shuffled and batch size. */
  readonly count: number;
  readonly size: number;
  /** The generator's state before the current epoch's shuffle (before the first, its state now). */
  readonly epochStart: number[];
  /** Batches drawn in the current epoch (0 before the first). */
  readonly drawn: number;
}

/**
 * Shuffled mini-batches over the indices 0..count-1. The order is redrawn with `rng.permutation`
 * before the first batch and whenever fewer than `size` indices remain (the remainder of an epoch is
 * skipped), so a batch never repeats an index. `size` is min(batchSize, count).
 *
 * `state()` / `ShuffledBatches.fromState` checkpoint the stream without storing the order: the
 * permutation is a function of the generator's state before the epoch's shuffle, so replaying the
 * epoch's batches from that state rebuilds the order, the cursor and the generator exactly. This
 * holds when the generator serves only these batches (give it a stream of its own).
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
  private epochStart: Uint32Array | null = null;
  private drawn = 0;

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
      this.epochStart = this.rng.state();
      this.rng.permutation(this.order);
      this.cursor = 0;
      this.drawn = 0;
    }
    const start = this.cursor;
    this.cursor += this.size;
    this.drawn++;
    return start;
  }

  /** The stream's position, for a checkpoint (see the class comment). */
  state(): ShuffledBatchesState {
    return {
      count: this.order.length,
      size: this.size,
      epochStart: Array.from(this.epochStart ?? this.rng.state()),
      drawn: this.drawn,
    };
  }

  /**
   * The stream at a position from `state()`, with a generator of its own restored from it.
   *
   * @example
   * const saved = JSON.parse(JSON.stringify(batches.state()));
   * const again = ShuffledBatches.fromState(saved); // next() continues where batches would
   */
  static fromState(state: ShuffledBatchesState): ShuffledBatches {
    const ok =
      Number.isInteger(state?.count) &&
      state.count >= 1 &&
      Number.isInteger(state.size) &&
      state.size >= 1 &&
      state.size <= state.count &&
      Array.isArray(state.epochStart) &&
      state.epochStart.length === 4 &&
      Number.isInteger(state.drawn) &&
      state.drawn >= 0 &&
      state.drawn * state.size <= state.count;
    if (!ok)
      throw new InvalidArgumentError(
        'state',
        `is not a ShuffledBatches state: ${JSON.stringify({ count: state?.count, size: state?.size, drawn: state?.drawn })}`,
        'pass what ShuffledBatches.state() returned',
      );
    const batches = new ShuffledBatches(
      state.count,
      state.size,
      Rng.fromState(Uint32Array.from(state.epochStart)),
    );
    for (let i = 0; i < state.drawn; i++) batches.next();
    return batches;
  }
}

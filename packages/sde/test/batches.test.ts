import { describe, expect, it } from 'vitest';
import { ShuffledBatches } from '../src/batches.js';
import { InvalidArgumentError } from '../src/errors.js';
import { Rng } from '../src/rng.js';

describe('ShuffledBatches', () => {
  it('each epoch uses every index at most once, reshuffling exactly when fewer than size remain', () => {
    // 10 indices in batches of 3: three batches (9 distinct indices) per epoch, then a fresh permutation.
    const batches = new ShuffledBatches(10, 3, Rng.fromSeed(4));
    const reference = Rng.fromSeed(4);
    for (let epoch = 0; epoch < 4; epoch++) {
      const expected = reference.permutation(new Int32Array(10));
      const seen = new Set<number>();
      for (let b = 0; b < 3; b++) {
        const start = batches.next();
        expect(start).toBe(3 * b);
        const batch = Array.from(batches.order.subarray(start, start + batches.size));
        expect(batch).toEqual(Array.from(expected.subarray(3 * b, 3 * b + 3)));
        for (const i of batch) seen.add(i);
      }
      expect(seen.size).toBe(9);
    }
  });

  it('clamps the batch to the number of indices and rejects bad sizes', () => {
    const batches = new ShuffledBatches(4, 100, Rng.fromSeed(1));
    expect(batches.size).toBe(4);
    const start = batches.next();
    expect(Array.from(batches.order.subarray(start, start + 4)).sort()).toEqual([0, 1, 2, 3]);
    expect(() => new ShuffledBatches(0, 1, Rng.fromSeed(1))).toThrow(InvalidArgumentError);
    expect(() => new ShuffledBatches(5, 0, Rng.fromSeed(1))).toThrow(InvalidArgumentError);
  });

  it('state() / fromState resume the stream exactly, before the first batch, mid-epoch and at an epoch end', () => {
    const whole = new ShuffledBatches(10, 3, Rng.fromSeed(9));
    const sequence = (b: ShuffledBatches, n: number) =>
      Array.from({ length: n }, () => {
        const start = b.next();
        return Array.from(b.order.subarray(start, start + b.size));
      });
    const all = sequence(whole, 12); // 4 epochs of 3 batches
    for (const at of [0, 1, 2, 3, 7]) {
      const first = new ShuffledBatches(10, 3, Rng.fromSeed(9));
      sequence(first, at);
      const resumed = ShuffledBatches.fromState(JSON.parse(JSON.stringify(first.state())));
      expect(sequence(resumed, 12 - at)).toEqual(all.slice(at));
    }
    const s = new ShuffledBatches(10, 3, Rng.fromSeed(9)).state();
    expect(() => ShuffledBatches.fromState({ ...s, drawn: 4 })).toThrow(InvalidArgumentError);
    expect(() => ShuffledBatches.fromState({ ...s, epochStart: [1, 2] })).toThrow(InvalidArgumentError);
  });
});

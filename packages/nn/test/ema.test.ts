import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ExponentialMovingAverage } from '../src/index.js';

describe('ExponentialMovingAverage', () => {
  it('follows w_ema <- d_t w_ema + (1 - d_t) w with d_t = min(decay, (1 + t) / (10 + t)), swaps and restores', () => {
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 0.5])));
    const ema = new ExponentialMovingAverage([w], 0.9);
    // Reference in float64: the live weights move along a known sequence.
    const ref = [1, -2, 0.5];
    for (let t = 1; t <= 40; t++) {
      const live = [Math.sin(t), Math.cos(t), t / 40];
      tf.tidy(() => w.assign(tf.tensor1d(live)));
      ema.update(t);
      const d = Math.min(0.9, (1 + t) / (10 + t));
      for (let k = 0; k < 3; k++) ref[k] = d * ref[k] + (1 - d) * live[k];
    }
    const averaged = Array.from(ema.state());
    for (let k = 0; k < 3; k++) expect(Math.abs(averaged[k] - ref[k])).toBeLessThan(1e-5);
    const live = Array.from(w.dataSync());
    ema.swap();
    expect(Array.from(w.dataSync())).toEqual(averaged);
    ema.swap();
    expect(Array.from(w.dataSync())).toEqual(live);
    const copy = new ExponentialMovingAverage([w], 0.9);
    copy.restore(averaged);
    expect(Array.from(copy.state())).toEqual(averaged);
    expect(() => copy.restore([1, 2])).toThrow(/ema/);
    expect(() => new ExponentialMovingAverage([w], 1)).toThrow(/decay must lie in \(0, 1\)/);
    expect(() => ema.update(0)).toThrow(/step/);
    copy.dispose();
    ema.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * Exponential moving average of a set of trainable variables (Polyak averaging), the standard
 * companion of score-model training: after step t, with decay d_t = min(decay, (1 + t) / (10 + t)),
 *
 *   w_ema <- d_t w_ema + (1 - d_t) w,
 *
 * (the warm-up of d_t keeps the first, random weights from dominating; tf.train.ExponentialMovingAverage
 * with num_updates). The averaged weights are what a model is evaluated and saved with; `swap`
 * exchanges them with the live ones in place, so the same network object serves both.
 *
 * @example
 * const ema = new ExponentialMovingAverage(net.variables, 0.999);
 * for (let t = 1; t <= steps; t++) { adam.step(loss); ema.update(t); }
 * ema.swap();          // net now holds the averaged weights
 * ema.dispose();
 */
import { checkInteger, InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { assignFlat, flatten } from './flat.js';

export class ExponentialMovingAverage {
  readonly decay: number;
  private readonly live: readonly tf.Variable[];
  private readonly averaged: tf.Variable[];

  constructor(variables: readonly tf.Variable[], decay: number) {
    if (!(typeof decay === 'number' && decay > 0 && decay < 1)) {
      throw new InvalidArgumentError(
        'ema',
        `decay must lie in (0, 1), got ${String(decay)}`,
        'pass e.g. 0.999',
      );
    }
    this.decay = decay;
    this.live = variables;
    this.averaged = variables.map((v) => tf.tidy(() => tf.variable(v.clone(), false)));
  }

  /** Folds the live weights into the average after optimisation step `step` (1-based). */
  update(step: number): void {
    checkInteger('step', step, 1);
    const d = Math.min(this.decay, (1 + step) / (10 + step));
    tf.tidy(() => {
      this.live.forEach((w, k) => {
        const a = this.averaged[k];
        a.assign(tf.add(tf.mul(a, d), tf.mul(w, 1 - d)));
      });
    });
  }

  /** Exchanges the averaged and the live weights (call twice to undo). */
  swap(): void {
    tf.tidy(() => {
      this.live.forEach((w, k) => {
        const a = this.averaged[k];
        const keep = w.clone();
        w.assign(a);
        a.assign(keep);
      });
    });
  }

  /** The averaged weights, flat (the layout of `flatten(variables)`), for a checkpoint. */
  state(): Float32Array {
    return flatten(this.averaged);
  }

  /** Restores the averaged weights from `state()`. */
  restore(flat: ArrayLike<number>): void {
    assignFlat(this.averaged, flat, 'ema');
  }

  dispose(): void {
    for (const a of this.averaged) a.dispose();
  }
}

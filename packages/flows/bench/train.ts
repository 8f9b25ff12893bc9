// Shared body of the training benches: one maximum-likelihood Adam step (the inner step of
// Flow.fit) for 6 coupling layers, hidden 64 (two hidden layers), batch 1024, dims 2 and 8.

import { Adam } from '@sdekit/nn';
import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { type Flow, realNvp, splineFlow } from '../src/index.js';

export function trainingBenches(backend: string): void {
  for (const dim of [2, 8]) {
    describe(`training step, dim ${dim}, 6 couplings, hidden 64, batch 1024 (${backend})`, () => {
      const makers: [string, () => Flow][] = [
        ['realNvp (affine)', () => realNvp({ dim, layers: 6, hidden: 64, seed: 1 })],
        ['splineFlow (8 bins)', () => splineFlow({ dim, layers: 6, hidden: 64, bins: 8, seed: 1 })],
      ];
      for (const [name, make] of makers) {
        const flow = make();
        const rng = Rng.fromSeed(2);
        const xs = new Float32Array(1024 * dim);
        for (let i = 0; i < xs.length; i++) xs[i] = rng.normal();
        const x = tf.tensor2d(xs, [1024, dim]);
        const opt = new Adam(flow.variables, { lr: 1e-3, clipNorm: 10 });
        bench(
          name,
          () => {
            opt.step(() => tf.neg(tf.mean(flow.logProbTensor(x))) as tf.Scalar);
          },
          { time: 2000, iterations: 5, warmupIterations: 2 },
        );
      }
    });
  }
}

// Exact-trajectory parity with PyTorch (tools/torch-parity/trajectories.py writes the fixture): a
// RealNVP of realNvp's shape (two affine couplings, conditioners [8, 8] swish, tanh-bounded
// log-scales, reversal between), the same initial weights and mini-batches, trained by maximum
// likelihood with @sdekit/nn's train (Adam) for 100 steps. The parameters must agree to float32
// rounding.
import { train } from '@sdekit/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { f32, fixtureOptimizer, readFixture, relativeDistance } from '../../nn/test/torch-fixture.js';
import { realNvp } from '../src/index.js';

const fixture = readFixture(new URL('./fixtures/torch-trajectory-realnvp.json', import.meta.url));

describe('RealNVP trained by maximum likelihood with Adam reproduces the PyTorch trajectory', () => {
  const { dim, layers, hidden, logScaleBound } = fixture.config;
  const batch: number = fixture.batchSize;
  const inputs = f32(fixture.inputs);
  for (const setting of ['constant', 'schedule'] as const) {
    it(`${setting === 'constant' ? 'constant lr 1e-3' : 'warm-up cosine schedule, clipped gradients'}: parameters after 1, 10, 100 steps to float32 rounding`, () => {
      const run = fixture.runs[setting];
      const flow = realNvp({
        dim,
        layers,
        hidden,
        logScaleBound,
        mixing: 'reverse',
        actNorm: false,
        seed: 0,
      });
      const initial = f32(fixture.initial);
      expect(flow.numParams).toBe(initial.length);
      flow.setParams(initial);
      const params = flow.variables;
      /** Global gradient norm of the mean NLL of x at the current parameters (before clipping). */
      const gradNorm = (x: tf.Tensor2D) =>
        tf.tidy(() => {
          const { grads } = tf.variableGrads(
            () => tf.neg(tf.mean(flow.logProbTensor(x))) as tf.Scalar,
            [...params],
          );
          return Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
        });
      let checked = 0;
      const before = tf.memory().numTensors;
      // Through the library's training loop: step k feeds the fixture's k-th mini-batch. train owns
      // the optimiser, so the pre-clipping gradient norm is taken by a separate, side-effect-free
      // gradient of the same loss at the same parameters, before the update.
      const history = train(
        {
          variables: params,
          step: (step) => {
            const k = step - 1;
            const x = tf.tensor2d(inputs.subarray(k * batch * dim, (k + 1) * batch * dim), [batch, dim]);
            const norm = gradNorm(x);
            expect(Math.abs(norm - run.gradNorms[k])).toBeLessThan(1e-4 * run.gradNorms[k]);
            return {
              loss: () => tf.neg(tf.mean(flow.logProbTensor(x))) as tf.Scalar,
              release: () => x.dispose(),
            };
          },
          afterStep: (step, loss) => {
            const k = step - 1;
            expect(Math.abs(loss - run.losses[k])).toBeLessThan(1e-5 * Math.abs(run.losses[k]));
            const snapshot = run.params[String(step)];
            if (snapshot !== undefined) {
              const want = f32(snapshot);
              const got = flow.getParams();
              const moved = relativeDistance(want, initial);
              // Measured 2026-12-04 (wasm): see the flows README, "Parity with PyTorch".
              expect(relativeDistance(got, want)).toBeLessThan(1e-6);
              expect(relativeDistance(got, want) / moved).toBeLessThan(1e-4);
              checked++;
            }
          },
        },
        {
          steps: fixture.steps,
          optimizer: fixtureOptimizer(setting, fixture),
        },
      );
      expect(checked).toBe(3);
      expect(history.stepsRun).toBe(fixture.steps);
      expect(history.skippedSteps).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
      flow.dispose();
    });
  }
});

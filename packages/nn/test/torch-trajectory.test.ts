// Exact-trajectory parity with PyTorch (tools/torch-parity/trajectories.py writes the fixture): the
// same swish MLP, initial weights, mini-batches and Adam settings, trained by DSM for 100 steps. The
// parameters must agree to float32 rounding: both sides compute the same float32 operations, in a
// different order, so they differ by a few ulps per step, and Adam's division by sqrt(v) carries that
// forward without amplifying it.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Mlp, type MlpConfig, train } from '../src/index.js';
import { f32, fixtureOptimizer, readFixture, relativeDistance } from './torch-fixture.js';

interface Run {
  params: Record<string, string>;
  losses: number[];
}
const fixture = readFixture(new URL('./fixtures/torch-trajectory-mlp.json', import.meta.url));

describe('MLP trained by DSM with Adam reproduces the PyTorch trajectory', () => {
  const config: MlpConfig = fixture.config;
  const batch: number = fixture.batchSize;
  const inputs = f32(fixture.inputs);
  const targets = f32(fixture.targets);
  const width = config.inputDim;
  for (const setting of ['constant', 'schedule'] as const) {
    it(`${setting === 'constant' ? 'constant lr 1e-3' : 'warm-up cosine schedule, clipped gradients'}: parameters after 1, 10, 100 steps to float32 rounding`, () => {
      const run: Run = fixture.runs[setting];
      const net = new Mlp(config, 0);
      net.setFlat(f32(fixture.initial));
      let checked = 0;
      const before = tf.memory().numTensors;
      // Through the library's training loop: the problem feeds the fixture's batches in order.
      const history = train(
        {
          variables: net.variables,
          step: (step) => {
            const rows = (step - 1) * batch * width;
            const x = tf.tensor2d(inputs.subarray(rows, rows + batch * width), [batch, width]);
            const z = tf.tensor2d(targets.subarray(rows, rows + batch * width), [batch, width]);
            return {
              loss: () => tf.mean(tf.squaredDifference(net.apply(x), z)) as tf.Scalar,
              release: () => tf.dispose([x, z]),
            };
          },
          afterStep: (step, loss) => {
            // The loss of the same weights: float32 evaluations of one sum.
            expect(Math.abs(loss - run.losses[step - 1])).toBeLessThan(
              1e-5 * Math.abs(run.losses[step - 1]) + 1e-6,
            );
            const snapshot = run.params[String(step)];
            if (snapshot !== undefined) {
              const want = f32(snapshot);
              const got = net.getFlat();
              const moved = relativeDistance(want, f32(fixture.initial));
              // The weights move by about 5 % of their norm in 100 steps; measured 2026-12-04 (wasm
              // and cpu): within 1e-7 of the norm and 1.4e-6 of the distance moved.
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
      expect(tf.memory().numTensors).toBe(before);
      net.dispose();
    });
  }
});

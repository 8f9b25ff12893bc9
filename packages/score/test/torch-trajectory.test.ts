// Exact-trajectory parity with PyTorch (tools/torch-parity/trajectories.py writes the fixture): a small
// periodic U-Net of UNet1d's architecture (circular convolutions, batch norm in training mode, strided
// down-sampling, nearest up-sampling with skips), the same initial weights and mini-batches, trained by
// DSM with @sdekit/nn's train (Adam) for 100 steps. Weights and batch-norm running statistics must
// agree to float32 rounding.
import { train } from '@sdekit/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { f32, fixtureOptimizer, readFixture } from '../../nn/test/torch-fixture.js';
import { UNet1d } from '../src/index.js';

const fixture = readFixture(new URL('./fixtures/torch-trajectory-unet.json', import.meta.url));
const decode = (weights: Record<string, string>) =>
  Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, f32(v)]));

/** ||a - b|| / ||b|| over the named arrays selected by `keep`, in float64. */
function relativeDistance(
  a: Record<string, ArrayLike<number>>,
  b: Record<string, ArrayLike<number>>,
  keep: (name: string) => boolean,
): number {
  let d = 0;
  let n = 0;
  for (const name of Object.keys(b).filter(keep)) {
    for (let i = 0; i < b[name].length; i++) {
      d += (a[name][i] - b[name][i]) ** 2;
      n += b[name][i] ** 2;
    }
  }
  return Math.sqrt(d / n);
}
const isRunningStat = (name: string) => name.endsWith('.mean') || name.endsWith('.var');

describe('periodic U-Net trained by DSM with Adam reproduces the PyTorch trajectory', () => {
  const { width } = fixture.config;
  const batch: number = fixture.batchSize;
  const inputs = f32(fixture.inputs);
  const targets = f32(fixture.targets);
  const initial = decode(fixture.initial);
  for (const setting of ['constant', 'schedule'] as const) {
    it(`${setting === 'constant' ? 'constant lr 1e-3' : 'warm-up cosine schedule, clipped gradients'}: weights and running statistics after 1, 10, 100 steps`, () => {
      const run = fixture.runs[setting];
      const net = new UNet1d(fixture.config, 0, initial);
      const loss = (model: UNet1d, x: tf.Tensor2D, z: tf.Tensor2D) =>
        tf.mean(tf.squaredDifference(model.apply(x, true), z)) as tf.Scalar;
      /**
       * Global gradient norm (before clipping) of the DSM loss at the current weights, taken on a copy
       * of the network: a training-mode pass updates the running statistics, which the trained
       * network must see once per step.
       */
      const gradNorm = (x: tf.Tensor2D, z: tf.Tensor2D) => {
        const copy = new UNet1d(fixture.config, 0, net.toJSON().weights);
        try {
          return tf.tidy(() => {
            const { grads } = tf.variableGrads(() => loss(copy, x, z), copy.variables);
            return Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
          });
        } finally {
          copy.dispose();
        }
      };
      let checked = 0;
      const before = tf.memory().numTensors;
      // Through the library's training loop: step k feeds the fixture's k-th mini-batch.
      const history = train(
        {
          variables: net.variables,
          step: (step) => {
            const rows = (step - 1) * batch * width;
            const x = tf.tensor2d(inputs.subarray(rows, rows + batch * width), [batch, width]);
            const z = tf.tensor2d(targets.subarray(rows, rows + batch * width), [batch, width]);
            const norm = gradNorm(x, z);
            expect(Math.abs(norm - run.gradNorms[step - 1])).toBeLessThan(1e-3 * run.gradNorms[step - 1]);
            return { loss: () => loss(net, x, z), release: () => tf.dispose([x, z]) };
          },
          afterStep: (step, value) => {
            const k = step - 1;
            expect(Math.abs(value - run.losses[k])).toBeLessThan(1e-4 * Math.abs(run.losses[k]));
            const snapshot = run.params[String(step)];
            if (snapshot !== undefined) {
              const want = decode(snapshot);
              const got = net.toJSON().weights;
              const trainable = (name: string) => !isRunningStat(name);
              const moved = relativeDistance(want, initial, trainable);
              // Measured 2026-12-04 (wasm): see the score README, "Parity with PyTorch".
              expect(relativeDistance(got, want, trainable) / moved).toBeLessThan(1e-4);
              expect(relativeDistance(got, want, isRunningStat)).toBeLessThan(1e-5);
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
      net.dispose();
    });
  }
});

/**
 * The Gauss-Newton subspace of `averagedPosterior` when sigma depends on the fast variables: the
 * quadratic variation pins sigmabar with information that grows with the number of transitions
 * (5000 here), the drift's with the time span (50), so directions that move bbar and sigmabar
 * together are much narrower than the drift part of the Fisher matrix says. Reference: the
 * curvature of the float64 path log-likelihood itself along the top direction, from
 * `likelihoodCheck` gaps of point-like posteriors at +-1 Laplace width.
 */
import { fitAveraged, m1Coefficients, type SlowCoefficients } from '@sdekit/averaging';
import { pathOf, simulate, slowFastSde, stackState, wholeMultiple } from '@sdekit/sde';
import { multiscaleDoubleWellSystem } from '@sdekit/systems';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { averagedPosterior } from '../src/index.js';
import { pointLikeCheck } from './point-like.js';

/** sigma(y) = 0.5 (1 + 0.5 tanh(y_2)): M1's slow noise modulated by the second fast coordinate. */
const sigmaOf = (y2: number) => 0.5 * (1 + 0.5 * Math.tanh(y2));

describe('averagedPosterior subspace with a y-dependent diffusion (M1 drift, m = 2, n = 100)', () => {
  it('the top eigenvalue is the curvature of the path log-likelihood, diffusion information included', () => {
    const n = 100;
    const h = 0.02 / n;
    const base = multiscaleDoubleWellSystem({ m: 2, n, beta: 0.5 });
    const slow = pathOf(
      simulate(
        slowFastSde({
          ...base,
          additive: false,
          slowDiffusion: (_x, y, out) => {
            out[0] = sigmaOf(y[1]);
          },
        }),
        {
          x0: stackState(Float64Array.of(-1), new Float64Array(2)),
          h,
          T: 50,
          saveEvery: wholeMultiple('Delta', 0.01, h, 'h'),
          seed: 31,
          observe: [0],
        },
      ),
      0,
    );
    const { descriptor: _descriptor, ...m1 } = m1Coefficients({ m: 2, beta: 0.5 });
    const coefficients: SlowCoefficients = {
      ...m1,
      constantDiffusion: false,
      diffusionTf: (_x, y) =>
        tf.tidy(
          () => tf.mul(0.5, tf.add(1, tf.mul(0.5, tf.tanh(tf.slice(y, [0, 1], [-1, 1]))))) as tf.Tensor2D,
        ),
      diffusion: (_x, y, out) => {
        out[0] = sigmaOf(y[1]);
      },
    };
    const model = fitAveraged({
      path: slow,
      coefficients,
      flow: { layers: 2, hidden: 16 },
      L: 32,
      steps: 250,
      batchSize: 256,
      seed: 4,
    });
    const tensorsBefore = tf.memory().numTensors;
    // Only the subspace matters here; a few VI steps keep the test short.
    const post = averagedPosterior(model, slow, { subspace: {}, steps: 20, seed: 5 });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const lambda = post.eigenvalues as Float64Array;
    // Gaps of a point-like q at c = delta e_1 (as in averaged.test.ts): the mean gap at +-delta is
    // 1/2 h delta^2 + O(delta^4) with h the curvature of the float64 log-likelihood along e_1.
    const pointLikeGap = (delta: number) => pointLikeCheck(post, slow, delta, 512).medianGap;
    const width = 1 / Math.sqrt(lambda[0]);
    const curvature = (pointLikeGap(width) + pointLikeGap(-width)) / (width * width);
    console.log(
      `y-dependent sigma: subspace rank ${lambda.length}, lambda ${Array.from(lambda, (l) => l.toExponential(2)).join(' ')}; curvature along e_1 / lambda_1 ${(curvature / lambda[0]).toFixed(3)}`,
    );
    // G is the expected information from 128 path states and 1024 fast samples, the curvature the
    // observed one of this path: they agree to sampling error (0.77 on the constant-sigma M1 test).
    // With the drift part alone, lambda_1 is the drift information and the curvature along its
    // direction exceeds it by the diffusion's, orders of magnitude larger here.
    expect(curvature / lambda[0]).toBeGreaterThan(0.6);
    expect(curvature / lambda[0]).toBeLessThan(1.4);
    model.dispose();
  });
});

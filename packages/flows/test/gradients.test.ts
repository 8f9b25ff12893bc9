// Parameter and input gradients of the coupling transforms (affine and rational-quadratic spline)
// against central differences, at several widths, with and without a context. The loss mixes the
// transformed points and the log-densities of both passes, L = sum(R .* x(z)) + sum(q .* log p(x(z)))
// + sum(q' .* log p(x0)), so every gradient path (conditioner, bijection, log-det) is exercised.
// Directional derivatives along random unit directions: (L(theta + h v) - L(theta - h v)) / 2h, the
// loss summed in float64 from float32 evaluations; with h = 1e-2 the truncation error is O(h^2 L''')
// and the rounding error about 1e-7 |L| / h, both below the 2e-3 relative tolerance.
import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AffineCoupling, Flow, RationalQuadraticSplineCoupling } from '../src/index.js';

const shapes = [
  { dim: 2, contextDim: 0 },
  { dim: 3, contextDim: 2 },
  { dim: 5, contextDim: 0 },
];
const kinds = ['affine', 'spline'] as const;

function unit(rng: Rng, n: number): Float32Array {
  const v = rng.fillNormal(new Float64Array(n));
  const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return Float32Array.from(v, (x) => x / norm);
}

describe('coupling gradients match central differences', () => {
  for (const kind of kinds)
    for (const { dim, contextDim } of shapes)
      it(`${kind}, dim ${dim}, context ${contextDim}: in theta and in the base points`, () => {
        const rng = Rng.fromSeed(100 * dim + contextDim + (kind === 'spline' ? 7 : 0));
        const options = { dim, contextDim, hiddenDims: [8, 8] };
        const layer =
          kind === 'affine'
            ? new AffineCoupling(options, 3)
            : new RationalQuadraticSplineCoupling({ ...options, bins: 4, bound: 3 }, 3);
        const flow = new Flow([layer]);
        const n = 6;
        // Random weights (a fresh coupling's last layer is zero, the identity map).
        const theta0 = Float32Array.from(flow.getParams(), (p) => p + 0.3 * rng.normal());
        const z0 = Float32Array.from(rng.fillNormal(new Float64Array(n * dim)));
        const x0 = Float32Array.from(rng.fillNormal(new Float64Array(n * dim)));
        const ctx =
          contextDim > 0 ? Float32Array.from(rng.fillNormal(new Float64Array(n * contextDim))) : null;
        const r = Float32Array.from(rng.fillNormal(new Float64Array(n * dim)));
        const q = Float32Array.from(rng.fillNormal(new Float64Array(n)));
        const q2 = Float32Array.from(rng.fillNormal(new Float64Array(n)));
        const loss = (theta: tf.Tensor1D, z: tf.Tensor2D) => {
          const c = ctx ? tf.tensor2d(ctx, [n, contextDim]) : undefined;
          const { x, logProb } = flow.sampleAndLogProbFlat(z, theta, c);
          const back = flow.logProbFlat(tf.tensor2d(x0, [n, dim]), theta, c);
          return tf.addN([
            tf.sum(tf.mul(x, tf.tensor2d(r, [n, dim]))),
            tf.sum(tf.mul(logProb, tf.tensor1d(q))),
            tf.sum(tf.mul(back, tf.tensor1d(q2))),
          ]) as tf.Scalar;
        };
        const value = (theta: Float32Array, z: Float32Array) =>
          tf.tidy(() => loss(tf.tensor1d(theta), tf.tensor2d(z, [n, dim])).dataSync()[0]);
        const gradients = tf.grads((t: tf.Tensor, z: tf.Tensor) => loss(t as tf.Tensor1D, z as tf.Tensor2D))([
          tf.tensor1d(theta0),
          tf.tensor2d(z0, [n, dim]),
        ]);
        const [gTheta, gZ] = gradients.map((g) => Float64Array.from(g.dataSync()));
        tf.dispose(gradients);
        const h = 1e-2;
        const scale = Math.abs(value(theta0, z0));
        for (let trial = 0; trial < 3; trial++) {
          for (const [base, grad, isTheta] of [
            [theta0, gTheta, true],
            [z0, gZ, false],
          ] as const) {
            const v = unit(rng, base.length);
            const plus = Float32Array.from(base, (b, i) => b + h * v[i]);
            const minus = Float32Array.from(base, (b, i) => b - h * v[i]);
            const numeric = isTheta
              ? (value(plus, z0) - value(minus, z0)) / (2 * h)
              : (value(theta0, plus) - value(theta0, minus)) / (2 * h);
            let analytic = 0;
            for (let i = 0; i < v.length; i++) analytic += grad[i] * v[i];
            expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 * (Math.abs(numeric) + 1e-2 * scale + 1));
          }
        }
        flow.dispose();
      });
});

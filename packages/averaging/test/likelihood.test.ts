import { DimensionError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { SlowCoefficients } from '../src/coefficients.js';
import { checkCoefficients, m1Coefficients, m2Coefficients } from '../src/coefficients.js';
import { averageCoefficients64, averagedCoefficientsTf, emNll64, emNllTermsTf } from '../src/likelihood.js';

/** A d = 2, m = 2 system with state-dependent general (2 x 3) noise, to exercise every branch. */
function generalCoefficients(): SlowCoefficients {
  const g = (x0: number, x1: number, y0: number, y1: number) => [
    [0.5 + 0.1 * y0 * y0, 0.2 * x1, 0.1],
    [0.1 * x0, 0.4 + 0.1 * y1 * y1, -0.2],
  ];
  return {
    slowDim: 2,
    fastDim: 2,
    noise: 'general',
    noiseDim: 3,
    driftTf: (x, y) => tf.tidy(() => tf.sub(tf.mul(y, x), x) as tf.Tensor2D),
    diffusionTf: (x, y) =>
      tf.tidy(() => {
        const [x0, x1] = tf.unstack(x, 1);
        const [y0, y1] = tf.unstack(y, 1);
        const c = (v: number) => tf.fill(x0.shape, v);
        return tf.stack(
          [
            tf.add(0.5, tf.mul(0.1, tf.square(y0))),
            tf.mul(0.2, x1),
            c(0.1),
            tf.mul(0.1, x0),
            tf.add(0.4, tf.mul(0.1, tf.square(y1))),
            c(-0.2),
          ],
          1,
        ) as tf.Tensor2D;
      }),
    drift: (x, y, out) => {
      out[0] = y[0] * x[0] - x[0];
      out[1] = y[1] * x[1] - x[1];
    },
    diffusion: (x, y, out) => {
      const m = g(x[0], x[1], y[0], y[1]);
      out.set([...m[0], ...m[1]]);
    },
  };
}

function randomBatch(seed: number, n: number, scale = 1): Float64Array {
  const v = new Float64Array(n);
  Rng.fromSeed(seed).fillNormal(v, 0, scale);
  return v;
}

describe('Euler-Maruyama likelihood (docs/methods.md §4)', () => {
  // The tf (float32) and float64 implementations are independent codes for the same formula; they
  // must agree to float32 rounding (relative 1e-4 on O(10) terms).
  for (const [name, coef] of [
    ['scalar (M1)', m1Coefficients({ m: 2 })],
    ['scalar (M2, d = 2)', m2Coefficients({ d: 2, N: 3 })],
    ['general d = 2', generalCoefficients()],
  ] as const) {
    it(`tf terms match float64 terms: ${name}`, () => {
      const d = coef.slowDim;
      const m = coef.fastDim;
      const B = 7;
      const L = 5;
      const dt = 0.01;
      const path = randomBatch(1, (B + 1) * d, 0.8);
      const ys = randomBatch(2, L * m);
      const a = averageCoefficients64(coef, path.subarray(0, B * d), ys);
      const dx = new Float64Array(B * d);
      for (let i = 0; i < B * d; i++) dx[i] = path[i + d] - path[i];
      const nll64 = emNll64(coef, dx, 0, B, a.bbar, a.cov, dt);
      const [terms, bbarTf] = tf.tidy(() => {
        const { bbar, cov } = averagedCoefficientsTf(
          coef,
          tf.tensor2d(Float32Array.from(path.subarray(0, B * d)), [B, d]),
          tf.tensor2d(Float32Array.from(ys), [L, m]),
        );
        return [
          emNllTermsTf(coef, tf.tensor2d(Float32Array.from(dx), [B, d]), bbar, cov, dt)
            .dataSync()
            .slice(),
          bbar.dataSync().slice(),
        ];
      });
      let sum = 0;
      for (const t of terms) sum += t;
      expect(Math.abs(sum - nll64)).toBeLessThan(1e-4 * (Math.abs(nll64) + B));
      for (let i = 0; i < B * d; i++) expect(bbarTf[i]).toBeCloseTo(a.bbar[i], 4);
    });
  }

  it('the pairwise drift path equals the row-paired path (M1, M2)', () => {
    for (const coef of [m1Coefficients({ m: 4 }), m2Coefficients({ d: 2, N: 3 })]) {
      const { driftTfPairwise: _unused, ...rowOnly } = coef;
      const B = 6;
      const L = 4;
      const xs = randomBatch(3, B * coef.slowDim);
      const ys = randomBatch(4, L * coef.fastDim);
      const [a, b] = tf.tidy(() => {
        const x = tf.tensor2d(Float32Array.from(xs), [B, coef.slowDim]);
        const y = tf.tensor2d(Float32Array.from(ys), [L, coef.fastDim]);
        return [
          averagedCoefficientsTf(coef, x, y).bbar.dataSync().slice(),
          averagedCoefficientsTf(rowOnly, x, y).bbar.dataSync().slice(),
        ];
      });
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    }
  });

  it('float64 terms equal the closed form for scalar noise', () => {
    // One transition, d = 1: nll = r^2/(2 dt s^2) + log(2 pi dt s^2)/2 with r = dx - bbar dt.
    const coef = m1Coefficients({ m: 2 });
    const nll = emNll64(
      coef,
      new Float64Array([0.35 - 0.3]),
      0,
      1,
      new Float64Array([0.7]),
      new Float64Array([0.25]),
      0.01,
    );
    const r = 0.05 - 0.007;
    expect(nll).toBeCloseTo((r * r) / (2 * 0.01 * 0.25) + 0.5 * Math.log(2 * Math.PI * 0.01 * 0.25), 12);
  });

  it('M1 float64 drift equals the docs/benchmarks.md formula at a hand-computed point', () => {
    // m = 4, h = 2: b = (x - x^3)/(1 + (y1^2 + y2^2)/2) + (beta/2)(tanh(x - y3) + tanh(x - y4)).
    const coef = m1Coefficients({ m: 4, beta: 0.5 });
    const out = new Float64Array(1);
    coef.drift(new Float64Array([0.5]), new Float64Array([1, -1, 0.2, -0.3]), out);
    const expected = (0.5 - 0.125) / 2 + 0.25 * (Math.tanh(0.3) + Math.tanh(0.8));
    expect(out[0]).toBeCloseTo(expected, 14);
  });

  it('checkCoefficients: wrong drift shape -> DimensionError, disagreement -> InvalidArgumentError', () => {
    const good = m1Coefficients({ m: 2 });
    const x = new Float64Array([0.1, 0.2]);
    const y = new Float64Array([0.1, 0.2, 0.3, 0.4]);
    expect(() => checkCoefficients(good, x, y)).not.toThrow();
    const wrongShape: SlowCoefficients = { ...good, driftTf: (_x, yy) => tf.clone(yy) };
    expect(() => checkCoefficients(wrongShape, x, y)).toThrow(DimensionError);
    const wrongSigma: SlowCoefficients = {
      ...good,
      diffusionTf: (xx) => tf.fill([xx.shape[0], 3], 0.5) as tf.Tensor2D,
    };
    expect(() => checkCoefficients(wrongSigma, x, y)).toThrow(DimensionError);
    const pairwiseWrong: SlowCoefficients = {
      ...good,
      driftTfPairwise: (xx, yy) => tf.zeros([xx.shape[0], yy.shape[0], 2]) as tf.Tensor3D,
    };
    expect(() => checkCoefficients(pairwiseWrong, x, y)).toThrow(DimensionError);
    const pairwiseOff: SlowCoefficients = {
      ...good,
      driftTfPairwise: (xx, yy) => tf.zeros([xx.shape[0], yy.shape[0], 1]) as tf.Tensor3D,
    };
    expect(() => checkCoefficients(pairwiseOff, x, y)).toThrow(InvalidArgumentError);
    expect(() =>
      checkCoefficients(
        m2Coefficients({ d: 2, N: 2 }),
        Float64Array.of(0.1, 0.2, 0.3, -0.4),
        Float64Array.of(0.5, 0.1, -0.2, 0.3, 0.7, 0.2, 0.1, -0.6),
      ),
    ).not.toThrow();
    const disagree: SlowCoefficients = {
      ...good,
      drift: (_x, _y, out) => {
        out[0] = 42;
      },
    };
    expect(() => checkCoefficients(disagree, x, y)).toThrow(InvalidArgumentError);
    expect(() => m1Coefficients({ m: 3 })).toThrow(InvalidArgumentError);
  });
});

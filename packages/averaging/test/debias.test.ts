/**
 * Monte Carlo debiasing of the L-sample Euler-Maruyama likelihood (likelihood.ts header): with bbar
 * a mean of L fast samples, E[r^T S^{-1} r] / (2 Delta) exceeds the exact term by
 * Delta tr(S^{-1} Cov b) / (2 L); `emNllTermsTf(..., { spread, L })` subtracts the unbiased sample
 * estimate of that excess. References: closed forms (linear-Gaussian), the exact M2 bbar with exact
 * Gaussian samples of pi_0, and float64 linear algebra for the trace.
 */
import { Rng } from '@sdekit/sde';
import { sampleTaggedParticleFast, taggedParticleAveragedDrift } from '@sdekit/systems';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { SlowCoefficients } from '../src/coefficients.js';
import { m2Coefficients } from '../src/coefficients.js';
import { averagedCoefficientsTf, emNllTermsTf } from '../src/likelihood.js';

/** b(x, y) = -x + y (d = m = 1), sigma = 0.5: bbar = -x + E y, Cov b = Var y. */
const linear: SlowCoefficients = {
  slowDim: 1,
  fastDim: 1,
  noise: 'scalar',
  noiseDim: 1,
  constantDiffusion: true,
  driftTf: (x, y) => tf.tidy(() => tf.sub(y, x) as tf.Tensor2D),
  diffusionTf: (x) => tf.fill([x.shape[0], 1], 0.5) as tf.Tensor2D,
  drift: (x, y, out) => {
    out[0] = y[0] - x[0];
  },
  diffusion: (_x, _y, out) => {
    out[0] = 0.5;
  },
};

/** Sum over transitions of the tf terms for one set of fast samples, with and without the correction. */
function sums(
  coef: SlowCoefficients,
  xs: Float64Array,
  dx: Float64Array,
  ys: Float64Array,
  dt: number,
): { plain: number; debiased: number } {
  const d = coef.slowDim;
  const B = xs.length / d;
  const L = ys.length / coef.fastDim;
  return tf.tidy(() => {
    const { bbar, cov, driftSpread, diffusionSpread } = averagedCoefficientsTf(
      coef,
      tf.tensor2d(Float32Array.from(xs), [B, d]),
      tf.tensor2d(Float32Array.from(ys), [L, coef.fastDim]),
      { driftSpread: true },
    );
    const dxT = tf.tensor2d(Float32Array.from(dx), [B, d]);
    const read = (t: tf.Tensor) => Array.from(t.dataSync()).reduce((a, v) => a + v, 0); // float64 sum
    const spread = {
      spread: driftSpread as tf.Tensor2D,
      L,
      ...(diffusionSpread === null ? {} : { diffusion: diffusionSpread }),
    };
    return {
      plain: read(emNllTermsTf(coef, dxT, bbar, cov, dt)),
      debiased: read(emNllTermsTf(coef, dxT, bbar, cov, dt, spread)),
    };
  });
}

function meanAndSe(v: number[]): { mean: number; se: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { mean, se: Math.sqrt(variance / v.length) };
}

describe('Monte Carlo debiasing of the L-sample likelihood', () => {
  it('linear-Gaussian: the corrected mean equals the exact NLL, the plain one exceeds it by B Delta tau^2 / (2 L s)', () => {
    // y ~ N(mu, tau^2) exactly, L = 2 samples per replicate, B = 50 fixed transitions, Delta = 0.1,
    // s = sigma^2 = 0.25. Predicted excess of the plain estimator: 50 * 0.1 * 1 / (2 * 2 * 0.25) = 5.
    // Replicate scatter: B Delta / (2 s) (e^2 - C / L) with e^2 and C / L independent
    // (tau^2 / 2) chi^2_1 variables (sd ~10) plus the residual term e sum_k r_k / s (sd ~3), so
    // R = 2000 replicates give a standard error ~0.23: the excess is ~20 se, and the corrected mean
    // must sit within 4 se of the exact value.
    const mu = 0.3;
    const tau = 1;
    const dt = 0.1;
    const s = 0.25;
    const B = 50;
    const L = 2;
    const R = 2000;
    const rng = Rng.fromSeed(7, 0);
    const xs = new Float64Array(B);
    const dx = new Float64Array(B);
    rng.fillNormal(xs);
    let exact = 0;
    for (let k = 0; k < B; k++) {
      dx[k] = (mu - xs[k]) * dt + Math.sqrt(s * dt) * rng.normal();
      const r = dx[k] - (mu - xs[k]) * dt;
      exact += (r * r) / (2 * dt * s) + 0.5 * Math.log(2 * Math.PI * dt * s);
    }
    const plain: number[] = [];
    const debiased: number[] = [];
    const ys = new Float64Array(L);
    for (let rep = 0; rep < R; rep++) {
      rng.fillNormal(ys, mu, tau);
      const v = sums(linear, xs, dx, ys, dt);
      plain.push(v.plain);
      debiased.push(v.debiased);
    }
    const p = meanAndSe(plain);
    const q = meanAndSe(debiased);
    const excess = (B * dt * tau * tau) / (2 * L * s);
    expect(Math.abs(p.mean - exact - excess)).toBeLessThan(4 * p.se);
    expect(Math.abs(q.mean - exact)).toBeLessThan(4 * q.se);
    expect(excess).toBeGreaterThan(10 * q.se); // the test resolves the bias it removes
  });

  it('M2 with exact Gaussian pi_0: corrected L = 4 estimate is unbiased for the NLL with the exact bbar', () => {
    // Residuals are placed at zero under the exact bbar (dx_k = bbar(x_k) Delta), so the plain
    // estimator's excess is exactly sum_k Delta Var b(x_k, .) / (2 L s) (Var b from 2e5 exact samples)
    // and both estimators have small scatter. Delta = 0.5 makes the excess O(1); R = 1500
    // replicates of L = 4 exact samples give standard errors ~1e-2 of it.
    const coef = m2Coefficients({ d: 1, N: 10 });
    const dt = 0.5;
    const s = 0.25;
    const L = 4;
    const R = 1500;
    const xs = Float64Array.from({ length: 21 }, (_, i) => -1.5 + 0.15 * i);
    const B = xs.length;
    const bbar = taggedParticleAveragedDrift(xs, { d: 1, N: 10 });
    const dx = Float64Array.from(bbar, (b) => b * dt);
    const exact = B * 0.5 * Math.log(2 * Math.PI * dt * s);
    // Var b(x_k, .) by Monte Carlo over exact samples (float64), against the closed-form mean.
    const big = 200000;
    const yBig = sampleTaggedParticleFast(Rng.fromSeed(11, 0), big, { d: 1, N: 10 });
    const out = new Float64Array(1);
    let excess = 0;
    for (let k = 0; k < B; k++) {
      let sq = 0;
      for (let l = 0; l < big; l++) {
        coef.drift(xs.subarray(k, k + 1), yBig.subarray(l * 10, (l + 1) * 10), out);
        sq += (out[0] - bbar[k]) ** 2;
      }
      excess += (dt * (sq / big)) / (2 * L * s);
    }
    const rng = Rng.fromSeed(12, 0);
    const plain: number[] = [];
    const debiased: number[] = [];
    for (let rep = 0; rep < R; rep++) {
      const v = sums(coef, xs, dx, sampleTaggedParticleFast(rng, L, { d: 1, N: 10 }), dt);
      plain.push(v.plain);
      debiased.push(v.debiased);
    }
    const p = meanAndSe(plain);
    const q = meanAndSe(debiased);
    // 4 standard errors, plus 1 % of the excess for its own Monte Carlo error (2e5 samples: the
    // relative error of a variance estimate is ~sqrt(2 / 2e5) = 0.3 %) and float32 rounding.
    expect(Math.abs(p.mean - exact - excess)).toBeLessThan(4 * p.se + 0.01 * excess);
    expect(Math.abs(q.mean - exact)).toBeLessThan(4 * q.se + 1e-4 * Math.abs(exact));
    expect(excess).toBeGreaterThan(20 * q.se);
  });

  it('y-dependent diffusion: the corrected mean equals the exact NLL to second order in 1/L', () => {
    // sigma(y)^2 = a + c tanh(y), y ~ N(0, 1) exactly, b = -x: S = E sigma^2 = a exactly (tanh is
    // odd) and S_L, the mean of L samples, has a symmetric Monte Carlo error. The residuals are fixed
    // and scaled so that sum_k r_k^2 / Delta = B S, which removes the first-order scatter of the sum.
    // Plain excess (delta method): -B f''(S) Var(S_L) / 2 with f''(S) = -1 / (2 S^2) here, i.e.
    // B c^2 E[tanh^2] / (4 L S^2) = 200 * 0.01 * 0.394 / (4 * 8 * 0.0625) = 0.39 nats. Replicate
    // scatter ~0.55 (B |f''| Var(S_L) sqrt 2 / 2 ... from the second-order term), so R = 2000 gives a
    // standard error ~0.012: the excess is ~30 se. The corrected mean carries the next order of
    // the delta method, f''''(S) Var(S_L)^2 terms, about Var(S_L) / S^2 * 10 = 8 % of the excess.
    const a = 0.25;
    const c = 0.1;
    const dt = 0.1;
    const B = 200;
    const L = 8;
    const R = 2000;
    const coef: SlowCoefficients = {
      ...linear,
      constantDiffusion: false,
      driftTf: (x) => tf.neg(x) as tf.Tensor2D,
      diffusionTf: (_x, y) => tf.tidy(() => tf.sqrt(tf.add(a, tf.mul(c, tf.tanh(y)))) as tf.Tensor2D),
      drift: (x, _y, out) => {
        out[0] = -x[0];
      },
      diffusion: (_x, y, out) => {
        out[0] = Math.sqrt(a + c * Math.tanh(y[0]));
      },
    };
    const rng = Rng.fromSeed(21, 0);
    const xs = new Float64Array(B);
    rng.fillNormal(xs);
    const r = new Float64Array(B);
    rng.fillNormal(r, 0, Math.sqrt(a * dt));
    const scale = Math.sqrt((B * a * dt) / r.reduce((acc, v) => acc + v * v, 0));
    let exact = 0;
    const dx = Float64Array.from(r, (v, k) => {
      const rk = v * scale;
      exact += (rk * rk) / (2 * dt * a) + 0.5 * Math.log(2 * Math.PI * dt * a);
      return -xs[k] * dt + rk;
    });
    const plain: number[] = [];
    const debiased: number[] = [];
    const ys = new Float64Array(L);
    for (let rep = 0; rep < R; rep++) {
      rng.fillNormal(ys);
      const v = sums(coef, xs, dx, ys, dt);
      plain.push(v.plain);
      debiased.push(v.debiased);
    }
    const p = meanAndSe(plain);
    const q = meanAndSe(debiased);
    const excess = p.mean - exact;
    expect(excess).toBeGreaterThan(10 * p.se); // the test resolves the bias it removes
    expect(Math.abs(q.mean - exact)).toBeLessThan(4 * q.se + 0.1 * excess);
  });

  it('the correction equals Delta tr(S^{-1} C) / (2 L) for scalar, diagonal and general noise', () => {
    // Exact algebra: with C the sample covariance of b over the L samples (float64 from the
    // per-pair drift) and S known, the difference plain - debiased per transition must equal
    // Delta tr(S^{-1} C) / (2 L), to float32 rounding.
    const d = 2;
    const dt = 0.05;
    const drift64 = (x: Float64Array, y: Float64Array, out: Float64Array) => {
      out[0] = Math.sin(x[0] * y[0]) + y[1];
      out[1] = x[1] * y[0] * y[1] - 0.5 * y[1];
    };
    const base = {
      slowDim: d,
      fastDim: 2,
      constantDiffusion: true,
      driftTf: (x: tf.Tensor2D, y: tf.Tensor2D) =>
        tf.tidy(() => {
          const [x0, x1] = tf.unstack(x, 1);
          const [y0, y1] = tf.unstack(y, 1);
          return tf.stack(
            [tf.add(tf.sin(tf.mul(x0, y0)), y1), tf.sub(tf.mul(tf.mul(x1, y0), y1), tf.mul(0.5, y1))],
            1,
          ) as tf.Tensor2D;
        }),
      drift: drift64,
    };
    // S for each layout (constant): scalar 0.3 I, diagonal (0.2, 0.5), general G G^T.
    const G = [
      [0.6, 0.1, 0.2],
      [-0.3, 0.5, 0.1],
    ];
    const Sgen = [0, 1].map((a) => [0, 1].map((b) => G[a].reduce((acc, v, k) => acc + v * G[b][k], 0)));
    const layouts: Array<{ coef: SlowCoefficients; Sinv: number[][] }> = [
      {
        coef: {
          ...base,
          noise: 'scalar',
          noiseDim: d,
          diffusionTf: (x) => tf.fill([x.shape[0], 1], Math.sqrt(0.3)) as tf.Tensor2D,
          diffusion: (_x, _y, o) => {
            o[0] = Math.sqrt(0.3);
          },
        },
        Sinv: [
          [1 / 0.3, 0],
          [0, 1 / 0.3],
        ],
      },
      {
        coef: {
          ...base,
          noise: 'diagonal',
          noiseDim: d,
          diffusionTf: (x) =>
            tf.tidy(() => tf.mul(tf.ones([x.shape[0], 1]), tf.tensor2d([[Math.sqrt(0.2), Math.sqrt(0.5)]]))),
          diffusion: (_x, _y, o) => {
            o[0] = Math.sqrt(0.2);
            o[1] = Math.sqrt(0.5);
          },
        },
        Sinv: [
          [1 / 0.2, 0],
          [0, 1 / 0.5],
        ],
      },
      {
        coef: {
          ...base,
          noise: 'general',
          noiseDim: 3,
          diffusionTf: (x) => tf.tidy(() => tf.mul(tf.ones([x.shape[0], 1]), tf.tensor2d([G.flat()]))),
          diffusion: (_x, _y, o) => o.set(G.flat()),
        },
        Sinv: (() => {
          const det = Sgen[0][0] * Sgen[1][1] - Sgen[0][1] * Sgen[1][0];
          return [
            [Sgen[1][1] / det, -Sgen[0][1] / det],
            [-Sgen[1][0] / det, Sgen[0][0] / det],
          ];
        })(),
      },
    ];
    const rng = Rng.fromSeed(21, 0);
    const B = 5;
    const L = 6;
    const xs = new Float64Array(B * d);
    const dx = new Float64Array(B * d);
    const ys = new Float64Array(L * 2);
    rng.fillNormal(xs);
    rng.fillNormal(dx, 0, 0.1);
    rng.fillNormal(ys);
    for (const { coef, Sinv } of layouts) {
      const [plain, debiased] = tf.tidy(() => {
        const { bbar, cov, driftSpread } = averagedCoefficientsTf(
          coef,
          tf.tensor2d(Float32Array.from(xs), [B, d]),
          tf.tensor2d(Float32Array.from(ys), [L, 2]),
          { driftSpread: true },
        );
        const dxT = tf.tensor2d(Float32Array.from(dx), [B, d]);
        return [
          emNllTermsTf(coef, dxT, bbar, cov, dt).dataSync().slice(),
          emNllTermsTf(coef, dxT, bbar, cov, dt, { spread: driftSpread as tf.Tensor2D, L })
            .dataSync()
            .slice(),
        ];
      });
      const b = new Float64Array(d);
      for (let k = 0; k < B; k++) {
        const vals: number[][] = [];
        for (let l = 0; l < L; l++) {
          drift64(xs.subarray(k * d, (k + 1) * d), ys.subarray(l * 2, l * 2 + 2), b);
          vals.push([b[0], b[1]]);
        }
        const mean = [0, 1].map((j) => vals.reduce((a, v) => a + v[j], 0) / L);
        let trace = 0;
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) {
            const cij = vals.reduce((a, v) => a + (v[i] - mean[i]) * (v[j] - mean[j]), 0) / (L - 1);
            trace += Sinv[j][i] * cij;
          }
        }
        const expected = (dt * trace) / (2 * L);
        // float32 terms of size ~|plain| with rounding ~1e-7 relative; expected is O(0.1).
        expect(Math.abs(plain[k] - debiased[k] - expected)).toBeLessThan(1e-5 * (1 + Math.abs(plain[k])));
      }
    }
  });

  it('rejects L < 2 for the correction', () => {
    tf.tidy(() => {
      const one = tf.tensor2d([[0.1]]);
      expect(() =>
        emNllTermsTf(linear, one, one, tf.tensor2d([[0.25]]), 0.01, { spread: tf.tensor2d([[0]]), L: 1 }),
      ).toThrow(/debias\.L/);
    });
  });
});

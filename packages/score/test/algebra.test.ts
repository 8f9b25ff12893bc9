import { cholesky, Matrix, matmul, Rng, transpose } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { analyticScore, langevinCoefficients, PHI_SHIFT_EPS, steinMatrix } from '../src';

describe('analyticScore and steinMatrix', () => {
  it('V = E[s x^T] is -I for a correlated Gaussian (within the sampling error)', () => {
    // p = N(0, C), s(x) = -C^{-1} x with C = [[1, 0.6], [0.6, 2]], C^{-1} = [[2, -0.6], [-0.6, 1]] / 1.64.
    const ci = [2 / 1.64, -0.6 / 1.64, -0.6 / 1.64, 1 / 1.64];
    const s = analyticScore(2, (x, out) => {
      out[0] = -(ci[0] * x[0] + ci[1] * x[1]);
      out[1] = -(ci[2] * x[0] + ci[3] * x[1]);
    });
    const n = 40000;
    const l = cholesky(
      Matrix.from([
        [1, 0.6],
        [0.6, 2],
      ]),
    );
    const rng = Rng.fromSeed(11);
    const x = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const z0 = rng.normal();
      const z1 = rng.normal();
      x[2 * i] = l.data[0] * z0;
      x[2 * i + 1] = l.data[2] * z0 + l.data[3] * z1;
    }
    const v = steinMatrix(s, x, 2);
    // Each entry is a mean of products of two unit-scale Gaussians: standard error <= sqrt(3 / n) ~ 0.009;
    // 0.04 is more than 4 standard errors.
    const want = [-1, 0, 0, -1];
    for (let k = 0; k < 4; k++) expect(Math.abs(v.data[k] - want[k])).toBeLessThan(0.04);
  });

  it('with sigma > 0, V of the smoothed score is evaluated on perturbed samples', () => {
    // Data N(0, 1); p_sigma = N(0, 1 + sigma^2), s_sigma(x) = -x / (1 + sigma^2). On perturbed samples
    // V = -1 exactly in expectation; on the clean samples it would be -1 / (1 + sigma^2) = -0.8 here.
    const sigma = 0.5;
    const s = analyticScore(1, (x, out) => {
      out[0] = -x[0] / (1 + sigma * sigma);
    });
    const x = Rng.fromSeed(12).fillNormal(new Float64Array(50000));
    const perturbed = steinMatrix(s, x, 1, { sigma, seed: 1 }).data[0];
    const clean = steinMatrix(s, x, 1).data[0];
    // standard error sqrt(2 / 50000) = 0.006
    expect(Math.abs(perturbed + 1)).toBeLessThan(0.03);
    expect(Math.abs(clean + 0.8)).toBeLessThan(0.03);
  });

  it('rejects a score of the wrong dimension', () => {
    const s = analyticScore(1, (x, out) => {
      out[0] = -x[0];
    });
    expect(() => steinMatrix(s, new Float64Array(4), 2)).toThrow(/dim/);
  });
});

describe('langevinCoefficients (docs/methods.md section 1)', () => {
  it('recovers Phi exactly from Cdot = Phi V, splits it and factors Phi_S', () => {
    const phi = Matrix.from([
      [1.2, -0.7, 0.1],
      [0.5, 0.9, 0.2],
      [-0.1, 0.0, 0.6],
    ]);
    const v = Matrix.from([
      [-1.05, 0.02, 0.0],
      [0.01, -0.98, 0.03],
      [0.0, -0.02, -1.01],
    ]);
    const c = langevinCoefficients(matmul(phi, v), v);
    for (let k = 0; k < 9; k++) expect(c.phi.data[k]).toBeCloseTo(phi.data[k], 12);
    expect(c.shift).toBe(0);
    const ss = matmul(c.sigma, transpose(c.sigma));
    for (let k = 0; k < 9; k++) expect(ss.data[k]).toBeCloseTo(c.phiS.data[k], 12);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(c.phiA.get(i, j)).toBeCloseTo(-c.phiA.get(j, i), 14);
    expect(c.energyShareS + c.energyShareA).toBeCloseTo(1, 12);
  });

  it('shifts a non-positive-definite Phi_S in drift and noise alike', () => {
    // Phi_S = diag(1, -0.2): lambda_min = -0.2, shift = 0.2 + 5e-4.
    const phi = Matrix.from([
      [1, -0.5],
      [0.5, -0.2],
    ]);
    const v = Matrix.from([
      [-1, 0],
      [0, -1],
    ]);
    const c = langevinCoefficients(matmul(phi, v), v);
    expect(c.lambdaMin).toBeCloseTo(-0.2, 12);
    expect(c.shift).toBeCloseTo(0.2 + PHI_SHIFT_EPS, 12);
    expect(c.phiS.toArray()).toEqual([
      [1 + c.shift, 0],
      [0, -0.2 + c.shift],
    ]);
    // The drift matrix uses the shifted Phi_S: Phi = Phi_S + Phi_A.
    expect(c.phi.get(0, 0)).toBeCloseTo(1 + c.shift, 12);
    expect(c.phi.get(1, 1)).toBeCloseTo(PHI_SHIFT_EPS, 12);
    expect(c.phi.get(0, 1)).toBeCloseTo(-0.5, 12);
    const ss = matmul(c.sigma, transpose(c.sigma));
    for (let k = 0; k < 4; k++) expect(ss.data[k]).toBeCloseTo(c.phiS.data[k], 12);
  });
});

describe('steinMatrix input checks', () => {
  it('refuses a negative noise level and a score that returns NaN', () => {
    const samples = Float64Array.of(0.1, -0.2, 0.3, 0.4);
    const good = analyticScore(1, (x, out) => {
      out[0] = -x[0];
    });
    expect(() => steinMatrix(good, samples, 1, { sigma: -0.1 })).toThrow(/sigma/);
    const nan = analyticScore(1, (x, out) => {
      out[0] = x[0] > 0.35 ? Number.NaN : -x[0];
    });
    expect(() => steinMatrix(nan, samples, 1)).toThrow(/score\(samples\): element 3 is NaN/);
  });
});

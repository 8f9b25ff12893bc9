import { Matrix, pathOf, Rng, simulate } from '@sdekit/sde';
import { ouSystem } from '@sdekit/systems';
import { describe, expect, it } from 'vitest';
import { fitLangevin, kgmm, LangevinModel, NetworkScore } from '../src';

// Mixture 0.4 N(-1, 0.4^2) + 0.6 N(1.2, 0.5^2); smoothing by N(0, sigma^2) adds sigma^2 to each variance,
// so the exact smoothed score is known in closed form.
const W = [0.4, 0.6];
const MU = [-1, 1.2];
const SD = [0.4, 0.5];

function smoothedScore(x: number, sigma: number): number {
  let p = 0;
  let dp = 0;
  for (let k = 0; k < 2; k++) {
    const v = SD[k] * SD[k] + sigma * sigma;
    const d = Math.exp(-((x - MU[k]) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
    p += W[k] * d;
    dp += (W[k] * d * -(x - MU[k])) / v;
  }
  return dp / p;
}

describe('kgmm', () => {
  it('matches the exact smoothed score of a 1-D Gaussian mixture', () => {
    const rng = Rng.fromSeed(31);
    const n = 30000;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = rng.uniform() < W[0] ? 0 : 1;
      data[i] = MU[k] + SD[k] * rng.normal();
    }
    const sigma = 0.2;
    const r = kgmm(data, 1, { sigma, seed: 4, steps: 1000, hiddenDims: [64, 64], lr: 1e-2 });
    expect(r.passes).toBeGreaterThan(1);
    expect(r.converged).toBe(true);
    const grid = new Float64Array(41).map((_, i) => -1.6 + (i * 3.6) / 40);
    const s = r.model.score(grid);
    let num = 0;
    let den = 0;
    for (let i = 0; i < grid.length; i++) {
      const exact = smoothedScore(grid[i], sigma);
      num += (s[i] - exact) ** 2;
      den += exact * exact;
    }
    // Relative RMS error of the fitted MLP on the grid: measured 0.057. Noise of the cell means after
    // ~30 passes of ~80 points per cell is ~0.02 in E[z], i.e. ~0.1 in the score (~5 % of its scale),
    // smoothed by the fit; 0.1 allows for that and the O(cell width^2) averaging bias.
    expect(Math.sqrt(num / den)).toBeLessThan(0.1);
    // The raw cell estimates -E[z | cell] / sigma at the centroids, before the fit (measured 0.067).
    let cn = 0;
    let cd = 0;
    for (let c = 0; c < r.counts.length; c++) {
      const x = r.centroids[c];
      if (r.counts[c] === 0 || x < -1.6 || x > 2) continue;
      const exact = smoothedScore(x, sigma);
      cn += (r.cellScores[c] - exact) ** 2;
      cd += exact * exact;
    }
    expect(Math.sqrt(cn / cd)).toBeLessThan(0.15);
    const again = NetworkScore.fromJSON(JSON.parse(JSON.stringify(r.model.toJSON())));
    expect(Array.from(again.score(grid))).toEqual(Array.from(s));
    r.model.dispose();
    again.dispose();
  });
});

describe('fitLangevin with KGMM', () => {
  it('recovers Phi = 1 of a 1-D OU process (p = N(0, 1)) through the KGMM score', () => {
    // dx = -x dt + sqrt(2) dW: Langevin form with Phi = 1, s(x) = -x.
    const ou = ouSystem(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]]));
    const series = pathOf(
      simulate(ou, { x0: new Float64Array(1), h: 1e-3, T: 1000, saveEvery: 10, burnIn: 1000, seed: 8 }),
      0,
    );
    const model = fitLangevin(series, {
      score: 'kgmm',
      sigma: 0.1,
      kgmm: { steps: 800, hiddenDims: [64, 64], lr: 1e-2 },
      seed: 9,
    });
    // Stein error of the KGMM score on perturbed samples; Phi from ~1000 relaxation times has ~4 %
    // statistical error, the KGMM score a few per cent more: 12 % is about two standard errors.
    expect(model.diagnostics.steinError).toBeLessThan(0.1);
    expect(Math.abs(model.phi.data[0] - 1)).toBeLessThan(0.12);
    const again = LangevinModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    const pts = Float64Array.of(-2, -0.5, 0.3, 1.7);
    expect(Array.from(again.score.score(pts))).toEqual(Array.from(model.score.score(pts)));
    model.dispose();
    again.dispose();
  });
});

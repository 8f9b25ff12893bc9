import { fitAveraged, m1Coefficients } from '@sdekit/averaging';
import { describe, expect, it } from 'vitest';
import { averagedPosterior } from '../src/index.js';
import { m1SlowPath } from './m1-path.js';

describe('averagedPosterior subspace: q starts at the linearised (Laplace) widths', () => {
  it('initial q = N(0, diag(1 / (lambda_i + 1 / s0^2))) in the Gauss-Newton eigenbasis, for s0 = 1 and 3', () => {
    // Test-size M1 (m = 2, T = 10, 60 iterations): only the basis and eigenvalues matter here.
    const slow = m1SlowPath({ m: 2, beta: 0.5, T: 10, seed: 3 });
    const model = fitAveraged({
      path: slow,
      coefficients: m1Coefficients({ m: 2, beta: 0.5 }),
      flow: { layers: 2, hidden: 8 },
      L: 16,
      steps: 60,
      batchSize: 256,
      seed: 2,
    });
    for (const s0 of [1, 3]) {
      // One Adam step at lr 1e-12 leaves q at its initial parameters; the exact reference is the
      // Laplace width of each retained direction, computed from the returned eigenvalues.
      const post = averagedPosterior(model, slow, {
        subspace: {},
        prior: { std: s0 },
        samples: 2,
        steps: 1,
        adam: { lr: 1e-12 },
        batchSize: 128,
        seed: 4,
      });
      const r = post.posterior.dim;
      const lambda = post.eigenvalues as Float64Array;
      const n = 20000;
      const draws = post.posterior.sample(n, 7);
      for (let j = 0; j < r; j++) {
        let mean = 0;
        for (let i = 0; i < n; i++) mean += draws[i * r + j] / n;
        let v = 0;
        for (let i = 0; i < n; i++) v += (draws[i * r + j] - mean) ** 2 / (n - 1);
        const laplace = 1 / Math.sqrt(lambda[j] + 1 / (s0 * s0));
        // 20000 Gaussian draws: the sample sd has relative error 1 / sqrt(2 n) = 0.5 %, the mean
        // error sd / sqrt(n) = 0.7 % of sd; 3 % and 4 % are ~6 standard errors.
        expect(Math.abs(Math.sqrt(v) / laplace - 1)).toBeLessThan(0.03);
        expect(Math.abs(mean)).toBeLessThan(0.04 * laplace);
      }
      // The widths differ across directions (otherwise the check could not tell them apart).
      expect(1 / Math.sqrt(lambda[0] + 1 / (s0 * s0))).toBeLessThan(0.8 * s0);
    }
    // Several paths: an array of one path is the path itself (same subspace, same q); two halves
    // (one transition fewer, none across the cut) give a subspace of the same kind.
    const options = { subspace: {}, samples: 2, steps: 1, adam: { lr: 1e-12 }, batchSize: 128, seed: 4 };
    const single = averagedPosterior(model, slow, options);
    const asArray = averagedPosterior(model, [slow], options);
    expect(Array.from(asArray.eigenvalues as Float64Array)).toEqual(
      Array.from(single.eigenvalues as Float64Array),
    );
    expect(Array.from(asArray.posterior.sample(5, 1))).toEqual(Array.from(single.posterior.sample(5, 1)));
    const half = Math.floor(slow.length / 2);
    const part = (from: number, to: number) => ({
      ...slow,
      data: slow.data.slice(from, to),
      length: to - from,
    });
    const halves = averagedPosterior(model, [part(0, half), part(half, slow.length)], options);
    const l0 = (halves.eigenvalues as Float64Array)[0];
    expect(l0 / (single.eigenvalues as Float64Array)[0]).toBeGreaterThan(0.5);
    expect(l0 / (single.eigenvalues as Float64Array)[0]).toBeLessThan(2);
  });
});

import { Rng } from '@sdekit/sde';
import { afterAll, describe, expect, it } from 'vitest';
import { elboConvergence, fitPosterior, MIN_CONVERGENCE_STEPS } from '../src/index.js';
import { conjugateLogLikelihood, conjugateModel } from './conjugate.js';

describe('elboConvergence', () => {
  it('passes a flat noisy trace, fails a trend of 1 SE per quarter times 6, and a short trace', () => {
    const n = 400;
    // Flat: iid N(-50, 2^2). drift / SE ~ N(0, 1), so |z| > 3 has probability 0.27 %; 20 seeds
    // pass together with probability 0.95 (seeded, so fixed).
    let passed = 0;
    for (let seed = 0; seed < 20; seed++) {
      const rng = Rng.fromSeed(seed, 4);
      const flat = Float64Array.from({ length: n }, () => -50 + 2 * rng.normal());
      if (elboConvergence(flat).converged) passed++;
    }
    expect(passed).toBeGreaterThanOrEqual(19);
    // A rise over the last quarter of 6 standard errors of the window difference (SE = 2 sqrt(2 / 40)).
    const se = 2 * Math.sqrt(2 / 40);
    const rng = Rng.fromSeed(1, 4);
    const rising = Float64Array.from(
      { length: n },
      (_, i) => -50 + (6 * se * i) / (0.25 * n) + 2 * rng.normal(),
    );
    const test = elboConvergence(rising);
    expect(test.converged).toBe(false);
    expect(test.reason).toMatch(/still moves over the last quarter/);
    expect(test.drift / test.stdError).toBeGreaterThan(3);
    expect(elboConvergence(new Float64Array(MIN_CONVERGENCE_STEPS - 1)).reason).toMatch(/too few/);
    expect(elboConvergence(new Float64Array(n).fill(Number.NaN)).reason).toMatch(/finite/);
  });
});

describe('fitPosterior untilConverged', () => {
  const model = conjugateModel(40, 2, 5);
  const ll = conjugateLogLikelihood(model);
  afterAll(() => ll.dispose());
  const base = { dim: 2, logLikelihoodBatch: ll.batch, flow: { rank: 2, layers: 0 }, samples: 8, seed: 3 };

  it('stops when the test holds, before the cap, with the exact posterior mean', () => {
    const post = fitPosterior({ ...base, steps: 4000, untilConverged: {} });
    const n = post.elboHistory.length;
    expect(n).toBeLessThan(4000);
    expect(n).toBeGreaterThanOrEqual(200);
    expect(elboConvergence(post.elboHistory).converged).toBe(true);
    expect(post.warnings.filter((w) => /convergence test/.test(w))).toEqual([]);
    const draws = post.sample(20000, 1);
    for (let i = 0; i < 2; i++) {
      let m = 0;
      for (let s = 0; s < 20000; s++) m += draws[s * 2 + i] / 20000;
      // MC error of the mean of 20000 draws: 0.007 posterior sd; 0.1 sd leaves room for the optimiser's
      // noise at a learning rate that has not decayed yet.
      expect(Math.abs(m - model.postMean[i]) / Math.sqrt(model.postCov.data[i * 3])).toBeLessThan(0.1);
    }
  });

  it('warns when the cap comes first', () => {
    const post = fitPosterior({ ...base, steps: 30, untilConverged: { minSteps: 20, tolerance: 1e-6 } });
    expect(post.elboHistory.length).toBe(30);
    expect(post.warnings.join(' ')).toMatch(/did not hold within the cap of 30 steps/);
  });
});

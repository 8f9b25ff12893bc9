import { warmupCosine } from '@sdekit/nn';
import { covariance, mean, Rng } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { realNvp } from '../src/index.js';
import { meanAndSd } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);

describe('fitting a correlated 8-D Gaussian (RealNVP)', () => {
  it('recovers its covariance and its entropy', () => {
    const d = 8;
    // Sigma = L L^T with L lower triangular: unit-ish diagonal, strong correlations below it
    const rng = Rng.fromSeed(4);
    const l = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      l[i * d + i] = 0.5 + rng.uniform();
      for (let j = 0; j < i; j++) l[i * d + j] = 0.8 * (2 * rng.uniform() - 1);
    }
    const sample = (n: number, seed: number) => {
      const r = Rng.fromSeed(seed);
      const e = new Float64Array(d);
      const out = new Float64Array(n * d);
      for (let k = 0; k < n; k++) {
        r.fillNormal(e);
        for (let i = 0; i < d; i++) {
          let s = 2 - 0.5 * i; // non-zero mean
          for (let j = 0; j <= i; j++) s += l[i * d + j] * e[j];
          out[k * d + i] = s;
        }
      }
      return out;
    };
    const sigma = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) sigma[i * d + j] += l[i * d + k] * l[j * d + k];
    let logDetL = 0;
    for (let i = 0; i < d; i++) logDetL += Math.log(l[i * d + i]);
    const entropy = 0.5 * d * (1 + LOG_2PI) + logDetL;

    const flow = realNvp({ dim: d, layers: 4, hidden: 32, mixing: 'orthogonal', seed: 2 });
    flow.fit(sample(10000, 5), {
      seed: 3,
      steps: 250,
      batchSize: 512,
      lr: warmupCosine({ peak: 5e-3, warmupSteps: 20, totalSteps: 250, floor: 1e-4 }),
      evaluateEvery: 50,
      patience: 4,
    });
    const n = 20000;
    const x = flow.sample(n, 6);
    const mu = mean(x, d);
    const cov = covariance(x, d).data;
    let err = 0;
    let norm = 0;
    for (let i = 0; i < d * d; i++) {
      err += (cov[i] - sigma[i]) ** 2;
      norm += sigma[i] ** 2;
    }
    const relErr = Math.sqrt(err / norm);
    // Relative Frobenius error of a sample covariance of n Gaussian points is about
    // sqrt((tr(S)^2 + |S|_F^2) / n) / |S|_F: 0.03 for the 1e4 training points (measured; it bounds
    // what maximum likelihood can recover) and 0.02 for the 2e4 flow samples. 0.08 leaves about 0.04
    // for the fit itself (observed total 0.031).
    const test = sample(20000, 7);
    const lqt = flow.logProb(test);
    const nll = -meanAndSd(lqt).mean;
    // exact log p(x) = log N(L^{-1}(x - mu)) - log det L, by forward substitution
    const lp = Array.from({ length: test.length / d }, (_, k) => {
      const z = new Float64Array(d);
      let q = 0;
      for (let i = 0; i < d; i++) {
        let r = test[k * d + i] - (2 - 0.5 * i);
        for (let j = 0; j < i; j++) r -= l[i * d + j] * z[j];
        z[i] = r / l[i * d + i];
        q += z[i] ** 2;
      }
      return -0.5 * q - 0.5 * d * LOG_2PI - logDetL;
    });
    const kl = meanAndSd(lp.map((v, k) => v - lqt[k]));
    expect(relErr).toBeLessThan(0.08);
    // Held-out NLL of 2e4 points: SE = sd(log p) / sqrt(n) = sqrt(d / 2) / 141 = 0.014 (4 sigma = 0.056)
    expect(nll - entropy).toBeLessThan(0.05 + 0.056);
    // paired KL(p || q) estimate on the same points (sd 0.2, SE 0.0015): small and not negative
    expect(kl.mean).toBeLessThan(0.05);
    expect(kl.mean).toBeGreaterThan(-4 * (kl.sd / Math.sqrt(lp.length)));
    // means: SE sqrt(S_ii / n) <= 0.02 from the training data and the samples together
    for (let i = 0; i < d; i++) expect(Math.abs(mu[i] - (2 - 0.5 * i))).toBeLessThan(0.1);
    flow.dispose();
  });
});

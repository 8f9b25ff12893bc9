import { Rng } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { realNvp } from '../src/index.js';
import { meanAndSd } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);

describe('fitting a conditional flow', () => {
  it('learns x | c ~ N(sin(2c) + c, (0.3 + 0.2 c^2)^2) from (x, c) pairs', () => {
    const mu = (c: number) => Math.sin(2 * c) + c;
    const sd = (c: number) => 0.3 + 0.2 * c * c;
    const sample = (n: number, seed: number) => {
      const rng = Rng.fromSeed(seed);
      const x = new Float64Array(n);
      const c = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        c[i] = 2 * rng.uniform() - 1;
        x[i] = mu(c[i]) + sd(c[i]) * rng.normal();
      }
      return { x, c };
    };
    const train = sample(8000, 1);
    // dim 1: the couplings have no identity coordinates, so each is an affine map of x whose shift
    // and log-scale are networks of the context alone: the model class contains the truth
    const flow = realNvp({ dim: 1, contextDim: 1, layers: 2, hidden: 32, seed: 2 });
    flow.fit(train.x, { seed: 3, steps: 300, batchSize: 256, lr: 5e-3, evaluateEvery: 50, context: train.c });
    const test = sample(10000, 4);
    const lq = flow.logProb(test.x, test.c);
    const lp = Array.from(
      test.x,
      (x, i) => -0.5 * ((x - mu(test.c[i])) / sd(test.c[i])) ** 2 - 0.5 * LOG_2PI - Math.log(sd(test.c[i])),
    );
    // paired KL(p || q) estimate over 1e4 test points: sd about 0.2, SE 0.002
    const kl = meanAndSd(lp.map((v, i) => v - lq[i]));
    expect(kl.mean).toBeLessThan(0.03);
    expect(kl.mean).toBeGreaterThan(-4 * (kl.sd / Math.sqrt(lp.length)));
    // conditional samples at a fixed context have the right mean and spread (SE 0.03 / 0.02 at n = 400)
    const cRows = new Float64Array(400).fill(0.8);
    const xs = flow.sample(400, 5, cRows);
    const m = meanAndSd(xs);
    expect(Math.abs(m.mean - mu(0.8))).toBeLessThan(0.1);
    expect(Math.abs(m.sd - sd(0.8))).toBeLessThan(0.08);
    flow.dispose();
  });
});

/**
 * groupJackknife and withoutPaths (the standard error of a statistic of paired path bundles), and the
 * shared-noise property that common random numbers rely on: two 1-D systems simulated with the same
 * seed, starts and step see the same Brownian increments, whatever their noise layout.
 */
import { describe, expect, it } from 'vitest';
import {
  groupJackknife,
  InvalidArgumentError,
  type PathBundle,
  Rng,
  type SdeSystem,
  simulate,
  withoutPaths,
} from '../src/index.js';

/** Mean of x[from, to). */
function meanOf(x: Float64Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i];
  return s / (to - from);
}

/** Mean of x without the samples [from, to). */
function meanWithout(x: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) if (i < from || i >= to) s += x[i];
  return s / (x.length - (to - from));
}

describe('groupJackknife', () => {
  it('gives sd(group means) / sqrt(G) for the mean of G equal groups, exactly', () => {
    const G = 8;
    const m = 25;
    const x = Rng.fromSeed(3).fillNormal(new Float64Array(G * m));
    const { leaveOut, se } = groupJackknife(G, (g) => meanWithout(x, g * m, (g + 1) * m));
    expect(leaveOut.length).toBe(G);
    const groupMeans = Float64Array.from({ length: G }, (_, g) => meanOf(x, g * m, (g + 1) * m));
    const mu = meanOf(groupMeans);
    let ss = 0;
    for (const v of groupMeans) ss += (v - mu) ** 2;
    expect(se).toBeCloseTo(Math.sqrt(ss / (G - 1) / G), 14);
  });

  it('is unbiased for the variance of a mean: E[se^2] = 1 / N for N standard normals', () => {
    // se^2 of the mean is the sample variance of the group means over G, so E[se^2] = Var(mean)
    // = 1 / N exactly; R replications give its mean with the standard error sd(se^2) / sqrt(R).
    const G = 10;
    const m = 20;
    const N = G * m;
    const R = 400;
    const rng = Rng.fromSeed(11);
    const x = new Float64Array(N);
    const v = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      rng.fillNormal(x);
      v[r] = groupJackknife(G, (g) => meanWithout(x, g * m, (g + 1) * m)).se ** 2;
    }
    const mv = meanOf(v);
    let ss = 0;
    for (const a of v) ss += (a - mv) ** 2;
    const seOfMean = Math.sqrt(ss / (R - 1) / R);
    expect(Math.abs(mv - 1 / N)).toBeLessThan(4 * seOfMean);
  });

  it('estimates the sampling spread of a nonlinear statistic: the variance of N normals', () => {
    // theta = (1/N) sum (x - xbar)^2 of N standard normals has Var(theta) = 2 (N - 1) / N^2 exactly.
    // The jackknife variance is unbiased to O(1/N) relative here; R replications give its mean to
    // the standard error sd / sqrt(R) (about 4 % of the value), far above that bias at N = 400.
    const G = 20;
    const m = 20;
    const N = G * m;
    const R = 300;
    const rng = Rng.fromSeed(12);
    const x = new Float64Array(N);
    const varianceWithout = (from: number, to: number) => {
      const mu = meanWithout(x, from, to);
      let s = 0;
      for (let i = 0; i < N; i++) if (i < from || i >= to) s += (x[i] - mu) ** 2;
      return s / (N - (to - from));
    };
    const v = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      rng.fillNormal(x);
      v[r] = groupJackknife(G, (g) => varianceWithout(g * m, (g + 1) * m)).se ** 2;
    }
    const mv = meanOf(v);
    let ss = 0;
    for (const a of v) ss += (a - mv) ** 2;
    const seOfMean = Math.sqrt(ss / (R - 1) / R);
    expect(Math.abs(mv - (2 * (N - 1)) / N ** 2)).toBeLessThan(4 * seOfMean);
  });

  it('needs at least two groups', () => {
    expect(() => groupJackknife(1, () => 0)).toThrow(InvalidArgumentError);
  });
});

describe('withoutPaths', () => {
  const bundle: PathBundle = {
    data: Float64Array.from({ length: 5 * 3 * 2 }, (_, i) => i),
    dim: 2,
    length: 3,
    paths: 5,
    dt: 0.1,
    t0: 1,
  };

  it('drops the paths [from, to) and keeps the others in order', () => {
    const rest = withoutPaths(bundle, 1, 3);
    expect(rest.paths).toBe(3);
    expect([rest.dim, rest.length, rest.dt, rest.t0]).toEqual([2, 3, 0.1, 1]);
    const size = 6;
    const expected = [0, 3, 4].flatMap((p) => Array.from({ length: size }, (_, i) => p * size + i));
    expect(Array.from(rest.data)).toEqual(expected);
  });

  it('refuses an empty, out-of-range or all-paths range', () => {
    expect(() => withoutPaths(bundle, 2, 2)).toThrow(InvalidArgumentError);
    expect(() => withoutPaths(bundle, 4, 6)).toThrow(InvalidArgumentError);
    expect(() => withoutPaths(bundle, 0, 5)).toThrow(InvalidArgumentError);
  });
});

describe('common random numbers', () => {
  it('drives a scalar-noise and a general-noise 1-D system with the same increments', () => {
    // Pure noise x = x0 + g W(t): with the same seed, starts and step, the two layouts draw one
    // normal per path and step from the same streams, so the paths are g2 / g1 times each other.
    const pureNoise = (noise: 'scalar' | 'general', g: number): SdeSystem => ({
      dim: 1,
      noiseDim: 1,
      noise,
      additive: true,
      drift: (_t, _x, out) => {
        out[0] = 0;
      },
      diffusion: (_t, _x, out) => {
        out[0] = g;
      },
    });
    const opts = {
      x0: new Float64Array(300),
      paths: 300,
      h: 0.01,
      steps: 200,
      saveEvery: 10,
      burnIn: 50,
      seed: 5,
    };
    const a = simulate(pureNoise('scalar', 1), opts);
    const b = simulate(pureNoise('general', 2.5), opts);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(b.data[i] - 2.5 * a.data[i]));
    expect(worst).toBeLessThan(1e-12);
    // Another seed gives other increments: the agreement is not that of any two paths.
    const c = simulate(pureNoise('general', 2.5), { ...opts, seed: 6 });
    expect(Math.abs(c.data[c.data.length - 1] - b.data[b.data.length - 1])).toBeGreaterThan(0);
  });
});

import {
  BlowUpError,
  cholesky,
  choleskySolve,
  DimensionError,
  InvalidArgumentError,
  integratedAutocorrelationTime,
  Matrix,
  type PathBundle,
  pathOf,
  Rng,
  type SlowFastSystem,
  simulate,
  slowFastSde,
  sra1,
  stackState,
  wholeMultiple,
} from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { ksCritical001, ksStatistic } from '../../sde/test/helpers.js';
import {
  FOUR_WELL,
  fourWellPhi,
  fourWellPotential,
  fourWellScore,
  fourWellStatistics,
  fourWellSystem,
  multiscaleDoubleWellAveragedDrift,
  multiscaleDoubleWellSlowDrift,
  multiscaleDoubleWellSystem,
  reducedTriadDiffusion,
  reducedTriadDrift,
  reducedTriadScore,
  reducedTriadStationaryDensity,
  reducedTriadStatistics,
  reducedTriadSystem,
  sampleMultiscaleDoubleWellFast,
  sampleTaggedParticleFast,
  TAGGED_PARTICLE,
  taggedParticleAveragedDrift,
  taggedParticleFastPrecision,
  taggedParticleSlowDrift,
  taggedParticleSystem,
} from '../src/index.js';

/**
 * Time average of g over all paths and its standard error sqrt(var(g) tau / N), with tau the
 * integrated autocorrelation time of g (Sokal window; a property of the process, so estimated on
 * the first TAU_PATHS paths and averaged), N all samples.
 */
const TAU_PATHS = 6;

function timeAverage(b: PathBundle, j: number, g: (x: number) => number): { value: number; se: number } {
  const n = b.length;
  const series = new Float64Array(n);
  let sum = 0;
  let sum2 = 0;
  let tau = 0;
  for (let p = 0; p < b.paths; p++) {
    for (let k = 0; k < n; k++) {
      const v = g(b.data[(p * n + k) * b.dim + j]);
      series[k] = v;
      sum += v;
      sum2 += v * v;
    }
    if (p < TAU_PATHS) tau += integratedAutocorrelationTime(series).tau / Math.min(TAU_PATHS, b.paths);
  }
  const total = n * b.paths;
  const value = sum / total;
  const variance = sum2 / total - value * value;
  return { value, se: Math.sqrt((variance * tau) / total) };
}

/** Checks mean, std and P(x < 0) of coordinate j against exact values within 4.5 standard errors. */
function checkStationary(
  b: PathBundle,
  j: number,
  exact: { mean: number; std: number; probNegative: number },
): void {
  const m = timeAverage(b, j, (x) => x);
  expect(Math.abs(m.value - exact.mean)).toBeLessThan(4.5 * m.se);
  // var = E[(x - mu)^2] with the exact mean; std error of std = se(var) / (2 std).
  const v = timeAverage(b, j, (x) => (x - exact.mean) ** 2);
  expect(Math.abs(Math.sqrt(v.value) - exact.std)).toBeLessThan((4.5 * v.se) / (2 * exact.std));
  const p = timeAverage(b, j, (x) => (x < 0 ? 1 : 0));
  expect(Math.abs(p.value - exact.probNegative)).toBeLessThan(4.5 * p.se);
}

describe('T1 (multiplicative noise)', () => {
  it('exact statistics match docs/benchmarks.md and the density is consistent with the score', () => {
    const s = reducedTriadStatistics();
    expect(s.mean).toBeCloseTo(0.0217, 6);
    expect(s.std).toBeCloseTo(0.085181, 6);
    expect(Math.abs(s.skewness - 1.415)).toBeLessThan(0.002);
    // docs/benchmarks.md quotes 7.23; quadrature of the exact density with the stated coefficients gives
    // 7.2601 (the other three statistics agree to all quoted digits).
    expect(Math.abs(s.kurtosis - 7.23)).toBeLessThan(0.05);
    // Integral of p is 1, E[s(x) x] = -1 (Stein), and (log p)' = s.
    let z = 0;
    let stein = 0;
    const dx = 1e-4;
    for (let x = -1; x < 2; x += dx) {
      const p = reducedTriadStationaryDensity(x);
      z += p * dx;
      stein += reducedTriadScore(x) * x * p * dx;
    }
    expect(z).toBeCloseTo(1, 6);
    expect(stein).toBeCloseTo(-1, 5);
    for (const x of [-0.2, 0.01, 0.3, 1.2]) {
      const d =
        (Math.log(reducedTriadStationaryDensity(x + 1e-5)) -
          Math.log(reducedTriadStationaryDensity(x - 1e-5))) /
        2e-5;
      expect(d).toBeCloseTo(reducedTriadScore(x), 5);
    }
    // Zero-flux condition f p - (1/2) (g^2 p)' = 0 checked by finite differences at a few points.
    for (const x of [-0.1, 0.05, 0.4]) {
      const gp = (u: number) => reducedTriadDiffusion(u) ** 2 * reducedTriadStationaryDensity(u);
      const flux =
        reducedTriadDrift(x) * reducedTriadStationaryDensity(x) -
        (0.5 * (gp(x + 1e-5) - gp(x - 1e-5))) / 2e-5;
      expect(Math.abs(flux)).toBeLessThan(1e-5 * reducedTriadStationaryDensity(x));
    }
    expect(Array.from(reducedTriadScore(Float64Array.of(0.1)))).toEqual([reducedTriadScore(0.1)]);
  });

  it('long-run simulation (Euler-Maruyama, h = 1e-3) reproduces mean, std and P(x < 0)', () => {
    // 24 paths x 500 time units; tau_int ~ 1.1 time units, so ~1e4 effective samples.
    const b = simulate(reducedTriadSystem(), {
      x0: Float64Array.of(0.02),
      paths: 24,
      h: 1e-3,
      T: 500,
      saveEvery: 10,
      burnIn: 5000,
      seed: 21,
    });
    checkStationary(b, 0, reducedTriadStatistics());
  });
});

describe('T2 (four-well with rotation)', () => {
  it('exact statistics and z-scored Phi match docs/benchmarks.md; score is -grad U', () => {
    const s = fourWellStatistics();
    expect(s.x1.mean).toBeCloseTo(-0.46697, 5);
    expect(s.x1.std).toBeCloseTo(0.82411, 5);
    expect(s.x1.probNegative).toBeCloseTo(0.72946, 5);
    expect(s.x2.mean).toBeCloseTo(-0.35842, 5);
    expect(s.x2.std).toBeCloseTo(1.06052, 5);
    expect(s.x2.probNegative).toBeCloseTo(0.65182, 5);
    const z = s.phiZScored.toArray();
    expect(z[0][0]).toBeCloseTo(1.4724, 4);
    expect(z[0][1]).toBeCloseTo(-0.9153, 4);
    expect(z[1][0]).toBeCloseTo(0.9153, 4);
    expect(z[1][1]).toBeCloseTo(0.8891, 4);
    const pt = Float64Array.of(0.3, -0.7);
    const sc = fourWellScore(pt);
    const e = 1e-6;
    const u = (a: number, b: number) => fourWellPotential(Float64Array.of(a, b))[0];
    expect(sc[0]).toBeCloseTo(-(u(0.3 + e, -0.7) - u(0.3 - e, -0.7)) / (2 * e), 6);
    expect(sc[1]).toBeCloseTo(-(u(0.3, -0.7 + e) - u(0.3, -0.7 - e)) / (2 * e), 6);
    // drift = Phi_true s
    const f = new Float64Array(2);
    fourWellSystem().drift(0, pt, f);
    const phi = fourWellPhi();
    expect(f[0]).toBeCloseTo(phi.get(0, 0) * sc[0] + phi.get(0, 1) * sc[1], 12);
    expect(f[1]).toBeCloseTo(phi.get(1, 0) * sc[0] + phi.get(1, 1) * sc[1], 12);
    expect(FOUR_WELL.C).toBe(0.8);
    expect(() => fourWellScore(Float64Array.of(1, 2, 3))).toThrow(DimensionError);
  });

  it('long-run simulation (SRA1) reproduces both marginals: mean, std and P(x < 0)', () => {
    // 24 paths x 800 time units at h = 5e-3 (SRA1: weak order 2, bias negligible);
    // tau_int ~ 1.5 (x1) and ~3.6 (x2) time units: ~5e3 effective samples for x2.
    const b = simulate(fourWellSystem(), {
      x0: Float64Array.of(-0.5, -0.4),
      paths: 24,
      h: 5e-3,
      T: 800,
      saveEvery: 2,
      burnIn: 2000,
      seed: 22,
      solver: sra1,
    });
    const s = fourWellStatistics();
    checkStationary(b, 0, s.x1);
    checkStationary(b, 1, s.x2);
  });
});

/** Unnormalised pi_0 of M1 per coordinate. */
const m1Weight = (y: number) => Math.exp(-0.5 * y * y - 0.25 * y ** 4);

/** Simpson quadrature of f against pi_0 of M1 on [-6, 6]. */
function m1Expect(f: (y: number) => number): number {
  const cells = 4000;
  const h = 12 / cells;
  let z = 0;
  let s = 0;
  for (let i = 0; i <= cells; i++) {
    const y = -6 + i * h;
    const w = (i === 0 || i === cells ? 1 : i % 2 ? 4 : 2) * m1Weight(y);
    z += w;
    s += w * f(y);
  }
  return s / z;
}

describe('M1 (multiscale double-well)', () => {
  it('sampleMultiscaleDoubleWellFast draws exactly from pi_0 ~ exp(-y^2/2 - y^4/4) (moments and KS)', () => {
    const y = sampleMultiscaleDoubleWellFast(Rng.fromSeed(31), 50_000, 2);
    const e2 = m1Expect((v) => v * v);
    const e4 = m1Expect((v) => v ** 4);
    let s2 = 0;
    for (const v of y) s2 += v * v;
    const n = y.length;
    expect(Math.abs(s2 / n - e2)).toBeLessThan(5 * Math.sqrt((e4 - e2 * e2) / n));
    // CDF by cumulative trapezoid on a fine grid (error ~1e-9), KS at level 0.001.
    const cells = 12000;
    const h = 12 / cells;
    const cdf = new Float64Array(cells + 1);
    for (let i = 1; i <= cells; i++)
      cdf[i] = cdf[i - 1] + 0.5 * h * (m1Weight(-6 + (i - 1) * h) + m1Weight(-6 + i * h));
    const total = cdf[cells];
    const F = (v: number) => {
      const u = (v + 6) / h;
      if (u <= 0) return 0;
      if (u >= cells) return 1;
      const i = Math.floor(u);
      return (cdf[i] + (u - i) * (cdf[i + 1] - cdf[i])) / total;
    };
    expect(ksStatistic(y, F)).toBeLessThan(ksCritical001(n));
    // Power: the standard normal (the proposal) is rejected.
    expect(
      ksStatistic(y, (v) => 0.5 * (1 + Math.tanh(v * 0.7978845608 * (1 + 0.044715 * v * v)))),
    ).toBeGreaterThan(ksCritical001(n));
  });

  it('multiscaleDoubleWellAveragedDrift agrees with quadrature of b against pi_0 (m = 2 and m = 4)', () => {
    const xs = Float64Array.of(-1.5, -0.7, 0, 0.4, 1.1, 1.5);
    for (const m of [2, 4]) {
      const mc = multiscaleDoubleWellAveragedDrift(xs, { m, samples: 200_000, seed: 32 });
      const h = m / 2;
      // K = E[1 / (1 + |y_{1..h}|^2 / h)]: 1-D quadrature for h = 1, 2-D product quadrature for h = 2.
      let K: number;
      if (h === 1) K = m1Expect((v) => 1 / (1 + v * v));
      else {
        const cells = 600;
        const dy = 12 / cells;
        let z = 0;
        let s = 0;
        for (let i = 0; i <= cells; i++) {
          for (let k = 0; k <= cells; k++) {
            const a = -6 + i * dy;
            const b = -6 + k * dy;
            const w = m1Weight(a) * m1Weight(b);
            z += w;
            s += w / (1 + (a * a + b * b) / 2);
          }
        }
        K = s / z;
      }
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i];
        const exact = (x - x ** 3) * K + 0.5 * m1Expect((v) => Math.tanh(x - v));
        // MC standard error <= ~1.1e-3 at 2e5 samples (see the function's doc); 4.5 sigma.
        expect(Math.abs(mc[i] - exact)).toBeLessThan(5e-3);
      }
    }
    expect(() => multiscaleDoubleWellAveragedDrift(xs, { m: 3, seed: 1 })).toThrow(InvalidArgumentError);
    expect(multiscaleDoubleWellSlowDrift(0.5, Float64Array.of(0, 0), 2)).toBeCloseTo(
      0.375 + 0.5 * Math.tanh(0.5),
      15,
    );
  });

  it('slowFastSde + simulate: slow quadratic variation sigma^2, fast marginal pi_0, spacing Delta', () => {
    const n = 100;
    const sde = slowFastSde(multiscaleDoubleWellSystem({ m: 2, n }));
    expect([sde.dim, sde.noiseDim, sde.noise, sde.slowCoordinates]).toEqual([3, 3, 'diagonal', [0]]);
    const y0 = sampleMultiscaleDoubleWellFast(Rng.fromSeed(33), 1, 2);
    const T = 50;
    const Delta = 0.01;
    const h = 0.02 / n;
    const saveEvery = wholeMultiple('Delta', Delta, h, 'h');
    let lastProgress = 0;
    const both = simulate(sde, {
      x0: stackState(Float64Array.of(0.8), y0),
      h,
      T,
      saveEvery,
      seed: 34,
      onProgress: (done, total) => {
        expect(total).toBe(T / h);
        lastProgress = done;
      },
    });
    expect(lastProgress).toBe(T / h);
    // observe: [0] saves the slow coordinate only, the same values.
    const slow = pathOf(
      simulate(sde, { x0: stackState(Float64Array.of(0.8), y0), h, T, saveEvery, seed: 34, observe: [0] }),
      0,
    );
    for (let k = 0; k < slow.length; k++) expect(slow.data[k]).toBe(both.data[k * 3]);
    expect(slow.length).toBe(T / Delta + 1);
    expect(slow.dt).toBeCloseTo(Delta, 15);
    // Quadratic variation: sum (dx)^2 / T -> sigma^2 = 0.25; relative sd sqrt(2 / K) ~ 2 % for
    // K = 5000 increments, plus the drift's share bbar^2 Delta ~ 1e-3; tolerance 10 %.
    let qv = 0;
    for (let k = 1; k < slow.length; k++) qv += (slow.data[k] - slow.data[k - 1]) ** 2;
    expect(Math.abs(qv / T / 0.25 - 1)).toBeLessThan(0.1);
    // Fast coordinates: E[y^2] under pi_0. Samples are Delta = 1/n apart (~ one relaxation time),
    // 1e4 values; Euler at n * h = 0.02 biases E[y^2] by ~1 %; tolerance 0.05.
    let s2 = 0;
    for (let k = 0; k < both.length; k++) s2 += both.data[k * 3 + 1] ** 2 + both.data[k * 3 + 2] ** 2;
    expect(Math.abs(s2 / (2 * both.length) - m1Expect((v) => v * v))).toBeLessThan(0.05);
  });

  it('slowFastSde stacks drift [b; n B] and the block-diagonal noise [sigma 0; 0 sqrt(n) alpha]', () => {
    // A general slow block (2 x 3) and a diagonal fast block: the stacked G is 'general', 4 x 5.
    const sys: SlowFastSystem = {
      slowDim: 2,
      fastDim: 2,
      n: 9,
      slowNoise: 'general',
      slowNoiseDim: 3,
      fastNoise: 'diagonal',
      fastNoiseDim: 2,
      slowDrift: (x, y, out) => {
        out[0] = x[0] * y[0];
        out[1] = x[1] + y[1];
      },
      slowDiffusion: (x, y, out) => {
        for (let i = 0; i < 6; i++) out[i] = i + 1 + x[0] * y[1];
      },
      fastDrift: (y, out) => {
        out[0] = -y[0];
        out[1] = -2 * y[1];
      },
      fastDiffusion: (y, out) => {
        out[0] = 1 + y[0] * y[0];
        out[1] = 2;
      },
    };
    const sde = slowFastSde(sys);
    expect([sde.dim, sde.noiseDim, sde.noise]).toEqual([4, 5, 'general']);
    const z = Float64Array.of(0.5, -1, 2, 3);
    const f = new Float64Array(4);
    sde.drift(0, z, f);
    expect(Array.from(f)).toEqual([0.5 * 2, -1 + 3, 9 * -2, 9 * -6]);
    const g = new Float64Array(20);
    sde.diffusion(0, z, g);
    const c = 0.5 * 3;
    expect(Array.from(g)).toEqual(
      [
        [1 + c, 2 + c, 3 + c, 0, 0],
        [4 + c, 5 + c, 6 + c, 0, 0],
        [0, 0, 0, 3 * 5, 0],
        [0, 0, 0, 0, 3 * 2],
      ].flat(),
    );
  });

  it('slowFastSde validates the system, simulate the stacked start, and blow-ups are typed', () => {
    const sde = slowFastSde(multiscaleDoubleWellSystem({ m: 2, n: 100 }));
    const base = { x0: stackState(Float64Array.of(0), Float64Array.of(0, 0)), h: 2e-4, T: 1, seed: 1 };
    expect(() => simulate(sde, { ...base, T: 1.00005 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sde, { ...base, x0: stackState(Float64Array.of(0), Float64Array.of(0)) })).toThrow(
      DimensionError,
    );
    expect(() => simulate(sde, { ...base, h: 0 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sde, { ...base, observe: [3] })).toThrow(/observe/);
    expect(() => multiscaleDoubleWellSystem({ m: 3, n: 100 })).toThrow(InvalidArgumentError);
    expect(() => slowFastSde({ ...multiscaleDoubleWellSystem({ m: 2, n: 100 }), fastNoiseDim: 3 })).toThrow(
      /fastNoiseDim/,
    );
    // n * h = 2 makes the cubic fast drift unstable: a typed BlowUpError, not NaN output.
    expect(() =>
      simulate(sde, { ...base, x0: stackState(Float64Array.of(0), Float64Array.of(3, 3)), h: 0.02, T: 2 }),
    ).toThrow(BlowUpError);
  });
});

describe('M2 (tagged particle)', () => {
  it('sampleTaggedParticleFast has mean c and covariance P^{-1}; fastDrift is -P (y - c)', () => {
    const N = 5;
    const d = 2;
    const count = 20_000;
    const y = sampleTaggedParticleFast(Rng.fromSeed(41), count, { d, N });
    const P = taggedParticleFastPrecision(N);
    const cov = choleskySolve(cholesky(P), Matrix.identity(N));
    for (let q = 0; q < d; q++) {
      for (let i = 0; i < N; i++) {
        let m = 0;
        for (let s = 0; s < count; s++) m += y[(s * N + i) * d + q];
        m /= count;
        expect(Math.abs(m - TAGGED_PARTICLE.c)).toBeLessThan(5 * Math.sqrt(cov.get(i, i) / count));
        for (let k = 0; k < N; k++) {
          let c = 0;
          for (let s = 0; s < count; s++)
            c += (y[(s * N + i) * d + q] - TAGGED_PARTICLE.c) * (y[(s * N + k) * d + q] - TAGGED_PARTICLE.c);
          c /= count;
          // sd of a covariance estimate: sqrt((C_ii C_kk + C_ik^2) / count); 5 sigma.
          expect(Math.abs(c - cov.get(i, k))).toBeLessThan(
            5 * Math.sqrt((cov.get(i, i) * cov.get(k, k) + cov.get(i, k) ** 2) / count),
          );
        }
      }
    }
    const sys = taggedParticleSystem({ d, N, n: 100 });
    const yy = Rng.fromSeed(42).fillNormal(new Float64Array(N * d));
    const out = new Float64Array(N * d);
    sys.fastDrift(yy, out);
    for (let q = 0; q < d; q++) {
      for (let i = 0; i < N; i++) {
        let v = 0;
        for (let k = 0; k < N; k++) v += P.get(i, k) * (yy[k * d + q] - TAGGED_PARTICLE.c);
        expect(out[i * d + q]).toBeCloseTo(-v, 12);
      }
    }
  });

  it('taggedParticleAveragedDrift (closed form) equals the Monte Carlo average of b over exact pi_0 samples', () => {
    for (const d of [1, 2]) {
      const N = 10;
      const count = 20_000;
      const y = sampleTaggedParticleFast(Rng.fromSeed(43 + d), count, { d, N });
      const xs = d === 1 ? Float64Array.of(-1.2, 0, 0.5, 1.3) : Float64Array.of(-1, 0.5, 0.2, 0.2, 1.1, -0.4);
      const exact = taggedParticleAveragedDrift(xs, { d, N });
      const out = new Float64Array(d);
      for (let i = 0; i < xs.length / d; i++) {
        const x = xs.subarray(i * d, (i + 1) * d);
        const acc = new Float64Array(d);
        for (let s = 0; s < count; s++) {
          taggedParticleSlowDrift(x, y.subarray(s * N * d, (s + 1) * N * d), out, d, N);
          for (let q = 0; q < d; q++) acc[q] += out[q] / count;
        }
        // The coupling term is <= a / l e^{-1/2} ~ 0.87 per particle; averaged over N * count
        // (weakly dependent) terms its sd is < 0.87 / sqrt(count) ~ 6e-3; tolerance 0.02.
        for (let q = 0; q < d; q++) expect(Math.abs(acc[q] - exact[i * d + q])).toBeLessThan(0.02);
      }
    }
    expect(() => taggedParticleAveragedDrift(Float64Array.of(1, 2, 3), { d: 2, N: 10 })).toThrow(
      DimensionError,
    );
    expect(() => taggedParticleSystem({ d: 1, N: 10 })).toThrow(InvalidArgumentError);
  });
});

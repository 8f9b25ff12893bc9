import { describe, expect, it } from 'vitest';
import {
  acf,
  acfCoordinates,
  acfError,
  column,
  covariance,
  DimensionError,
  driftMse,
  FormatError,
  hellinger,
  histogram,
  histogramGrid,
  InvalidArgumentError,
  integratedAutocorrelationTime,
  kde1d,
  klDivergence,
  laggedCovariance,
  Matrix,
  marginalKL,
  matmul,
  mean,
  moments,
  NonFiniteError,
  quantile,
  quantiles,
  Rng,
  solve,
  variance,
  ZScore,
} from '../src/index.js';
import { normalCdf } from './helpers.js';

/** AR(1) x_{t+1} = phi x_t + sqrt(1 - phi^2) e_t started in its stationary law N(0, 1). */
function ar1(n: number, phi: number, seed: number, dim = 1): Float64Array {
  const e = Rng.fromSeed(seed).fillNormal(new Float64Array(n * dim));
  const x = new Float64Array(n * dim);
  const s = Math.sqrt(1 - phi * phi);
  for (let j = 0; j < dim; j++) x[j] = e[j];
  for (let t = 1; t < n; t++)
    for (let j = 0; j < dim; j++) x[t * dim + j] = phi * x[(t - 1) * dim + j] + s * e[t * dim + j];
  return x;
}

describe('moments and covariance', () => {
  it('match exact values on small data and on uniform samples', () => {
    expect(Array.from(mean(Float64Array.of(1, 2, 3, 4), 2))).toEqual([2, 3]);
    expect(Array.from(variance(Float64Array.of(1, 2, 3)))).toEqual([1]);
    expect(covariance(Float64Array.of(0, 0, 1, 2, 2, 4), 2).toArray()).toEqual([
      [1, 2],
      [2, 4],
    ]);
    const n = 400_000;
    const u = Rng.fromSeed(3).fillUniform(new Float64Array(n));
    const m = moments(u);
    // U(0,1): mean 1/2, std 1/sqrt(12), skewness 0, kurtosis 9/5; 5-sigma bounds with the
    // asymptotic sds sqrt(var/n), sqrt((mu4 - s^4)/(4 s^2 n)), sqrt(6/n)-ish and sqrt(24/n)-ish
    // (the uniform's are smaller than the Gaussian ones used here).
    expect(Math.abs(m.mean[0] - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(m.std[0] - 1 / Math.sqrt(12))).toBeLessThan(
      (5 * Math.sqrt(1 / 80 - 1 / 144)) / (2 * Math.sqrt(1 / 12)) / Math.sqrt(n),
    );
    expect(Math.abs(m.skewness[0])).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m.kurtosis[0] - 1.8)).toBeLessThan(5 * Math.sqrt(24 / n));
    expect(() => moments(Float64Array.of(1, Number.NaN))).toThrow(NonFiniteError);
    expect(() => mean(Float64Array.of(1, 2, 3), 2)).toThrow(DimensionError);
    expect(() => variance(Float64Array.of(1))).toThrow(InvalidArgumentError);
  });
});

describe('ZScore', () => {
  it('maps scores (S^-1 s_y) and mobility matrices (S Phi_y S) exactly on a Gaussian OU model', () => {
    // Stationary OU dx = -Theta x dt + ..., covariance C: score s_x = -C^{-1}(x - m), drift
    // f = Phi_x s_x with Phi_x = Theta C. In y = S^{-1}(x - m): C_y = S^{-1} C S^{-1} and the drift
    // is S^{-1} f, so Phi_y = S^{-1} Phi_x S^{-1}; the ZScore maps must reproduce both.
    const m = Float64Array.of(1.5, -2);
    const std = Float64Array.of(2, 0.5);
    const C = Matrix.from([
      [4, 0.3],
      [0.3, 0.25],
    ]);
    const theta = Matrix.from([
      [1, -0.7],
      [0.7, 2],
    ]);
    const z = new ZScore(m, std);
    const phiX = matmul(theta, C);
    const Cy = new Matrix(
      2,
      2,
      C.data.map((v, k) => v / (std[k >> 1] * std[k & 1])),
    );
    const rng = Rng.fromSeed(4);
    const x = rng.fillNormal(new Float64Array(2 * 50), 0, 2);
    const y = z.apply(x);
    const sX = new Float64Array(x.length);
    const sY = new Float64Array(x.length);
    for (let i = 0; i < 50; i++) {
      const dx = Matrix.from([[x[2 * i] - m[0]], [x[2 * i + 1] - m[1]]]);
      const a = solve(C, dx);
      sX[2 * i] = -a.data[0];
      sX[2 * i + 1] = -a.data[1];
      const b = solve(Cy, Matrix.from([[y[2 * i]], [y[2 * i + 1]]]));
      sY[2 * i] = -b.data[0];
      sY[2 * i + 1] = -b.data[1];
    }
    const mapped = z.scoreToOriginal(sY);
    for (let i = 0; i < sX.length; i++) expect(mapped[i]).toBeCloseTo(sX[i], 12);
    const back = z.scoreToStandard(sX);
    for (let i = 0; i < sY.length; i++) expect(back[i]).toBeCloseTo(sY[i], 12);
    const phiY = z.phiToStandard(phiX);
    // The drift in y: Phi_y s_y(y) = S^{-1} Phi_x s_x(x).
    for (let i = 0; i < 50; i++) {
      for (let r = 0; r < 2; r++) {
        const fy = phiY.get(r, 0) * sY[2 * i] + phiY.get(r, 1) * sY[2 * i + 1];
        const fx = phiX.get(r, 0) * sX[2 * i] + phiX.get(r, 1) * sX[2 * i + 1];
        expect(fy).toBeCloseTo(fx / std[r], 11);
      }
    }
    const phiBack = z.phiToOriginal(phiY);
    for (let k = 0; k < 4; k++) expect(phiBack.data[k]).toBeCloseTo(phiX.data[k], 13);
    const xr = z.invert(y);
    for (let i = 0; i < x.length; i++) expect(xr[i]).toBeCloseTo(x[i], 13);
  });

  it('fits mean and std, round-trips through JSON, rejects constants and foreign formats', () => {
    const data = Rng.fromSeed(5).fillNormal(new Float64Array(2 * 1000), 3, 2);
    const z = ZScore.fit(data, 2);
    const y = z.apply(data);
    const my = moments(y, 2);
    for (let j = 0; j < 2; j++) {
      expect(my.mean[j]).toBeCloseTo(0, 12);
      expect(my.std[j]).toBeCloseTo(1, 12);
    }
    const copy = ZScore.fromJSON(JSON.parse(JSON.stringify(z)));
    expect(Array.from(copy.mean)).toEqual(Array.from(z.mean));
    expect(Array.from(copy.std)).toEqual(Array.from(z.std));
    expect(() => ZScore.fit(Float64Array.of(1, 2, 1, 3, 1, 4), 2)).toThrow(InvalidArgumentError);
    expect(() => ZScore.fromJSON({ format: 'other', version: 1 })).toThrow(FormatError);
    expect(() => ZScore.fromJSON({ format: 'sdekit.zscore', version: 2, mean: [0], std: [1] })).toThrow(
      FormatError,
    );
    expect(() => z.apply(Float64Array.of(1, 2, 3))).toThrow(DimensionError);
  });
});

describe('histograms, KDE and distances', () => {
  const gaussKL = (m1: number, s1: number, m2: number, s2: number) =>
    Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5;
  const gaussH = (m1: number, s1: number, m2: number, s2: number) =>
    Math.sqrt(
      1 -
        Math.sqrt((2 * s1 * s2) / (s1 * s1 + s2 * s2)) *
          Math.exp(-((m1 - m2) ** 2) / (4 * (s1 * s1 + s2 * s2))),
    );

  it('KL and Hellinger of two Gaussians: exact bin masses and sampled histograms vs closed forms', () => {
    const [m1, s1, m2, s2] = [0, 1, 0.5, 1.3];
    const klExact = gaussKL(m1, s1, m2, s2);
    const hExact = gaussH(m1, s1, m2, s2);
    // Exact bin masses on a fine grid: the discretisation error of KL is O(width^2) ~ 1e-4 here.
    const grid = histogramGrid([], { lo: -8, hi: 9, bins: 400 });
    const p = new Float64Array(grid.bins);
    const q = new Float64Array(grid.bins);
    for (let k = 0; k < grid.bins; k++) {
      const a = grid.lo + k * grid.width;
      const b = a + grid.width;
      p[k] = normalCdf((b - m1) / s1) - normalCdf((a - m1) / s1);
      q[k] = normalCdf((b - m2) / s2) - normalCdf((a - m2) / s2);
    }
    expect(Math.abs(klDivergence(p, q) - klExact)).toBeLessThan(1e-3);
    expect(Math.abs(hellinger(p, q) - hExact)).toBeLessThan(1e-3);
    // From samples: n = 2e5 per set, 60 bins; KL bias ~ bins / (2n) ~ 1.5e-4 and sd ~ 1e-3.
    const n = 200_000;
    const a = Rng.fromSeed(6).fillNormal(new Float64Array(n), m1, s1);
    const b = Rng.fromSeed(7).fillNormal(new Float64Array(n), m2, s2);
    const g2 = histogramGrid([a, b], { bins: 60 });
    const ha = histogram(a, g2);
    const hb = histogram(b, g2);
    expect(ha.outside + hb.outside).toBe(0);
    expect(ha.mass.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    // Coarser bins smooth both densities, which lowers KL by O(width^2): allow 0.01.
    expect(Math.abs(klDivergence(ha.mass, hb.mass) - klExact)).toBeLessThan(0.01);
    expect(Math.abs(hellinger(ha.mass, hb.mass) - hExact)).toBeLessThan(0.01);
    const mk = marginalKL(a, b, 1, { bins: 60 });
    expect(mk.kl[0]).toBeCloseTo(klDivergence(ha.mass, hb.mass), 12);
    // Same distribution: KL near 0 (only sampling noise).
    const c = Rng.fromSeed(8).fillNormal(new Float64Array(n), m1, s1);
    expect(marginalKL(a, c, 1, { bins: 60 }).mean).toBeLessThan(1e-3);
    expect(Math.abs(marginalKL(a, b, 1, { bins: 80, method: 'kde' }).kl[0] - klExact)).toBeLessThan(0.01);
  });

  it('klDivergence floors empty bins; hellinger is 1 for disjoint support; both validate input', () => {
    expect(klDivergence(Float64Array.of(0.5, 0.5), Float64Array.of(1, 0))).toBeCloseTo(
      0.5 * Math.log(0.5) + 0.5 * Math.log(0.5 / 1e-10),
      12,
    );
    expect(klDivergence(Float64Array.of(0.5, 0.5), Float64Array.of(0.9, 0.1))).toBeCloseTo(
      0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(5),
      14,
    );
    expect(hellinger(Float64Array.of(1, 0), Float64Array.of(0, 1))).toBeCloseTo(1, 15);
    expect(() => klDivergence(Float64Array.of(1), Float64Array.of(0.5, 0.5))).toThrow(DimensionError);
    expect(() => klDivergence(Float64Array.of(-1, 2), Float64Array.of(0.5, 0.5))).toThrow(
      InvalidArgumentError,
    );
    expect(() => hellinger(Float64Array.of(Number.NaN, 1), Float64Array.of(0.5, 0.5))).toThrow(
      InvalidArgumentError,
    );
    const h = histogram(Float64Array.of(-1, 0, 0.5, 1, 2), histogramGrid([], { lo: 0, hi: 1, bins: 2 }));
    expect(Array.from(h.counts)).toEqual([1, 2]);
    expect(h.outside).toBe(2);
    expect(() => histogramGrid(Float64Array.of(1, 1, 1))).toThrow(InvalidArgumentError);
  });

  it('quantiles follow type 7 and converge to the normal quantiles', () => {
    expect(quantile(Float64Array.of(1, 2, 3, 4), 0.5)).toBe(2.5);
    expect(quantile(Float64Array.of(1, 2, 3, 4), 0)).toBe(1);
    expect(quantile(Float64Array.of(1, 2, 3, 4), 1)).toBe(4);
    expect(quantile(Float64Array.of(10, 20, 30), 0.25)).toBe(15);
    const n = 200_000;
    const z = Rng.fromSeed(13).fillNormal(new Float64Array(n));
    const q = quantiles(z, [0.025, 0.5, 0.975]);
    // sd of a sample quantile: sqrt(p (1 - p) / n) / phi(z_p); 5 sigma.
    const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    expect(Math.abs(q[0] + 1.959964)).toBeLessThan((5 * Math.sqrt((0.025 * 0.975) / n)) / phi(1.959964));
    expect(Math.abs(q[1])).toBeLessThan((5 * Math.sqrt(0.25 / n)) / phi(0));
    expect(Math.abs(q[2] - 1.959964)).toBeLessThan((5 * Math.sqrt((0.025 * 0.975) / n)) / phi(1.959964));
    expect(() => quantile(new Float64Array(0), 0.5)).toThrow(InvalidArgumentError);
    expect(() => quantile(Float64Array.of(1), 1.5)).toThrow(InvalidArgumentError);
    expect(() => quantiles(Float64Array.of(1, Number.NaN), [0.5])).toThrow(NonFiniteError);
  });

  it('kde1d equals the exact smoothed density N(0, 1 + h^2) within its sampling error', () => {
    const n = 100_000;
    const x = Rng.fromSeed(9).fillNormal(new Float64Array(n));
    const h = 0.2;
    const pts = Float64Array.of(-2, -1, 0, 0.5, 1.5);
    const est = kde1d(x, pts, { bandwidth: h });
    const v = 1 + h * h;
    for (let k = 0; k < pts.length; k++) {
      const exact = Math.exp((-0.5 * pts[k] * pts[k]) / v) / Math.sqrt(2 * Math.PI * v);
      // Var of a KDE at x ~ p(x) / (n h 2 sqrt(pi)); 5 sigma.
      expect(Math.abs(est[k] - exact)).toBeLessThan(5 * Math.sqrt(exact / (n * h * 2 * Math.sqrt(Math.PI))));
    }
  });
});

describe('autocorrelation and lagged covariance', () => {
  it('ACF of an AR(1) matches phi^k = exp(-theta k dt); FFT and direct sums agree', () => {
    const n = 200_000;
    const theta = 1;
    const dt = 0.1;
    const phi = Math.exp(-theta * dt);
    const x = ar1(n, phi, 10, 2);
    const rho = acf(x, 2, 60); // (61 * 2e5 > 2^20): FFT
    // Bartlett: var(rho_k) <= (1 + phi^2) / ((1 - phi^2) n), halved by averaging 2 coordinates; 5 sigma.
    const tol = 5 * Math.sqrt((1 + phi * phi) / ((1 - phi * phi) * n * 2));
    for (let k = 0; k <= 60; k++) expect(Math.abs(rho[k] - Math.exp(-theta * k * dt))).toBeLessThan(tol);
    const direct = acfCoordinates(x, 2, 3); // (4 * 2e5 < 2^20): direct sums
    const viaFft = acfCoordinates(x, 2, 60);
    for (let j = 0; j < 2; j++)
      for (let k = 0; k <= 3; k++) expect(Math.abs(direct[j][k] - viaFft[j][k])).toBeLessThan(1e-12);
    expect(acfError(rho, rho)).toBe(0);
    const shifted = rho.map((v, k) => (k === 7 ? v + 0.03 : v));
    expect(acfError(rho, shifted)).toBeCloseTo(0.03, 12);
    expect(() => acfError(rho, rho.subarray(1))).toThrow(DimensionError);
    expect(() => acf(Float64Array.of(1, 1, 1), 1, 1)).toThrow(InvalidArgumentError);
    expect(() => acf(Float64Array.of(1, 2, 3), 1, 3)).toThrow(InvalidArgumentError);
    expect(() => acf(Float64Array.of(1, Number.NaN, 3), 1, 1)).toThrow(NonFiniteError);
  });

  it('a series beyond 2^21 samples sums its lag products by segments: equal to direct sums at every lag', () => {
    const n = (1 << 21) + 12_345; // segments of P - maxLag samples, the last one partial
    const x = ar1(n, 0.95, 12, 1);
    for (const maxLag of [40, 9000]) {
      const seg = acfCoordinates(x, 1, maxLag)[0];
      let mu = 0;
      for (let t = 0; t < n; t++) mu += x[t];
      mu /= n;
      const e = x.map((v) => v - mu);
      let c0 = 0;
      for (let t = 0; t < n; t++) c0 += e[t] * e[t];
      for (const k of [0, 1, 2, 17, maxLag - 1, maxLag]) {
        let s = 0;
        for (let t = 0; t + k < n; t++) s += e[t] * e[t + k];
        expect(Math.abs(seg[k] - s / c0)).toBeLessThan(1e-10);
      }
    }
  });

  it('integrated autocorrelation time of an AR(1) is (1 + phi) / (1 - phi)', () => {
    const phi = 0.9;
    const x = ar1(200_000, phi, 11);
    const { tau, effectiveSampleSize } = integratedAutocorrelationTime(x);
    // Relative sd of tau with window W ~ 5 tau: sqrt(2 (2W + 1) / n) ~ 4.4 %; allow 15 %.
    expect(Math.abs(tau / ((1 + phi) / (1 - phi)) - 1)).toBeLessThan(0.15);
    expect(effectiveSampleSize).toBeCloseTo(200_000 / tau, 8);
  });

  it('laggedCovariance of a vector AR(1) equals A^k C0', () => {
    // x_{t+1} = A x_t + e_t with A = [[0.8, 0.1], [-0.2, 0.7]], e ~ N(0, I): C(k) = A^k C0.
    const n = 200_000;
    const A = [0.8, 0.1, -0.2, 0.7];
    const e = Rng.fromSeed(12).fillNormal(new Float64Array(2 * n));
    const x = new Float64Array(2 * n);
    for (let t = 1; t < n; t++) {
      x[2 * t] = A[0] * x[2 * t - 2] + A[1] * x[2 * t - 1] + e[2 * t];
      x[2 * t + 1] = A[2] * x[2 * t - 2] + A[3] * x[2 * t - 1] + e[2 * t + 1];
    }
    const burn = x.subarray(2000); // forget the zero start
    const c0 = laggedCovariance(burn, 2, 0);
    // C0 = A C0 A^T + I: iterate to convergence.
    let exact = Matrix.identity(2);
    const Am = new Matrix(2, 2, Float64Array.from(A));
    const At = new Matrix(2, 2, Float64Array.of(A[0], A[2], A[1], A[3]));
    for (let i = 0; i < 200; i++) {
      const next = matmul(matmul(Am, exact), At);
      next.data[0] += 1;
      next.data[3] += 1;
      exact = next;
    }
    const c3 = laggedCovariance(burn, 2, 3);
    const exact3 = matmul(matmul(matmul(Am, Am), Am), exact);
    // Entries ~ 3; the effective sample size ~ n / 10, so the sd ~ 3 * sqrt(10 / n) ~ 0.02; tolerance 0.1.
    for (let k = 0; k < 4; k++) {
      expect(Math.abs(c0.data[k] - exact.data[k])).toBeLessThan(0.1);
      expect(Math.abs(c3.data[k] - exact3.data[k])).toBeLessThan(0.1);
    }
    expect(Math.abs(c3.get(0, 1) - c3.get(1, 0))).toBeGreaterThan(0.3); // C(tau) is not symmetric here
    const col = column(burn, 2, 1);
    expect(col[0]).toBe(burn[1]);
    expect(() => laggedCovariance(burn, 2, n)).toThrow(InvalidArgumentError);
  });

  it('driftMse is the mean squared Euclidean error per point', () => {
    expect(driftMse(Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 5))).toBeCloseTo(4 / 3, 15);
    expect(driftMse(Float64Array.of(1, 2, 3, 4), Float64Array.of(0, 0, 3, 4), 2)).toBeCloseTo(2.5, 15);
    expect(() => driftMse(Float64Array.of(1), Float64Array.of(1, 2))).toThrow(DimensionError);
    expect(() => driftMse(Float64Array.of(Number.NaN), Float64Array.of(1))).toThrow(NonFiniteError);
  });
});

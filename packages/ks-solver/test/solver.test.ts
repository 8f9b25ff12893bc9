import { BlowUpError, DimensionError, InvalidArgumentError, NonFiniteError } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { spatialMean } from '../src/diagnostics.js';
import { randomSmoothField } from '../src/simulate.js';
import { createKsSolver } from '../src/solver.js';

/** u0(x) = cos(2 pi x / L) (1 + sin(2 pi x / L)), the smooth initial condition of Kassam & Trefethen. */
function ktInitial(N: number): Float64Array {
  const u = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    const a = (2 * Math.PI * j) / N;
    u[j] = Math.cos(a) * (1 + Math.sin(a));
  }
  return u;
}

describe('createKsSolver / KsSolver', () => {
  it('single Fourier modes evolve exactly as exp((k^2 - k^4) t) in the linear regime', () => {
    // u0 = A (cos(k1 x) + cos(k3 x) + sin(k5 x)) with A = 1e-12: odd modes only. The quadratic term
    // u u_x couples odd modes into even ones (O(A^2)), and back into odd modes only at O(A^3), so
    // the odd modes deviate from the linear law by a relative O(A^2 k t) ~ 1e-23. What remains is
    // round-off in E^n (relative ~ n eps = 1e-14), hence the 1e-11 relative tolerance.
    const L = 22;
    const N = 64;
    const h = 0.1;
    const A = 1e-12;
    const solver = createKsSolver({ L, N, h });
    const u0 = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      const x = (j * L) / N;
      const w = (2 * Math.PI * x) / L;
      u0[j] = A * (Math.cos(w) + Math.cos(3 * w) + Math.sin(5 * w));
    }
    solver.setState(u0);
    const re0 = new Float64Array(N / 2 + 1);
    const im0 = new Float64Array(N / 2 + 1);
    solver.modes(re0, im0);
    solver.step(100);
    const t = solver.time;
    expect(t).toBeCloseTo(10, 12);
    const re = new Float64Array(N / 2 + 1);
    const im = new Float64Array(N / 2 + 1);
    solver.modes(re, im);
    for (const m of [1, 3, 5]) {
      const k = (2 * Math.PI * m) / L;
      const growth = Math.exp((k * k - k ** 4) * t);
      const wantRe = growth * re0[m];
      const wantIm = growth * im0[m];
      const scale = Math.hypot(wantRe, wantIm);
      expect(scale).toBeGreaterThan(0);
      expect(Math.hypot(re[m] - wantRe, im[m] - wantIm) / scale).toBeLessThan(1e-11);
    }
    // Mode 1 grows (k^2 > k^4), mode 5 decays by e^-21: both directions of the linear law checked.
    expect(Math.hypot(re[1], im[1])).toBeGreaterThan(Math.hypot(re0[1], im0[1]));
    expect(Math.hypot(re[5], im[5])).toBeLessThan(1e-8 * Math.hypot(re0[5], im0[5]));
  });

  it('conserves the spatial mean to round-off on a chaotic run', () => {
    const L = 34;
    const N = 64;
    const solver = createKsSolver({ L, N, h: 0.05, dealias: true });
    const u0 = randomSmoothField({ N, seed: 3 });
    for (let j = 0; j < N; j++) u0[j] += 0.3; // a non-zero mean: the field then also travels
    solver.setState(u0);
    const re0 = new Float64Array(N / 2 + 1);
    const im0 = new Float64Array(N / 2 + 1);
    solver.modes(re0, im0);
    solver.step(4000); // t = 200, well into the chaotic regime
    const u = solver.state();
    const re = new Float64Array(N / 2 + 1);
    const im = new Float64Array(N / 2 + 1);
    solver.modes(re, im);
    // The k = 0 coefficient is multiplied by E = exp(0) = 1 and receives g_0 = 0 times the
    // nonlinear term: it is preserved bit for bit. The grid mean then differs only by FFT round-off.
    expect(re[0]).toBe(re0[0]);
    expect(Math.abs(spatialMean(u) - spatialMean(u0))).toBeLessThan(1e-14 * 64);
    expect(Math.max(...u.map(Math.abs))).toBeGreaterThan(1); // the run is not trivially decayed
  });

  it('is fourth order in h (self-convergence on a smooth short run)', () => {
    // L = 22, N = 16, T = 5 from the Kassam-Trefethen initial condition. N = 16 keeps the stiffest
    // rate |k^2 - k^4| at 22, so every h below satisfies h |lambda| < 1, the classical regime where
    // ETDRK4 is fourth order. (On stiffer grids the pre-asymptotic order is lower: ~3.2-3.7 at
    // N = 64 for h = 0.04..0.005; see the README.) Errors against a reference with h = T / 12800.
    const L = 22;
    const N = 16;
    const T = 5;
    const u0 = ktInitial(N);
    const run = (steps: number) => {
      const s = createKsSolver({ L, N, h: T / steps });
      s.setState(u0);
      s.step(steps);
      return s.state();
    };
    const ref = run(12800);
    const stepsList = [128, 256, 512, 1024];
    const logH: number[] = [];
    const logE: number[] = [];
    for (const steps of stepsList) {
      const u = run(steps);
      let err = 0;
      for (let j = 0; j < N; j++) err = Math.max(err, Math.abs(u[j] - ref[j]));
      logH.push(Math.log(T / steps));
      logE.push(Math.log(err));
    }
    // Least-squares slope of log(error) against log(h).
    const mh = logH.reduce((a, b) => a + b) / logH.length;
    const me = logE.reduce((a, b) => a + b) / logE.length;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < logH.length; i++) {
      sxy += (logH[i] - mh) * (logE[i] - me);
      sxx += (logH[i] - mh) ** 2;
    }
    const slope = sxy / sxx;
    expect(slope).toBeGreaterThan(3.7);
    expect(slope).toBeLessThan(4.3);
    // The smallest error (~1e-11) is far above round-off (~1e-14), so the fit measures truncation.
    expect(Math.exp(logE[logE.length - 1])).toBeGreaterThan(1e-13);
  });

  it('dealiasing is negligible on a resolved grid and visible on a coarse one', () => {
    // The 2/3 rule zeroes the nonlinear term on the top third of the modes. At L = 22, N = 128 the
    // spectrum there is below 1e-12 of its peak, so both variants agree to round-off; at N = 32 the
    // top third carries energy and the runs differ measurably.
    const diff = (L: number, N: number) => {
      const a = createKsSolver({ L, N, h: 0.05 });
      const b = createKsSolver({ L, N, h: 0.05, dealias: true });
      a.setState(ktInitial(N));
      b.setState(ktInitial(N));
      a.step(200);
      b.step(200);
      const ua = a.state();
      const ub = b.state();
      let d = 0;
      for (let j = 0; j < N; j++) d = Math.max(d, Math.abs(ua[j] - ub[j]));
      return d;
    };
    expect(diff(22, 128)).toBeLessThan(1e-12);
    expect(diff(22, 32)).toBeGreaterThan(1e-6);
  });

  it('rejects bad input with typed errors', () => {
    expect(() => createKsSolver({ L: 22, N: 64, h: 0 })).toThrow(InvalidArgumentError);
    expect(() => createKsSolver({ L: 22, N: 64, h: -0.1 })).toThrow(InvalidArgumentError);
    expect(() => createKsSolver({ L: 22, N: 48, h: 0.1 })).toThrow(InvalidArgumentError);
    expect(() => createKsSolver({ L: 22, N: 8, h: 0.1 })).toThrow(InvalidArgumentError);
    expect(() => createKsSolver({ L: 0, N: 64, h: 0.1 })).toThrow(InvalidArgumentError);
    const s = createKsSolver({ L: 22, N: 32, h: 0.1 });
    expect(() => s.step(1)).toThrow(InvalidArgumentError); // no state yet
    const bad = new Float64Array(32);
    bad[5] = Number.NaN;
    expect(() => s.setState(bad)).toThrow(NonFiniteError);
    expect(() => s.setState(new Float64Array(31))).toThrow(DimensionError);
    s.setState(new Float64Array(32));
    expect(() => s.step(1.5)).toThrow(InvalidArgumentError);
  });

  it('reports blow-up as BlowUpError with the time', () => {
    // An amplitude of 1e160 squares to 1e320 = Infinity in the first nonlinear evaluation.
    const s = createKsSolver({ L: 22, N: 32, h: 0.1 });
    s.setState(ktInitial(32).map((v) => v * 1e160));
    let caught: unknown;
    try {
      s.step(10);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BlowUpError);
    expect((caught as BlowUpError).time).toBeCloseTo(0.1, 12);
  });
});

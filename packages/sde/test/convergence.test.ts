/**
 * Strong and weak convergence orders against exact solutions driven by the same Brownian path.
 *
 * Geometric Brownian motion dX = mu X dt + s X dW has X(T) = x0 exp((mu - s^2/2) T + s W(T)), a
 * function of W(T) = sum of the increments the scheme used. For OU dX = -theta X dt + s dW the exact
 * step is X(t + h) = e^{-theta h} X(t) + s J with J = int e^{-theta (t + h - u)} dW(u); J, dW and
 * I10 = int (W(u) - W(t)) du are jointly Gaussian with known covariances, so we draw them exactly and
 * give the scheme the dW (and I10) that belong to the exact path.
 *
 * Errors are Monte Carlo averages over M paths; the fitted log-log slopes over 5-6 step sizes have a
 * spread of a few hundredths at these M (checked over seeds), so the tolerance of +-0.15 around the
 * theoretical order separates e.g. order 0.5 from 1.0 and 1.0 from 1.5 with a wide margin.
 */
import { describe, expect, it } from 'vitest';
import {
  cholesky,
  createWorkspace,
  eulerMaruyama,
  Matrix,
  milstein,
  Rng,
  type SdeSystem,
  type Solver,
  sra1,
} from '../src/index.js';
import { slope } from './helpers.js';

const T = 1;

function gbm(mu: number, s: number, derivative: boolean): SdeSystem {
  return {
    dim: 1,
    noiseDim: 1,
    noise: 'diagonal',
    drift: (_t, x, out) => {
      out[0] = mu * x[0];
    },
    diffusion: (_t, x, out) => {
      out[0] = s * x[0];
    },
    driftBatch: (_t, x, n, out) => {
      for (let i = 0; i < n; i++) out[i] = mu * x[i];
    },
    diffusionBatch: (_t, x, n, out) => {
      for (let i = 0; i < n; i++) out[i] = s * x[i];
    },
    ...(derivative
      ? {
          diffusionDerivative: (_t: number, _x: Float64Array, out: Float64Array) => {
            out[0] = s;
          },
        }
      : {}),
  };
}

/** Mean |X_N - X(T)| and mean (f(X_N) - f(X(T))) on GBM for each step size. */
function gbmErrors(
  solver: Solver,
  system: SdeSystem,
  mu: number,
  s: number,
  hs: number[],
  paths: number,
  f: (x: number) => number,
) {
  const strong: number[] = [];
  const weak: number[] = [];
  hs.forEach((h, level) => {
    const steps = Math.round(T / h);
    const rng = Rng.fromSeed(100, level);
    const ws = createWorkspace(system, paths);
    const x = new Float64Array(paths).fill(1);
    const w = new Float64Array(paths);
    const z = new Float64Array(paths);
    for (let k = 0; k < steps; k++) {
      rng.fillNormal(z);
      for (let p = 0; p < paths; p++) w[p] += Math.sqrt(h) * z[p];
      solver.step(system, k * h, h, x, paths, z, ws);
    }
    let es = 0;
    let ew = 0;
    for (let p = 0; p < paths; p++) {
      const exact = Math.exp((mu - 0.5 * s * s) * T + s * w[p]);
      es += Math.abs(x[p] - exact);
      ew += f(x[p]) - f(exact);
    }
    strong.push(es / paths);
    weak.push(Math.abs(ew / paths));
  });
  return { strong, weak };
}

/** Exact OU coupling: returns errors of the scheme against the exact OU path on the same noise. */
function ouErrors(solver: Solver, theta: number, s: number, hs: number[], paths: number) {
  const system: SdeSystem = {
    dim: 1,
    noiseDim: 1,
    noise: 'scalar',
    additive: true,
    drift: (_t, x, out) => {
      out[0] = -theta * x[0];
    },
    diffusion: (_t, _x, out) => {
      out[0] = s;
    },
  };
  const strong: number[] = [];
  const weak: number[] = [];
  hs.forEach((h, level) => {
    const steps = Math.round(T / h);
    const e1 = Math.exp(-theta * h);
    // Covariance of (dW, I10, J) over one step (integrals of 1, h - u, e^{-theta (h - u)} against dW).
    const cov = Matrix.from([
      [h, (h * h) / 2, (1 - e1) / theta],
      [(h * h) / 2, (h * h * h) / 3, (1 - e1 * (1 + theta * h)) / (theta * theta)],
      [(1 - e1) / theta, (1 - e1 * (1 + theta * h)) / (theta * theta), (1 - e1 * e1) / (2 * theta)],
    ]);
    const L = cholesky(cov, 'noise covariance').data;
    const rng = Rng.fromSeed(200, level);
    const ws = createWorkspace(system, paths);
    const x = new Float64Array(paths).fill(1);
    const exact = new Float64Array(paths).fill(1);
    const g = new Float64Array(3 * paths);
    const z = new Float64Array(solver.normalsPerStep * paths);
    for (let k = 0; k < steps; k++) {
      rng.fillNormal(g);
      for (let p = 0; p < paths; p++) {
        const a = g[3 * p];
        const b = g[3 * p + 1];
        const c = g[3 * p + 2];
        const dw = L[0] * a;
        const i10 = L[3] * a + L[4] * b;
        const j = L[6] * a + L[7] * b + L[8] * c;
        exact[p] = e1 * exact[p] + s * j;
        z[p] = dw / Math.sqrt(h);
        // SRA1 reads I10 through Z2 with I10 / h = (dW + sqrt(h) Z2 / sqrt 3) / 2.
        if (solver.normalsPerStep === 2) z[paths + p] = (Math.sqrt(3) * ((2 * i10) / h - dw)) / Math.sqrt(h);
      }
      solver.step(system, k * h, h, x, paths, z, ws);
    }
    let es = 0;
    let ew = 0;
    for (let p = 0; p < paths; p++) {
      es += Math.abs(x[p] - exact[p]);
      ew += x[p] * x[p] - exact[p] * exact[p];
    }
    strong.push(es / paths);
    weak.push(Math.abs(ew / paths));
  });
  return { strong, weak };
}

const logs = (v: number[]) => v.map(Math.log);

describe('convergence orders', () => {
  const hs = [2 ** -4, 2 ** -5, 2 ** -6, 2 ** -7, 2 ** -8, 2 ** -9];

  it('Euler-Maruyama on GBM: strong order 0.5, weak order 1', () => {
    const { strong, weak } = gbmErrors(eulerMaruyama, gbm(2, 1, false), 2, 1, hs, 4000, (x) => x);
    expect(slope(logs(hs), logs(strong))).toBeGreaterThan(0.35);
    expect(slope(logs(hs), logs(strong))).toBeLessThan(0.65);
    expect(Math.abs(slope(logs(hs), logs(weak)) - 1)).toBeLessThan(0.15);
  });

  it('Milstein on GBM: strong order 1 (exact derivative and central difference agree)', () => {
    const exact = gbmErrors(milstein, gbm(2, 1, true), 2, 1, hs, 4000, (x) => x);
    const fd = gbmErrors(milstein, gbm(2, 1, false), 2, 1, hs, 4000, (x) => x);
    expect(Math.abs(slope(logs(hs), logs(exact.strong)) - 1)).toBeLessThan(0.15);
    for (let i = 0; i < hs.length; i++)
      expect(Math.abs(fd.strong[i] - exact.strong[i])).toBeLessThan(1e-6 * exact.strong[i] + 1e-9);
  });

  it('OU (additive noise) against the exact solution: Euler-Maruyama strong 1 and weak 1, SRA1 at least 1.5', () => {
    const hsOu = [2 ** -2, 2 ** -3, 2 ** -4, 2 ** -5, 2 ** -6];
    const em = ouErrors(eulerMaruyama, 2, 1, hsOu, 4000);
    expect(Math.abs(slope(logs(hsOu), logs(em.strong)) - 1)).toBeLessThan(0.15);
    expect(Math.abs(slope(logs(hsOu), logs(em.weak)) - 1)).toBeLessThan(0.2);
    // For a linear drift the SRA1 error terms of order 1.5 (which carry f'') vanish and the observed
    // order is 2; the guaranteed order 1.5 is checked on a nonlinear drift below.
    const rk = ouErrors(sra1, 2, 1, hsOu, 4000);
    expect(slope(logs(hsOu), logs(rk.strong))).toBeGreaterThan(1.35);
    for (let i = 0; i < hsOu.length; i++) expect(rk.strong[i]).toBeLessThan(em.strong[i]);
  });

  it('nonlinear additive noise (dX = -(X + X^3) dt + dW): SRA1 strong 1.5, Euler-Maruyama strong 1', () => {
    // Reference: SRA1 on a 64x finer grid of the same path (its error, ~64^-1.5 = 1/512 of the
    // finest tested error, is negligible). Coarse steps get the exact aggregates of the fine
    // increments: dW = sum dw_i and I10 = sum_i [(W_i - W_0) h_f + i10_i].
    const system: SdeSystem = {
      dim: 1,
      noiseDim: 1,
      noise: 'scalar',
      additive: true,
      drift: (_t, x, out) => {
        out[0] = -(x[0] + x[0] ** 3);
      },
      diffusion: (_t, _x, out) => {
        out[0] = 1;
      },
    };
    const paths = 2000;
    const fineSteps = 1024;
    const hf = T / fineSteps;
    const rng = Rng.fromSeed(300);
    const dw = new Float64Array(fineSteps * paths);
    const i10 = new Float64Array(fineSteps * paths);
    const g = new Float64Array(2 * paths);
    for (let k = 0; k < fineSteps; k++) {
      rng.fillNormal(g);
      for (let p = 0; p < paths; p++) {
        dw[k * paths + p] = Math.sqrt(hf) * g[2 * p];
        // I10 = h/2 (dW + dZ / sqrt 3), dZ ~ N(0, h) independent: the exact joint law.
        i10[k * paths + p] = (hf / 2) * (dw[k * paths + p] + (Math.sqrt(hf) * g[2 * p + 1]) / Math.sqrt(3));
      }
    }
    const run = (solver: Solver, group: number): Float64Array => {
      const h = group * hf;
      const ws = createWorkspace(system, paths);
      const x = new Float64Array(paths).fill(0.5);
      const z = new Float64Array(2 * paths);
      for (let k = 0; k < fineSteps / group; k++) {
        for (let p = 0; p < paths; p++) {
          let w = 0;
          let a = 0;
          for (let i = 0; i < group; i++) {
            const idx = (k * group + i) * paths + p;
            a += w * hf + i10[idx];
            w += dw[idx];
          }
          z[p] = w / Math.sqrt(h);
          z[paths + p] = (Math.sqrt(3) * ((2 * a) / h - w)) / Math.sqrt(h);
        }
        solver.step(system, k * h, h, x, paths, z, ws);
      }
      return x;
    };
    const reference = run(sra1, 1);
    const groups = [128, 64, 32, 16];
    const hsNl = groups.map((gr) => gr * hf);
    const err = (solver: Solver) =>
      groups.map((gr) => {
        const x = run(solver, gr);
        let e = 0;
        for (let p = 0; p < paths; p++) e += Math.abs(x[p] - reference[p]);
        return e / paths;
      });
    // Observed local slopes fall from ~1.8 at h = 1/8 towards the asymptotic 1.5 (the order-2 error
    // terms still matter at these h); the bounds separate order 1.5 from both 1 and 2.
    const rk = slope(logs(hsNl), logs(err(sra1)));
    expect(rk).toBeGreaterThan(1.35);
    expect(rk).toBeLessThan(1.9);
    expect(Math.abs(slope(logs(hsNl), logs(err(eulerMaruyama))) - 1)).toBeLessThan(0.15);
  });
});

import { addNoise, addNoiseFrom } from './noise-layout.js';
import { createWorkspace, evaluateDiffusion, evaluateDrift, type Solver } from './solver.js';

/**
 * Euler-Maruyama: X_{k+1} = X_k + f(X_k, t_k) h + G(X_k, t_k) sqrt(h) Z_k.
 * Strong order 0.5 (1.0 for additive noise), weak order 1 [Kloeden & Platen 1992, 10.2 and 14.1].
 *
 * @example
 * const bundle = simulate(system, { x0, paths: 1000, h: 1e-3, steps: 1000, seed: 1, solver: eulerMaruyama });
 */
export const eulerMaruyama: Solver = {
  name: 'euler-maruyama',
  strongOrder: 0.5,
  weakOrder: 1,
  // Additive noise: the scheme coincides with Milstein (the correction vanishes), strong order 1.
  order: (system) => ({ strong: system.additive === true ? 1 : 0.5, weak: 1 }),
  init: createWorkspace,
  requires: { noise: ['scalar', 'diagonal', 'general'], additive: false },
  normalsPerStep: 1,
  step(system, t, h, x, n, z, ws) {
    evaluateDrift(system, t, x, n, ws.f, ws);
    const f = ws.f;
    const nd = n * system.dim;
    if (ws.constantG && system.noise === 'scalar') {
      // Additive scalar noise (e.g. Langevin models): one fused pass.
      const c = ws.g[0] * Math.sqrt(h);
      for (let i = 0; i < nd; i++) x[i] += h * f[i] + c * z[i];
      return;
    }
    if (!ws.constantG) evaluateDiffusion(system, t, x, n, ws.g, ws);
    for (let i = 0; i < nd; i++) x[i] += h * f[i];
    addNoise(system, x, n, ws.g, ws.constantG, z, Math.sqrt(h));
  },
};

/**
 * Milstein for diagonal noise: X_i += f_i h + g_i dW_i + (1/2) g_i (dg_i/dx_i) (dW_i^2 - h).
 * Strong order 1.0, weak order 1 [Kloeden & Platen 1992, eq. 10.3.3]. Valid when g_i depends on x_i
 * only (diagonal noise, so no Levy areas are needed), or for scalar noise in one dimension. Uses
 * system.diffusionDerivative when present, otherwise a central difference with step
 * 6e-6 * max(1, |x_i|) (eps^(1/3) scaling; truncation error ~1e-11 relative).
 *
 * @example
 * const gbm = { dim: 1, noiseDim: 1, noise: 'diagonal', drift: (t, x, o) => { o[0] = 0.5 * x[0]; },
 *   diffusion: (t, x, o) => { o[0] = 0.3 * x[0]; } };
 * simulate(gbm, { x0: Float64Array.of(1), paths: 100, h: 0.01, steps: 100, seed: 3, solver: milstein });
 */
export const milstein: Solver = {
  name: 'milstein',
  strongOrder: 1,
  weakOrder: 1,
  order: () => ({ strong: 1, weak: 1 }),
  init: createWorkspace,
  requires: { noise: ['scalar', 'diagonal'], additive: false },
  normalsPerStep: 1,
  step(system, t, h, x, n, z, ws) {
    const d = system.dim;
    const nd = n * d;
    evaluateDrift(system, t, x, n, ws.f, ws);
    const f = ws.f;
    if (ws.constantG) {
      // Additive noise: the Milstein correction vanishes.
      for (let i = 0; i < nd; i++) x[i] += h * f[i];
      addNoise(system, x, n, ws.g, true, z, Math.sqrt(h));
      return;
    }
    const g = ws.g;
    const gp = ws.gPrime;
    evaluateDiffusion(system, t, x, n, g, ws);
    if (system.diffusionDerivative) {
      const xi = ws.pointX;
      const oi = ws.pointOut;
      for (let p = 0; p < n; p++) {
        for (let j = 0; j < d; j++) xi[j] = x[p * d + j];
        system.diffusionDerivative(t, xi, oi);
        for (let j = 0; j < d; j++) gp[p * d + j] = oi[j];
      }
    } else {
      // Central difference; perturbing all coordinates at once is exact for diagonal noise.
      const xs = ws.stage;
      const gTmp = ws.f2;
      for (let i = 0; i < nd; i++) xs[i] = x[i] + 6e-6 * Math.max(1, Math.abs(x[i]));
      evaluateDiffusion(system, t, xs, n, gp, ws);
      for (let i = 0; i < nd; i++) xs[i] = x[i] - 6e-6 * Math.max(1, Math.abs(x[i]));
      evaluateDiffusion(system, t, xs, n, gTmp, ws);
      for (let i = 0; i < nd; i++) gp[i] = (gp[i] - gTmp[i]) / (12e-6 * Math.max(1, Math.abs(x[i])));
    }
    const sq = Math.sqrt(h);
    const scalar = system.noise === 'scalar';
    for (let i = 0; i < nd; i++) {
      const gi = scalar ? g[(i / d) | 0] : g[i];
      const dw = sq * z[i];
      x[i] += h * f[i] + gi * dw + 0.5 * gi * gp[i] * (dw * dw - h);
    }
  },
};

/**
 * SRA1 (Roessler 2010, Table 5.1 / DifferentialEquations.jl SRA1) for additive noise:
 *   H = X + (3/4) h f(X, t) + (3/2) G I10/h,
 *   X_{k+1} = X + h (f(X, t)/3 + 2 f(H, t + 3h/4)/3) + G dW,
 * with dW = sqrt(h) Z1 and I10/h = (dW + sqrt(h) Z2 / sqrt(3)) / 2 (I10 = int int dW ds, exact joint
 * law with dW). Strong order 1.5, weak order 2 for additive noise (G independent of x and t).
 *
 * @example
 * // fourWellSystem: the T2 model of @sdekit/systems
 * const bundle = simulate(fourWellSystem(), { x0: new Float64Array(2), paths: 64, h: 0.01, steps: 1000, seed: 2, solver: sra1 });
 */
export const sra1: Solver = {
  name: 'sra1',
  strongOrder: 1.5,
  weakOrder: 2,
  order: () => ({ strong: 1.5, weak: 2 }),
  init: createWorkspace,
  requires: { noise: ['scalar', 'diagonal', 'general'], additive: true },
  normalsPerStep: 2,
  step(system, t, h, x, n, z, ws) {
    const d = system.dim;
    const nd = n * d;
    const nm = n * system.noiseDim;
    const f1 = ws.f;
    const f2 = ws.f2;
    const stage = ws.stage;
    evaluateDrift(system, t, x, n, f1, ws);
    for (let i = 0; i < nd; i++) stage[i] = x[i] + 0.75 * h * f1[i];
    // (3/2) G I10/h with I10/h = sqrt(h) (Z1 + Z2/sqrt(3)) / 2: build the combined normals in place
    // of Z2, which is not needed afterwards.
    const sq = Math.sqrt(h);
    const inv3 = 1 / Math.sqrt(3);
    for (let i = 0; i < nm; i++) z[nm + i] = z[i] + inv3 * z[nm + i];
    addNoiseFrom(system, stage, n, ws.g, z, nm, 0.75 * sq);
    evaluateDrift(system, t + 0.75 * h, stage, n, f2, ws);
    for (let i = 0; i < nd; i++) x[i] += h * (f1[i] / 3 + (2 * f2[i]) / 3);
    addNoise(system, x, n, ws.g, true, z, sq);
  },
};

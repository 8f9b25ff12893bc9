/**
 * T1 (benchmarks.md): one-dimensional SDE with multiplicative noise (a reduced triad model) [G].
 * dX = f(X) dt + g(X) dW with the cubic f and g^2 = (A - B x)^2 + s^2 of benchmarks.md; the exact
 * stationary density and score are known. The learned model is the score-based Langevin model
 * dx = Phi s(x) dt + sqrt(2 Phi) dW (methods.md section 1), with Phi a scalar near
 * E[g^2]/2 / var(x) = 1.8304 in z-scored units.
 */
import { fitLangevin } from '@sdekit/score';
import * as sde from '@sdekit/sde';
import type { BenchCase, CaseContext } from '../context.js';
import {
  bundleAcf,
  bundlePath,
  compareMarginals,
  GENERATOR,
  langevinProgress,
  plotAcf,
  plotMarginals,
  plotPaths,
  seriesAcf,
} from './common.js';

const SIZES = {
  quick: {
    T: 2000,
    h: 1e-3,
    dt: 0.01,
    burnIn: 10,
    sigma: 0.05,
    score: 'kgmm',
    dsmSteps: 3000,
    simPaths: 40,
    simT: 200,
    simH: 0.01,
    acfT: 5,
  },
  full: {
    T: 20000,
    h: 1e-3,
    dt: 0.01,
    burnIn: 10,
    sigma: 0.05,
    score: 'kgmm',
    dsmSteps: 8000,
    simPaths: 100,
    simT: 200,
    simH: 0.005,
    acfT: 5,
  },
};

/** E[g^2]/2 / var(x) in z-scored units (benchmarks.md T1). */
const PHI_Z_EXPECTED = 1.8304;

export const t1Case: BenchCase = {
  id: 'T1',
  title: '1-D SDE with multiplicative noise (score-based Langevin)',
  description: 'Reduced triad model with multiplicative noise; scalar Phi learned from one path.',
  async run(ctx: CaseContext) {
    const s = ctx.resolveSizes(SIZES[ctx.profile]);
    const truth = sde.t1System();
    const observed = await ctx.stage('data', (progress) =>
      sde.pathOf(
        sde.simulate(truth, {
          x0: new Float64Array([0.02]),
          paths: 1,
          h: s.h,
          T: s.T,
          saveEvery: Math.round(s.dt / s.h),
          burnIn: Math.round(s.burnIn / s.h),
          seed: ctx.seedFor(1),
          onProgress: (d, t) => progress(d / t),
        }),
        0,
      ),
    );
    await ctx.saveSeries(
      'observed',
      observed.data,
      [observed.length, 1],
      `observed series, dt = ${observed.dt}`,
    );
    const model = await ctx.stage('learn', (progress) =>
      fitLangevin(observed, {
        sigma: s.sigma,
        score: s.score as 'kgmm' | 'dsm-mlp',
        ...GENERATOR,
        dsm: { steps: s.dsmSteps },
        seed: ctx.seedFor(2),
        onProgress: langevinProgress(progress),
      }),
    );
    await ctx.saveModel('langevin', model.toJSON(), 'learned score-based Langevin model');
    const x0 = new Float64Array(s.simPaths);
    for (let p = 0; p < s.simPaths; p++)
      x0[p] = observed.data[Math.floor(((p + 0.5) * observed.length) / s.simPaths)];
    const sim = await ctx.stage('simulate', (progress) =>
      sde.simulate(model.system(), {
        x0,
        paths: s.simPaths,
        h: s.simH,
        T: s.simT,
        saveEvery: Math.round(s.dt / s.simH),
        burnIn: Math.round(5 / s.simH),
        seed: ctx.seedFor(3),
        onProgress: (d, t) => progress(d / t),
      }),
    );
    await ctx.saveSeries(
      'simulated',
      sim.data,
      [sim.paths, sim.length, 1],
      `learned-model paths, dt = ${sim.dt}`,
    );

    await ctx.stage('metrics', async () => {
      const phiZ = model.phi.data[0];
      ctx.metric('Phi (z-scored)', phiZ, null, `expected ${PHI_Z_EXPECTED}`);
      ctx.metric('Phi relative error', Math.abs(phiZ - PHI_Z_EXPECTED) / PHI_Z_EXPECTED, {
        op: '<',
        value: 0.1,
      });
      const cmp = compareMarginals(observed.data, sim.data, 1);
      ctx.metric('marginal KL', cmp.kl[0], { op: '<', value: 0.02 });
      ctx.metric('Hellinger', cmp.hellinger[0], null);
      const maxLag = Math.round(s.acfT / s.dt);
      const acfData = seriesAcf(observed.data, 1, maxLag);
      const acfModel = bundleAcf(sim, maxLag);
      ctx.metric(
        'ACF error',
        sde.acfError(acfData, acfModel),
        { op: '<', value: 0.05 },
        `lags 0..${s.acfT} time units`,
      );
      // Sampling noise of the criterion itself: the true system simulated exactly like the learned model.
      const twin = sde.simulate(truth, {
        x0,
        paths: s.simPaths,
        h: s.h,
        T: s.simT,
        saveEvery: Math.round(s.dt / s.h),
        burnIn: Math.round(5 / s.h),
        seed: ctx.seedFor(7),
      });
      ctx.metric(
        'ACF error of the true system (noise floor)',
        sde.acfError(acfData, bundleAcf(twin, maxLag)),
        null,
        'the true SDE simulated with the same paths and lengths as the learned model',
      );
      // Floor of the model class: the Langevin model with the EXACT score and the exact
      // Phi_x = E[g^2] / 2 (no learning at all), simulated like the learned model. T1's noise is
      // multiplicative (g^2 grows with x), so the true system relaxes faster from the right tail than
      // any constant-Phi model with the same density: measured 0.096 at 100 paths x 200 time units.
      const phiX = PHI_Z_EXPECTED * sde.t1Statistics().std ** 2;
      const noise = Math.sqrt(2 * phiX);
      const exactLangevin: sde.SdeSystem = {
        dim: 1,
        noiseDim: 1,
        noise: 'scalar',
        additive: true,
        drift: (_t, x, out) => {
          out[0] = phiX * sde.t1ExactScore(x[0]);
        },
        diffusion: (_t, _x, out) => {
          out[0] = noise;
        },
      };
      const exactSim = sde.simulate(exactLangevin, {
        x0,
        paths: s.simPaths,
        h: s.h,
        T: s.simT,
        saveEvery: Math.round(s.dt / s.h),
        burnIn: Math.round(5 / s.h),
        seed: ctx.seedFor(8),
      });
      ctx.metric(
        'ACF error of the exact-score Langevin model (model-class floor)',
        sde.acfError(acfData, bundleAcf(exactSim, maxLag)),
        null,
        'exact score, exact Phi = E[g^2]/2, same paths and lengths: the constant-Phi model cannot do better',
      );
      ctx.metric('||V + I||_F / sqrt(D)', model.diagnostics.steinError, null);
      ctx.recordSizes({
        observations: observed.length,
        phiShift: model.diagnostics.shift,
        cells: model.diagnostics.cells,
      });
      for (const w of model.diagnostics.warnings) ctx.warn(`fitLangevin: ${w}`);
      const g = cmp.grids[0];
      const exact = Float64Array.from(g.x, (x) => sde.t1StationaryDensity(x));
      await plotMarginals(ctx, cmp, ['x'], [{ x: g.x, p: exact }]);
      await plotAcf(ctx, s.dt, acfData, acfModel);
      await plotPaths(ctx, observed, bundlePath(sim, 0), sim.dt, 0, 'x', 50);
    });
  },
};

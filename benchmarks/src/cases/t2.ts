/**
 * T2 (docs/benchmarks.md): two-dimensional asymmetric four-well potential with rotation [G].
 * U(x) = sum_i (x_i^2 - A_i^2)^2 + B_i x_i, drift Phi_true (-grad U), Phi_true = [[1, -0.8], [0.8, 1]],
 * noise sqrt(2) dW: p = exp(-U)/Z exactly and Phi constant, so the system is in the model class of
 * docs/methods.md section 1. Learn the Langevin model from the observed series only, then compare Phi,
 * marginal PDFs, ACF, and path tracking under the same noise realisation.
 */
import * as sde from '@sdekit/sde';
import * as systems from '@sdekit/systems';
import type { BenchCase, CaseContext } from '../context.js';
import { heatmaps, lineChart } from '../plots.js';
import {
  acfNoiseFloorMetric,
  bundleAcf,
  bundlePath,
  compareMarginals,
  coordinate,
  GENERATOR,
  learnLangevin,
  observeTruth,
  plotAcf,
  plotMarginals,
  plotPaths,
  recordLangevinFit,
  SDE_DATA_SIZES,
  seriesAcf,
  simulateLearned,
  simulateLikeModel,
  simulateSaved,
  startsFromSeries,
} from './common.js';

const SIZES = {
  quick: {
    ...SDE_DATA_SIZES.quick,
    simPaths: 40,
    simT: 50,
    simH: 0.005,
    trackPaths: 64,
    trackT: 2,
    acfT: 5,
  },
  full: {
    ...SDE_DATA_SIZES.full,
    simPaths: 100,
    simT: 200,
    simH: 0.005,
    trackPaths: 256,
    trackT: 2,
    acfT: 5,
  },
};

/** RMS distance between the coordinates of two bundles over all paths and saved times. */
function rmsDistance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

export const t2Case: BenchCase = {
  id: 'T2',
  title: '2-D asymmetric four-well with rotation (score-based Langevin)',
  description:
    'Four-well potential, Phi = [[1,-0.8],[0.8,1]], unit diffusion; Langevin model learned from one path.',
  async run(ctx: CaseContext) {
    const s = ctx.resolveSizes(SIZES[ctx.profile]);
    const truth = systems.fourWellSystem();
    const observed = await observeTruth(ctx, truth, new Float64Array([0, 0]), s);

    const model = await learnLangevin(ctx, observed, {
      uncertainty: s.bootstrap > 0 ? { replicates: s.bootstrap } : false,
      sigma: s.sigma,
      score: s.score as 'kgmm' | 'dsm-mlp',
      ...GENERATOR,
      dsm: { steps: s.dsmSteps },
    });
    await ctx.saveModel(
      'langevin',
      model.toJSON(),
      'learned score-based Langevin model (z-scored units + transform)',
    );
    const learned = model.system();

    // Learned-model paths: simPaths independent paths started at data points (path p at point
    // floor(p N / simPaths)), after a burn-in.
    const x0 = startsFromSeries(observed, s.simPaths, 0);
    const sim = await simulateLearned(ctx, learned, x0, s, 5);

    // Tracking: true and learned model from the same starts with the same noise (same seed, same
    // number of paths and noise dimension => identical Brownian increments), against a second true
    // run with independent noise: ratio ~0 means the learned path follows the true one, ~1 means no better than chance.
    const track = await ctx.stage('tracking', () => {
      const starts = startsFromSeries(observed, s.trackPaths);
      const run = { paths: s.trackPaths, T: s.trackT, dt: s.dt, h: s.simH, burnIn: 0 };
      const a = simulateSaved(truth, starts, { ...run, seed: ctx.seedFor(4) });
      const b = simulateSaved(learned, starts, { ...run, seed: ctx.seedFor(4) });
      const c = simulateSaved(truth, starts, { ...run, seed: ctx.seedFor(5) });
      return {
        same: a,
        learned: b,
        independent: c,
        ratio: rmsDistance(a.data, b.data) / rmsDistance(a.data, c.data),
      };
    });

    await ctx.stage('metrics', async () => {
      const phiX = model.original.phi;
      const phiTrue = systems.fourWellPhi();
      const diff = sde.addScaled(phiX, 1, phiTrue, -1);
      ctx.metric(
        'Phi relative Frobenius error',
        sde.frobeniusNorm(diff) / sde.frobeniusNorm(phiTrue),
        { op: '<', value: 0.1 },
        'original units, against Phi_true = [[1,-0.8],[0.8,1]]',
      );
      const cmp = compareMarginals(observed.data, sim.data, 2);
      ctx.metric('marginal KL x1', cmp.kl[0], { op: '<', value: 0.02 });
      ctx.metric('marginal KL x2', cmp.kl[1], { op: '<', value: 0.02 });
      ctx.metric('Hellinger x1', cmp.hellinger[0], null);
      ctx.metric('Hellinger x2', cmp.hellinger[1], null);
      const maxLag = Math.round(s.acfT / s.dt);
      const acfData = seriesAcf(observed.data, 2, maxLag);
      const acfModel = bundleAcf(sim, maxLag);
      ctx.metric(
        'ACF error',
        sde.acfError(acfData, acfModel),
        { op: '<', value: 0.05 },
        `max |ACF_model - ACF_data| over lags 0..${s.acfT} time units`,
      );
      const twin = simulateLikeModel(truth, x0, s, { h: s.simH, burnIn: 5, seed: ctx.seedFor(7) });
      acfNoiseFloorMetric(ctx, acfData, twin);
      ctx.metric(
        'tracking ratio',
        track.ratio,
        { op: '<', value: 0.5 },
        `RMS(learned - true) / RMS(true - true with independent noise) over ${s.trackT} time units, same noise (our criterion)`,
      );
      ctx.metric('||V + I||_F / sqrt(D)', model.diagnostics.steinError, null);
      ctx.metric('Phi_A share of ||Phi||_F^2', model.diagnostics.energyShareA, null);
      recordLangevinFit(ctx, observed, model);

      await plotMarginals(ctx, cmp, ['x1', 'x2']);
      await plotAcf(ctx, s.dt, acfData, acfModel);
      await plotPaths(ctx, observed, bundlePath(sim, 0), sim.dt, 0, 'x1', 50);
      const zTrue = model.zscore.phiToStandard(phiTrue);
      await ctx.plot(
        'phi',
        'T2: Phi, Phi_S, Phi_A and V (z-scored units)',
        'Learned Langevin matrices in z-scored units; V is the Stein matrix E[s(x) x^T] (exactly -I in the limit).',
        heatmaps('T2 matrices (z-scored)', [
          { name: 'Phi', ...model.phi },
          { name: 'Phi true', ...zTrue },
          { name: 'Phi_S', ...model.phiS },
          { name: 'Phi_A', ...model.phiA },
          { name: 'V', ...model.diagnostics.stein },
        ]),
      );
      const tt = Float64Array.from({ length: track.same.length }, (_, i) => i * track.same.dt);
      await ctx.plot(
        'tracking',
        'T2: path tracking under the same noise',
        'x1 of the true system and of the learned model driven by the same Brownian increments from the same start, and of the true system with independent noise.',
        lineChart({
          title: 'same-noise tracking (x1, path 0)',
          xLabel: 'time',
          yLabel: 'x1',
          curves: [
            { name: 'true', x: tt, y: coordinate(bundlePath(track.same, 0), 2, 0) },
            {
              name: 'learned, same noise',
              x: tt,
              y: coordinate(bundlePath(track.learned, 0), 2, 0),
              dashed: true,
            },
            { name: 'true, independent noise', x: tt, y: coordinate(bundlePath(track.independent, 0), 2, 0) },
          ],
        }),
      );
    });
  },
};

/**
 * U1 (docs/benchmarks.md): uncertainty of the averaged models of M1 and M2 by variational inference
 * (docs/methods.md section 5). For an observation window T and a 5x longer one: fit the averaged model,
 * fit a flow posterior over its flow parameters (doubly stochastic ELBO with the model's path
 * log-likelihood), draw 95 % pointwise bands of bbar on a grid, judge the true bbar's calibration
 * p-value among the posterior draws (sup distance in band half-widths, @sdekit/vi bandCalibration)
 * on the grid points where the data put mass, report the share of those points inside the band (the
 * rule of docs/benchmarks.md, with how often the posterior's own draws pass it), check that the mean
 * band width shrinks with 5T, and draw forecast bands for the path beyond the observation window.
 */
import { fitAveraged, m1Coefficients, m2Coefficients, type SlowCoefficients } from '@sdekit/averaging';
import type { TimeSeries } from '@sdekit/sde';
import * as sde from '@sdekit/sde';
import * as systems from '@sdekit/systems';
import {
  type AveragedPosterior,
  averagedPosterior,
  bandCalibration,
  bandCoverage,
  elboConvergence,
} from '@sdekit/vi';
import type { BenchCase, CaseContext } from '../context.js';
import { lineChart } from '../plots.js';
import { linspace } from './common.js';

const PROFILES = {
  quick: {
    T: 100,
    longFactor: 5,
    Delta: 0.01,
    fitIterations: 400,
    L: 32,
    // 800 steps: at 200 the M2 ELBO was still rising over the last quarter (q still widening;
    // benchmarks README, findings).
    viSteps: 800,
    viSamples: 4,
    // Prior N(theta_hat, s0^2 I) on the flow weights. At s0 = 1 it was informative along the weakly
    // constrained subspace directions and the bands under-covered at T = 100; s0 = 3 leaves every
    // retained direction nearly likelihood-dominated (docs/findings.md, vi: U1 M2).
    priorStd: 3,
    viBatch: 512,
    // 300 draws: the truth's p-value among them (bandCalibration) resolves 1/301.
    bandDraws: 300,
    // likelihoodCheck of q (packages/vi): draws and fast samples. Each draw is a full-path
    // likelihood, so the cost grows with the window (5x at 5T): quick checks the window T only
    // (timing: benchmarks README, findings).
    checkDraws: 32,
    checkFastSamples: 256,
    checkLongWindow: false,
    gridPoints: 31,
    forecastT: 3,
    forecastDraws: 40,
    truthSamples: 100000,
  },
  full: {
    T: 200,
    longFactor: 5,
    Delta: 0.01,
    fitIterations: 2000,
    L: 64,
    viSteps: 2000,
    viSamples: 8,
    priorStd: 3,
    viBatch: 2048,
    bandDraws: 600,
    checkDraws: 64,
    checkFastSamples: 256,
    checkLongWindow: true,
    gridPoints: 61,
    forecastT: 5,
    forecastDraws: 200,
    truthSamples: 1000000,
  },
};

interface Problem {
  readonly name: 'M1' | 'M2';
  readonly n: number;
  readonly coefficients: () => SlowCoefficients;
  /** Slow path of length T + forecastT (first T observed, the rest is the truth for forecasts). */
  readonly generate: (T: number, seed: number, progress: (a: number, b: number) => void) => TimeSeries;
  readonly trueDrift: (grid: Float64Array, samples: number, seed: number) => Float64Array;
}

const PROBLEMS: Problem[] = [
  {
    name: 'M1',
    n: 100,
    coefficients: () => m1Coefficients({ m: 2, beta: 0.5 }),
    generate: (T, seed, progress) =>
      sde.pathOf(
        sde.simulate(sde.slowFastSde(systems.multiscaleDoubleWellSystem({ m: 2, n: 100, beta: 0.5 })), {
          x0: sde.stackState(
            new Float64Array([0]),
            systems.sampleMultiscaleDoubleWellFast(sde.Rng.fromSeed(seed, 1), 1, 2),
          ),
          h: 0.02 / 100,
          T,
          saveEvery: sde.wholeMultiple('Delta', 0.01, 0.02 / 100, 'h'),
          seed,
          observe: [0],
          onProgress: progress,
        }),
        0,
      ),
    trueDrift: (grid, samples, seed) =>
      systems.multiscaleDoubleWellAveragedDrift(grid, { m: 2, beta: 0.5, samples, seed }),
  },
  {
    name: 'M2',
    n: 100,
    coefficients: () => m2Coefficients({ d: 1, N: 10 }),
    generate: (T, seed, progress) =>
      sde.pathOf(
        sde.simulate(sde.slowFastSde(systems.taggedParticleSystem({ d: 1, N: 10, n: 100 })), {
          x0: sde.stackState(
            new Float64Array([0]),
            systems.sampleTaggedParticleFast(sde.Rng.fromSeed(seed, 1), 1, { d: 1, N: 10 }),
          ),
          h: 0.02 / 100,
          T,
          saveEvery: sde.wholeMultiple('Delta', 0.01, 0.02 / 100, 'h'),
          seed,
          observe: [0],
          onProgress: progress,
        }),
        0,
      ),
    trueDrift: (grid) => systems.taggedParticleAveragedDrift(grid, { d: 1, N: 10 }),
  },
];

function head(series: TimeSeries, samples: number): TimeSeries {
  return sde.timeSeries(series.data.slice(0, samples * series.dim), series.dim, series.dt, series.t0);
}

export const u1Case: BenchCase = {
  id: 'U1',
  title: 'Variational credible bands on M1 and M2',
  description:
    'Flow posterior over the averaging model parameters; bbar bands, coverage, shrinkage with T, forecasts.',
  async run(ctx: CaseContext) {
    const s = ctx.resolveSizes(PROFILES[ctx.profile]);
    const grid = linspace(-1.5, 1.5, s.gridPoints);
    for (const [pi, prob] of PROBLEMS.entries()) {
      const Tlong = s.T * s.longFactor;
      const full = await ctx.stage(`${prob.name} data`, (progress) =>
        prob.generate(Tlong + s.forecastT, ctx.seedFor(10 + pi), (a, b) => progress(a / b)),
      );
      const truth = prob.trueDrift(grid, s.truthSamples, ctx.seedFor(20 + pi));
      const widths: number[] = [];
      const bandsFor: Array<{ T: number; lo: Float64Array; hi: Float64Array; mean: Float64Array }> = [];
      let forecastModel: { post: AveragedPosterior; observed: TimeSeries } | null = null;
      for (const T of [s.T, Tlong]) {
        const nObs = Math.round(T / s.Delta) + 1;
        const observed = head(full, nObs);
        const model = await ctx.stage(`${prob.name} fit T=${T}`, (progress) =>
          fitAveraged({
            path: observed,
            coefficients: prob.coefficients(),
            L: s.L,
            steps: s.fitIterations,
            seed: ctx.seedFor(30 + pi),
            onProgress: (q) => progress(q.step / q.steps),
          }),
        );
        const post = await ctx.stage(`${prob.name} vi T=${T}`, (progress) =>
          averagedPosterior(model, observed, {
            L: s.L,
            batchSize: Math.min(s.viBatch, nObs - 1),
            samples: s.viSamples,
            steps: s.viSteps,
            // Posterior over the few flow-weight directions the likelihood constrains (top
            // eigen-directions of the Gauss-Newton matrix at theta_hat), full-rank Gaussian there:
            // a low-rank q over all ~1e3-1e4 weights was over-confident on M2 (docs/findings.md, vi).
            subspace: {},
            prior: { std: s.priorStd },
            seed: ctx.seedFor(50 + pi),
            onProgress: (q) =>
              progress(q.step / q.steps, `elbo ${(q.metrics?.elbo ?? Number.NaN).toFixed(1)}`),
          }),
        );
        ctx.metric(
          `${prob.name} T=${T}: posterior subspace rank`,
          post.posterior.dim,
          null,
          `of ${model.numParams} flow parameters (Gauss-Newton directions with s0^2 lambda >= 1e-3, s0 = ${s.priorStd})`,
        );
        const drift = elboConvergence(post.posterior.elboHistory);
        ctx.metric(
          `${prob.name} T=${T}: ELBO change over the last quarter of the steps`,
          drift.drift,
          null,
          `mean ELBO of the last 10 % of steps minus that of the 10 % ending at 75 % (standard error ${drift.stdError.toFixed(1)}): within a few standard errors of 0 when converged`,
        );
        if (T === s.T || s.checkLongWindow) {
          // The ELBO does not flag a q displaced from the data (docs/findings.md, vi: s0 = 10 gave
          // narrow bands in the wrong place); this compares the path log-likelihood of q's draws
          // with theta_hat's.
          const check = await ctx.stage(`${prob.name} check T=${T}`, () =>
            post.likelihoodCheck(observed, {
              draws: s.checkDraws,
              fastSamples: s.checkFastSamples,
              seed: ctx.seedFor(60 + pi),
            }),
          );
          ctx.metric(
            `${prob.name} T=${T}: median log-likelihood gap of q's draws below theta_hat (nats)`,
            check.medianGap,
            null,
            `bound for a posterior not displaced from the data ${check.bound.toFixed(2)} (half the median of chi^2_${post.posterior.dim}); linearised-posterior mean ${check.laplaceMeanGap?.toFixed(2)}; ${s.checkDraws} draws`,
          );
          if (check.warning !== null) ctx.warn(`${prob.name} T=${T}: ${check.warning}`);
        }
        await ctx.saveModel(
          `${prob.name}-posterior-T${T}`,
          post.toJSON(),
          `flow posterior over the ${prob.name} averaged-model parameters, T = ${T}`,
        );
        const bands = await ctx.stage(`${prob.name} bands T=${T}`, () =>
          post.bbarBands(grid, [0.95], {
            samples: s.bandDraws,
            fastSamples: 2048,
            seed: ctx.seedFor(70 + pi),
          }),
        );
        const b = bands.bands[0];
        // Grid points where the data put mass: inside the 0.5 %..99.5 % quantiles of the observed path.
        const sorted = Float64Array.from(observed.data).sort();
        const lo = sde.quantile(sorted, 0.005);
        const hi = sde.quantile(sorted, 0.995);
        const judged = Array.from(grid, (x) => x >= lo && x <= hi);
        const inMass = judged.filter((j) => j).length;
        let width = 0;
        for (let i = 0; i < grid.length; i++) if (judged[i]) width += b.upper[i] - b.lower[i];
        widths.push(width / inMass);
        // The same rule applied to the posterior's own draws: how often a curve from q itself is
        // inside the pointwise band on >= 90 % of the judged points. Well below 1 (the error of
        // bbar_hat is a smooth curve with a few degrees of freedom, so pointwise bands miss whole
        // stretches at once), hence the rule is reported and the calibration p-value is judged.
        let drawsPassing = 0;
        for (let sIdx = 0; sIdx < bands.samples; sIdx++) {
          const draw = bands.values.subarray(sIdx * grid.length, (sIdx + 1) * grid.length);
          if (bandCoverage(draw, b.lower, b.upper, judged) >= 0.9) drawsPassing++;
        }
        const calibration = bandCalibration(bands.values, bands.samples, grid.length, truth, {
          level: 0.95,
          judged,
        });
        ctx.metric(
          `${prob.name} T=${T}: coverage of true bbar by 95 % band`,
          calibration.coverage,
          null,
          `${inMass} grid points inside the data's 0.5-99.5 % range; docs/benchmarks.md U1: reported, the p-value below is judged`,
        );
        ctx.metric(
          `${prob.name} T=${T}: share of posterior draws inside the 95 % band on >= 90 % of those points`,
          drawsPassing / bands.samples,
          null,
          `${bands.samples} draws: how often the coverage rule passes for a curve from q itself`,
        );
        ctx.metric(
          `${prob.name} T=${T}: posterior p-value of the true bbar (sup distance in band half-widths)`,
          calibration.pValue,
          { op: '>=', value: 0.005 },
          `true bbar ${calibration.distance.toFixed(2)} half-widths from the median at its farthest point; (1 + draws as far) / ${bands.samples + 1}; fails only when it is farther than every draw`,
        );
        ctx.metric(
          `${prob.name} T=${T}: coverage of true bbar by the simultaneous 95 % band`,
          calibration.simultaneous.coverage,
          null,
          `median -/+ ${calibration.simultaneous.factor.toFixed(2)} pointwise half-widths`,
        );
        ctx.metric(`${prob.name} T=${T}: mean band width`, width / inMass, null);
        bandsFor.push({ T, lo: b.lower, hi: b.upper, mean: bands.mean });
        if (T === s.T) forecastModel = { post, observed };
      }
      ctx.metric(
        `${prob.name}: band width ratio (5T / T)`,
        widths[1] / widths[0],
        { op: '<', value: 1 },
        'the band must shrink with more data (about 1/sqrt(5) = 0.45 expected)',
      );

      await ctx.plot(
        `bbar-bands-${prob.name}`,
        `U1: 95 % credible bands of bbar (${prob.name})`,
        `Pointwise 95 % posterior bands of the averaged drift for observation windows T = ${s.T} and ${Tlong}, with the true bbar.`,
        lineChart({
          title: `bbar bands (${prob.name})`,
          xLabel: 'x',
          yLabel: 'bbar',
          curves: [
            { name: 'true bbar', x: grid, y: truth },
            ...bandsFor.map((b) => ({ name: `posterior mean, T=${b.T}`, x: grid, y: b.mean, dashed: true })),
          ],
          bands: bandsFor.map((b) => ({ name: `95 % band, T=${b.T}`, x: grid, lo: b.lo, hi: b.hi })),
        }),
      );

      // Forecast bands beyond the observation window (T): posterior draws x process noise.
      if (forecastModel) {
        const { post, observed } = forecastModel;
        const x0 = Float64Array.from(observed.data.subarray(observed.length - 1, observed.length));
        const fcb = await ctx.stage(`${prob.name} forecast`, () =>
          post.forecastBands(x0, s.forecastT, {
            samples: s.forecastDraws,
            pathsPerDraw: 4,
            levels: [0.95],
            seed: ctx.seedFor(90 + pi),
          }),
        );
        // Saved states are spaced by the observation spacing Delta (dim 1), so time k*Delta is index k.
        const steps = fcb.times.length - 1;
        const fc = { lo: fcb.bands[0].lower, hi: fcb.bands[0].upper, med: fcb.median };
        const start = observed.length - 1;
        const actual = Float64Array.from({ length: steps + 1 }, (_, t) => full.data[start + t]);
        let inside = 0;
        for (let t = 0; t <= steps; t++) if (actual[t] >= fc.lo[t] && actual[t] <= fc.hi[t]) inside++;
        ctx.metric(
          `${prob.name}: forecast 95 % band coverage of the true continuation`,
          inside / (steps + 1),
          null,
          `${s.forecastT} time units after T = ${s.T}; one path, so informational`,
        );
        const past = Math.min(observed.length, Math.round(2 / s.Delta));
        const tPast = Float64Array.from({ length: past }, (_, i) => (i - past + 1) * s.Delta);
        const tFut = fcb.times;
        await ctx.plot(
          `forecast-${prob.name}`,
          `U1: forecast beyond the observation window (${prob.name})`,
          `Last 2 time units of the observed path, then the 95 % predictive band (posterior draws and process noise) and median, with the true continuation.`,
          lineChart({
            title: `forecast (${prob.name}, T=${s.T})`,
            xLabel: 'time after the window',
            yLabel: 'x',
            curves: [
              { name: 'observed', x: tPast, y: observed.data.subarray(observed.length - past) },
              { name: 'true continuation', x: tFut, y: actual },
              { name: 'forecast median', x: tFut, y: fc.med, dashed: true },
            ],
            bands: [{ name: '95 % forecast band', x: tFut, lo: fc.lo, hi: fc.hi }],
          }),
        );
      }
    }
  },
};

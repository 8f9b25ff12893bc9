/**
 * The common run of the averaging cases M1 and M2 (docs/benchmarks.md): generate the slow path with the
 * full slow-fast system, fit the averaged model and the MLP baseline on the observed slow path only,
 * compare drifts with the Monte Carlo truth on a grid, simulate the learned model and compare its
 * stationary PDF and ACF with the data.
 */
import type { AveragedModel, MlpDriftModel } from '@sdekit/averaging';
import type { TimeSeries } from '@sdekit/sde';
import * as sde from '@sdekit/sde';
import type { CaseContext, StageProgress } from '../context.js';
import { lineChart } from '../plots.js';
import {
  bundleAcf,
  bundlePath,
  compareMarginals,
  lagTimes,
  linspace,
  plotAcf,
  plotMarginals,
  plotPaths,
  seriesAcf,
  startsFromSeries,
} from './common.js';

export interface AveragingSizes extends Record<string, number> {
  n: number;
  m: number;
  T: number;
  Delta: number;
  iterations: number;
  L: number;
  baselineIterations: number;
  simPaths: number;
  simT: number;
  acfT: number;
  /** The true system is run for refFactor * T; the first T is observed, the whole run is the ACF reference. */
  refFactor: number;
  gridPoints: number;
  truthSamples: number;
  /** Fast samples behind the learned model's bbar when simulating (fixed set; Monte Carlo bias ~ 1/sqrt). */
  simSamples: number;
}

export interface AveragingSpec {
  /** Axis label of the slow coordinate. */
  label: string;
  gridLo: number;
  gridHi: number;
  mseTarget: number;
  /** Target of baseline MSE / flow MSE (null: reported only). */
  ratioTarget: number | null;
  /** Target of the ACF error against the long true run (null: reported only). */
  acfTarget: number | null;
  /** The slow path of the full system over [0, T]. */
  generate: (T: number, seed: number, progress: (done: number, total: number) => void) => TimeSeries;
  /** The exact bbar on grid points (grid: n*d values) from exact samples of pi_0. */
  trueDrift: (grid: Float64Array) => Float64Array;
  fit: (path: TimeSeries, seed: number, progress: StageProgress) => AveragedModel;
  baseline: (path: TimeSeries, seed: number, progress: StageProgress) => MlpDriftModel;
  /** Constant slow noise sigma (M1, M2: 0.5). */
  sigma: number;
  /** Slow dimension (default 1); for d = 2 the drift grid is the x1 axis with x2 = 0. */
  slowDim?: number;
  /** Tag of one configuration when a case runs several (prefixes metric names, suffixes file names). */
  tag?: string;
  /** Draw the plots (default true). */
  plots?: boolean;
}

/** A grid along the first slow coordinate (others 0), n*d values. */
export function slowGrid(lo: number, hi: number, n: number, d: number): Float64Array {
  const g = linspace(lo, hi, n);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) out[i * d] = g[i];
  return out;
}

export const STATIONARY_LO = -2.5;
export const STATIONARY_HI = 2.5;

/**
 * Stationary density of dX = b(X) dt + sigma dW in one dimension, p(x) ~ exp((2 / sigma^2) int_0^x b),
 * as probability masses on a uniform grid (trapezoidal integral; exact up to the grid), for the true
 * and the learned drift, and KL(p_true || p_learned) by sde.klDivergence.
 */
export function stationaryDensityKl(
  trueDrift: (xs: Float64Array) => Float64Array,
  learnedDrift: (xs: Float64Array) => Float64Array,
  sigma: number,
  n = 501,
): { x: Float64Array; pTrue: Float64Array; pLearned: Float64Array; kl: number } {
  const x = linspace(STATIONARY_LO, STATIONARY_HI, n);
  const dx = x[1] - x[0];
  const masses = (b: Float64Array) => {
    const p = new Float64Array(n);
    for (let i = 1; i < n; i++) p[i] = p[i - 1] + ((2 / (sigma * sigma)) * (b[i - 1] + b[i]) * dx) / 2;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of p) max = Math.max(max, v);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      p[i] = Math.exp(p[i] - max);
      sum += p[i];
    }
    for (let i = 0; i < n; i++) p[i] /= sum;
    return p;
  };
  const pTrue = masses(trueDrift(x));
  const pLearned = masses(learnedDrift(x));
  return { x, pTrue, pLearned, kl: sde.klDivergence(pTrue, pLearned) };
}

/** First coordinate of every grid point. */
function firstCoord(a: Float64Array, d: number): Float64Array {
  return Float64Array.from({ length: a.length / d }, (_, i) => a[i * d]);
}

export async function averagingCase(
  ctx: CaseContext,
  s: AveragingSizes,
  spec: AveragingSpec,
): Promise<{ model: AveragedModel; observed: TimeSeries }> {
  const d = spec.slowDim ?? 1;
  const tag = spec.tag ?? '';
  const mName = (n: string) => (tag ? `${tag}: ${n}` : n);
  const fSuffix = tag ? `-${tag.replace(/[^A-Za-z0-9]+/g, '')}` : '';
  const stage = (n: string) => (tag ? `${n} ${tag}` : n);
  const reference = await ctx.stage(stage('data'), (progress) =>
    spec.generate(s.T * s.refFactor, ctx.seedFor(1), (a, b) => progress(a / b)),
  );
  const nObs = Math.round(s.T / reference.dt) + 1;
  const observed = sde.timeSeries(reference.data.slice(0, nObs * d), d, reference.dt, reference.t0);
  await ctx.saveSeries(
    `observed${fSuffix}`,
    observed.data,
    [observed.length, d],
    `observed slow path, Delta = ${observed.dt}`,
  );
  await ctx.saveSeries(
    `reference${fSuffix}`,
    reference.data,
    [reference.length, d],
    `true slow path over ${s.T * s.refFactor} time units (its first ${s.T} are the observed path; the rest is never used for learning)`,
  );
  const model = await ctx.stage(stage('learn'), (progress) => spec.fit(observed, ctx.seedFor(2), progress));
  await ctx.saveModel(
    `averaged${fSuffix}`,
    model.toJSON(),
    'averaged model: flow for pi_0 + known coefficients',
  );
  for (const w of model.training.warnings) ctx.warn(`fitAveraged: ${w}`);
  const baseline = await ctx.stage(stage('baseline'), (progress) =>
    spec.baseline(observed, ctx.seedFor(3), progress),
  );
  await ctx.saveModel(
    `mlp-baseline${fSuffix}`,
    baseline.toJSON(),
    'unstructured MLP drift fitted to the same likelihood',
  );

  const grid = slowGrid(spec.gridLo, spec.gridHi, s.gridPoints, d);
  const drifts = await ctx.stage(stage('drift'), () => {
    const truth = spec.trueDrift(grid);
    const learned = model.bbar(grid, { fastSamples: 8192, seed: ctx.seedFor(4) });
    const base = baseline.drift(grid);
    return { truth, learned, base };
  });

  const sim = await ctx.stage(stage('simulate'), (progress) => {
    const x0 = startsFromSeries(observed, s.simPaths);
    return sde.simulate(model.system({ fastSamples: s.simSamples, seed: ctx.seedFor(5) }), {
      x0,
      paths: s.simPaths,
      h: s.Delta,
      T: s.simT,
      burnIn: Math.round(5 / s.Delta),
      seed: ctx.seedFor(6),
      onProgress: (a, b) => progress(a / b),
    });
  });
  await ctx.saveSeries(
    `simulated${fSuffix}`,
    sim.data,
    [sim.paths, sim.length, d],
    `learned averaged-model paths, dt = ${sim.dt}`,
  );

  await ctx.stage(stage('metrics'), async () => {
    const mse = sde.driftMse(drifts.learned.value, drifts.truth, d);
    const mseBase = sde.driftMse(drifts.base, drifts.truth, d);
    ctx.metric(
      mName('drift MSE (flow)'),
      mse,
      { op: '<', value: spec.mseTarget },
      `grid of ${s.gridPoints} points over [${spec.gridLo}, ${spec.gridHi}]`,
    );
    // The Monte Carlo part of the flow's MSE: mean squared standard error of its bbar on the grid
    // (the truth's own noise, from many more exact samples, is smaller still).
    const flowSe = drifts.learned.stdError;
    let mcPart = 0;
    for (let i = 0; i < flowSe.length; i++) mcPart += flowSe[i] * flowSe[i];
    ctx.metric(mName('drift MSE (flow), Monte Carlo part'), mcPart / flowSe.length, null);
    ctx.metric(mName('drift MSE (MLP baseline)'), mseBase, null);
    ctx.metric(
      mName('baseline MSE / flow MSE'),
      mseBase / mse,
      spec.ratioTarget === null ? null : { op: '>=', value: spec.ratioTarget },
    );
    // Stationary PDF. Well-to-well transitions are rare (correlation time ~40 time units for M1), so
    // histograms of any affordable run carry occupancy noise of ~10 %: path-based KLs are reported
    // (against the long true run and the observed window) but, for d = 1, the criterion compares the
    // exact stationary densities of the true and the learned averaged SDE, p ~ exp(2/sigma^2 int bbar).
    const cmp = compareMarginals(reference.data, sim.data, d);
    const cmpObs = compareMarginals(observed.data, sim.data, d);
    const cmpOwn = compareMarginals(reference.data, observed.data, d);
    const densityKl =
      d === 1
        ? stationaryDensityKl(
            spec.trueDrift,
            (xs) => model.bbar(xs, { fastSamples: 8192, seed: ctx.seedFor(4) }).value,
            spec.sigma,
          )
        : null;
    if (densityKl !== null) {
      ctx.metric(
        mName('stationary-density KL (true vs learned averaged SDE)'),
        densityKl.kl,
        { op: '<', value: 0.02 },
        `p ~ exp(2/sigma^2 int bbar) on [${STATIONARY_LO}, ${STATIONARY_HI}], no sampling noise`,
      );
    }
    for (let j = 0; j < d; j++) {
      const c = `${spec.label}${d > 1 ? j + 1 : ''}`;
      ctx.metric(
        mName(`path marginal KL ${c} vs long true run`),
        cmp.kl[j],
        d === 1 ? null : { op: '<', value: 0.02 },
        `true system over ${s.T * s.refFactor} time units vs ${s.simPaths} x ${s.simT} of the learned model`,
      );
      ctx.metric(mName(`path marginal KL ${c} vs observed window`), cmpObs.kl[j], null);
      // The observed window's own histogram against the long true run: how far the data alone are from
      // the stationary law (a short window can sit in one well far longer than the law says:
      // benchmarks README, findings), the scale against which the model's KLs are read.
      ctx.metric(
        mName(`path marginal KL ${c}, observed window vs long true run (the data's own distance)`),
        cmpOwn.kl[j],
        null,
        `the ${s.T} observed time units against the ${s.T * s.refFactor} of the true system`,
      );
    }
    const maxLag = Math.round(s.acfT / s.Delta);
    const acfData = seriesAcf(observed.data, d, maxLag);
    const acfRef = seriesAcf(reference.data, d, maxLag);
    const acfModel = bundleAcf(sim, maxLag);
    ctx.metric(
      mName('ACF error vs long true run'),
      sde.acfError(acfRef, acfModel),
      spec.acfTarget === null ? null : { op: '<', value: spec.acfTarget },
      `lags 0..${s.acfT} time units; reference: the true system over ${s.T * s.refFactor} time units${spec.acfTarget === null ? '' : ' (our target)'}`,
    );
    // How far apart two independent stretches of the truth itself are: the ACF of a double well at
    // these lags is set by the occupancy of the wells, which a few well-to-well excursions decide.
    const half = Math.floor(reference.length / 2);
    ctx.metric(
      mName('ACF error between the halves of the long true run (noise floor)'),
      sde.acfError(
        seriesAcf(reference.data.subarray(0, half * d), d, maxLag),
        seriesAcf(reference.data.subarray(half * d, 2 * half * d), d, maxLag),
      ),
      null,
      `two stretches of ${((half - 1) * s.Delta).toFixed(0)} time units of the true system`,
    );
    ctx.metric(
      mName('ACF error vs observed window'),
      sde.acfError(acfData, acfModel),
      null,
      `the observed ${s.T} time units alone give a noisy ACF (few well-to-well transitions)`,
    );
    ctx.recordSizes({ [mName('observations')]: observed.length, [mName('flowParams')]: model.numParams });
    if (spec.plots === false) return;

    const x = firstCoord(grid, d);
    const se = firstCoord(drifts.learned.stdError, d);
    const lv = firstCoord(drifts.learned.value, d);
    await ctx.plot(
      `bbar${fSuffix}`,
      `${ctx.id}: learned vs true bbar${tag ? ` (${tag})` : ''}`,
      `Averaged drift on the grid: Monte Carlo truth from exact samples of pi_0, the flow model (band: +-2 Monte Carlo standard errors), and the unstructured MLP baseline.`,
      lineChart({
        title: 'bbar',
        xLabel: spec.label,
        yLabel: 'bbar',
        curves: [
          { name: 'true', x, y: firstCoord(drifts.truth, d) },
          { name: 'flow model', x, y: lv, dashed: true },
          { name: 'MLP baseline', x, y: firstCoord(drifts.base, d) },
        ],
        bands: [
          {
            name: 'flow +-2 MC s.e.',
            x,
            lo: lv.map((v, i) => v - 2 * se[i]),
            hi: lv.map((v, i) => v + 2 * se[i]),
          },
        ],
      }),
    );
    const w = densityKl === null ? 1 : densityKl.x[1] - densityKl.x[0];
    const exact = densityKl === null ? undefined : [{ x: densityKl.x, p: densityKl.pTrue.map((v) => v / w) }];
    await plotMarginals(
      ctx,
      cmp,
      d === 1 ? [spec.label] : [`${spec.label}1`, `${spec.label}2`],
      exact,
      fSuffix,
      `the true system over ${s.T * s.refFactor} time units`,
    );
    if (densityKl !== null) {
      await ctx.plot(
        `stationary-density${fSuffix}`,
        `${ctx.id}: stationary density of the true and the learned averaged SDE${tag ? ` (${tag})` : ''}`,
        `p(x) ~ exp((2/sigma^2) int bbar) from the true bbar and from the learned bbar (KL ${densityKl.kl.toExponential(2)}); no sampling noise.`,
        lineChart({
          title: 'stationary density (from the drifts)',
          xLabel: spec.label,
          yLabel: 'density',
          curves: [
            { name: 'true averaged SDE', x: densityKl.x, y: densityKl.pTrue.map((v) => v / w) },
            {
              name: 'learned averaged SDE',
              x: densityKl.x,
              y: densityKl.pLearned.map((v) => v / w),
              dashed: true,
            },
          ],
        }),
      );
    }
    await plotAcf(
      ctx,
      s.Delta,
      acfData,
      acfModel,
      [{ name: `true system, ${s.T * s.refFactor} time units`, x: lagTimes(maxLag, s.Delta), y: acfRef }],
      tag ? ` (${tag})` : '',
      fSuffix,
    );
    await plotPaths(
      ctx,
      observed,
      bundlePath(sim, 0),
      sim.dt,
      0,
      d === 1 ? spec.label : `${spec.label}1`,
      Math.min(50, s.T),
      fSuffix,
    );
  });
  return { model, observed };
}

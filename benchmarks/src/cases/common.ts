/**
 * Shared steps of the cases: the stages of the Langevin cases T1-T3 (observe, learn, simulate, record
 * the fit), comparing data and model statistics with the @sdekit/sde statistics (never re-implemented
 * here) and drawing the standard plots (marginal PDFs, ACFs, sample paths).
 */

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { backendPreference, readNpy, savedModelSystemSpec, writeNpy } from '@sdekit/cli';
import { fitLangevin, type LangevinModel, type LangevinOptions, type LangevinProgress } from '@sdekit/score';
import type { PathBundle, SdeSystem, TimeSeries } from '@sdekit/sde';
import * as sde from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { CaseContext, StageProgress } from '../context.js';
import { type Curve, lineChart } from '../plots.js';

/** Data of one path bundle, path p, as a plain row-major series (a view). */
export function bundlePath(b: PathBundle, p: number): Float64Array {
  const size = b.length * b.dim;
  return b.data.subarray(p * size, (p + 1) * size);
}

/** Per-coordinate marginal comparison of data and model samples on a common grid. */
export interface MarginalComparison {
  /** KL(p_data || p_model) per coordinate (floor 1e-10). */
  readonly kl: Float64Array;
  readonly hellinger: Float64Array;
  /** Bin centres and densities per coordinate, for plots. */
  readonly grids: Array<{ x: Float64Array; data: Float64Array; model: Float64Array }>;
}

/**
 * Compares the 1-D marginals of `data` and `model` (both row-major batches of dimension dim) with
 * sde's histogram-based KL and Hellinger distance on a common grid.
 */
export function compareMarginals(
  data: Float64Array,
  model: Float64Array,
  dim: number,
  bins = 60,
): MarginalComparison {
  const kl = new Float64Array(dim);
  const hellinger = new Float64Array(dim);
  const grids: MarginalComparison['grids'] = [];
  const res = sde.marginalKL(data, model, dim, { bins });
  for (let j = 0; j < dim; j++) {
    kl[j] = res.kl[j];
    hellinger[j] = res.hellinger[j];
    const grid = res.grids[j];
    grids.push({
      x: grid.centers,
      data: sde.histogram(sde.column(data, dim, j), grid).density,
      model: sde.histogram(sde.column(model, dim, j), grid).density,
    });
  }
  return { kl, hellinger, grids };
}

/** The normalised ACF of one series averaged over coordinates, lags 0..maxLag (sde.acf). */
export function seriesAcf(data: Float64Array, dim: number, maxLag: number): Float64Array {
  return sde.acf(data, dim, maxLag);
}

/**
 * The ACF of a bundle's paths with mean, variance and lag products pooled over all paths
 * (sde.acfPooled): averaging each path's own normalised ACF is biased toward 0 when the paths are
 * not much longer than the correlation time (T3: 50 time units against ~100).
 */
export function bundleAcf(b: PathBundle, maxLag: number): Float64Array {
  return sde.acfPooled(b.data, b.dim, b.paths, maxLag);
}

/** Lags as times: k * dt. */
export function lagTimes(maxLag: number, dt: number): Float64Array {
  return Float64Array.from({ length: maxLag + 1 }, (_, k) => k * dt);
}

/** Coordinate j of the first maxPoints points of a row-major batch (sde.column). */
export function coordinate(
  data: Float64Array,
  dim: number,
  j: number,
  maxPoints = Number.POSITIVE_INFINITY,
): Float64Array {
  const n = Math.min(data.length / dim, maxPoints);
  return sde.column(data.subarray(0, n * dim), dim, j);
}

/** Maps fitLangevin's staged progress to a fraction (score training is most of the work). */
export function langevinProgress(progress: StageProgress): (p: LangevinProgress) => void {
  const after: Record<string, number> = { stein: 0.9, partition: 0.93, generator: 0.97, done: 1 };
  return (p) => {
    if (p.stage === 'score' && p.training)
      progress((0.9 * p.training.step) / p.training.steps, `loss ${p.training.loss.toFixed(4)}`);
    else progress(after[p.stage] ?? 0, p.stage);
  };
}

/**
 * Data and learning sizes of T1 and T2, which docs/benchmarks.md gives alike: Euler-Maruyama step 1e-3,
 * observed every dt = 0.01 for T = 2e3 (quick) or 2e4 (full) time units (after our burn-in of 10),
 * learned in z-scored units with sigma = 0.05 (dsmSteps apply when the score is 'dsm-mlp').
 */
export const SDE_DATA_SIZES = {
  // bootstrap: block-bootstrap replicates for the error bars of Phi (0: none, for tiny test runs).
  quick: {
    T: 2000,
    h: 1e-3,
    dt: 0.01,
    burnIn: 10,
    sigma: 0.05,
    score: 'kgmm',
    dsmSteps: 3000,
    bootstrap: 200,
  },
  full: {
    T: 20000,
    h: 1e-3,
    dt: 0.01,
    burnIn: 10,
    sigma: 0.05,
    score: 'kgmm',
    dsmSteps: 8000,
    bootstrap: 200,
  },
};

/**
 * The 'data' stage of T1 and T2: one path of the true system (seedFor(1)) over T time units after
 * the burn-in, saved as the 'observed' series.
 */
export async function observeTruth(
  ctx: CaseContext,
  truth: SdeSystem,
  x0: Float64Array,
  s: { T: number; h: number; dt: number; burnIn: number },
): Promise<TimeSeries> {
  const observed = await ctx.stage('data', (progress) => {
    const run = { paths: 1, T: s.T, dt: s.dt, h: s.h, burnIn: s.burnIn, seed: ctx.seedFor(1), progress };
    return sde.pathOf(simulateSaved(truth, x0, run), 0);
  });
  await ctx.saveSeries(
    'observed',
    observed.data,
    [observed.length, observed.dim],
    `observed series, dt = ${observed.dt}`,
  );
  return observed;
}

/** One simulation of a case: paths over T time units after burnIn time units, step h, saved every dt. */
export interface SavedRun {
  paths: number;
  T: number;
  /** Saving interval; a whole number of steps h. */
  dt: number;
  h: number;
  /** Time integrated and discarded before the first saved point. */
  burnIn: number;
  seed: number;
  /** Start time of the integration (default 0). */
  t0?: number;
  progress?: StageProgress;
}

/** The sde.simulate options of a run given in time units (steps and saving stride rounded from h). */
function simulateOptions(x0: Float64Array, run: SavedRun): sde.SimulateOptions {
  const { progress } = run;
  return {
    x0,
    paths: run.paths,
    h: run.h,
    T: run.T,
    saveEvery: Math.round(run.dt / run.h),
    burnIn: Math.round(run.burnIn / run.h),
    seed: run.seed,
    t0: run.t0,
    onProgress: progress ? (d, t) => progress(d / t) : undefined,
  };
}

/** sde.simulate with the run given in time units (steps and saving stride rounded from h). */
export function simulateSaved(system: SdeSystem, x0: Float64Array, run: SavedRun): PathBundle {
  return sde.simulate(system, simulateOptions(x0, run));
}

/**
 * What a learned-model simulation integrates: a system in this thread, or a system that worker
 * threads build (`sde.simulateParallel`; the paths are bit-identical for any thread count).
 */
export type SimulationTarget = SdeSystem | { spec: sde.SystemSpec; threads: number };

/**
 * The learned Langevin model as a target on min(maxThreads, cores, paths) threads: worker threads
 * that rebuild it from its JSON when that is more than one, else its system in this thread. Workers
 * pay off for a compute-bound drift (the full T3 U-Net; benchmarks README, findings); a small
 * network's time is per-call overhead, which every worker pays in full.
 */
export function learnedTarget(
  model: LangevinModel,
  modelJson: Record<string, unknown>,
  paths: number,
  maxThreads: number,
): SimulationTarget {
  const threads = Math.min(maxThreads, availableParallelism(), paths);
  if (threads <= 1) return model.system();
  return {
    spec: savedModelSystemSpec(modelJson, { backend: backendPreference(tf.getBackend()) }),
    threads,
  };
}

/** simulateSaved of a target: in this thread, or over its worker threads. */
export async function simulateTarget(
  target: SimulationTarget,
  x0: Float64Array,
  run: SavedRun,
): Promise<PathBundle> {
  if ('spec' in target) {
    // A network drift has a large cost per call: each worker advances its paths in one batch.
    return sde.simulateParallel(target.spec, {
      ...simulateOptions(x0, run),
      threads: target.threads,
      chunkPaths: run.paths,
    });
  }
  return simulateSaved(target, x0, run);
}

/** The model-path sizes of T1-T3: simPaths paths of simT time units, saved every dt. */
export interface SimulationSizes {
  simPaths: number;
  simT: number;
  dt: number;
}

/**
 * simPaths paths of `system` like the learned model's (simulateSaved with the case's sizes): the
 * learned model itself, or a reference system whose metrics give the noise floor of the criterion.
 */
export function simulateLikeModel(
  system: SdeSystem,
  x0: Float64Array,
  s: SimulationSizes,
  run: { h: number; burnIn: number; seed: number; progress?: StageProgress },
): PathBundle {
  return simulateSaved(system, x0, { paths: s.simPaths, T: s.simT, dt: s.dt, ...run });
}

/** Index in a series of `length` samples where path p of `paths` starts: floor((p + offset) length / paths). */
export function startIndex(p: number, length: number, paths: number, offset = 0.5): number {
  return Math.floor(((p + offset) * length) / paths);
}

/** Starts of `paths` simulated paths: observed points spread evenly over the series (`startIndex`). */
export function startsFromSeries(observed: TimeSeries, paths: number, offset = 0.5): Float64Array {
  const dim = observed.dim;
  const x0 = new Float64Array(paths * dim);
  for (let p = 0; p < paths; p++) {
    const k = startIndex(p, observed.length, paths, offset);
    x0.set(observed.data.subarray(k * dim, (k + 1) * dim), p * dim);
  }
  return x0;
}

/** The 'learn' stage of T1-T3: fitLangevin with the case's options, seedFor(2) and staged progress. */
export function learnLangevin(
  ctx: CaseContext,
  observed: TimeSeries,
  options: Omit<LangevinOptions, 'seed' | 'onProgress'>,
): Promise<LangevinModel> {
  return ctx.stage('learn', (progress) =>
    fitLangevin(observed, { ...options, seed: ctx.seedFor(2), onProgress: langevinProgress(progress) }),
  );
}

/** Progress of a chunked simulation, written after every chunk (see `simulateInChunks`). */
interface SimulationCheckpoint {
  format: 'sdekit-bench.simulation-checkpoint';
  version: 1;
  /** Settings that must match to resume. */
  settings: {
    paths: number;
    dim: number;
    length: number;
    h: number;
    dt: number;
    chunkT: number;
    burnIn: number;
    seed: number;
    /** Fingerprint of the simulated model: paths of another model are never continued. */
    model: string;
  };
  chunksDone: number;
  /** Saved states per path written so far (the rest of the .npy is zeros). */
  filled: number;
}

/**
 * simulateLikeModel in chunks of `chunkT` time units, for runs of hours (T3 full): chunk k continues
 * from the last state of chunk k - 1 with its own noise stream (seed + k; burn-in in chunk 0 only),
 * so the result does not depend on where a run was interrupted. After each chunk the paths so far
 * (`checkpoints/<ID>-simulate.npy`) and the progress (`-simulate.json`) are written; with --resume
 * an interrupted simulation continues from them. The .npy is written before the .json, so a kill
 * between the two leaves a consistent (older) progress record.
 */
export async function simulateInChunks(
  ctx: CaseContext,
  target: SimulationTarget,
  x0: Float64Array,
  s: SimulationSizes & { simH: number; simChunkT: number },
  burnIn: number,
  progress: StageProgress,
  modelKey: string,
): Promise<PathBundle> {
  const paths = s.simPaths;
  const dim = 'spec' in target ? x0.length / paths : target.dim;
  const chunkT = s.simChunkT;
  const chunks = Math.ceil(s.simT / chunkT - 1e-9);
  const length = Math.round(s.simT / s.dt) + 1;
  const settings = {
    paths,
    dim,
    length,
    h: s.simH,
    dt: s.dt,
    chunkT,
    burnIn,
    seed: learnedSimulationSeed(ctx),
    model: modelKey,
  };
  const store = ctx.checkpoint<SimulationCheckpoint>('simulate');
  const npyFile = ctx.checkpointFile('simulate.npy');
  const data = new Float64Array(paths * length * dim);
  let chunksDone = 0;
  let filled = 0;
  const saved = store.load();
  if (saved !== null) {
    const differ = sde.differingSettings(settings, saved.settings);
    if (saved.format !== 'sdekit-bench.simulation-checkpoint' || differ.length > 0) {
      throw new sde.InvalidArgumentError(
        'resume',
        `the simulation checkpoint ${npyFile} belongs to another run (differs in ${differ.join(', ') || 'format'})`,
        'resume with the sizes and seed of the interrupted run, or run without --resume',
      );
    }
    const npy = await readNpy(npyFile);
    if (npy.data.length !== data.length) {
      throw new sde.DimensionError(
        'resume',
        `${npyFile} holds ${npy.data.length} values, expected ${data.length}`,
        'run without --resume',
      );
    }
    data.set(npy.data);
    chunksDone = saved.chunksDone;
    filled = saved.filled;
  }
  const state = new Float64Array(paths * dim);
  const lastState = () => {
    for (let p = 0; p < paths; p++)
      state.set(data.subarray((p * length + filled - 1) * dim, (p * length + filled) * dim), p * dim);
    return state;
  };
  // Time of the first saved state (the burn-in rounded to whole steps, as simulate does).
  const start = Math.round(burnIn / s.simH) * s.simH;
  for (let k = chunksDone; k < chunks; k++) {
    const T = Math.min(chunkT, s.simT - k * chunkT);
    const part = await simulateTarget(target, k === 0 ? x0 : lastState(), {
      paths,
      T,
      dt: s.dt,
      h: s.simH,
      burnIn: k === 0 ? burnIn : 0,
      t0: k === 0 ? 0 : start + k * chunkT,
      seed: settings.seed + k,
      progress: (f) => progress((k + f) / chunks, `chunk ${k + 1}/${chunks}`),
    });
    // Chunk k > 0 starts at the state that ends chunk k - 1: skip its first saved state.
    const skip = k === 0 ? 0 : 1;
    const take = Math.min(part.length - skip, length - filled);
    for (let p = 0; p < paths; p++) {
      const from = (p * part.length + skip) * dim;
      data.set(part.data.subarray(from, from + take * dim), (p * length + filled) * dim);
    }
    filled += take;
    await mkdir(dirname(npyFile), { recursive: true });
    await writeNpy(npyFile, data, [paths, length, dim]);
    store.save({
      format: 'sdekit-bench.simulation-checkpoint',
      version: 1,
      settings,
      chunksDone: k + 1,
      filled,
    });
  }
  return { data, dim, length, paths, dt: s.dt, t0: start };
}

/** SHA-256 of a model's JSON text: the fingerprint that ties a simulation checkpoint to its model. */
export function modelFingerprint(json: unknown): string {
  return createHash('sha256').update(JSON.stringify(json)).digest('hex');
}

/**
 * Seed of the learned model's paths (`simulateLearned`, the chunks of `simulateInChunks` from it): a
 * reference model simulated with it, the same starts, step and burn-in is driven by the same Brownian
 * increments (common random numbers) when it has the same noise layout size (T1: one normal per
 * path and step).
 */
export function learnedSimulationSeed(ctx: CaseContext): number {
  return ctx.seedFor(3);
}

/**
 * The 'simulate' stage of T1-T3: paths of the learned model (its system, or a `learnedTarget`;
 * `learnedSimulationSeed`, step simH) from x0 (one start per path), saved as the 'simulated' series. With
 * `simChunkT` > 0 the paths are simulated in resumable chunks of that many time units
 * (`simulateInChunks`), tied to the model by `modelKey` (`modelFingerprint` of its JSON).
 */
export async function simulateLearned(
  ctx: CaseContext,
  learned: SimulationTarget,
  x0: Float64Array,
  s: SimulationSizes & { simH: number; simChunkT?: number },
  burnIn: number,
  modelKey = '',
): Promise<PathBundle> {
  const chunkT = s.simChunkT ?? 0;
  if (chunkT > 0 && modelKey === '') {
    throw new sde.InvalidArgumentError(
      'modelKey',
      'is empty, but a chunked simulation ties its checkpoint to the model',
      'pass modelFingerprint(model.toJSON())',
    );
  }
  // The thread count changes the stage's time, not its paths.
  ctx.recordSizes({ simThreads: 'spec' in learned ? learned.threads : 1 });
  const sim = await ctx.stage('simulate', (progress) =>
    chunkT > 0
      ? simulateInChunks(ctx, learned, x0, { ...s, simChunkT: chunkT }, burnIn, progress, modelKey)
      : simulateTarget(learned, x0, {
          paths: s.simPaths,
          T: s.simT,
          dt: s.dt,
          h: s.simH,
          burnIn,
          seed: learnedSimulationSeed(ctx),
          progress,
        }),
  );
  await ctx.saveSeries(
    'simulated',
    sim.data,
    [sim.paths, sim.length, sim.dim],
    `learned-model paths, dt = ${sim.dt}`,
  );
  return sim;
}

/**
 * Records a Langevin fit's sizes (observations, `extra`, Phi_S shift, partition cells, the Stein
 * matrix's smallest singular value) and passes its warnings on.
 */
export function recordLangevinFit(
  ctx: CaseContext,
  observed: TimeSeries,
  model: LangevinModel,
  extra: Record<string, number> = {},
): void {
  const d = model.diagnostics;
  ctx.recordSizes({
    observations: observed.length,
    ...extra,
    phiShift: d.shift,
    cells: d.cells,
    // NaN (not JSON) only for models read from files older than the diagnostic.
    ...(Number.isFinite(d.steinMinSingularValue) ? { steinMinSingularValue: d.steinMinSingularValue } : {}),
  });
  for (const w of d.warnings) ctx.warn(`fitLangevin: ${w}`);
  if (d.regime) {
    ctx.metric(
      'increment slope (regime)',
      d.regime.slope,
      null,
      `${d.regime.regime}: E|x(t + k dt) - x(t)|^2 ~ k^slope over k = ${d.regime.lags.join(', ')} (1 diffusive, 2 smooth); Cdot by the ${d.cdotEstimator} estimator (${d.cdotChoice})`,
    );
  }
  const u = model.original.uncertainty;
  if (u) {
    ctx.metric(
      'Phi relative standard error',
      sde.frobeniusNorm(u.phi.se) / sde.frobeniusNorm(model.original.phi),
      null,
      `||SE(Phi)||_F / ||Phi||_F, block bootstrap (${u.replicates} replicates of ${u.blocks} ${u.runsAsBlocks ? 'runs' : 'blocks'}), score held fixed`,
    );
    ctx.metric('Phi_S relative standard error', u.phiSRelativeSE, null, '||SE(Phi_S)||_F / ||Phi_S||_F');
  }
}

/**
 * Delete-a-group jackknife (`sde.groupJackknife`) of a statistic of path bundles that share their
 * paths' noise (common random numbers): group g, paths [floor(g P / G), floor((g + 1) P / G)), is
 * left out of every bundle at once. G is at most the number of paths P; the groups are of equal size
 * when G divides P.
 */
export function pathJackknife(
  bundles: readonly PathBundle[],
  groups: number,
  statistic: (bundles: readonly PathBundle[]) => number,
): sde.JackknifeEstimate {
  const paths = bundles[0].paths;
  if (bundles.some((b) => b.paths !== paths) || groups > paths) {
    throw new sde.InvalidArgumentError(
      'groups',
      `${groups} groups of the paths of bundles of ${bundles.map((b) => b.paths).join(', ')} paths`,
      'pass bundles of equal path counts and at most that many groups',
    );
  }
  const bound = (g: number) => Math.floor((g * paths) / groups);
  return sde.groupJackknife(groups, (g) =>
    statistic(bundles.map((b) => sde.withoutPaths(b, bound(g), bound(g + 1)))),
  );
}

/**
 * Records the ACF error of paths of the true system simulated like the learned model's: the sampling
 * noise of the ACF criterion itself.
 */
export function acfNoiseFloorMetric(ctx: CaseContext, acfData: Float64Array, twin: PathBundle): void {
  ctx.metric(
    'ACF error of the true system (noise floor)',
    sde.acfError(acfData, bundleAcf(twin, acfData.length - 1)),
    null,
    'the true SDE simulated with the same paths and lengths as the learned model',
  );
}

/** Draws the marginal PDFs (data vs model, optionally the exact density) of every coordinate in one figure each. */
export async function plotMarginals(
  ctx: CaseContext,
  cmp: MarginalComparison,
  labels: readonly string[],
  exact?: Array<{ x: Float64Array; p: Float64Array } | null>,
  suffix = '',
  dataName = 'the observed series',
): Promise<void> {
  for (let j = 0; j < cmp.grids.length && j < labels.length; j++) {
    const g = cmp.grids[j];
    const curves: Curve[] = [
      { name: dataName === 'the observed series' ? 'data' : dataName, x: g.x, y: g.data },
      { name: 'learned model', x: g.x, y: g.model, dashed: true },
    ];
    const e = exact?.[j];
    if (e) curves.push({ name: 'exact stationary density', x: e.x, y: e.p });
    await ctx.plot(
      `pdf-${labels[j]}${suffix}`,
      `${ctx.id}: marginal PDF of ${labels[j]}`,
      `Histogram density of ${labels[j]} from ${dataName} and from paths of the learned model (KL ${cmp.kl[j].toExponential(2)}, Hellinger ${cmp.hellinger[j].toFixed(3)}).`,
      lineChart({ title: `PDF of ${labels[j]}`, xLabel: labels[j], yLabel: 'density', curves }),
    );
  }
}

/** Draws the data and model ACFs against lag time. */
export async function plotAcf(
  ctx: CaseContext,
  dt: number,
  acfData: Float64Array,
  acfModel: Float64Array,
  extra: Curve[] = [],
  note = '',
  suffix = '',
): Promise<void> {
  const t = lagTimes(acfData.length - 1, dt);
  await ctx.plot(
    `acf${suffix}`,
    `${ctx.id}: autocorrelation${note}`,
    `Normalised ACF averaged over coordinates, data vs learned model${note}.`,
    lineChart({
      title: 'ACF',
      xLabel: 'lag (time units)',
      yLabel: 'ACF',
      curves: [
        { name: 'data', x: t, y: acfData },
        { name: 'learned model', x: t, y: acfModel, dashed: true },
        ...extra,
      ],
    }),
  );
}

/** Draws a stretch of the observed path and of a learned-model path for coordinate j. */
export async function plotPaths(
  ctx: CaseContext,
  observed: TimeSeries,
  model: Float64Array,
  modelDt: number,
  j: number,
  label: string,
  duration: number,
  suffix = '',
): Promise<void> {
  const nObs = Math.min(observed.length, Math.round(duration / observed.dt) + 1);
  const nMod = Math.min(model.length / observed.dim, Math.round(duration / modelDt) + 1);
  const obs = coordinate(observed.data, observed.dim, j, nObs);
  const mod = coordinate(model, observed.dim, j, nMod);
  await ctx.plot(
    `paths-${label}${suffix}`,
    `${ctx.id}: sample paths of ${label}`,
    `The first ${duration} time units of the observed series and of one path of the learned model (independent noise, so only the statistics should agree).`,
    lineChart({
      title: `sample paths (${label})`,
      xLabel: 'time',
      yLabel: label,
      width: 560,
      height: 200,
      curves: [
        { name: 'data', x: Float64Array.from(obs, (_, i) => i * observed.dt), y: obs },
        { name: 'learned model', x: Float64Array.from(mod, (_, i) => i * modelDt), y: mod },
      ],
    }),
  );
}

/** Uniform grid of n points on [lo, hi]. */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/**
 * Generator settings passed to fitLangevin by T1-T3: a fine tree partition (p_min = 3e-4, about
 * 2500 cells) without the finite-dt correction. Chosen on T2 with the exact score: the library
 * default (p_min 0.01, per-state correction) overestimates Phi on a diffusion sampled at dt = 0.01,
 * while this setting recovers it (benchmarks README, findings); the estimate then approaches the
 * finite-difference Cdot = (C(dt) - C(0)) / dt.
 */
export const GENERATOR = { pMin: 3e-4, correction: 'none' } as const;

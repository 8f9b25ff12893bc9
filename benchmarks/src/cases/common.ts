/**
 * Shared steps of the cases: comparing data and model statistics with the @sdekit/sde statistics
 * (never re-implemented here) and drawing the standard plots (marginal PDFs, ACFs, sample paths).
 */

import type { LangevinProgress } from '@sdekit/score';
import type { PathBundle, TimeSeries } from '@sdekit/sde';
import * as sde from '@sdekit/sde';
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
 * 2500 cells) without the finite-dt correction. Measured on T2 with the exact score (see
 * .coord/requests.md): the library default (p_min 0.01, per-state correction) overestimates Phi
 * 2-3x on a diffusion sampled at dt = 0.01, while this setting recovers it within about 6 %; the
 * estimate then approaches the finite-difference Cdot = (C(dt) - C(0)) / dt.
 */
export const GENERATOR = { pMin: 3e-4, correction: 'none' } as const;

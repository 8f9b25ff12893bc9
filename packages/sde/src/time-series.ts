import { DimensionError, InvalidArgumentError } from './errors.js';
import type { PathBundle, TimeSeries } from './types.js';
import { checkFinite, checkInteger, checkPositive } from './validate.js';

/**
 * A validated TimeSeries: data of length (a multiple of) dim, finite values, dt > 0.
 *
 * @example
 * const ts = timeSeries(Float64Array.of(0, 0.1, 0.3), 1, 0.01); // 3 samples of a 1-D series
 */
export function timeSeries(data: Float64Array, dim: number, dt: number, t0 = 0): TimeSeries {
  checkInteger('dim', dim, 1);
  if (!(data instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'data',
      'must be a Float64Array',
      'convert with Float64Array.from(values)',
    );
  }
  if (data.length === 0 || data.length % dim !== 0) {
    throw new DimensionError(
      'data',
      `length ${data.length} is not a positive multiple of dim = ${dim}`,
      'pass length * dim values (time k, coordinate j at k * dim + j)',
    );
  }
  checkPositive('dt', dt);
  if (!Number.isFinite(t0))
    throw new InvalidArgumentError('t0', `must be finite, got ${t0}`, 'pass a finite start time');
  checkFinite('data', data);
  return { data, dim, length: data.length / dim, dt, t0 };
}

/** Several independent series of one process joined into one, with the index where each begins. */
export interface SegmentedSeries {
  /** The samples of every segment, one after the other (t0 of the first segment). */
  series: TimeSeries;
  /** Index of the first sample of every segment after the first (increasing, in (0, length)). */
  segmentStarts: Int32Array;
}

/**
 * Joins independent series of the same process (same dim and sampling interval) into one, keeping
 * where each begins, so that estimators of transitions (the generator of @sdekit/partition, the Cdot
 * of @sdekit/score) never pair the last sample of one series with the first of the next.
 * Throws DimensionError / InvalidArgumentError naming the offending series.
 *
 * @example
 * const { series, segmentStarts } = concatSeries([pathOf(bundle, 0), pathOf(bundle, 1)]);
 * // segmentStarts = [bundle.length]
 */
export function concatSeries(list: readonly TimeSeries[]): SegmentedSeries {
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError(
      'series',
      'must be a non-empty array of TimeSeries',
      'pass [series1, series2, ...]',
    );
  }
  const { dim, dt } = list[0];
  let length = 0;
  for (const [k, s] of list.entries()) {
    if (!(s?.data instanceof Float64Array)) {
      throw new InvalidArgumentError(
        `series[${k}]`,
        'must be a TimeSeries with a Float64Array `data`',
        'build it with timeSeries(data, dim, dt)',
      );
    }
    if (s.dim !== dim) {
      throw new DimensionError(
        `series[${k}]`,
        `has dim ${s.dim}, series[0] has ${dim}`,
        'join series of one process only',
      );
    }
    if (Math.abs(s.dt - dt) > 1e-12 * dt) {
      throw new InvalidArgumentError(
        `series[${k}]`,
        `has dt ${s.dt}, series[0] has ${dt}`,
        'resample to a common sampling interval first',
      );
    }
    if (s.data.length === 0 || s.data.length % dim !== 0) {
      throw new DimensionError(
        `series[${k}].data`,
        `length ${s.data.length} is not a positive multiple of dim = ${dim}`,
        'pass non-empty series',
      );
    }
    length += s.data.length / dim;
  }
  const data = new Float64Array(length * dim);
  const segmentStarts = new Int32Array(list.length - 1);
  let at = 0;
  for (const [k, s] of list.entries()) {
    if (k > 0) segmentStarts[k - 1] = at;
    data.set(s.data, at * dim);
    at += s.data.length / dim;
  }
  return { series: { data, dim, length, dt, t0: list[0].t0 ?? 0 }, segmentStarts };
}

/**
 * Path p of a bundle as a TimeSeries (a view: no copy).
 *
 * @example
 * const ts = pathOf(simulate(system, opts), 0);
 */
export function pathOf(bundle: PathBundle, p: number): TimeSeries {
  checkInteger('p', p, 0);
  if (p >= bundle.paths) {
    throw new InvalidArgumentError(
      'p',
      `path ${p} does not exist (bundle has ${bundle.paths} paths)`,
      `pass 0 <= p < ${bundle.paths}`,
    );
  }
  const size = bundle.length * bundle.dim;
  if (bundle.data.length !== bundle.paths * size) {
    throw new DimensionError(
      'bundle.data',
      `length ${bundle.data.length} != paths * length * dim = ${bundle.paths * size}`,
      'pass a bundle returned by simulate',
    );
  }
  checkPositive('bundle.dt', bundle.dt);
  return {
    data: bundle.data.subarray(p * size, (p + 1) * size),
    dim: bundle.dim,
    length: bundle.length,
    dt: bundle.dt,
    t0: bundle.t0,
  };
}

/**
 * The bundle without paths [from, to) (a copy; the other paths keep their order): the leave-out
 * samples of a jackknife over path groups (`groupJackknife`).
 *
 * @example
 * const rest = withoutPaths(bundle, 0, 5); // bundle.paths - 5 paths
 */
export function withoutPaths(bundle: PathBundle, from: number, to: number): PathBundle {
  checkInteger('from', from, 0);
  checkInteger('to', to, from + 1);
  if (to > bundle.paths || to - from >= bundle.paths) {
    throw new InvalidArgumentError(
      'to',
      `leaving out paths [${from}, ${to}) of ${bundle.paths} leaves none, or names paths that do not exist`,
      `pass 0 <= from < to <= ${bundle.paths} with to - from < ${bundle.paths}`,
    );
  }
  const size = bundle.length * bundle.dim;
  const data = new Float64Array((bundle.paths - (to - from)) * size);
  data.set(bundle.data.subarray(0, from * size), 0);
  data.set(bundle.data.subarray(to * size, bundle.paths * size), from * size);
  return {
    data,
    dim: bundle.dim,
    length: bundle.length,
    paths: bundle.paths - (to - from),
    dt: bundle.dt,
    t0: bundle.t0,
  };
}

/**
 * Validation of observed slow paths and their transitions (x_k, x_{k+1} - x_k): one path, or several
 * independent paths whose transitions are pooled (none across two paths), split into training
 * transitions (the start) and held-out transitions (the END, so the held-out likelihood measures extrapolation
 * in time).
 */
import type { TimeSeries } from '@sdekit/sde';
import { checkFinite, checkInteger, checkPositive, DimensionError, InvalidArgumentError } from '@sdekit/sde';

/** Transition index ranges [0, trainEnd) for training and [trainEnd, transitions) held out. */
export interface PathSplit {
  transitions: number;
  trainEnd: number;
}

/**
 * Checks a TimeSeries (dt > 0, finite values, consistent length, the expected dimension) and splits
 * its transitions. Throws InvalidArgumentError, DimensionError or NonFiniteError naming `path`.
 */
export function checkPathAndSplit(path: TimeSeries, dim: number, heldOutFraction: number): PathSplit {
  checkPath(path, dim, 'path');
  checkInteger('path.length', path.length, 3);
  const transitions = path.length - 1;
  return { transitions, trainEnd: splitTransitions(transitions, heldOutFraction) };
}

/** Checks one path (a TimeSeries of finite values, dt > 0, consistent length, dimension `dim`). */
function checkPath(path: TimeSeries, dim: number, name: string): void {
  if (path === null || typeof path !== 'object' || !(path.data instanceof Float64Array)) {
    throw new InvalidArgumentError(
      name,
      'must be a TimeSeries with a Float64Array data field',
      "build it with timeSeries(data, dim, dt) from '@sdekit/sde'",
    );
  }
  checkPositive(`${name}.dt (Delta)`, path.dt);
  checkInteger(`${name}.length`, path.length, 1);
  if (path.dim !== dim) {
    throw new DimensionError(
      `${name}.dim`,
      `is ${path.dim} but the coefficients have slowDim = ${dim}`,
      'observe exactly the slow variable X',
    );
  }
  if (path.data.length !== path.length * dim) {
    throw new DimensionError(
      `${name}.data`,
      `has ${path.data.length} values, expected length*dim = ${path.length * dim}`,
      'pass a row-major series',
    );
  }
  checkFinite(`${name}.data`, path.data);
}

/** trainEnd of `transitions` with the last `heldOutFraction` held out (at least 2 train). */
function splitTransitions(transitions: number, heldOutFraction: number): number {
  if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
    throw new InvalidArgumentError(
      'heldOutFraction',
      `must lie in [0, 1), got ${heldOutFraction}`,
      'pass e.g. 0.1',
    );
  }
  const trainEnd = transitions - Math.floor(transitions * heldOutFraction);
  if (trainEnd < 2) {
    throw new InvalidArgumentError(
      'heldOutFraction',
      `leaves ${trainEnd} training transitions`,
      'use a longer path or a smaller heldOutFraction',
    );
  }
  return trainEnd;
}

/** The transitions of one or several observed paths (`pathTransitions`). */
export interface PathTransitions {
  /** Origins x_k, row-major (transitions x dim); for one path a view of its data. */
  readonly x: Float64Array;
  /** Increments dx_k = x_{k+1} - x_k, row-major (transitions x dim), float64. */
  readonly dx: Float64Array;
  readonly transitions: number;
  /** Transitions [0, trainEnd) train; [trainEnd, transitions) are held out. */
  readonly trainEnd: number;
  /** The sampling interval Delta shared by the paths. */
  readonly dt: number;
}

/**
 * The transitions of one observed path, or of several independent paths of the same process (an
 * array: pooled in order, no transition from the end of one path to the start of the next), split
 * as `checkPathAndSplit` does (the held-out ones are the last `heldOutFraction` of all). Throws
 * the errors of `checkPathAndSplit`, naming `path[i]` for an array, and InvalidArgumentError for
 * paths with different Delta or fewer than 2 samples.
 *
 * @example
 * const t = pathTransitions([run1, run2], 1, 0.1);
 * t.transitions; // run1.length - 1 + run2.length - 1
 */
export function pathTransitions(
  path: TimeSeries | readonly TimeSeries[],
  dim: number,
  heldOutFraction: number,
): PathTransitions {
  if (!Array.isArray(path)) {
    const single = path as TimeSeries;
    const { transitions, trainEnd } = checkPathAndSplit(single, dim, heldOutFraction);
    return {
      x: single.data.subarray(0, transitions * dim),
      dx: increments(single.data, dim, 0, transitions),
      transitions,
      trainEnd,
      dt: single.dt,
    };
  }
  if (path.length === 0) {
    throw new InvalidArgumentError(
      'path',
      'is an empty array',
      'pass one TimeSeries or a non-empty array of them',
    );
  }
  let transitions = 0;
  for (const [i, p] of path.entries()) {
    checkPath(p, dim, `path[${i}]`);
    if (p.length < 2) {
      throw new InvalidArgumentError(
        `path[${i}]`,
        `has ${p.length} sample(s)`,
        'pass paths of at least 2 samples',
      );
    }
    if (Math.abs(p.dt - path[0].dt) > 1e-12 * path[0].dt) {
      throw new InvalidArgumentError(
        `path[${i}].dt`,
        `is ${p.dt}, path[0].dt is ${path[0].dt}`,
        'pass paths observed at one spacing Delta',
      );
    }
    transitions += p.length - 1;
  }
  const trainEnd = splitTransitions(transitions, heldOutFraction);
  const x = new Float64Array(transitions * dim);
  const dx = new Float64Array(transitions * dim);
  let at = 0;
  for (const p of path) {
    const n = p.length - 1;
    x.set(p.data.subarray(0, n * dim), at * dim);
    dx.set(increments(p.data, dim, 0, n), at * dim);
    at += n;
  }
  return { x, dx, transitions, trainEnd, dt: path[0].dt };
}

/** Increments dx_k = x_{k+1} - x_k in float64 for transitions [from, to). */
export function increments(data: Float64Array, dim: number, from: number, to: number): Float64Array {
  const out = new Float64Array((to - from) * dim);
  for (let k = from; k < to; k++) {
    for (let j = 0; j < dim; j++) out[(k - from) * dim + j] = data[(k + 1) * dim + j] - data[k * dim + j];
  }
  return out;
}

/**
 * Validation of an observed slow path and its split into training transitions (the start) and
 * held-out transitions (the END of the path, so validation measures extrapolation in time).
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
export function checkPathAndSplit(path: TimeSeries, dim: number, validationFraction: number): PathSplit {
  if (path === null || typeof path !== 'object' || !(path.data instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'path',
      'must be a TimeSeries with a Float64Array data field',
      "build it with timeSeries(data, dim, dt) from '@sdekit/sde'",
    );
  }
  checkPositive('path.dt (Delta)', path.dt);
  checkInteger('path.length', path.length, 3);
  if (path.dim !== dim) {
    throw new DimensionError(
      'path.dim',
      `is ${path.dim} but the coefficients have slowDim = ${dim}`,
      'observe exactly the slow variable X',
    );
  }
  if (path.data.length !== path.length * dim) {
    throw new DimensionError(
      'path.data',
      `has ${path.data.length} values, expected length*dim = ${path.length * dim}`,
      'pass a row-major series',
    );
  }
  checkFinite('path.data', path.data);
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new InvalidArgumentError(
      'validationFraction',
      `must lie in [0, 1), got ${validationFraction}`,
      'pass e.g. 0.1',
    );
  }
  const transitions = path.length - 1;
  const trainEnd = transitions - Math.floor(transitions * validationFraction);
  if (trainEnd < 2) {
    throw new InvalidArgumentError(
      'validationFraction',
      `leaves ${trainEnd} training transitions`,
      'use a longer path or a smaller validationFraction',
    );
  }
  return { transitions, trainEnd };
}

/** Increments dx_k = x_{k+1} - x_k in float64 for transitions [from, to). */
export function increments(data: Float64Array, dim: number, from: number, to: number): Float64Array {
  const out = new Float64Array((to - from) * dim);
  for (let k = from; k < to; k++) {
    for (let j = 0; j < dim; j++) out[(k - from) * dim + j] = data[(k + 1) * dim + j] - data[k * dim + j];
  }
  return out;
}

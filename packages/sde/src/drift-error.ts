import { DimensionError } from './errors.js';
import { checkFinite, checkInteger } from './validate.js';

/**
 * Drift error of docs/benchmarks.md: mean over grid points of |learned - truth|^2 (squared Euclidean
 * norm per point of dimension dim; for dim = 1 the plain mean squared error).
 *
 * @example
 * driftMse(model.bbar(grid), multiscaleDoubleWellAveragedDrift(grid, { m: 2, seed: 1 })); // truth from @sdekit/systems
 */
export function driftMse(learned: Float64Array, truth: Float64Array, dim = 1): number {
  checkInteger('dim', dim, 1);
  if (learned.length !== truth.length || learned.length === 0 || learned.length % dim !== 0) {
    throw new DimensionError(
      'truth',
      `length ${truth.length} != learned length ${learned.length} (or not a multiple of dim)`,
      'evaluate both drifts on the same grid',
    );
  }
  checkFinite('learned', learned);
  checkFinite('truth', truth);
  let s = 0;
  for (let i = 0; i < learned.length; i++) {
    const e = learned[i] - truth[i];
    s += e * e;
  }
  return s / (learned.length / dim);
}

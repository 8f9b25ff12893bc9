/**
 * Pointwise credible bands from Monte Carlo draws of a function of the parameters.
 */
import { checkOpenInterval, InvalidArgumentError, quantile } from '@sdekit/sde';

/** One credible band: lower/upper pointwise quantiles at (1 - level)/2 and (1 + level)/2. */
export interface CredibleBand {
  readonly level: number;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

/** Pointwise summary of draws f(theta_s), s = 1..samples, of a vector-valued function. */
export interface CredibleBands {
  /** Number of posterior draws used. */
  readonly samples: number;
  /** Pointwise posterior mean (float64 average of the draws). */
  readonly mean: Float64Array;
  /** Pointwise posterior median. */
  readonly median: Float64Array;
  /** One band per requested level, in the order given. */
  readonly bands: CredibleBand[];
}

/**
 * Pointwise mean, median and credible bands of draws stored row-major (draw s, output g at
 * s * outputs + g).
 *
 * @example
 * const b = bandsFromDraws(Float64Array.from([0, 1, 2, 3]), 4, 1, [0.5]); // b.bands[0]: lower 0.75, upper 2.25
 */
export function bandsFromDraws(
  draws: Float64Array,
  samples: number,
  outputs: number,
  levels: readonly number[],
): CredibleBands {
  if (levels.length === 0) {
    throw new InvalidArgumentError('levels', 'is empty', 'pass at least one credible level, e.g. [0.95]');
  }
  for (const level of levels) checkOpenInterval('levels', level, 0, 1);
  const mean = new Float64Array(outputs);
  const median = new Float64Array(outputs);
  const bands: CredibleBand[] = levels.map((level) => ({
    level,
    lower: new Float64Array(outputs),
    upper: new Float64Array(outputs),
  }));
  const column = new Float64Array(samples);
  for (let g = 0; g < outputs; g++) {
    let sum = 0;
    for (let s = 0; s < samples; s++) {
      const v = draws[s * outputs + g];
      column[s] = v;
      sum += v;
    }
    mean[g] = sum / samples;
    column.sort();
    median[g] = quantile(column, 0.5);
    for (const band of bands) {
      band.lower[g] = quantile(column, (1 - band.level) / 2);
      band.upper[g] = quantile(column, (1 + band.level) / 2);
    }
  }
  return { samples, mean, median, bands };
}

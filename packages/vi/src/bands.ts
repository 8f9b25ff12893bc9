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
  /** The draws' values, row-major (draw s, output g at s * outputs + g), e.g. for `bandCalibration`. */
  readonly values: Float64Array;
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
  return { samples, mean, median, bands, values: draws };
}

/**
 * Share of the judged outputs g at which lower_g <= curve_g <= upper_g (all outputs by default).
 *
 * @example
 * bandCoverage(Float64Array.of(0, 2), Float64Array.of(-1, -1), Float64Array.of(1, 1)); // 0.5
 */
export function bandCoverage(
  curve: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  judged?: readonly boolean[],
): number {
  let total = 0;
  let inside = 0;
  for (let g = 0; g < lower.length; g++) {
    if (judged !== undefined && !judged[g]) continue;
    total++;
    if (curve[g] >= lower[g] && curve[g] <= upper[g]) inside++;
  }
  if (total === 0) {
    throw new InvalidArgumentError('judged', 'flags no output', 'flag at least one output to judge');
  }
  return inside / total;
}

/** Result of `bandCalibration`. */
export interface BandCalibration {
  /**
   * Sup distance of the curve from the pointwise median, in units of the pointwise band's
   * half-width, the band taken over the draws (leave-one-out: see `bandCalibration`).
   */
  readonly distance: number;
  /** The same distance for every draw, each against the band of the other draws and the curve, ascending. */
  readonly drawDistances: Float64Array;
  /**
   * (1 + #draws at least as far as the curve) / (samples + 1): the posterior-predictive p-value of
   * the curve. For a curve drawn from the same law as the draws it is exactly uniform on
   * {1, ..., samples + 1} / (samples + 1), so a small value says the curve lies where the posterior
   * puts almost no mass.
   */
  readonly pValue: number;
  /** Share of the judged outputs at which the curve lies inside the pointwise `level` band. */
  readonly coverage: number;
  /**
   * The simultaneous band at `level`: median -/+ k half-widths of the draws' pointwise band, k the
   * `level` quantile of the draws' leave-one-out distances, so that a new draw lies inside at every
   * judged output at once with probability `level`.
   */
  readonly simultaneous: {
    readonly level: number;
    readonly factor: number;
    readonly lower: Float64Array;
    readonly upper: Float64Array;
    /** Share of the judged outputs at which the curve lies inside it. */
    readonly coverage: number;
  };
}

/**
 * Leave-one-out sup distances of n curves (row-major, outputs values each): curve s against the
 * pointwise median and `level` band of the other n - 1 curves (type-7 quantiles, as `quantile`),
 * from one sort per output: the order statistics of the reduced column are those of the full one
 * with rank r_s skipped.
 */
function leaveOneOutDistances(
  values: Float64Array,
  n: number,
  outputs: number,
  level: number,
  judged: readonly boolean[],
): Float64Array {
  const out = new Float64Array(n);
  const order = new Int32Array(n);
  const rank = new Int32Array(n);
  const sorted = new Float64Array(n);
  const m = n - 1;
  const reduced = (r: number, p: number) => {
    const h = (m - 1) * p;
    const j = Math.floor(h);
    const at = (i: number) => sorted[i < r ? i : i + 1];
    return j + 1 < m ? at(j) + (h - j) * (at(j + 1) - at(j)) : at(m - 1);
  };
  for (let g = 0; g < outputs; g++) {
    if (!judged[g]) continue;
    for (let s = 0; s < n; s++) order[s] = s;
    order.sort((a, b) => values[a * outputs + g] - values[b * outputs + g]);
    for (let i = 0; i < n; i++) {
      rank[order[i]] = i;
      sorted[i] = values[order[i] * outputs + g];
    }
    for (let s = 0; s < n; s++) {
      const r = rank[s];
      const half = (reduced(r, (1 + level) / 2) - reduced(r, (1 - level) / 2)) / 2;
      const dev = Math.abs(values[s * outputs + g] - reduced(r, 0.5));
      const d = half > 0 ? dev / half : dev > 0 ? Number.POSITIVE_INFINITY : 0;
      if (d > out[s]) out[s] = d;
    }
  }
  return out;
}

/**
 * Calibration of pointwise bands against a reference curve (e.g. the truth in a benchmark):
 * D(f) = max_g |f_g - median_g| / h_g over the judged outputs g, h_g the half-width of the
 * pointwise `level` band. Each of the samples + 1 curves (the draws and the reference) is measured
 * against the band of the other samples, so all are exchangeable when the reference comes from the
 * same law, and the reference's rank gives an exact p-value; the draws' `level` quantile of D (each
 * draw against the other draws) gives a simultaneous band. Pointwise 95 % bands of a smooth curve
 * with few degrees of freedom miss whole stretches at once: "inside on 90 % of the grid" is failed by
 * a sizeable share of the posterior's own draws (11-16 % for random lines, docs/findings.md), while the sup
 * distance judges the whole curve with a known false-alarm rate.
 *
 * @example
 * const draws = Float64Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]); // 5 draws of a 2-point curve
 * const c = bandCalibration(draws, 5, 2, Float64Array.of(2, 2)); // central: c.pValue = 1
 */
export function bandCalibration(
  draws: Float64Array,
  samples: number,
  outputs: number,
  curve: Float64Array,
  options: { level?: number; judged?: readonly boolean[] } = {},
): BandCalibration {
  const level = options.level ?? 0.95;
  checkOpenInterval('level', level, 0, 1);
  if (!Number.isInteger(samples) || samples < 3) {
    throw new InvalidArgumentError(
      'samples',
      `is ${samples}`,
      'pass at least 3 draws (hundreds for a useful p-value)',
    );
  }
  if (curve.length !== outputs) {
    throw new InvalidArgumentError(
      'curve',
      `has length ${curve.length}, the draws ${outputs} outputs`,
      'pass one value per output',
    );
  }
  if (draws.length !== samples * outputs) {
    throw new InvalidArgumentError(
      'draws',
      `has length ${draws.length}, not samples x outputs = ${samples * outputs}`,
      'pass the draws row-major',
    );
  }
  const judged = options.judged ?? Array.from({ length: outputs }, () => true);
  if (judged.length !== outputs || !judged.some((j) => j)) {
    throw new InvalidArgumentError(
      'judged',
      `must hold ${outputs} flags, at least one true`,
      'flag the outputs to judge',
    );
  }
  const all = new Float64Array((samples + 1) * outputs);
  all.set(draws);
  all.set(curve, samples * outputs);
  const withCurve = leaveOneOutDistances(all, samples + 1, outputs, level, judged);
  const distance = withCurve[samples];
  const drawDistances = withCurve.slice(0, samples).sort();
  let atLeast = 0;
  for (const d of drawDistances) if (d >= distance) atLeast++;
  const factor = quantile(leaveOneOutDistances(draws, samples, outputs, level, judged).sort(), level);
  const band = bandsFromDraws(draws, samples, outputs, [level]);
  const { lower, upper } = band.bands[0];
  const simLower = Float64Array.from(band.median, (m, g) => m - (factor * (upper[g] - lower[g])) / 2);
  const simUpper = Float64Array.from(band.median, (m, g) => m + (factor * (upper[g] - lower[g])) / 2);
  return {
    distance,
    drawDistances,
    pValue: (1 + atLeast) / (samples + 1),
    coverage: bandCoverage(curve, lower, upper, judged),
    simultaneous: {
      level,
      factor,
      lower: simLower,
      upper: simUpper,
      coverage: bandCoverage(curve, simLower, simUpper, judged),
    },
  };
}

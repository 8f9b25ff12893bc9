/**
 * Exact statistics of 1-D stationary densities by quadrature on a grid: what the reduced triad and
 * the four-well marginals are checked against.
 */

/** Exact statistics of a 1-D stationary density. */
export interface ExactStatistics1d {
  mean: number;
  std: number;
  skewness: number;
  /** Not excess: 3 for a Gaussian. */
  kurtosis: number;
  /** P(x < 0). */
  probNegative: number;
}

/** Moments of a tabulated density p_i on a uniform grid (Simpson's rule). */
export function gridMoments(lo: number, step: number, p: Float64Array): ExactStatistics1d {
  const cells = p.length - 1;
  const w = (i: number) => (i === 0 || i === cells ? 1 : i % 2 === 1 ? 4 : 2) * (step / 3);
  let z = 0;
  let m1 = 0;
  for (let i = 0; i <= cells; i++) {
    z += w(i) * p[i];
    m1 += w(i) * p[i] * (lo + i * step);
  }
  const mean = m1 / z;
  let c2 = 0;
  let c3 = 0;
  let c4 = 0;
  let neg = 0;
  for (let i = 0; i <= cells; i++) {
    const x = lo + i * step;
    const e = x - mean;
    const wp = w(i) * p[i];
    c2 += wp * e * e;
    c3 += wp * e * e * e;
    c4 += wp * e * e * e * e;
  }
  c2 /= z;
  c3 /= z;
  c4 /= z;
  // P(x < 0): trapezoid on the cells left of 0 plus the partial cell (the grid need not hit 0).
  const i0 = Math.floor((0 - lo) / step);
  for (let i = 0; i < i0 && i < cells; i++) neg += (0.5 * (p[i] + p[i + 1]) * step) / z;
  if (i0 >= 0 && i0 < cells) {
    const frac = (0 - (lo + i0 * step)) / step;
    const pEnd = p[i0] + frac * (p[i0 + 1] - p[i0]);
    neg += (0.5 * (p[i0] + pEnd) * frac * step) / z;
  }
  return { mean, std: Math.sqrt(c2), skewness: c3 / c2 ** 1.5, kurtosis: c4 / (c2 * c2), probNegative: neg };
}

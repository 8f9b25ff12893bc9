/** Test helpers: reference CDFs and small fits (not part of the package API). */

/** erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7, ample for KS tests at n <= 1e6). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

/** Kolmogorov-Smirnov statistic sup |F_n - F| of a sample against a continuous CDF. */
export function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const s = Float64Array.from(sample).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  }
  return d;
}

/**
 * Asymptotic KS critical value at level alpha = 0.001: P(sqrt(n) D > 1.949) = 0.001
 * (Kolmogorov distribution), so a correct generator fails this test once in a thousand seeds.
 */
export function ksCritical001(n: number): number {
  return 1.949 / Math.sqrt(n);
}

/** Least-squares slope of y on x. */
export function slope(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** Pearson correlation. */
export function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Values of an array, or of a Matrix (its row-major `data`). */
type Values = ArrayLike<number> | { readonly data: ArrayLike<number> };

/** Largest absolute elementwise difference max_i |a_i - b_i| (over a's length) of arrays or matrices. */
export function maxAbsDiff(a: Values, b: Values): number {
  const x = 'data' in a ? a.data : a;
  const y = 'data' in b ? b.data : b;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

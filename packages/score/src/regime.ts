/**
 * Regime of a series at its sampling interval, from the growth of its increment moments
 * m(k) = E|x(t + k dt) - x(t)|^2 with the lag k (docs/methods.md, "Which Cdot estimator"):
 * m(k) ~ 2 k dt tr(D) for a diffusion (slope 1 in log-log) and m(k) ~ (k dt)^2 E|xdot|^2 for smooth
 * data (slope 2). A slope well below 1 means the series decorrelates within a few samples
 * (sampling interval too coarse for the dynamics). The slope is fitted over k = 1, 2, 4 by least
 * squares in log-log, per coordinate and for the sum over coordinates.
 */
import { segmentBounds } from '@sdekit/partition';

/** The lags (in samples) of the regime diagnostic. */
export const REGIME_LAGS = [1, 2, 4] as const;

/** Slopes at or above this are 'smooth'; below it 'diffusive' (down to UNRESOLVED_SLOPE). */
export const SMOOTH_SLOPE = 1.5;
/** Slopes below this are 'unresolved': the series decorrelates within a few samples. */
export const UNRESOLVED_SLOPE = 0.5;

/** Regime of a series: which kind of data it looks like at its sampling interval. */
export type Regime = 'diffusive' | 'smooth' | 'unresolved';

/** Result of `incrementScaling`. */
export interface IncrementScaling {
  /** The lags k (samples). */
  lags: number[];
  /** m(k) summed over coordinates, one per lag. */
  moments: number[];
  /** Log-log slope of m(k) per coordinate. */
  slopes: number[];
  /** Log-log slope of the sum over coordinates. */
  slope: number;
  regime: Regime;
}

/** Classifies a log-log increment slope. */
export function regimeOfSlope(slope: number): Regime {
  if (slope >= SMOOTH_SLOPE) return 'smooth';
  if (slope >= UNRESOLVED_SLOPE) return 'diffusive';
  return 'unresolved';
}

function logLogSlope(ks: readonly number[], m: readonly number[]): number {
  const lx = ks.map(Math.log);
  const ly = m.map((v) => Math.log(Math.max(v, 1e-300)));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
}

/**
 * Increment moments E|x(t + k dt) - x(t)|^2 for k = 1, 2, 4 (no pair spans two segments), their
 * log-log slopes and the regime they indicate. Lags longer than every segment are dropped; at least
 * two lags are needed.
 *
 * @example
 * incrementScaling(ou.data, 2).regime;      // 'diffusive' (slope ~ 1)
 * incrementScaling(lorenz.data, 3).regime;  // 'smooth' (slope ~ 2)
 */
export function incrementScaling(y: Float64Array, dim: number, segmentStarts?: Int32Array): IncrementScaling {
  const n = y.length / dim;
  const bounds = segmentBounds(segmentStarts, n);
  let longest = 0;
  for (let s = 0; s + 1 < bounds.length; s++) longest = Math.max(longest, bounds[s + 1] - bounds[s]);
  const lags = REGIME_LAGS.filter((k) => k < longest);
  if (lags.length < 2) {
    return { lags, moments: [], slopes: [], slope: Number.NaN, regime: 'diffusive' };
  }
  const per = lags.map(() => new Float64Array(dim));
  for (let li = 0; li < lags.length; li++) {
    const k = lags[li];
    let count = 0;
    const acc = per[li];
    for (let s = 0; s + 1 < bounds.length; s++) {
      for (let t = bounds[s]; t + k < bounds[s + 1]; t++) {
        const a = t * dim;
        const b = (t + k) * dim;
        for (let j = 0; j < dim; j++) acc[j] += (y[b + j] - y[a + j]) ** 2;
        count++;
      }
    }
    for (let j = 0; j < dim; j++) acc[j] /= count;
  }
  const moments = per.map((m) => m.reduce((a, b) => a + b, 0));
  const slopes: number[] = [];
  for (let j = 0; j < dim; j++)
    slopes.push(
      logLogSlope(
        lags,
        per.map((m) => m[j]),
      ),
    );
  const slope = logLogSlope(lags, moments);
  return { lags: [...lags], moments, slopes, slope, regime: regimeOfSlope(slope) };
}

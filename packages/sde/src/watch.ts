import { DimensionError, InvalidArgumentError, RunawayError } from './errors.js';
import type { SimulationPlan } from './simulate.js';
import type { Excursion } from './types.js';
import { checkFinite } from './validate.js';

/** A box the paths are watched against (see `SimulateOptions.watch`). */
export interface WatchBox {
  lo: Float64Array;
  hi: Float64Array;
  /** Report paths beyond this many half-widths from the centre. Default 1.5. */
  reportFactor?: number;
  /** Stop beyond this many half-widths. Default 10; Infinity never stops. */
  stopFactor?: number;
}

/** Validated watch box: centre and half-width per coordinate. */
export interface WatchPlan {
  center: Float64Array;
  halfWidth: Float64Array;
  reportFactor: number;
  stopFactor: number;
}

export function planWatch(watch: WatchBox | undefined, d: number): WatchPlan | null {
  if (watch === undefined) return null;
  if (!watch || !(watch.lo instanceof Float64Array) || !(watch.hi instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'watch',
      'must be { lo: Float64Array, hi: Float64Array, reportFactor?, stopFactor? }',
      'pass the box of the data, e.g. model.watchBox()',
    );
  }
  if (watch.lo.length !== d || watch.hi.length !== d) {
    throw new DimensionError(
      'watch',
      `lo and hi have lengths ${watch.lo.length} and ${watch.hi.length}, the system has dim ${d}`,
      'pass one bound per coordinate',
    );
  }
  checkFinite('watch.lo', watch.lo);
  checkFinite('watch.hi', watch.hi);
  const reportFactor = watch.reportFactor ?? 1.5;
  const stopFactor = watch.stopFactor ?? 10;
  if (!(reportFactor >= 1) || Number.isNaN(reportFactor)) {
    throw new InvalidArgumentError(
      'watch.reportFactor',
      `must be >= 1, got ${reportFactor}`,
      'pass a factor such as 1.5',
    );
  }
  if (!(stopFactor >= reportFactor)) {
    throw new InvalidArgumentError(
      'watch.stopFactor',
      `must be >= reportFactor (${reportFactor}), got ${stopFactor}`,
      'pass a factor such as 10, or Infinity to never stop',
    );
  }
  const center = new Float64Array(d);
  const halfWidth = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    if (!(watch.hi[j] >= watch.lo[j])) {
      throw new InvalidArgumentError('watch', `hi[${j}] < lo[${j}]`, 'pass lo <= hi in every coordinate');
    }
    center[j] = 0.5 * (watch.lo[j] + watch.hi[j]);
    // A degenerate coordinate gets a tiny width rather than none (any move is then an excursion).
    halfWidth[j] = Math.max(0.5 * (watch.hi[j] - watch.lo[j]), 1e-12 * Math.max(1, Math.abs(center[j])));
  }
  return { center, halfWidth, reportFactor, stopFactor };
}

/** Largest |x_j - c_j| / r_j of a state and its coordinate. */
function watchFactor(
  w: WatchPlan,
  x: Float64Array,
  o: number,
  d: number,
): { factor: number; coordinate: number } {
  let factor = 0;
  let coordinate = 0;
  for (let j = 0; j < d; j++) {
    const f = Math.abs(x[o + j] - w.center[j]) / w.halfWidth[j];
    if (f > factor) {
      factor = f;
      coordinate = j;
    }
  }
  return { factor, coordinate };
}

/**
 * The first saved state of each path outside the watch box widened by its reportFactor (see
 * `SimulateOptions.watch`), from the saved data of a bundle.
 */
export function findExcursions(plan: SimulationPlan, data: Float64Array, d: number): Excursion[] {
  const w = plan.watch;
  if (!w) return [];
  const out: Excursion[] = [];
  const L = plan.length;
  for (let p = 0; p < plan.paths; p++) {
    for (let k = 0; k < L; k++) {
      const o = (p * L + k) * d;
      const { factor, coordinate } = watchFactor(w, data, o, d);
      if (factor > w.reportFactor) {
        out.push({
          path: p,
          time: plan.t0 + (plan.burnIn + k * plan.saveEvery) * plan.h,
          coordinate,
          value: data[o + coordinate],
          factor,
        });
        break;
      }
    }
  }
  return out;
}

/** Throws RunawayError when a state is beyond the watch box's stopFactor. */
export function checkRunaway(
  w: WatchPlan,
  state: Float64Array,
  n: number,
  d: number,
  t: number,
  pathStart: number,
): void {
  if (!Number.isFinite(w.stopFactor)) return;
  for (let p = 0; p < n; p++) {
    const { factor, coordinate } = watchFactor(w, state, p * d, d);
    if (factor > w.stopFactor) {
      throw new RunawayError(
        t,
        pathStart + p,
        coordinate,
        state[p * d + coordinate],
        `${factor.toPrecision(3)} half-widths from the centre of the watched box (stopFactor ${w.stopFactor})`,
      );
    }
  }
}

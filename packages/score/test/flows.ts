/**
 * Smooth chaotic flows and a chaotic map for the regime tests: Lorenz-63 and Rossler by RK4 with a
 * small internal step, observed every dt, and the Henon map observed at every iterate.
 */
import { type TimeSeries, timeSeries } from '@sdekit/sde';

type Field = (x: Float64Array, out: Float64Array) => void;

export const lorenz63: Field = (x, out) => {
  out[0] = 10 * (x[1] - x[0]);
  out[1] = x[0] * (28 - x[2]) - x[1];
  out[2] = x[0] * x[1] - (8 / 3) * x[2];
};

export const rossler: Field = (x, out) => {
  out[0] = -x[1] - x[2];
  out[1] = x[0] + 0.2 * x[1];
  out[2] = 0.2 + x[2] * (x[0] - 5.7);
};

/**
 * `runs` runs of a 3-variable flow, each from its own start (spun up for `spinUp` time units),
 * observed every dt for T time units; `observe` picks the coordinates kept (default all).
 */
export function flowRuns(
  field: Field,
  options: {
    runs: number;
    T: number;
    dt: number;
    h?: number;
    spinUp?: number;
    observe?: number[];
    start?: number[];
  },
): TimeSeries[] {
  const h = options.h ?? 0.002;
  const sub = Math.round(options.dt / h);
  const keep = options.observe ?? [0, 1, 2];
  const out: TimeSeries[] = [];
  const k1 = new Float64Array(3);
  const k2 = new Float64Array(3);
  const k3 = new Float64Array(3);
  const k4 = new Float64Array(3);
  const tmp = new Float64Array(3);
  const x = new Float64Array(3);
  const step = () => {
    field(x, k1);
    for (let i = 0; i < 3; i++) tmp[i] = x[i] + 0.5 * h * k1[i];
    field(tmp, k2);
    for (let i = 0; i < 3; i++) tmp[i] = x[i] + 0.5 * h * k2[i];
    field(tmp, k3);
    for (let i = 0; i < 3; i++) tmp[i] = x[i] + h * k3[i];
    field(tmp, k4);
    for (let i = 0; i < 3; i++) x[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  };
  const start = options.start ?? [1, 1, 20];
  for (let r = 0; r < options.runs; r++) {
    x.set([start[0] + 0.1 * r, start[1], start[2]]);
    for (let k = 0; k < Math.round((options.spinUp ?? 20) / h); k++) step();
    const n = Math.round(options.T / options.dt);
    const data = new Float64Array(n * keep.length);
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < keep.length; j++) data[t * keep.length + j] = x[keep[j]];
      for (let s = 0; s < sub; s++) step();
    }
    out.push(timeSeries(data, keep.length, options.dt));
  }
  return out;
}

/** The Henon map (a = 1.4, b = 0.3), n iterates after a transient, as a series with dt = 1. */
export function henonSeries(n: number): TimeSeries {
  let x = 0.1;
  let y = 0.1;
  for (let k = 0; k < 1000; k++) [x, y] = [1 - 1.4 * x * x + y, 0.3 * x];
  const data = new Float64Array(2 * n);
  for (let t = 0; t < n; t++) {
    data[2 * t] = x;
    data[2 * t + 1] = y;
    [x, y] = [1 - 1.4 * x * x + y, 0.3 * x];
  }
  return timeSeries(data, 2, 1);
}

// Statistics of the docs/benchmarks.md T3 series quoted in the README:
//   npx tsx scripts/t3-statistics.ts [T=100000] [seed=1]
// L = 34, N = 64, h = 0.05, spin-up 1000, dt = 0.1, stride 2 (32 coordinates).
import { acf, integratedAutocorrelationTime, mean, variance } from '@sdekit/sde';
import { leadingLyapunovExponent } from '../src/diagnostics.js';
import { simulateKs } from '../src/simulate.js';

const T = Number(process.argv[2] ?? 100000);
const seed = Number(process.argv[3] ?? 1);
const start = performance.now();
const { series, finalState } = simulateKs({
  L: 34,
  N: 64,
  h: 0.05,
  seed,
  spinUp: 1000,
  dt: 0.1,
  T,
  stride: 2,
});
const seconds = (performance.now() - start) / 1000;
const { data, dim, length, dt } = series;
const v = variance(data, dim);
const m = mean(data, dim);
const avg = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;
const maxLag = Math.min(length - 1, Math.round(1000 / dt));
const rho = acf(data, dim, maxLag);
const firstBelow = (level: number) => {
  for (let k = 0; k <= maxLag; k++) if (rho[k] < level) return k * dt;
  return Number.NaN;
};
const zero = firstBelow(0);
let integral = 0;
for (let k = 1; k * dt < zero; k++) integral += rho[k] * dt;
integral += 0.5 * dt;
// Integrated autocorrelation time of coordinate 0 (Sokal window), in time units.
const col = new Float64Array(length);
for (let k = 0; k < length; k++) col[k] = data[k * dim];
const iat = integratedAutocorrelationTime(col);
const halves = [0, 1].map((p) =>
  avg(variance(data.subarray(p * Math.floor(length / 2) * dim, (p + 1) * Math.floor(length / 2) * dim), dim)),
);
const lyap = leadingLyapunovExponent({ L: 34, N: 64, h: 0.05, seed, u0: finalState, spinUp: 0, T: 5000 });
const fmt = (x: number, d = 3) => x.toFixed(d);
console.log(
  `T3 series: T = ${T}, seed ${seed}, ${length} samples x ${dim} coordinates, simulated in ${fmt(seconds, 1)} s`,
);
console.log(
  `per-coordinate variance: mean ${fmt(avg(v))}, min ${fmt(Math.min(...v))}, max ${fmt(Math.max(...v))}`,
);
console.log(
  `per-coordinate mean: min ${fmt(Math.min(...m))}, max ${fmt(Math.max(...m))}; halves' averaged variance ${fmt(halves[0])} / ${fmt(halves[1])}`,
);
console.log(
  `ACF (averaged over coordinates) at 1, 2, 5, 10, 20, 50, 100, 200, 500 time units: ${[1, 2, 5, 10, 20, 50, 100, 200, 500].map((t) => fmt(rho[Math.round(t / dt)])).join(', ')}`,
);
console.log(
  `decorrelation: ACF < 0.5 at ${fmt(firstBelow(0.5), 1)}, < 1/e at ${fmt(firstBelow(1 / Math.E), 1)}, first zero at ${fmt(zero, 1)} time units; integral of the ACF to its first zero ${fmt(integral, 1)}`,
);
console.log(
  `integrated autocorrelation time of coordinate 0 (Sokal window): ${fmt(iat.tau * dt, 1)} time units`,
);
console.log(
  `leading Lyapunov exponent at L = 34 (T = 5000): ${fmt(lyap.exponent, 4)} +- ${fmt(lyap.standardError, 4)}`,
);

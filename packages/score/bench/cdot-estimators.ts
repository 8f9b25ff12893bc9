// Accuracy and time of the Cdot estimators on random OU processes (exact score, exact Phi known):
// fitLangevin with the default ('auto'), with the finite-volume generator, and the plain lag-1
// estimator (C(dt) - C(0)) / dt. Relative Frobenius error of Phi in data units, with the bootstrap's
// standard error of that error. Run: npx tsx bench/cdot-estimators.ts
import { addScaled, frobeniusNorm, type Matrix } from '@sdekit/sde';
import { fitLangevin, LagCdot } from '../src/index.js';
import { ouRuns, randomOu } from '../test/ou-family.js';

const relErr = (a: Matrix, b: Matrix) => frobeniusNorm(addScaled(a, 1, b, -1)) / frobeniusNorm(b);

const cases = [
  { dim: 1, dt: 0.01, runs: 1, length: 200_000 },
  { dim: 2, dt: 0.01, runs: 1, length: 200_000 },
  { dim: 3, dt: 0.01, runs: 1, length: 300_000 },
  { dim: 3, dt: 0.05, runs: 1, length: 200_000 },
  { dim: 5, dt: 0.05, runs: 64, length: 4000 },
  { dim: 5, dt: 0.005, runs: 1, length: 400_000 },
  { dim: 8, dt: 0.02, runs: 1, length: 250_000 },
  { dim: 8, dt: 0.1, runs: 16, length: 20_000 },
];
const seeds = (process.env.SEEDS ?? '1,2').split(',').map(Number);
console.log('D  dt     runs x length  seed | auto: err (rel. SE) time | generator: err time | lag-1: err');
for (const c of cases) {
  for (const seed of seeds) {
    const ou = randomOu(c.dim, seed);
    const runs = ouRuns(ou, c.dt, c.runs, c.length, seed + 100);
    const input = c.runs > 1 ? runs : runs[0];
    const score = { model: ou.score, units: 'original' as const };
    let t = performance.now();
    const auto = fitLangevin(input, { score, seed });
    const tAuto = (performance.now() - t) / 1000;
    t = performance.now();
    const gen = fitLangevin(input, { score, seed, cdotEstimator: 'generator', uncertainty: false });
    const tGen = (performance.now() - t) / 1000;
    const lag1 = fitLangevin(input, {
      score,
      seed,
      cdotEstimator: new LagCdot({ extrapolate: false }),
      uncertainty: false,
    });
    const u = auto.original.uncertainty;
    const se = u ? frobeniusNorm(u.phi.se) / frobeniusNorm(ou.phi) : Number.NaN;
    console.log(
      `${c.dim}  ${c.dt.toFixed(3)}  ${String(c.runs).padStart(3)} x ${String(c.length).padEnd(7)} ${seed} | ` +
        `${relErr(auto.original.phi, ou.phi).toFixed(3)} (${se.toFixed(3)}) ${tAuto.toFixed(2)} s ${auto.diagnostics.cdotEstimator} | ` +
        `${relErr(gen.original.phi, ou.phi).toFixed(3)} ${tGen.toFixed(2)} s | ${relErr(lag1.original.phi, ou.phi).toFixed(3)}`,
    );
  }
}

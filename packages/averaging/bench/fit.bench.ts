// Training steps per second of fitAveraged on M1 (docs/benchmarks.md M1) for m = 2 and m = 20:
// each bench sample runs ITERS Adam steps (L = 64 fast samples, mini-batch of 512 transitions,
// default RealNVP 4 x 32) on a fixed synthetic path; steps/s = ITERS / (mean time in s).
import { pathOf, Rng, simulate, slowFastSde, stackState, type TimeSeries, wholeMultiple } from '@sdekit/sde';
import { multiscaleDoubleWellSystem, sampleMultiscaleDoubleWellFast } from '@sdekit/systems';
import { bench, describe } from 'vitest';
import { fitAveraged, m1Coefficients } from '../src/index.js';

const ITERS = 20;

function m1Path(m: number): TimeSeries {
  const n = 100;
  const y0 = sampleMultiscaleDoubleWellFast(Rng.fromSeed(1), 1, m);
  return pathOf(
    simulate(slowFastSde(multiscaleDoubleWellSystem({ m, n, beta: 0.5 })), {
      x0: stackState(Float64Array.of(0), y0),
      h: 0.02 / n,
      T: 20,
      saveEvery: wholeMultiple('Delta', 0.01, 0.02 / n, 'h'),
      seed: 2,
      observe: [0],
    }),
    0,
  );
}

for (const m of [2, 20]) {
  describe(`fitAveraged M1 m = ${m} (${ITERS} steps per sample, L = 64, batch 512)`, () => {
    const path = m1Path(m);
    const coefficients = m1Coefficients({ m, beta: 0.5 });
    bench(
      `m = ${m}`,
      () => {
        fitAveraged({
          path,
          coefficients,
          L: 64,
          batchSize: 512,
          steps: ITERS,
          heldOutFraction: 0,
          seed: 1,
        }).dispose();
      },
      { iterations: 3, warmupIterations: 1 },
    );
  });
}

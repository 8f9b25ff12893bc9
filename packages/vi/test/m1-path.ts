// The slow path of M1 (the multiscale double-well of @sdekit/systems, n = 100) that the averaged
// posterior tests fit: x0 = -1, y0 = 0, fast step 0.02 / n, observed every Delta = 0.01.
import { pathOf, simulate, slowFastSde, stackState, type TimeSeries, wholeMultiple } from '@sdekit/sde';
import { multiscaleDoubleWellSystem } from '@sdekit/systems';

export function m1SlowPath(o: { m: number; beta: number; T: number; seed: number }): TimeSeries {
  const n = 100;
  const h = 0.02 / n;
  return pathOf(
    simulate(slowFastSde(multiscaleDoubleWellSystem({ m: o.m, n, beta: o.beta })), {
      x0: stackState(Float64Array.of(-1), new Float64Array(o.m)),
      h,
      T: o.T,
      saveEvery: wholeMultiple('Delta', 0.01, h, 'h'),
      seed: o.seed,
      observe: [0],
    }),
    0,
  );
}

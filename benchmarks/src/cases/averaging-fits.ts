/**
 * The `fit` and `baseline` steps of the averaging cases M1 and M2 (docs/benchmarks.md): the flow-based
 * averaged model and the unstructured MLP drift, fitted to the same slow path with progress.
 */
import { fitAveraged, fitMlpDriftBaseline, type SlowCoefficients } from '@sdekit/averaging';
import * as sde from '@sdekit/sde';
import type { AveragingSpec } from './averaging-common.js';

/**
 * The `generate` step of averagingCase: the slow path of the full slow-fast system from x = 0 with
 * the fast state drawn from pi_0 (`drawFast`), fast Euler-Maruyama step 0.02 / n and observation
 * spacing Delta (docs/benchmarks.md M1, M2).
 */
export function slowPathOf(
  system: sde.SlowFastSystem,
  drawFast: (rng: sde.Rng) => Float64Array,
  n: number,
  Delta: number,
): AveragingSpec['generate'] {
  return (T, seed, progress) =>
    sde.pathOf(
      sde.simulate(sde.slowFastSde(system), {
        x0: sde.stackState(new Float64Array(system.slowDim), drawFast(sde.Rng.fromSeed(seed, 1))),
        h: 0.02 / n,
        T,
        saveEvery: sde.wholeMultiple('Delta', Delta, 0.02 / n, 'h'),
        seed,
        observe: [0],
        onProgress: progress,
      }),
      0,
    );
}

/**
 * The `fit` and `baseline` callbacks of averagingCase: fitAveraged with the case's coefficients
 * (built when the fit starts), L fast samples and `iterations` Adam steps, and fitMlpDriftBaseline
 * with the slow noise sigma and `baselineIterations` steps.
 */
export function averagingFits(
  coefficients: () => SlowCoefficients,
  sigma: number,
  s: { L: number; iterations: number; baselineIterations: number },
): Pick<AveragingSpec, 'fit' | 'baseline'> {
  return {
    fit: (path, seed, progress) =>
      fitAveraged({
        path,
        coefficients: coefficients(),
        L: s.L,
        steps: s.iterations,
        seed,
        onProgress: (p) => progress(p.step / p.steps, `nll ${(p.metrics?.nll ?? Number.NaN).toFixed(3)}`),
      }),
    baseline: (path, seed, progress) =>
      fitMlpDriftBaseline({
        path,
        sigma,
        steps: s.baselineIterations,
        seed,
        onProgress: (p) => progress(p.step / p.steps),
      }),
  };
}

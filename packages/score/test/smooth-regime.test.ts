/**
 * The smooth path with the defaults a user gets: chaotic flows observed in full and in part are
 * classified smooth, 'auto' takes the finite-volume generator estimator with sigma 0.1 and the
 * perturbed series, and the fitted model stays on the data's region (no runaway) with small marginal
 * KL. A chaotic map observed at its iterates is 'unresolved' and warned about.
 */
import { concatSeries, marginalKL, simulate, type TimeSeries } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { analyticScore, fitLangevin, incrementScaling } from '../src/index.js';
import { flowRuns, henonSeries, lorenz63, rossler } from './flows.js';

/** Fit with defaults, simulate 16 paths from data points (watched), return the marginal KL. */
function fitAndSimulate(runs: TimeSeries[], simT: number) {
  const model = fitLangevin(runs, { seed: 1 });
  const { series } = concatSeries(runs);
  const D = series.dim;
  const P = 16;
  const x0 = new Float64Array(D * P);
  for (let p = 0; p < P; p++) {
    const k = Math.floor((p * series.length) / P);
    x0.set(series.data.subarray(D * k, D * k + D), D * p);
  }
  const h = 0.005;
  const sim = simulate(model.system(), {
    x0,
    paths: P,
    h,
    T: simT,
    saveEvery: Math.round(series.dt / h),
    burnIn: 1000,
    seed: 3,
    chunkPaths: 4096,
    watch: model.watchBox(),
  });
  const kl = marginalKL(series.data, sim.data, D).kl;
  const worst = Math.max(0, ...(sim.excursions ?? []).map((e) => e.factor));
  model.dispose();
  return { model, kl, worst };
}

describe('regime of chaotic flows and maps', () => {
  it('Lorenz-63 (full and x, z only) and Rossler (x, y only) are smooth; the Henon map is unresolved', () => {
    const cases: [TimeSeries[], number][] = [
      [flowRuns(lorenz63, { runs: 2, T: 100, dt: 0.02 }), 3],
      [flowRuns(lorenz63, { runs: 2, T: 100, dt: 0.01, observe: [0, 2] }), 2],
      [flowRuns(rossler, { runs: 2, T: 300, dt: 0.1, observe: [0, 1], start: [1, 1, 0], h: 0.01 }), 2],
    ];
    for (const [runs, dim] of cases) {
      const { series, segmentStarts } = concatSeries(runs);
      const r = incrementScaling(series.data, dim, segmentStarts);
      expect(r.regime).toBe('smooth');
      expect(r.slope).toBeGreaterThan(1.8);
    }
    const henon = henonSeries(20_000);
    const r = incrementScaling(henon.data, 2);
    expect(r.regime).toBe('unresolved');
    const gauss = analyticScore(2, (x, out) => {
      out[0] = -x[0];
      out[1] = -x[1];
    });
    const model = fitLangevin(henon, { score: { model: gauss, units: 'z' }, seed: 1, uncertainty: false });
    expect(model.diagnostics.warnings.some((w) => /too coarse/.test(w))).toBe(true);
  });
});

describe('smooth chaotic data with the default settings', () => {
  it('Lorenz-63, 8 runs of 250 time units: generator estimator at sigma 0.1, no runaway, KL < 0.05', () => {
    const { model, kl, worst } = fitAndSimulate(flowRuns(lorenz63, { runs: 8, T: 250, dt: 0.02 }), 100);
    expect(model.diagnostics.regime?.regime).toBe('smooth');
    expect(model.diagnostics.cdotEstimator).toBe('generator');
    expect(model.scoreSigma).toBe(0.1);
    expect(model.diagnostics.perturbSigma).toBe(0.1);
    // Measured values: docs/findings.md (score, smooth-regime fits).
    for (const v of kl) expect(v).toBeLessThan(0.05);
    expect(worst).toBeLessThan(3);
  });

  it('Rossler observed in x, y only, 8 runs of 1000 time units: smooth, no runaway, KL < 0.08', () => {
    const runs = flowRuns(rossler, { runs: 8, T: 1000, dt: 0.1, observe: [0, 1], start: [1, 1, 0], h: 0.01 });
    const { model, kl, worst } = fitAndSimulate(runs, 200);
    expect(model.diagnostics.cdotEstimator).toBe('generator');
    for (const v of kl) expect(v).toBeLessThan(0.08);
    expect(worst).toBeLessThan(3);
  });
});

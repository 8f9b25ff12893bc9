import { fitAveraged, m1Coefficients } from '@sdekit/averaging';
import { InvalidArgumentError, m1System, m1TrueDrift, simulateSlowFast } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AveragedPosterior, averagedPosterior } from '../src/index.js';

const GRID = Float64Array.from({ length: 31 }, (_, i) => -1.5 + 0.1 * i);

describe('averagedPosterior on M1 (m = 2, n = 100; benchmarks.md U1, test size)', () => {
  it('the true bbar lies in the 95 % band where the data put mass; forecast bands cover the stationary bulk', () => {
    const m = 2;
    const beta = 0.5;
    const T = 50;
    const { slow } = simulateSlowFast(m1System({ m, n: 100, beta }), {
      x0: Float64Array.of(-1),
      y0: new Float64Array(m),
      fastStep: 0.02 / 100,
      Delta: 0.01,
      T,
      seed: 21,
    });
    const model = fitAveraged({
      path: slow,
      coefficients: m1Coefficients({ m, beta }),
      flow: { layers: 2, hidden: 16 },
      L: 32,
      iterations: 250,
      batchSize: 256,
      seed: 4,
    });
    // The defaults (documented in averaged.ts): prior N(theta_hat, I), q starting at N(theta_hat, 1e-4 I),
    // Gaussian q (rank 2), K = 2, L = 16, all 5000 transitions per evaluation, 400 steps.
    const tensorsBefore = tf.memory().numTensors;
    const post = averagedPosterior(model, slow, { seed: 5 });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(post.posterior.nonFiniteSteps).toBe(0);
    const fittedBefore = model.getParams();
    const bands = post.bbarBands(GRID, [0.95], { samples: 100, fastSamples: 1024, seed: 1 });
    // the model's parameters are restored after the bands
    expect(Array.from(model.getParams())).toEqual(Array.from(fittedBefore));
    // Truth by Monte Carlo over 2e5 exact pi_0 samples (MC error ~1e-3, far below the band widths).
    const truth = m1TrueDrift(GRID, { m, beta, samples: 200_000, seed: 9 });
    // "Where the data put mass": grid points with >= 1 % of the path within +-0.05.
    let covered = 0;
    let total = 0;
    for (let i = 0; i < GRID.length; i++) {
      let c = 0;
      for (const x of slow.data) if (Math.abs(x - GRID[i]) < 0.05) c++;
      if (c / slow.data.length < 0.01) continue;
      total++;
      if (truth[i] >= bands.bands[0].lower[i] && truth[i] <= bands.bands[0].upper[i]) covered++;
    }
    let width = 0;
    for (let i = 0; i < GRID.length; i++)
      width += (bands.bands[0].upper[i] - bands.bands[0].lower[i]) / GRID.length;
    console.log(
      `U1 test: true bbar inside the 95 % band on ${covered}/${total} grid points with data mass; mean width ${width.toFixed(3)}`,
    );
    expect(total).toBeGreaterThanOrEqual(10);
    expect(covered / total).toBeGreaterThanOrEqual(0.8);

    // Forecasts: at t = 0 the band is the point x0; after 20 time units (several well-to-well
    // crossings) the posterior-predictive 95 % band must contain the bulk of the stationary law,
    // the data's interquartile range (quantiles of 240 paths have sd ~ 0.1; the band is not
    // compared with the data's extreme quantiles because posterior draws with distorted bbar widen it).
    const x0 = Float64Array.of(slow.data[slow.length - 1]);
    const f = post.forecastBands(x0, 20, { h: 0.01, samples: 60, pathsPerDraw: 4, fastSamples: 64, seed: 3 });
    expect(f.bands[0].lower[0]).toBe(x0[0]);
    expect(f.bands[0].upper[0]).toBe(x0[0]);
    const sorted = Float64Array.from(slow.data).sort();
    const q = (p: number) => sorted[Math.floor(p * (sorted.length - 1))];
    const last = f.times.length - 1;
    expect(f.times[last]).toBeCloseTo(20, 9);
    console.log(
      `forecast band at t = 20: [${f.bands[0].lower[last].toFixed(3)}, ${f.bands[0].upper[last].toFixed(3)}], data quartiles ${q(0.25).toFixed(3)}, ${q(0.75).toFixed(3)}`,
    );
    expect(f.bands[0].lower[last]).toBeLessThan(q(0.25));
    expect(f.bands[0].upper[last]).toBeGreaterThan(q(0.75));

    const back = AveragedPosterior.fromJSON(JSON.parse(JSON.stringify(post.toJSON())), model);
    expect(Array.from(back.posterior.sample(3, 1))).toEqual(Array.from(post.posterior.sample(3, 1)));
    expect(() => post.forecastBands(Float64Array.of(0, 0), 1)).toThrow(InvalidArgumentError);
    model.dispose();
  });
});

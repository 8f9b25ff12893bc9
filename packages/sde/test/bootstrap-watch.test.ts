import {
  fourWellSystem,
  ouCorrelation,
  ouExactPath,
  ouStationaryCovariance,
  ouSystem,
} from '@sdekit/systems';
import { describe, expect, it } from 'vitest';
import {
  autocorrelationTimeOf,
  blockIndex,
  bootstrapBlocks,
  bootstrapCounts,
  columnQuantiles,
  columnStd,
  InvalidArgumentError,
  laggedCovariance,
  Matrix,
  Rng,
  RunawayError,
  simulate,
  simulateParallel,
  weightedBlockMean,
} from '../src/index.js';
import { systemsModule } from './systems-module.js';

describe('block bootstrap helpers', () => {
  it('cuts segments into blocks that never cross a segment boundary', () => {
    const b = bootstrapBlocks(Int32Array.of(0, 10, 25), 6);
    expect(Array.from(b.bounds)).toEqual([0, 10, 16, 25]);
    expect(Array.from(b.segmentOf)).toEqual([0, 1, 1]);
    expect(b.runsAsBlocks).toBe(false);
    const runs = bootstrapBlocks(Int32Array.of(0, 4, 8, 12), 100);
    expect(Array.from(runs.bounds)).toEqual([0, 4, 8, 12]);
    expect(runs.runsAsBlocks).toBe(true);
    expect(Array.from(blockIndex(bootstrapBlocks(Int32Array.of(0, 4), 2)))).toEqual([0, 0, 1, 1]);
    expect(() => bootstrapBlocks(Int32Array.of(0, 4), 0)).toThrow(InvalidArgumentError);
  });

  it('draws multinomial block counts: each block drawn B * (1/B) times on average', () => {
    const rng = Rng.fromSeed(3);
    const B = 10;
    const R = 4000;
    const mean = new Float64Array(B);
    for (let r = 0; r < R; r++) {
      const w = bootstrapCounts(B, rng);
      expect(w.reduce((a, v) => a + v, 0)).toBe(B);
      for (let b = 0; b < B; b++) mean[b] += w[b] / R;
    }
    // Each count is Binomial(10, 0.1): mean 1, sd 0.95, so the mean over 4000 has sd 0.015.
    for (let b = 0; b < B; b++) expect(Math.abs(mean[b] - 1)).toBeLessThan(0.06);
  });

  it('gives block-weighted means of per-block sums (bootstrap re-weighting)', () => {
    // Two blocks of 1 and 3 samples with sums (2, 4) and (6, 12) in a width of 2.
    const sums = Float64Array.of(2, 4, 6, 12);
    const counts = Float64Array.of(1, 3);
    expect(Array.from(weightedBlockMean(sums, counts, 2))).toEqual([2, 4]);
    // Block 1 drawn twice, block 0 not at all: (2 * 6) / (2 * 3) = 2; divided by a lag time 0.5: 4.
    expect(Array.from(weightedBlockMean(sums, counts, 2, Float64Array.of(0, 2), 0.5))).toEqual([4, 8]);
    expect(weightedBlockMean(sums, counts, 2, Float64Array.of(0, 0))[0]).toBeNaN();
  });

  it('gives column standard deviations and quantiles of replicate rows', () => {
    const rows = Float64Array.of(1, 10, 2, 20, 3, 30, 4, 40);
    expect(Array.from(columnStd(rows, 2))).toEqual([Math.sqrt(5 / 3), Math.sqrt(500 / 3)]);
    const [lo, hi] = columnQuantiles(rows, 2, [0, 1]);
    expect(Array.from(lo)).toEqual([1, 10]);
    expect(Array.from(hi)).toEqual([4, 40]);
  });

  it('measures the integrated autocorrelation time of an OU process: 2 / (theta dt) samples', () => {
    // rho(k) = exp(-theta k dt): tau = 1 + 2 sum_k rho^k = (1 + r) / (1 - r) ~ 2 / (theta dt) = 200.
    const x = ouExactPath(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]]), {
      dt: 0.01,
      length: 400_000,
      seed: 4,
    });
    const { tau } = autocorrelationTimeOf(x, 1, Int32Array.of(0, 400_000));
    // Standard error of tau over N = 4e5 samples: tau sqrt(2 (2W + 1) / N) with W ~ 5 tau: ~0.1 tau.
    expect(Math.abs(tau - 200) / 200).toBeLessThan(0.25);
  });
});

describe('ouExactPath', () => {
  it('has the exact stationary and lag-1 covariances of the OU process', () => {
    const theta = Matrix.from([
      [1, -0.8],
      [0.5, 2],
    ]);
    const noise = Matrix.from([
      [1, 0],
      [0.6, 1.2],
    ]);
    const dt = 0.05;
    const n = 400_000;
    const x = ouExactPath(theta, noise, { dt, length: n, seed: 7 });
    const c0 = ouStationaryCovariance(theta, noise);
    const c1 = ouCorrelation(theta, noise, dt);
    const e0 = laggedCovariance(x, 2, 0);
    const e1 = laggedCovariance(x, 2, 1);
    // Time averages over T = 2e4 (about 2e4 relaxation times): entries within ~0.01 (3 standard errors).
    for (let k = 0; k < 4; k++) {
      expect(Math.abs(e0.data[k] - c0.data[k])).toBeLessThan(0.02);
      expect(Math.abs(e1.data[k] - c1.data[k])).toBeLessThan(0.02);
    }
    expect(() => ouExactPath(theta, noise, { dt: 0, length: 5, seed: 1 })).toThrow(/dt/);
  });
});

describe('simulate watch: runaway paths', () => {
  // dX = +X dt + dW runs away exponentially; dX = -X dt + dW stays near 0.
  const unstable = ouSystem(Matrix.from([[-1]]), Matrix.from([[1]]));
  const stable = ouSystem(Matrix.from([[1]]), Matrix.from([[1]]));
  const box = { lo: Float64Array.of(-3), hi: Float64Array.of(3) };

  it('stops a path that leaves the box by more than stopFactor half-widths, naming path and time', () => {
    let caught: unknown;
    try {
      simulate(unstable, { x0: Float64Array.of(0.5), paths: 4, h: 0.01, T: 20, seed: 1, watch: box });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RunawayError);
    const e = caught as RunawayError;
    expect(e.path).toBeGreaterThanOrEqual(0);
    // e^t x0 reaches 30 (10 half-widths) after about ln(60) = 4.1 time units.
    expect(e.time).toBeGreaterThan(1);
    expect(e.time).toBeLessThan(20);
    expect(Math.abs(e.value)).toBeGreaterThan(30);
    expect(e.message).toMatch(/ran away.*stopFactor/);
  });

  it('reports excursions beyond reportFactor without stopping, and none for a confined process', () => {
    const b = simulate(unstable, {
      x0: Float64Array.of(0.5),
      paths: 3,
      h: 0.01,
      T: 8,
      seed: 1,
      watch: { ...box, stopFactor: Number.POSITIVE_INFINITY },
    });
    // e^t x0 passes 4.5 (1.5 half-widths) near t = 2.2 on every path; the noise cannot hold it back.
    expect(b.excursions?.length).toBe(3);
    for (const x of b.excursions ?? []) expect(x.factor).toBeGreaterThan(1.5);
    const ok = simulate(stable, { x0: Float64Array.of(0), paths: 8, h: 0.01, T: 50, seed: 2, watch: box });
    // Stationary sd 1/sqrt(2) = 0.71: beyond 4.5 (6.4 sd) has probability ~1e-10 per sample.
    expect(ok.excursions).toEqual([]);
    expect(() =>
      simulate(stable, {
        x0: Float64Array.of(0),
        h: 0.01,
        T: 1,
        seed: 2,
        watch: { lo: Float64Array.of(1), hi: Float64Array.of(0) },
      }),
    ).toThrow(/watch/);
    expect(() =>
      simulate(stable, {
        x0: Float64Array.of(0),
        h: 0.01,
        T: 1,
        seed: 2,
        watch: { ...box, stopFactor: 1.2 },
      }),
    ).toThrow(/stopFactor/);
  });

  it('reports the same excursions and stops the same way on worker threads', async () => {
    const viaWorkers = await simulateParallel(
      { module: systemsModule, exportName: 'fourWellSystem' },
      {
        x0: Float64Array.of(0, 0),
        paths: 4,
        h: 0.01,
        T: 2,
        seed: 1,
        threads: 2,
        watch: {
          lo: Float64Array.of(-0.01, -0.01),
          hi: Float64Array.of(0.01, 0.01),
          stopFactor: Number.POSITIVE_INFINITY,
        },
      },
    );
    const inThread = simulate(fourWellSystem(), {
      x0: Float64Array.of(0, 0),
      paths: 4,
      h: 0.01,
      T: 2,
      seed: 1,
      watch: {
        lo: Float64Array.of(-0.01, -0.01),
        hi: Float64Array.of(0.01, 0.01),
        stopFactor: Number.POSITIVE_INFINITY,
      },
    });
    expect(viaWorkers.excursions).toEqual(inThread.excursions);
    expect(viaWorkers.excursions?.length).toBe(4);
    await expect(
      simulateParallel(
        { module: systemsModule, exportName: 'fourWellSystem' },
        {
          x0: Float64Array.of(0, 0),
          paths: 4,
          h: 0.01,
          T: 2,
          seed: 1,
          threads: 2,
          watch: { lo: Float64Array.of(-0.01, -0.01), hi: Float64Array.of(0.01, 0.01) },
        },
      ),
    ).rejects.toThrow(/ran away/);
  });
});

describe('simulate refuses a run that cannot fit in memory', () => {
  it('names the values and bytes it would need before allocating anything', () => {
    const stable = ouSystem(Matrix.from([[1]]), Matrix.from([[1]]));
    expect(() => simulate(stable, { x0: Float64Array.of(0), h: 0.01, T: 1e12, seed: 1 })).toThrow(
      /T\/steps: the run would save 1 paths x 1\.000e\+14 states|T\/steps: the run would save 1 paths x 100000000000001 states/,
    );
  });
});

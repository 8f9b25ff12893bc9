import { DimensionError, InvalidArgumentError, NonFiniteError, RealFft } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { energy, spatialMean } from '../src/diagnostics.js';
import { type KsProgress, randomSmoothField, simulateKs } from '../src/simulate.js';
import { createKsSolver } from '../src/solver.js';

describe('randomSmoothField', () => {
  it('is a zero-mean, unit-rms trigonometric polynomial of degree 8, reproducible from the seed', () => {
    const N = 64;
    const u = randomSmoothField({ N, seed: 5 });
    expect(Math.abs(spatialMean(u))).toBeLessThan(1e-15);
    expect(energy(u) * 2).toBeCloseTo(1, 14);
    const re = new Float64Array(N / 2 + 1);
    const im = new Float64Array(N / 2 + 1);
    new RealFft(N).forward(u, re, im);
    for (let m = 9; m <= N / 2; m++) expect(Math.hypot(re[m], im[m])).toBeLessThan(1e-12);
    expect(Math.hypot(re[1], im[1])).toBeGreaterThan(1e-3);
    expect(randomSmoothField({ N, seed: 5 })).toEqual(u); // bit-identical
    expect(randomSmoothField({ N, seed: 6 })).not.toEqual(u);
    expect(randomSmoothField({ N, seed: 5, stream: 1 })).not.toEqual(u);
  });

  it('rejects bad options', () => {
    expect(() => randomSmoothField({ N: 60, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => randomSmoothField({ N: 16, seed: 1, modes: 8 })).toThrow(InvalidArgumentError);
    expect(() => randomSmoothField({ N: 16, seed: 1, rms: 0 })).toThrow(InvalidArgumentError);
  });
});

describe('simulateKs', () => {
  it('observes every dt at every stride-th point, exactly as stepping the solver by hand', () => {
    const L = 34;
    const N = 64;
    const h = 0.05;
    const progress: KsProgress[] = [];
    const { series, grid, finalState, initialState } = simulateKs({
      L,
      N,
      h,
      seed: 2,
      spinUp: 10,
      dt: 0.1,
      T: 5,
      stride: 2,
      onProgress: (p) => progress.push(p),
    });
    expect(series.dim).toBe(32);
    expect(series.length).toBe(50);
    expect(series.dt).toBe(0.1);
    expect(series.t0).toBeCloseTo(10, 12);
    expect(grid[1]).toBeCloseTo((2 * L) / N, 14);
    expect(initialState).toEqual(randomSmoothField({ N, seed: 2 }));
    // Same computation by hand: 200 spin-up steps, then 2 steps per sample.
    const s = createKsSolver({ L, N, h });
    s.setState(initialState);
    s.step(200);
    const u = new Float64Array(N);
    for (let k = 0; k < series.length; k++) {
      if (k > 0) s.step(2);
      s.state(u);
      for (let i = 0; i < 32; i++) expect(series.data[k * 32 + i]).toBe(u[2 * i]);
    }
    expect(finalState).toEqual(u);
    // Progress: increasing, ending at the total step count (200 + 49 * 2 = 298).
    expect(progress.length).toBeGreaterThan(10);
    expect(progress[progress.length - 1].done).toBe(298);
    expect(progress[progress.length - 1].total).toBe(298);
    for (let i = 1; i < progress.length; i++) expect(progress[i].done).toBeGreaterThan(progress[i - 1].done);
  });

  it('uses u0 when given and is deterministic', () => {
    const u0 = randomSmoothField({ N: 32, seed: 9, rms: 0.5 });
    const a = simulateKs({ L: 22, N: 32, h: 0.25, u0, dt: 0.5, T: 10 });
    const b = simulateKs({ L: 22, N: 32, h: 0.25, u0, dt: 0.5, T: 10 });
    expect(a.series.data).toEqual(b.series.data);
    // The first sample is the initial condition (no spin-up), up to FFT round-off.
    for (let j = 0; j < 32; j++) expect(a.series.data[j]).toBeCloseTo(u0[j], 14);
  });

  it('rejects bad options with typed errors', () => {
    const base = { L: 22, N: 32, h: 0.1, seed: 1, dt: 0.2, T: 1 };
    expect(() => simulateKs({ ...base, dt: 0.15 })).toThrow(InvalidArgumentError); // not a multiple of h
    expect(() => simulateKs({ ...base, dt: 1e-12 })).toThrow(InvalidArgumentError); // rounds to 0 steps per sample
    expect(() => simulateKs({ ...base, spinUp: 0.05 })).toThrow(InvalidArgumentError);
    expect(() => simulateKs({ ...base, stride: 3 })).toThrow(InvalidArgumentError);
    expect(() => simulateKs({ ...base, T: 0 })).toThrow(InvalidArgumentError);
    expect(() => simulateKs({ ...base, h: 0 })).toThrow(InvalidArgumentError);
    expect(() => simulateKs({ ...base, N: 24 })).toThrow(InvalidArgumentError);
    expect(() => simulateKs({ L: 22, N: 32, h: 0.1, dt: 0.2, T: 1 })).toThrow(InvalidArgumentError); // no seed or u0
    expect(() => simulateKs({ ...base, u0: new Float64Array(16) })).toThrow(DimensionError);
    const nonFinite = new Float64Array(32);
    nonFinite[3] = Number.POSITIVE_INFINITY;
    expect(() => simulateKs({ ...base, u0: nonFinite })).toThrow(NonFiniteError);
  });
});

import { acf, variance } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { leadingLyapunovExponent } from '../src/diagnostics.js';
import { simulateKs } from '../src/simulate.js';

// In its own file so that vitest runs it in parallel with the Lyapunov test (diagnostics.test.ts).
describe('T3 configuration (L = 34, N = 64, h = 0.05, stride 2)', () => {
  it('gives a statistically stationary, chaotic 32-dimensional series', () => {
    // T = 2e4 time units after a spin-up of 1000 (docs/benchmarks.md T3). Measured over 4 seeds: the
    // coordinate-averaged variance is 2.01 +- 0.03; ACF (averaged over coordinates) 0.983 at 1 time
    // unit, ~0.48 at 10, 1/e at ~31, first zero at ~300 (slow drift of the cellular pattern).
    // Between halves of one run the averaged variance differed by <= 6.2 % (block-to-block spread of
    // the 2000-unit block variances is 5-8 %, so a half-difference has a standard error of ~4 %);
    // 15 % is ~3.7 standard errors.
    const { series, finalState } = simulateKs({
      L: 34,
      N: 64,
      h: 0.05,
      seed: 1,
      spinUp: 1000,
      dt: 0.1,
      T: 20000,
      stride: 2,
    });
    const { data, dim, length } = series;
    expect(dim).toBe(32);
    const v = variance(data, dim);
    const avg = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
    // Translation invariance: every coordinate has the same variance up to sampling error.
    expect(Math.max(...v) / Math.min(...v)).toBeLessThan(1.5);
    const half = Math.floor(length / 2) * dim;
    const v1 = avg(variance(data.subarray(0, half), dim));
    const v2 = avg(variance(data.subarray(half, 2 * half), dim));
    expect(Math.abs(v1 - v2) / (0.5 * (v1 + v2))).toBeLessThan(0.15);
    // ACF: smooth in time, decorrelated by chaos at 10 time units, and gone at 400-800 units.
    const rho = acf(data, dim, 8000);
    expect(rho[10]).toBeGreaterThan(0.9);
    expect(rho[100]).toBeLessThan(0.7);
    let tail = 0;
    for (let k = 4000; k <= 8000; k++) tail += Math.abs(rho[k]);
    expect(tail / 4001).toBeLessThan(0.15);
    // Chaos: a positive leading Lyapunov exponent on the attractor (~0.058 in a T = 2000 run; a
    // T = 1000 run has a standard error of ~0.005).
    const lyap = leadingLyapunovExponent({
      L: 34,
      N: 64,
      h: 0.05,
      seed: 1,
      u0: finalState,
      spinUp: 0,
      T: 1000,
    });
    expect(lyap.exponent).toBeGreaterThan(0.02);
  });
});

import { describe, expect, it } from 'vitest';
import { acf, acfPooled, DimensionError, Rng } from '../src/index.js';

// Many short AR(1) paths x_{t+1} = phi x_t + sqrt(1 - phi^2) z, started in the stationary law, so
// the exact ACF is phi^k. Paths of 50 samples with correlation time 1/(1 - phi) = 20 samples.
function ar1Paths(paths: number, length: number, phi: number, seed: number): Float64Array {
  const rng = Rng.fromSeed(seed);
  const out = new Float64Array(paths * length);
  const s = Math.sqrt(1 - phi * phi);
  for (let p = 0; p < paths; p++) {
    let x = rng.normal();
    for (let t = 0; t < length; t++) {
      out[p * length + t] = x;
      x = phi * x + s * rng.normal();
    }
  }
  return out;
}

describe('acfPooled', () => {
  const phi = 0.95;
  const paths = 2000;
  const length = 50;
  const data = ar1Paths(paths, length, phi, 11);

  it('recovers phi^k from many short paths', () => {
    const rho = acfPooled(data, 1, paths, 20);
    // 2000 paths x 50 samples hold ~5000 independent blocks of 20 samples: the standard error of
    // rho(k) is below ~0.02 at these lags; 0.04 is two of them.
    for (let k = 0; k <= 20; k++) expect(Math.abs(rho[k] - phi ** k)).toBeLessThan(0.04);
  });

  it('is free of the short-path bias of per-path normalised ACFs', () => {
    // Averaging each path's own ACF is biased low at lag 20 by far more than the tolerance above.
    const perPath = new Float64Array(21);
    for (let p = 0; p < paths; p++) {
      const a = acf(data.subarray(p * length, (p + 1) * length), 1, 20);
      for (let k = 0; k <= 20; k++) perPath[k] += a[k] / paths;
    }
    expect(phi ** 20 - perPath[20]).toBeGreaterThan(0.2);
    expect(Math.abs(acfPooled(data, 1, paths, 20)[20] - phi ** 20)).toBeLessThan(0.04);
  });

  it('equals acf up to the (n - k)/n factor for one path', () => {
    const one = data.subarray(0, 10 * length);
    const pooled = acfPooled(one, 1, 1, 30);
    const plain = acf(one, 1, 30);
    const n = 10 * length;
    for (let k = 0; k <= 30; k++) expect(pooled[k] * ((n - k) / n)).toBeCloseTo(plain[k], 12);
  });

  it('rejects data that do not split into the paths', () => {
    expect(() => acfPooled(new Float64Array(7), 1, 2, 1)).toThrow(DimensionError);
  });
});

import { InvalidArgumentError } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { etdrk4Coefficients } from '../src/etdrk4.js';

/** Direct formulas of Kassam & Trefethen (2005) eq. (2.5); accurate when |z| is not small. */
function direct(z: number, h: number) {
  const ez = Math.exp(z);
  return {
    Q: (h * (Math.exp(z / 2) - 1)) / z,
    f1: (h * (-4 - z + ez * (4 - 3 * z + z * z))) / z ** 3,
    f2: (h * (2 + z + ez * (z - 2))) / z ** 3,
    f3: (h * (-4 - 3 * z - z * z + ez * (4 - z))) / z ** 3,
  };
}

/** Taylor series at z = 0 (phi-function expansions): exact to O(z^3) for |z| <= 1e-3. */
function taylor(z: number, h: number) {
  return {
    Q: h * (0.5 + z / 8 + (z * z) / 48),
    f1: h * (1 / 6 + z / 6 + (3 * z * z) / 40),
    f2: h * (1 / 6 + z / 12 + (z * z) / 40),
    f3: h * (1 / 6 + 0 * z - (z * z) / 120),
  };
}

describe('etdrk4Coefficients (contour integrals, 32 points)', () => {
  const h = 0.25;

  it('matches the direct formulas where they are accurate (|z| >= 0.5)', () => {
    const zs = [-1e4, -300, -40, -5, -2, -0.5, 0.5, 1.5];
    const c = etdrk4Coefficients(
      Float64Array.from(zs, (z) => z / h),
      h,
    );
    zs.forEach((z, j) => {
      const d = direct(z, h);
      // The direct formulas lose ~|log10 cancellation| digits near |z| = 0.5 (about 1e-14 relative
      // here); the contour means are accurate to round-off, so 1e-12 relative is a safe bound.
      expect(Math.abs(c.Q[j] - d.Q)).toBeLessThan(1e-12 * Math.abs(d.Q));
      expect(Math.abs(c.f1[j] - d.f1)).toBeLessThan(1e-12 * Math.abs(d.f1));
      expect(Math.abs(c.f2[j] - d.f2)).toBeLessThan(1e-12 * Math.abs(d.f2));
      expect(Math.abs(c.f3[j] - d.f3)).toBeLessThan(1e-12 * Math.abs(d.f3));
      expect(c.E[j]).toBe(Math.exp(z));
      expect(c.E2[j]).toBe(Math.exp(z / 2));
    });
  });

  it('matches the Taylor limits near z = 0, where the direct formulas cancel catastrophically', () => {
    const zs = [0, 1e-12, -1e-8, 1e-4, -1e-3];
    const c = etdrk4Coefficients(
      Float64Array.from(zs, (z) => z / h),
      h,
    );
    zs.forEach((z, j) => {
      const t = taylor(z, h);
      // Truncation of the series is O(z^3) <= 1e-9 relative; round-off of the contour mean ~1e-15.
      expect(Math.abs(c.Q[j] - t.Q)).toBeLessThan(2e-9 * h);
      expect(Math.abs(c.f1[j] - t.f1)).toBeLessThan(2e-9 * h);
      expect(Math.abs(c.f2[j] - t.f2)).toBeLessThan(2e-9 * h);
      expect(Math.abs(c.f3[j] - t.f3)).toBeLessThan(2e-9 * h);
    });
    // The direct formula at z = 1e-8 is wrong by many orders of magnitude; the contour is not.
    expect(Math.abs(direct(1e-8, h).f1 - h / 6)).toBeGreaterThan(1e-3);
  });

  it('rejects bad input', () => {
    expect(() => etdrk4Coefficients(Float64Array.of(1), 0)).toThrow(InvalidArgumentError);
    expect(() => etdrk4Coefficients(Float64Array.of(1), 0.1, 2)).toThrow(InvalidArgumentError);
  });
});

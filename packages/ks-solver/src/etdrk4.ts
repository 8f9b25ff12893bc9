/**
 * ETDRK4 coefficients for a diagonal linear operator, evaluated by contour integrals
 * (Kassam & Trefethen 2005, "Fourth-order time-stepping for stiff PDEs", SIAM J. Sci. Comput. 26(4),
 * 1214-1233, eqs. (2.5) and section 5; the scheme itself is Cox & Matthews 2002, J. Comput. Phys. 176).
 *
 * For u_t = c u + N(u, t) with a step h and z = c h, the scheme
 *   a = e^{z/2} u_n + Q N(u_n)
 *   b = e^{z/2} u_n + Q N(a)
 *   c = e^{z/2} a + Q (2 N(b) - N(u_n))
 *   u_{n+1} = e^{z} u_n + f1 N(u_n) + 2 f2 (N(a) + N(b)) + f3 N(c)
 * needs
 *   Q  = h (e^{z/2} - 1) / z
 *   f1 = h (-4 - z + e^z (4 - 3z + z^2)) / z^3
 *   f2 = h ( 2 + z + e^z (-2 + z)) / z^3
 *   f3 = h (-4 - 3z - z^2 + e^z (4 - z)) / z^3.
 * These suffer catastrophic cancellation for small |z|, so each is replaced by its mean over M points
 * on the circle of radius 1 around z (Cauchy's integral formula; exact in exact arithmetic for these
 * entire functions, accurate to round-off for M = 32 because the trapezoid rule on a circle
 * converges geometrically).
 */
import { checkFinite, checkInteger, checkPositive } from '@sdekit/sde';

/** Per-mode ETDRK4 multipliers (all real, since the linear operator is real and diagonal). */
export interface Etdrk4Coefficients {
  /** e^{c h}. */
  readonly E: Float64Array;
  /** e^{c h / 2}. */
  readonly E2: Float64Array;
  readonly Q: Float64Array;
  readonly f1: Float64Array;
  readonly f2: Float64Array;
  readonly f3: Float64Array;
}

/**
 * ETDRK4 multipliers for each eigenvalue c of a real diagonal linear operator, with step h and
 * `contourPoints` equally spaced points on the unit circle around z = c h (Kassam & Trefethen 2005).
 *
 * @example
 * const c = Float64Array.from([0, -1, -1e4]);
 * const { E, f1 } = etdrk4Coefficients(c, 0.1);
 * // E[0] = 1; f1[0] = h / 6 (the z -> 0 limit of f1 is h/6)
 */
export function etdrk4Coefficients(linear: Float64Array, h: number, contourPoints = 32): Etdrk4Coefficients {
  checkPositive('h', h);
  checkInteger('contourPoints', contourPoints, 4);
  checkFinite('linear', linear);
  const n = linear.length;
  const E = new Float64Array(n);
  const E2 = new Float64Array(n);
  const Q = new Float64Array(n);
  const f1 = new Float64Array(n);
  const f2 = new Float64Array(n);
  const f3 = new Float64Array(n);
  const M = contourPoints;
  for (let j = 0; j < n; j++) {
    const z0 = linear[j] * h;
    E[j] = Math.exp(z0);
    E2[j] = Math.exp(z0 / 2);
    let sq = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let p = 0; p < M; p++) {
      // z = z0 + exp(i theta), theta = 2 pi (p + 1/2) / M (points avoid the real axis).
      const theta = (2 * Math.PI * (p + 0.5)) / M;
      const zr = z0 + Math.cos(theta);
      const zi = Math.sin(theta);
      // e^z and e^{z/2}
      const ez = Math.exp(zr);
      const er = ez * Math.cos(zi);
      const ei = ez * Math.sin(zi);
      const ehz = Math.exp(zr / 2);
      const ehr = ehz * Math.cos(zi / 2);
      const ehi = ehz * Math.sin(zi / 2);
      // z^2, z^3
      const z2r = zr * zr - zi * zi;
      const z2i = 2 * zr * zi;
      const z3r = z2r * zr - z2i * zi;
      const z3i = z2r * zi + z2i * zr;
      // Q integrand: (e^{z/2} - 1) / z; only the real part of the mean survives (conjugate pairs).
      sq += divRe(ehr - 1, ehi, zr, zi);
      // f1: (-4 - z + e^z (4 - 3z + z^2)) / z^3
      {
        const pr = 4 - 3 * zr + z2r;
        const pi = -3 * zi + z2i;
        const nr = -4 - zr + (er * pr - ei * pi);
        const ni = -zi + (er * pi + ei * pr);
        s1 += divRe(nr, ni, z3r, z3i);
      }
      // f2: (2 + z + e^z (z - 2)) / z^3
      {
        const pr = zr - 2;
        const pi = zi;
        const nr = 2 + zr + (er * pr - ei * pi);
        const ni = zi + (er * pi + ei * pr);
        s2 += divRe(nr, ni, z3r, z3i);
      }
      // f3: (-4 - 3z - z^2 + e^z (4 - z)) / z^3
      {
        const pr = 4 - zr;
        const pi = -zi;
        const nr = -4 - 3 * zr - z2r + (er * pr - ei * pi);
        const ni = -3 * zi - z2i + (er * pi + ei * pr);
        s3 += divRe(nr, ni, z3r, z3i);
      }
    }
    Q[j] = (h * sq) / M;
    f1[j] = (h * s1) / M;
    f2[j] = (h * s2) / M;
    f3[j] = (h * s3) / M;
  }
  return { E, E2, Q, f1, f2, f3 };
}

/** Real part of (ar + i ai) / (br + i bi). */
function divRe(ar: number, ai: number, br: number, bi: number): number {
  return (ar * br + ai * bi) / (br * br + bi * bi);
}

/**
 * The asymmetric four-well potential with rotation (benchmark T2, docs/benchmarks.md):
 * dX = Phi (-grad U(X)) dt + sqrt(2) dW, whose stationary density is exactly exp(-U) / Z for the
 * non-gradient mobility Phi, with its exact score, Phi and marginal statistics.
 */
import { DimensionError, Matrix, type SdeSystem } from '@sdekit/sde';
import { type ExactStatistics1d, gridMoments } from './quadrature.js';

/** T2 parameters: U_i(x) = (x^2 - A_i^2)^2 + B_i x, Phi_true = [[1, -C], [C, 1]]. */
export const FOUR_WELL = Object.freeze({
  A: Object.freeze([1.0, 1.2]),
  B: Object.freeze([0.6, 0.3]),
  C: 0.8,
});

/** Phi_true = [[1, -C], [C, 1]] (a fresh copy). */
export function fourWellPhi(): Matrix {
  return Matrix.from([
    [1, -FOUR_WELL.C],
    [FOUR_WELL.C, 1],
  ]);
}

/** U(x1, x2) = U1(x1) + U2(x2) for a batch of 2-D points. */
export function fourWellPotential(points: Float64Array): Float64Array {
  if (points.length % 2 !== 0)
    throw new DimensionError(
      'points',
      `length ${points.length} is odd`,
      'pass a row-major batch of 2-D points',
    );
  const n = points.length / 2;
  const out = new Float64Array(n);
  const [A1, A2] = FOUR_WELL.A;
  const [B1, B2] = FOUR_WELL.B;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    out[i] = (x * x - A1 * A1) ** 2 + B1 * x + (y * y - A2 * A2) ** 2 + B2 * y;
  }
  return out;
}

/**
 * Exact score of T2, s = -grad U, for a batch of 2-D points (p is exactly proportional to exp(-U)).
 *
 * @example
 * fourWellScore(Float64Array.of(0, 0)); // [-0.6, -0.3]
 */
export function fourWellScore(points: Float64Array): Float64Array {
  if (points.length % 2 !== 0)
    throw new DimensionError(
      'points',
      `length ${points.length} is odd`,
      'pass a row-major batch of 2-D points',
    );
  const out = new Float64Array(points.length);
  const [A1, A2] = FOUR_WELL.A;
  const [B1, B2] = FOUR_WELL.B;
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    out[i] = -(4 * x * (x * x - A1 * A1) + B1);
    out[i + 1] = -(4 * y * (y * y - A2 * A2) + B2);
  }
  return out;
}

/**
 * T2 as an SdeSystem: dX = Phi_true (-grad U(X)) dt + sqrt(2) dW (additive scalar noise), with a
 * batched drift.
 *
 * @example
 * const bundle = simulate(fourWellSystem(), { x0: new Float64Array(2), paths: 100, h: 1e-3, T: 10, seed: 4 });
 */
export function fourWellSystem(): SdeSystem {
  const [A1, A2] = FOUR_WELL.A;
  const [B1, B2] = FOUR_WELL.B;
  const C = FOUR_WELL.C;
  const a1 = A1 * A1;
  const a2 = A2 * A2;
  const driftBatch = (_t: number, x: Float64Array, n: number, out: Float64Array): void => {
    for (let i = 0; i < 2 * n; i += 2) {
      const u = x[i];
      const v = x[i + 1];
      const s1 = -(4 * u * (u * u - a1) + B1);
      const s2 = -(4 * v * (v * v - a2) + B2);
      out[i] = s1 - C * s2;
      out[i + 1] = C * s1 + s2;
    }
  };
  return {
    dim: 2,
    noiseDim: 2,
    noise: 'scalar',
    additive: true,
    drift: (t, x, out) => driftBatch(t, x, 1, out),
    diffusion: (_t, _x, out) => {
      out[0] = Math.SQRT2;
    },
    driftBatch,
  };
}

/** Exact statistics of T2: per-coordinate marginals of p ~ exp(-U) (a product of 1-D densities). */
export interface FourWellStatistics {
  x1: ExactStatistics1d;
  x2: ExactStatistics1d;
  /** Phi_true in per-coordinate z-scored units: S^{-1} Phi S^{-1} with S = diag(std). */
  phiZScored: Matrix;
}

let stats: FourWellStatistics | undefined;

/**
 * Exact marginal statistics of T2 by quadrature of exp(-U_i) on [-4, 4] (docs/benchmarks.md: x1 mean
 * -0.46697, std 0.82411, P(x1 < 0) = 0.72946; x2 mean -0.35842, std 1.06052, P(x2 < 0) = 0.65182).
 *
 * @example
 * fourWellStatistics().x1.probNegative; // 0.7294...
 */
export function fourWellStatistics(): FourWellStatistics {
  if (!stats) {
    const cells = 1 << 15;
    const lo = -4;
    const step = 8 / cells;
    const marg = (A: number, B: number) => {
      const p = new Float64Array(cells + 1);
      for (let i = 0; i <= cells; i++) {
        const x = lo + i * step;
        p[i] = Math.exp(-((x * x - A * A) ** 2 + B * x));
      }
      return gridMoments(lo, step, p);
    };
    const x1 = marg(FOUR_WELL.A[0], FOUR_WELL.B[0]);
    const x2 = marg(FOUR_WELL.A[1], FOUR_WELL.B[1]);
    const phi = fourWellPhi();
    const s = [x1.std, x2.std];
    const z = new Matrix(2, 2);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) z.set(i, j, phi.get(i, j) / (s[i] * s[j]));
    stats = { x1, x2, phiZScored: z };
  }
  return {
    x1: { ...stats.x1 },
    x2: { ...stats.x2 },
    phiZScored: stats.phiZScored.clone(),
  };
}

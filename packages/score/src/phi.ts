/**
 * Phi = Cdot V^{-1}, its symmetric/antisymmetric split, the positive-definiteness shift and
 * Sigma = chol(Phi_S) (docs/methods.md section 1, [G] eqs. for Phi and Sigma).
 */
import {
  antisymmetricPart,
  checkFinite,
  cholesky,
  DimensionError,
  frobeniusNorm,
  Matrix,
  solveRight,
  symmetricEigen,
  symmetricPart,
} from '@sdekit/sde';

/** The constant matrices of the Langevin model dx = Phi s dt + sqrt(2) Sigma dW. */
export interface LangevinCoefficients {
  /** Phi = Phi_S + Phi_A, with the shifted Phi_S when a shift was applied. */
  phi: Matrix;
  phiS: Matrix;
  phiA: Matrix;
  /** Lower Cholesky factor of Phi_S (Sigma Sigma^T = Phi_S). */
  sigma: Matrix;
  /** Phi = Cdot V^{-1} before any shift. */
  phiRaw: Matrix;
  /** Smallest eigenvalue of the unshifted Phi_S. */
  lambdaMin: number;
  /** Diagonal shift added to Phi_S (0 when Phi_S was positive definite). */
  shift: number;
  /** ||Phi_S||_F^2 / ||Phi||_F^2 and ||Phi_A||_F^2 / ||Phi||_F^2 (they sum to 1). */
  energyShareS: number;
  energyShareA: number;
}

/** eps of the shift rule Phi_S + (|lambda_min| + eps) I (docs/methods.md section 1). */
export const PHI_SHIFT_EPS = 5e-4;

/**
 * From Cdot = dC/dt(0+) and the Stein matrix V: Phi = Cdot V^{-1} by a linear solve (X V = Cdot,
 * no inverse), then Phi_S, Phi_A; if Phi_S is not positive definite (lambda_min <= 0) it becomes
 * Phi_S + (|lambda_min| + eps) I, and the shifted Phi_S is used in the drift too (Phi = Phi_S + Phi_A),
 * unlike the reference code, which shifts only the noise (docs/methods.md section 1).
 *
 * @example
 * // Cdot = Phi V with V = -I and Phi = [[1, -0.8], [0.8, 1]]:
 * const c = langevinCoefficients(Matrix.from([[-1, 0.8], [-0.8, -1]]), Matrix.from([[-1, 0], [0, -1]]));
 * // c.phi = [[1, -0.8], [0.8, 1]], c.shift = 0, c.sigma = I
 */
export function langevinCoefficients(cdot: Matrix, v: Matrix, eps = PHI_SHIFT_EPS): LangevinCoefficients {
  if (cdot.rows !== cdot.cols || v.rows !== v.cols || cdot.rows !== v.rows) {
    throw new DimensionError(
      'cdot/v',
      `shapes ${cdot.rows}x${cdot.cols} and ${v.rows}x${v.cols} differ or are not square`,
      'pass two D x D matrices',
    );
  }
  checkFinite('cdot', cdot.data);
  checkFinite('v', v.data);
  const d = v.rows;
  const phiRaw = solveRight(cdot, v, 'V (Stein matrix)');
  const phiA = antisymmetricPart(phiRaw);
  const phiS = symmetricPart(phiRaw);
  const lambdaMin = symmetricEigen(phiS, 'Phi_S').values[0];
  let shift = 0;
  if (!(lambdaMin > 0)) {
    shift = Math.abs(lambdaMin) + eps;
    for (let i = 0; i < d; i++) phiS.data[i * d + i] += shift;
  }
  const phi = new Matrix(d, d);
  for (let k = 0; k < d * d; k++) phi.data[k] = phiS.data[k] + phiA.data[k];
  const sigma = cholesky(phiS, 'Phi_S');
  const total = frobeniusNorm(phi) ** 2;
  const energyShareS = total > 0 ? frobeniusNorm(phiS) ** 2 / total : 0;
  const energyShareA = total > 0 ? frobeniusNorm(phiA) ** 2 / total : 0;
  return { phi, phiS, phiA, sigma, phiRaw, lambdaMin, shift, energyShareS, energyShareA };
}

/**
 * Linear Ornstein-Uhlenbeck systems dX = -Theta X dt + Sigma dW, with their exact references: the
 * stationary covariance (Lyapunov equation), the lagged covariance and exact sample paths.
 */
import {
  checkFinite,
  checkInteger,
  checkPositive,
  cholesky,
  DimensionError,
  expm,
  InvalidArgumentError,
  lyapunovSolve,
  Matrix,
  matmul,
  NotPositiveDefiniteError,
  Rng,
  type SdeSystem,
  SingularMatrixError,
  transpose,
} from '@sdekit/sde';

function checkOu(theta: Matrix, noise: Matrix): number {
  if (theta.rows !== theta.cols)
    throw new DimensionError('theta', `is ${theta.rows} x ${theta.cols}`, 'pass a square D x D matrix');
  if (noise.rows !== theta.rows) {
    throw new DimensionError(
      'noise',
      `has ${noise.rows} rows, theta is ${theta.rows} x ${theta.rows}`,
      'pass a D x m noise matrix Sigma',
    );
  }
  checkFinite('theta', theta.data);
  checkFinite('noise', noise.data);
  return theta.rows;
}

/**
 * Linear OU system dX = -Theta X dt + Sigma dW (Theta D x D, Sigma = noise D x m; general additive
 * noise, batched drift).
 *
 * @example
 * const ou = ouSystem(Matrix.from([[1, -0.5], [0.5, 2]]), Matrix.identity(2));
 */
export function ouSystem(theta: Matrix, noise: Matrix): SdeSystem {
  const d = checkOu(theta, noise);
  const m = noise.cols;
  const T = theta.data.slice();
  const G = noise.data.slice();
  const driftBatch = (_t: number, x: Float64Array, n: number, out: Float64Array): void => {
    for (let p = 0; p < n; p++) {
      const o = p * d;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += T[i * d + k] * x[o + k];
        out[o + i] = -s;
      }
    }
  };
  return {
    dim: d,
    noiseDim: m,
    noise: 'general',
    additive: true,
    drift: (t, x, out) => driftBatch(t, x, 1, out),
    diffusion: (_t, _x, out) => {
      out.set(G);
    },
    driftBatch,
  };
}

/**
 * Exact stationary covariance C0 of dX = -Theta X dt + Sigma dW: the solution of the Lyapunov
 * equation Theta C0 + C0 Theta^T = Sigma Sigma^T. Throws InvalidArgumentError when Theta has an
 * eigenvalue with non-positive real part (no stationary law), detected by Lyapunov's theorem.
 *
 * @example
 * ouStationaryCovariance(Matrix.from([[2]]), Matrix.from([[2]])); // [[1]]
 */
export function ouStationaryCovariance(theta: Matrix, noise: Matrix): Matrix {
  const dim = checkOu(theta, noise);
  // Stability test by Lyapunov's theorem: all eigenvalues of Theta have positive real part iff the
  // solution P of Theta P + P Theta^T = I exists and is positive definite.
  const unstable = (detail: string) =>
    new InvalidArgumentError(
      'theta',
      `has an eigenvalue with non-positive real part (${detail}), so the OU process has no stationary law`,
      'pass a stable drift matrix (all eigenvalues with positive real part)',
    );
  let p: Matrix;
  try {
    p = lyapunovSolve(theta, Matrix.identity(dim), 'theta');
  } catch (e) {
    if (e instanceof SingularMatrixError) throw unstable('two eigenvalues sum to zero');
    throw e;
  }
  try {
    cholesky(p, 'Lyapunov certificate');
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError)
      throw unstable('the Lyapunov certificate is not positive definite');
    throw e;
  }
  const c = lyapunovSolve(theta, matmul(noise, transpose(noise)), 'theta');
  // Symmetrise the round-off.
  const d = c.rows;
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (c.get(i, j) + c.get(j, i));
      c.set(i, j, v);
      c.set(j, i, v);
    }
  }
  return c;
}

/**
 * Exact stationary lagged covariance of the OU process, C(t) = E[x(s + t) x(s)^T] = exp(-Theta t) C0
 * for t >= 0 (and C(t) = C(-t)^T for t < 0).
 *
 * @example
 * ouCorrelation(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]]), 0.5).get(0, 0); // exp(-0.5)
 */
export function ouCorrelation(theta: Matrix, noise: Matrix, t: number): Matrix {
  if (!Number.isFinite(t))
    throw new InvalidArgumentError('t', `must be finite, got ${t}`, 'pass a finite lag');
  const c0 = ouStationaryCovariance(theta, noise);
  const a = new Matrix(theta.rows, theta.cols);
  const tt = Math.abs(t);
  for (let i = 0; i < a.data.length; i++) a.data[i] = -theta.data[i] * tt;
  const c = matmul(expm(a, 'theta * t'), c0);
  return t >= 0 ? c : transpose(c);
}

/** Options of `ouExactPath`. */
export interface OuExactPathOptions {
  /** Sampling interval. */
  dt: number;
  /** Number of samples. */
  length: number;
  seed: number;
  /** RNG stream of the seed (one per independent run). Default 0. */
  stream?: number;
  /** Start: a state, or a draw from the stationary law N(0, C0) (default). */
  x0?: Float64Array;
}

/**
 * An exact sample path of dX = -Theta X dt + Sigma dW at sampling interval dt (no discretisation
 * error): X_{t+dt} = A X_t + L xi with A = exp(-Theta dt), L L^T = C0 - A C0 A^T, xi ~ N(0, I), C0
 * the stationary covariance. Returns `length` samples (row-major, length x D).
 *
 * @example
 * const x = ouExactPath(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]]), { dt: 0.01, length: 1e5, seed: 1 });
 */
export function ouExactPath(theta: Matrix, noise: Matrix, options: OuExactPathOptions): Float64Array {
  const d = checkOu(theta, noise);
  checkPositive('dt', options.dt);
  checkInteger('length', options.length, 1);
  const c0 = ouStationaryCovariance(theta, noise);
  const scaled = new Matrix(d, d);
  for (let i = 0; i < d * d; i++) scaled.data[i] = -theta.data[i] * options.dt;
  const a = expm(scaled, 'theta * dt');
  const q = matmul(matmul(a, c0), transpose(a));
  for (let i = 0; i < d * d; i++) q.data[i] = c0.data[i] - q.data[i];
  // Symmetrise against round-off before the factorisation.
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++)
      q.data[i * d + j] = q.data[j * d + i] = 0.5 * (q.data[i * d + j] + q.data[j * d + i]);
  const l = cholesky(q, 'C0 - A C0 A^T');
  const rng = Rng.fromSeed(options.seed, options.stream ?? 0);
  const out = new Float64Array(options.length * d);
  const xi = new Float64Array(d);
  if (options.x0) {
    if (options.x0.length !== d)
      throw new DimensionError('x0', `has length ${options.x0.length}, expected ${d}`, 'pass one state');
    checkFinite('x0', options.x0);
    out.set(options.x0);
  } else {
    const l0 = cholesky(c0, 'C0');
    rng.fillNormal(xi);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += l0.data[i * d + k] * xi[k];
      out[i] = s;
    }
  }
  const A = a.data;
  const L = l.data;
  for (let t = 1; t < options.length; t++) {
    rng.fillNormal(xi);
    const o = t * d;
    const p = o - d;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += A[i * d + k] * out[p + k];
      for (let k = 0; k <= i; k++) s += L[i * d + k] * xi[k];
      out[o + i] = s;
    }
  }
  return out;
}

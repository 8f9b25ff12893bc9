/**
 * Random stationary OU processes in Langevin form with known Phi, for the Cdot validation battery
 * and the estimator bench: non-normal drift Theta = Phi C0^{-1}, non-diagonal stationary covariance
 * C0 and non-diagonal noise Sigma Sigma^T = 2 Phi_S, so that Phi = Theta C0 exactly (data units).
 */
import { cholesky, eigenvalues, Matrix, matmul, Rng, solve, type TimeSeries, timeSeries } from '@sdekit/sde';
import { ouExactPath } from '@sdekit/systems';
import { analyticScore, type ScoreModel } from '../src/index.js';

export interface OuCase {
  dim: number;
  /** Exact Phi (data units). */
  phi: Matrix;
  c0: Matrix;
  theta: Matrix;
  noise: Matrix;
  /** Exact score -C0^{-1} x (data units). */
  score: ScoreModel;
}

/**
 * A random OU process of dimension `dim`; its fastest relaxation rate |lambda_max(Theta)| is
 * `fastestRate` (default 2), so that the time-discretisation bias at a sampling interval dt is
 * set by fastestRate * dt.
 */
export function randomOu(dim: number, seed: number, fastestRate = 2): OuCase {
  // Redraw until the slowest relaxation rate is at least fastestRate / 5: the statistical error of
  // Phi over a record of T time units is about 1 / sqrt(slowest rate * T).
  for (let attempt = 0; ; attempt++) {
    const c = drawOu(dim, Rng.fromSeed(seed, 11 + attempt), fastestRate);
    if (c.slowest >= fastestRate / 5 || attempt === 999) return c.ou;
  }
}

function drawOu(dim: number, rng: Rng, fastestRate: number): { ou: OuCase; slowest: number } {
  const l = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++) {
    l.data[i * dim + i] = 0.5 + rng.uniform();
    for (let j = 0; j < i; j++) l.data[i * dim + j] = 0.4 * rng.normal();
  }
  const c0 = matmul(
    l,
    new Matrix(
      dim,
      dim,
      Float64Array.from({ length: dim * dim }, (_, k) => l.data[(k % dim) * dim + Math.floor(k / dim)]),
    ),
  );
  const b = new Matrix(dim, dim, rng.fillNormal(new Float64Array(dim * dim)));
  const phi = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += b.data[i * dim + k] * b.data[j * dim + k];
      phi.data[i * dim + j] = s / dim + (i === j ? 0.5 : 0);
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < i; j++) {
      const a = 0.5 * rng.normal();
      phi.data[i * dim + j] += a;
      phi.data[j * dim + i] -= a;
    }
  }
  const c0inv = solve(c0, Matrix.identity(dim));
  let theta = matmul(phi, c0inv);
  const ev = eigenvalues(theta);
  let fastest = 0;
  let slowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < dim; i++) {
    fastest = Math.max(fastest, Math.hypot(ev.re[i], ev.im[i]));
    slowest = Math.min(slowest, ev.re[i]);
  }
  const scale = fastestRate / fastest;
  for (let k = 0; k < dim * dim; k++) phi.data[k] *= scale;
  theta = matmul(phi, c0inv);
  const twoPhiS = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) twoPhiS.data[i * dim + j] = phi.data[i * dim + j] + phi.data[j * dim + i];
  const noise = cholesky(twoPhiS);
  const p = c0inv.data;
  const score = analyticScore(dim, (x, out) => {
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += p[i * dim + k] * x[k];
      out[i] = -s;
    }
  });
  return { ou: { dim, phi, c0, theta, noise, score }, slowest: slowest * scale };
}

/** `runs` independent exact stationary runs of `length` samples at interval dt. */
export function ouRuns(c: OuCase, dt: number, runs: number, length: number, seed: number): TimeSeries[] {
  return Array.from({ length: runs }, (_, r) =>
    timeSeries(ouExactPath(c.theta, c.noise, { dt, length, seed, stream: r }), c.dim, dt),
  );
}

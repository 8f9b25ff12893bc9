/**
 * Functions of an estimated generator Q (column convention, docs/methods.md §3): its stationary null
 * vector, its relaxation spectrum, the action of exp(Q t) and the implied autocorrelation of an
 * observable.
 */
import {
  ConvergenceError,
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkPositive,
  DimensionError,
  eigenvalues,
  InvalidArgumentError,
  Matrix,
  solve,
} from '@sdekit/sde';
import type { Generator } from './sparse.js';

export interface NullVectorOptions {
  /**
   * 'dense': LU solve of Q pi = 0 with one equation replaced by sum(pi) = 1 (O(K^3), K up to a few
   * thousand); 'iterative': power iteration on the uniformised chain P = I + Q / (1.01 max exit rate)
   * (O(nnz) per sweep); 'auto' (default): dense for at most 1000 active states.
   */
  method?: 'auto' | 'dense' | 'iterative';
  /** Iterative method: stop when ||Q pi||_1 <= tol * max exit rate (default 1e-12). */
  tol?: number;
  /** Iterative method: sweep limit (default 200000); ConvergenceError beyond. */
  maxIterations?: number;
  /** Iterative method: starting distribution (e.g. the empirical occupation); uniform by default. */
  initial?: Float64Array;
}

/**
 * The stationary distribution of Q: pi >= 0 with Q pi = 0, sum pi = 1 (docs/methods.md §1 step 3, the
 * "null vector" option). States with neither exits nor entries (never visited) get pi = 0 and are
 * left out of the solve. The remaining states must form one closed communicating class: a state that
 * is entered but never left is absorbing and makes the null vector meaningless for a Markov-state
 * model, so it raises InvalidArgumentError; several closed classes raise SingularMatrixError (dense)
 * or ConvergenceError (iterative).
 *
 * @example
 * const Q = Generator.fromDense(Matrix.from([[-1, 2], [1, -2]]));
 * generatorNullVector(Q); // [2/3, 1/3]
 */
export function generatorNullVector(Q: Generator, options: NullVectorOptions = {}): Float64Array {
  const K = Q.size;
  const hasExit = new Uint8Array(K);
  const hasEntry = new Uint8Array(K);
  for (let i = 0; i < K; i++) {
    for (let p = Q.colPtr[i]; p < Q.colPtr[i + 1]; p++) {
      const j = Q.rowIndex[p];
      if (j !== i && Q.values[p] > 0) {
        hasExit[i] = 1;
        hasEntry[j] = 1;
      }
    }
  }
  const active: number[] = [];
  for (let i = 0; i < K; i++) {
    if (hasEntry[i] && !hasExit[i]) {
      throw new InvalidArgumentError(
        'Q',
        `state ${i} is entered but never left (zero column), so it is absorbing and carries all stationary mass`,
        'drop trailing samples that end in a rarely visited cell, use a longer series, or use stationaryDistribution(labels, K)',
      );
    }
    if (hasExit[i]) active.push(i);
  }
  const pi = new Float64Array(K);
  if (active.length === 0) {
    throw new InvalidArgumentError(
      'Q',
      'has no transitions (all columns zero)',
      'estimate Q from a series that changes state',
    );
  }
  const method = options.method ?? 'auto';
  if (method === 'dense' || (method === 'auto' && active.length <= 1000)) {
    const m = active.length;
    const pos = new Int32Array(K).fill(-1);
    active.forEach((s, k) => {
      pos[s] = k;
    });
    const A = new Matrix(m, m);
    for (let k = 0; k < m; k++) {
      const i = active[k];
      for (let p = Q.colPtr[i]; p < Q.colPtr[i + 1]; p++) A.data[pos[Q.rowIndex[p]] * m + k] = Q.values[p];
    }
    // Replace the last balance equation (redundant: columns sum to 0) by the normalisation.
    for (let k = 0; k < m; k++) A.data[(m - 1) * m + k] = 1;
    const b = new Matrix(m, 1);
    b.data[m - 1] = 1;
    const x = solve(A, b, 'Q (restricted to visited states)');
    for (let k = 0; k < m; k++) pi[active[k]] = x.data[k];
    return pi;
  }
  if (method !== 'iterative' && method !== 'auto') {
    throw new InvalidArgumentError(
      'method',
      `unknown method '${method}'`,
      "use 'auto', 'dense' or 'iterative'",
    );
  }
  const tol = options.tol ?? 1e-12;
  const maxIterations = options.maxIterations ?? 200_000;
  checkPositive('tol', tol);
  checkInteger('maxIterations', maxIterations, 1);
  const lambda = 1.01 * Q.maxExitRate();
  if (options.initial) {
    if (options.initial.length !== K) {
      throw new DimensionError(
        'initial',
        `length ${options.initial.length} != K = ${K}`,
        'pass one value per state',
      );
    }
    checkFinite('initial', options.initial);
    let s = 0;
    for (const i of active) s += Math.max(options.initial[i], 0);
    if (!(s > 0))
      throw new InvalidArgumentError(
        'initial',
        'has no positive mass on the visited states',
        'pass a distribution',
      );
    for (const i of active) pi[i] = Math.max(options.initial[i], 0) / s;
  } else {
    for (const i of active) pi[i] = 1 / active.length;
  }
  const qpi = new Float64Array(K);
  for (let it = 0; it < maxIterations; it++) {
    Q.apply(pi, qpi);
    let res = 0;
    for (let i = 0; i < K; i++) res += Math.abs(qpi[i]);
    if (res <= tol * lambda) return pi;
    let s = 0;
    for (let i = 0; i < K; i++) {
      pi[i] += qpi[i] / lambda;
      s += pi[i];
    }
    for (let i = 0; i < K; i++) pi[i] /= s;
  }
  throw new ConvergenceError(
    'Q',
    `power iteration for the null vector did not reach ||Q pi||_1 <= ${tol} * ${lambda} in ${maxIterations} sweeps`,
    "increase maxIterations, pass options.initial (e.g. the empirical occupation), or use method 'dense'",
  );
}

export interface RelaxationSpectrum {
  /** Relaxation rates -Re(lambda_k), ascending (the first is ~0, the stationary mode). */
  rates: Float64Array;
  /** Oscillation frequencies Im(lambda_k) of the same eigenvalues (complex pairs for non-reversible Q). */
  frequencies: Float64Array;
}

/**
 * Relaxation spectrum of a generator: the eigenvalues lambda_k of Q, returned as rates -Re(lambda_k)
 * (ascending; 1 / rate is a relaxation time) and frequencies Im(lambda_k). Dense: uses `eigenvalues`
 * from @sdekit/sde (balancing, Hessenberg reduction, Francis double-shift QR), O(K^3) time and 8 K^2 bytes,
 * so K above `maxSize` (default 500) throws InvalidArgumentError rather than running for minutes
 * (measured times: docs/findings.md, partition). For the slow
 * rates of a large partition, coarsen it first (e.g. k-means with a few hundred cells) or read them off
 * `generatorAutocorrelation`.
 *
 * @example
 * relaxationRates(Generator.fromDense(Matrix.from([[-1, 2], [1, -2]]))).rates; // [0, 3]
 */
export function relaxationRates(Q: Generator, options: { maxSize?: number } = {}): RelaxationSpectrum {
  const maxSize = options.maxSize ?? 500;
  if (Q.size > maxSize) {
    throw new InvalidArgumentError(
      'Q',
      `has ${Q.size} states, above maxSize = ${maxSize} for a dense eigen-decomposition`,
      'coarsen the partition (e.g. kmeansPartition with a few hundred cells), or raise options.maxSize knowing the cost grows as K^3',
    );
  }
  const { re, im } = eigenvalues(Q.toDense(), 'Q');
  const order = Array.from(re.keys()).sort((a, b) => re[b] - re[a] || im[a] - im[b]);
  const rates = new Float64Array(order.length);
  const frequencies = new Float64Array(order.length);
  order.forEach((k, n) => {
    rates[n] = -re[k];
    frequencies[n] = im[k];
  });
  return { rates, frequencies };
}

/** Largest Lambda * t per uniformisation sub-step: exp(-600) ~ 1e-261 is still a normal double. */
const MAX_POISSON_MEAN = 600;

/**
 * exp(Q t) v by uniformisation (Jensen's method): with Lambda = max exit rate and the column-stochastic
 * P = I + Q / Lambda, exp(Q t) v = sum_k Poisson(k; Lambda t) P^k v, truncated once the Poisson mass
 * left is below `tol` (default 1e-13; the truncation error is at most tol * ||v||_1). Every term is non-negative-weighted, so the sum is stable in
 * float64. Long times are split into sub-steps with Lambda t <= 600. Cost ~ (Lambda t + O(sqrt(Lambda t)))
 * sparse products: fine for Lambda t up to ~1e5, slow beyond (use relaxationRates for the asymptotics).
 *
 * @example
 * const Q = Generator.fromDense(Matrix.from([[-1, 1], [1, -1]]));
 * generatorExpAction(Q, Float64Array.of(1, 0), 1); // [(1 + e^-2)/2, (1 - e^-2)/2]
 */
export function generatorExpAction(
  Q: Generator,
  v: Float64Array,
  t: number,
  options: { tol?: number } = {},
): Float64Array {
  if (v.length !== Q.size)
    throw new DimensionError('v', `length ${v.length} != K = ${Q.size}`, 'pass one value per state');
  checkFinite('v', v);
  checkNonNegative('t', t, 'pass a non-negative time');
  const tol = options.tol ?? 1e-13;
  checkPositive('tol', tol);
  const out = v.slice();
  const work = new ExpWork(Q.size);
  propagate(Q, out, t, tol, work);
  return out;
}

class ExpWork {
  readonly u: Float64Array;
  readonly qu: Float64Array;
  readonly acc: Float64Array;
  constructor(n: number) {
    this.u = new Float64Array(n);
    this.qu = new Float64Array(n);
    this.acc = new Float64Array(n);
  }
}

/** In place: x <- exp(Q t) x. */
function propagate(Q: Generator, x: Float64Array, t: number, tol: number, work: ExpWork): void {
  const lambda = Q.maxExitRate();
  if (lambda === 0 || t === 0) return;
  const steps = Math.ceil((lambda * t) / MAX_POISSON_MEAN);
  const mean = (lambda * t) / steps;
  const { u, qu, acc } = work;
  const n = Q.size;
  const kMax = Math.ceil(mean + 20 * Math.sqrt(mean) + 50);
  for (let s = 0; s < steps; s++) {
    u.set(x);
    let w = Math.exp(-mean);
    let cum = w;
    for (let i = 0; i < n; i++) acc[i] = w * u[i];
    for (let k = 1; k <= kMax && 1 - cum > tol; k++) {
      Q.apply(u, qu);
      for (let i = 0; i < n; i++) u[i] += qu[i] / lambda;
      w *= mean / k;
      cum += w;
      for (let i = 0; i < n; i++) acc[i] += w * u[i];
    }
    x.set(acc);
  }
}

export interface AutocorrelationOptions {
  /**
   * 'raw' (default): g^T exp(Q t) (pi o g) = E[g(c_t) g(c_0)];
   * 'covariance': the same with g replaced by g - pi.g;
   * 'correlation': covariance / covariance at t = 0.
   */
  mode?: 'raw' | 'covariance' | 'correlation';
  /** Uniformisation truncation (see generatorExpAction). */
  tol?: number;
}

/**
 * Generator-implied autocorrelation of an observable g (one value per cell) at the given lags:
 * C_g(t) = g^T exp(Q t) (pi o g) (docs/methods.md §3), pi the stationary distribution used with Q (the
 * empirical occupation or generatorNullVector(Q)). Computed in float64 by uniformisation, propagating
 * from one sorted lag to the next, so the cost is that of the largest lag.
 *
 * @example
 * const Q = Generator.fromDense(Matrix.from([[-1, 1], [1, -1]]));
 * generatorAutocorrelation(Q, Float64Array.of(0.5, 0.5), Float64Array.of(1, -1), Float64Array.of(0, 1));
 * // [1, e^-2]
 */
export function generatorAutocorrelation(
  Q: Generator,
  pi: Float64Array,
  g: Float64Array,
  times: ArrayLike<number>,
  options: AutocorrelationOptions = {},
): Float64Array {
  const K = Q.size;
  if (pi.length !== K)
    throw new DimensionError('pi', `length ${pi.length} != K = ${K}`, 'pass one probability per state');
  if (g.length !== K)
    throw new DimensionError('g', `length ${g.length} != K = ${K}`, 'pass one observable value per state');
  checkFinite('pi', pi);
  checkFinite('g', g);
  for (let k = 0; k < times.length; k++) {
    if (!(times[k] >= 0) || !Number.isFinite(times[k])) {
      throw new InvalidArgumentError('times', `entry ${k} is ${times[k]}`, 'pass finite lags >= 0');
    }
  }
  const mode = options.mode ?? 'raw';
  if (mode !== 'raw' && mode !== 'covariance' && mode !== 'correlation') {
    throw new InvalidArgumentError(
      'mode',
      `unknown mode '${mode}'`,
      "use 'raw', 'covariance' or 'correlation'",
    );
  }
  const tol = options.tol ?? 1e-13;
  checkPositive('tol', tol);
  const gc = g.slice();
  if (mode !== 'raw') {
    let m = 0;
    for (let i = 0; i < K; i++) m += pi[i] * g[i];
    for (let i = 0; i < K; i++) gc[i] -= m;
  }
  const x = new Float64Array(K);
  for (let i = 0; i < K; i++) x[i] = pi[i] * gc[i];
  let c0 = 0;
  for (let i = 0; i < K; i++) c0 += gc[i] * x[i];
  const order = Array.from({ length: times.length }, (_, k) => k).sort((a, b) => times[a] - times[b]);
  const out = new Float64Array(times.length);
  const work = new ExpWork(K);
  let tNow = 0;
  for (const k of order) {
    propagate(Q, x, times[k] - tNow, tol, work);
    tNow = times[k];
    let c = 0;
    for (let i = 0; i < K; i++) c += gc[i] * x[i];
    out[k] = mode === 'correlation' ? c / c0 : c;
  }
  return out;
}

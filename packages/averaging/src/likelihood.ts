/**
 * The Euler-Maruyama Gaussian likelihood of the averaged SDE (docs/methods.md §4), in two precisions:
 *
 *     r_k = x_{k+1} - x_k - bbar(x_k) Delta,   S_k = sigmabar(x_k) sigmabar(x_k)^T,
 *     nll_k = r_k^T S_k^{-1} r_k / (2 Delta) + (1/2) log det(2 pi Delta S_k).
 *
 * - tf (float32, differentiable): the training loss. bbar and S are Monte Carlo averages over L fast
 *   samples shared by every time index of the batch: bbar(x) = (1/L) sum_l b(x, y_l),
 *   S(x) = (1/L) sum_l sigma(x, y_l) sigma(x, y_l)^T.
 * - float64: the reported likelihoods (validation, final) from float64 coefficients and increments.
 *
 * Monte Carlo bias and its correction. bbar_L is random, so the squared residual is biased:
 * E_y[(r_k)^T S^{-1} r_k] / (2 Delta) = (exact term) + Delta tr(S^{-1} Cov_pi b(x_k, .)) / (2 L).
 * The extra term is a penalty the optimiser can lower by shrinking the spread of b over the fast
 * samples (moving pi_0 where b varies less), which biases bbar by an amount that does not shrink with
 * the path length (the penalty and the data term both grow like T). `emNllTermsTf` subtracts
 * Delta tr(S^{-1} C_k) / (2 L) with C_k the unbiased sample covariance of b(x_k, y_l) over the L
 * samples (`driftSpread` of `averagedCoefficientsTf`): for a constant diffusion (S exact) the
 * corrected term is an unbiased estimate of the exact Euler-Maruyama term, and so is its gradient.
 * For a y-dependent diffusion S is itself a Monte Carlo average S_L, and the log-likelihood is
 * concave in it: with f(s) = -(d/2) log s - q / (2 s), q = |r|^2 / Delta (scalar noise, S = s I;
 * each diagonal entry alike with d = 1), E f(S_L) = f(S) + f''(S) Var(S_L) / 2 + O(1/L^2), and
 * f''(s) = d / (2 s^2) - q / s^3. This bias grows with the number of transitions (not with T), so
 * it dominates the drift's for a y-dependent sigma, and it moves the fit towards fast laws under
 * which sigma varies less. With the sample variance V_k of the S entry over the L samples
 * (`diffusionSpread`), each term gets + f''(S_L) V_k / (2 L), which removes it to O(1/L^2) (second
 * order delta method; exact to that order when the entries' Monte Carlo error is symmetric). General
 * (non-diagonal) noise keeps its diffusion bias.
 *
 * S is stored per point as 1 value (scalar noise: S = s I), d values (diagonal) or d*d values (general).
 */
import { cholesky, InvalidArgumentError, Matrix, noiseLayoutSize } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { SlowCoefficients } from './coefficients.js';
import { sigmaSize } from './coefficients.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Values of S stored per point for a noise layout. */
export function covarianceSize(coef: Pick<SlowCoefficients, 'noise' | 'slowDim'>): number {
  // S = sigma sigma^T is d x d: the layout of a square G.
  return noiseLayoutSize(coef.noise, coef.slowDim, coef.slowDim);
}

/**
 * Monte Carlo averages over fast samples (tf, differentiable in y): x [B, d], y [L, m] ->
 * bbar [B, d] and S [B | 1, covarianceSize]. Every x is paired with every y (B*L pairs), through
 * `driftTfPairwise` when the coefficients provide it. With `constantDiffusion`, sigma is evaluated
 * once and S has a single row (broadcast).
 *
 * With `{ driftSpread: true }` (and L >= 2; null otherwise), `driftSpread` [B, covarianceSize] is the unbiased sample covariance of b(x_k, y_l) over
 * the L samples, C_k = sum_l (b_l - bbar)(b_l - bbar)^T / (L - 1), stored in the layout of S: its
 * trace (scalar noise), its diagonal (diagonal noise) or all d*d entries (general noise). It is what
 * `emNllTermsTf` needs to remove the Monte Carlo bias of the squared residual (see the file header).
 * For a y-dependent scalar or diagonal diffusion, `diffusionSpread` [B, 1 | d] is likewise the
 * unbiased sample variance of the S entries over the L samples (null otherwise): the input of the
 * diffusion part of the correction.
 *
 * @example
 * const { bbar, cov, driftSpread } = averagedCoefficientsTf(m1Coefficients({ m: 2 }), x, flow.forwardTensor(z), { driftSpread: true });
 */
export function averagedCoefficientsTf(
  coef: SlowCoefficients,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  options: { driftSpread?: boolean } = {},
): {
  bbar: tf.Tensor2D;
  cov: tf.Tensor2D;
  driftSpread: tf.Tensor2D | null;
  diffusionSpread: tf.Tensor2D | null;
} {
  const out = tf.tidy((): Record<string, tf.Tensor2D> => {
    const B = x.shape[0];
    const L = y.shape[0];
    const d = coef.slowDim;
    // Row b*L + l pairs x_b with y_l (built only when a row-paired function needs them). Broadcast
    // by multiplying with ones: in tfjs 4.22 the gradients of tile (a loop of B slices) and of
    // broadcastTo are far slower than a broadcast multiply's (docs/findings.md, averaging).
    let pairs: [tf.Tensor2D, tf.Tensor2D] | undefined;
    const rowPairs = (): [tf.Tensor2D, tf.Tensor2D] => {
      pairs ??= [
        tf.reshape(tf.mul(tf.expandDims(x, 1), tf.ones([1, L, 1])), [B * L, d]) as tf.Tensor2D,
        tf.reshape(tf.mul(tf.ones([B, 1, 1]), tf.expandDims(y, 0)), [B * L, coef.fastDim]) as tf.Tensor2D,
      ];
      return pairs;
    };
    const b = coef.driftTfPairwise
      ? coef.driftTfPairwise(x, y)
      : tf.reshape(coef.driftTf(...rowPairs()), [B, L, d]);
    const bbar = tf.mean(b, 1) as tf.Tensor2D;
    const spread: Record<string, tf.Tensor2D> = {};
    if (options.driftSpread === true && L >= 2) {
      const dev = tf.sub(b, tf.expandDims(bbar, 1)); // [B, L, d]
      if (coef.noise === 'scalar') {
        spread.driftSpread = tf.reshape(tf.div(tf.sum(tf.square(dev), [1, 2]), L - 1), [B, 1]);
      } else if (coef.noise === 'diagonal') {
        spread.driftSpread = tf.div(tf.sum(tf.square(dev), 1), L - 1) as tf.Tensor2D;
      } else {
        const outer = tf.mul(tf.expandDims(dev, 3), tf.expandDims(dev, 2)); // [B, L, d, d]
        spread.driftSpread = tf.reshape(tf.div(tf.sum(outer, 1), L - 1), [B, d * d]);
      }
    }
    let cov: tf.Tensor2D;
    if (coef.constantDiffusion) {
      const s = coef.diffusionTf(tf.slice(x, [0, 0], [1, d]), tf.slice(y, [0, 0], [1, coef.fastDim]));
      cov = sigmaToCovarianceTf(coef, s);
    } else {
      const c = tf.reshape(sigmaToCovarianceTf(coef, coef.diffusionTf(...rowPairs())), [B, L, -1]);
      cov = tf.mean(c, 1) as tf.Tensor2D;
      if (options.driftSpread === true && L >= 2 && coef.noise !== 'general') {
        spread.diffusionSpread = tf.div(
          tf.sum(tf.square(tf.sub(c, tf.expandDims(cov, 1))), 1),
          L - 1,
        ) as tf.Tensor2D;
      }
    }
    return { bbar, cov, ...spread };
  });
  return {
    bbar: out.bbar,
    cov: out.cov,
    driftSpread: out.driftSpread ?? null,
    diffusionSpread: out.diffusionSpread ?? null,
  };
}

/** Per-pair sigma sigma^T in the storage of `covarianceSize`. */
function sigmaToCovarianceTf(coef: SlowCoefficients, s: tf.Tensor2D): tf.Tensor2D {
  if (coef.noise !== 'general') return tf.square(s);
  const n = s.shape[0];
  const d = coef.slowDim;
  const g = tf.reshape(s, [n, d, coef.noiseDim]);
  const ggT = tf.sum(tf.mul(tf.expandDims(g, 2), tf.expandDims(g, 1)), 3); // [n, d, d]
  return tf.reshape(ggT, [n, d * d]);
}

/**
 * The Monte Carlo debiasing input of `emNllTermsTf`: `driftSpread` (and `diffusionSpread`) of
 * `averagedCoefficientsTf`, and L.
 */
export interface DriftSpread {
  /** Sample covariance of b over the fast samples per point, [B, covarianceSize] (see averagedCoefficientsTf). */
  spread: tf.Tensor2D;
  /** Number L of fast samples bbar was averaged over (>= 2). */
  L: number;
  /**
   * Sample variance of the entries of S over the fast samples per point, [B, 1 | d] (scalar or
   * diagonal noise that depends on y; see averagedCoefficientsTf). Absent: S is taken as exact.
   */
  diffusion?: tf.Tensor2D;
}

/**
 * Per-transition negative log-likelihood terms (tf, float32): dx = x_{k+1} - x_k [B, d] (computed in
 * float64 by the caller), bbar [B, d], cov [B | 1, covarianceSize] -> [B]. For general noise S is
 * factorised by an unrolled Cholesky on the d*d entries (d is small: the slow dimension).
 *
 * With `debias` (bbar a mean of L fast samples with sample covariance C_k), each term gets
 * - Delta tr(S_k^{-1} C_k) / (2 L), which makes it an unbiased estimate of the exact term when S is
 * exact (constant diffusion); with `debias.diffusion` (S a mean of L samples with sample variance
 * V_k of its entry) also + f''(S_k) V_k / (2 L), f'' of the file header; see there.
 *
 * @example
 * const terms = emNllTermsTf({ noise: 'scalar', slowDim: 1 }, dx, bbar, tf.tensor2d([[0.25]]), 0.01); // [B]
 */
export function emNllTermsTf(
  coef: Pick<SlowCoefficients, 'noise' | 'slowDim'>,
  dx: tf.Tensor2D,
  bbar: tf.Tensor2D,
  cov: tf.Tensor2D,
  dt: number,
  debias?: DriftSpread,
): tf.Tensor1D {
  if (debias !== undefined && !(Number.isInteger(debias.L) && debias.L >= 2)) {
    throw new InvalidArgumentError(
      'debias.L',
      `is ${debias.L}; the sample covariance of b needs L >= 2 fast samples`,
      'use L >= 2 fast samples or drop debias',
    );
  }
  return tf.tidy(() => {
    const d = coef.slowDim;
    const r = tf.sub(dx, tf.mul(bbar, dt));
    // Delta / (2 L) tr(S^{-1} C) is subtracted from each term (unbiased residual; file header).
    const corr = debias === undefined ? 0 : dt / (2 * debias.L);
    if (coef.noise === 'scalar') {
      const v = tf.reshape(cov, [-1]);
      let quad = tf.div(tf.sum(tf.square(r), 1), tf.mul(v, 2 * dt));
      if (debias !== undefined) {
        quad = tf.sub(quad, tf.div(tf.mul(tf.reshape(debias.spread, [-1]), corr), v));
        if (debias.diffusion !== undefined) {
          // + f''(s) V / (2 L), f''(s) = d / (2 s^2) - q / s^3, q = |r|^2 / Delta (file header).
          const q = tf.div(tf.sum(tf.square(r), 1), dt);
          const f2 = tf.sub(tf.div(d / 2, tf.square(v)), tf.div(q, tf.pow(v, 3)));
          quad = tf.add(quad, tf.mul(f2, tf.mul(tf.reshape(debias.diffusion, [-1]), 1 / (2 * debias.L))));
        }
      }
      return tf.add(quad, tf.mul(d / 2, tf.log(tf.mul(v, 2 * Math.PI * dt)))) as tf.Tensor1D;
    }
    if (coef.noise === 'diagonal') {
      let quad = tf.div(tf.square(r), tf.mul(cov, 2 * dt));
      if (debias !== undefined) quad = tf.sub(quad, tf.div(tf.mul(debias.spread, corr), cov));
      if (debias?.diffusion !== undefined) {
        // Per coordinate j: + f''(S_jj) V_j / (2 L), f''(s) = 1 / (2 s^2) - r_j^2 / (Delta s^3).
        const f2 = tf.sub(tf.div(0.5, tf.square(cov)), tf.div(tf.div(tf.square(r), dt), tf.pow(cov, 3)));
        quad = tf.add(quad, tf.mul(f2, tf.mul(debias.diffusion, 1 / (2 * debias.L))));
      }
      return tf.sum(tf.add(quad, tf.mul(0.5, tf.log(tf.mul(cov, 2 * Math.PI * dt)))), 1) as tf.Tensor1D;
    }
    // General: S = L L^T entry by entry; u = L^{-1} r; nll = |u|^2/(2 dt) + sum log L_ii + (d/2) log(2 pi dt).
    const s = tf.unstack(cov, 1);
    const rs = tf.unstack(r, 1);
    const l: tf.Tensor[][] = [];
    for (let i = 0; i < d; i++) {
      l.push([]);
      for (let j = 0; j <= i; j++) {
        let acc: tf.Tensor = s[i * d + j];
        for (let k = 0; k < j; k++) acc = tf.sub(acc, tf.mul(l[i][k], l[j][k]));
        l[i].push(i === j ? tf.sqrt(acc) : tf.div(acc, l[j][j]));
      }
    }
    // Forward substitution: L^{-1} v for a vector v given by its d entries.
    const lowerSolve = (v: tf.Tensor[]): tf.Tensor[] => {
      const u: tf.Tensor[] = [];
      for (let i = 0; i < d; i++) {
        let acc: tf.Tensor = v[i];
        for (let k = 0; k < i; k++) acc = tf.sub(acc, tf.mul(l[i][k], u[k]));
        u.push(tf.div(acc, l[i][i]));
      }
      return u;
    };
    let quad: tf.Tensor = tf.zerosLike(rs[0]);
    let logDet: tf.Tensor = tf.zerosLike(rs[0]);
    const u = lowerSolve(rs);
    for (let i = 0; i < d; i++) {
      quad = tf.add(quad, tf.square(u[i]));
      logDet = tf.add(logDet, tf.log(l[i][i]));
    }
    quad = tf.div(quad, 2 * dt);
    if (debias !== undefined) {
      // tr(S^{-1} C) = tr(L^{-1} C L^{-T}) = sum_i (L^{-1} W_i)_i with W = L^{-1} C (rows W_i).
      const c = tf.unstack(debias.spread, 1);
      const w = Array.from({ length: d }, (_, j) =>
        lowerSolve(Array.from({ length: d }, (_, i) => c[i * d + j])),
      );
      let trace: tf.Tensor = tf.zerosLike(rs[0]);
      for (let i = 0; i < d; i++) {
        const yi = lowerSolve(Array.from({ length: d }, (_, j) => w[j][i]));
        trace = tf.add(trace, yi[i]);
      }
      quad = tf.sub(quad, tf.mul(trace, corr));
    }
    return tf.add(quad, tf.add(logDet, (d / 2) * (LOG_2PI + Math.log(dt)))) as tf.Tensor1D;
  });
}

/** Monte Carlo averages over fast samples in float64, with standard errors of the means. */
export interface Averages64 {
  /** bbar at each point (n*d). */
  bbar: Float64Array;
  /** Standard error of bbar (n*d): sample std over the fast samples / sqrt(samples). */
  bbarStdError: Float64Array;
  /** S = mean sigma sigma^T at each point (n*covarianceSize). */
  cov: Float64Array;
  /** Standard error of each stored entry of S. */
  covStdError: Float64Array;
}

/**
 * bbar and S at n points from fast samples ys (L*m) with the float64 coefficients (Welford
 * accumulation in float64). Reused scratch buffers: no allocation inside the loops.
 *
 * @example
 * const ys = sampleMultiscaleDoubleWellFast(Rng.fromSeed(1), 10000, 2);
 * const { bbar, bbarStdError } = averageCoefficients64(m1Coefficients({ m: 2 }), Float64Array.of(-1, 0, 1), ys);
 */
export function averageCoefficients64(
  coef: SlowCoefficients,
  xs: Float64Array,
  ys: Float64Array,
): Averages64 {
  const d = coef.slowDim;
  const m = coef.fastDim;
  const n = xs.length / d;
  const L = ys.length / m;
  const cs = covarianceSize(coef);
  const ds = sigmaSize(coef);
  const q = coef.noiseDim;
  const out: Averages64 = {
    bbar: new Float64Array(n * d),
    bbarStdError: new Float64Array(n * d),
    cov: new Float64Array(n * cs),
    covStdError: new Float64Array(n * cs),
  };
  const xi = new Float64Array(d);
  const yl = new Float64Array(m);
  const b = new Float64Array(d);
  const s = new Float64Array(ds);
  const c = new Float64Array(cs);
  const meanB = new Float64Array(d);
  const m2B = new Float64Array(d);
  const meanC = new Float64Array(cs);
  const m2C = new Float64Array(cs);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xi[j] = xs[i * d + j];
    meanB.fill(0);
    m2B.fill(0);
    meanC.fill(0);
    m2C.fill(0);
    for (let l = 0; l < L; l++) {
      for (let j = 0; j < m; j++) yl[j] = ys[l * m + j];
      coef.drift(xi, yl, b);
      coef.diffusion(xi, yl, s);
      if (coef.noise === 'general') {
        for (let a = 0; a < d; a++) {
          for (let e = 0; e < d; e++) {
            let acc = 0;
            for (let k = 0; k < q; k++) acc += s[a * q + k] * s[e * q + k];
            c[a * d + e] = acc;
          }
        }
      } else {
        for (let j = 0; j < cs; j++) c[j] = s[j] * s[j];
      }
      const w = 1 / (l + 1);
      for (let j = 0; j < d; j++) {
        const delta = b[j] - meanB[j];
        meanB[j] += delta * w;
        m2B[j] += delta * (b[j] - meanB[j]);
      }
      for (let j = 0; j < cs; j++) {
        const delta = c[j] - meanC[j];
        meanC[j] += delta * w;
        m2C[j] += delta * (c[j] - meanC[j]);
      }
    }
    const seScale = L > 1 ? 1 / (L * (L - 1)) : 0;
    for (let j = 0; j < d; j++) {
      out.bbar[i * d + j] = meanB[j];
      out.bbarStdError[i * d + j] = Math.sqrt(m2B[j] * seScale);
    }
    for (let j = 0; j < cs; j++) {
      out.cov[i * cs + j] = meanC[j];
      out.covStdError[i * cs + j] = Math.sqrt(m2C[j] * seScale);
    }
  }
  return out;
}

/**
 * Float64 negative log-likelihood of the transitions k in [from, to) with increments dx
 * (dx_k = x_{k+1} - x_k at k*d), given bbar and S at x_k (indexed from `from`). Returns the sum over
 * transitions (docs/methods.md §4).
 *
 * @example
 * // one transition 0.3 -> 0.35 of dX = 0.7 dt + 0.5 dW observed at Delta = 0.01
 * emNll64({ noise: 'scalar', slowDim: 1 }, Float64Array.of(0.05), 0, 1, Float64Array.of(0.7), Float64Array.of(0.25), 0.01);
 */
export function emNll64(
  coef: Pick<SlowCoefficients, 'noise' | 'slowDim'>,
  dx: Float64Array,
  from: number,
  to: number,
  bbar: Float64Array,
  cov: Float64Array,
  dt: number,
): number {
  const d = coef.slowDim;
  const cs = covarianceSize(coef);
  const r = new Float64Array(d);
  const sm = new Matrix(d, d);
  let total = 0;
  for (let k = from; k < to; k++) {
    const i = k - from;
    for (let j = 0; j < d; j++) r[j] = dx[k * d + j] - bbar[i * d + j] * dt;
    if (coef.noise === 'scalar') {
      const v = cov[i];
      let r2 = 0;
      for (let j = 0; j < d; j++) r2 += r[j] * r[j];
      total += r2 / (2 * dt * v) + (d / 2) * Math.log(2 * Math.PI * dt * v);
    } else if (coef.noise === 'diagonal') {
      for (let j = 0; j < d; j++) {
        const v = cov[i * d + j];
        total += (r[j] * r[j]) / (2 * dt * v) + 0.5 * Math.log(2 * Math.PI * dt * v);
      }
    } else {
      sm.data.set(cov.subarray(i * cs, (i + 1) * cs));
      const lf = cholesky(sm, 'S_k (averaged sigma sigma^T)');
      let quad = 0;
      let logDet = 0;
      for (let a = 0; a < d; a++) {
        let acc = r[a];
        for (let e = 0; e < a; e++) acc -= lf.data[a * d + e] * r[e];
        r[a] = acc / lf.data[a * d + a]; // forward substitution in place: r becomes L^{-1} r
        quad += r[a] * r[a];
        logDet += Math.log(lf.data[a * d + a]);
      }
      total += quad / (2 * dt) + logDet + (d / 2) * (LOG_2PI + Math.log(dt));
    }
  }
  return total;
}

/**
 * KGMM score estimation for low dimension ([K] Giorgini, Bischoff, Souza, arXiv:2503.18054;
 * docs/methods.md section 2).
 *
 * 1. Perturb the data, x~ = x + sigma z, and build a tree partition of the perturbed samples.
 * 2. Repeat fresh noise passes; in each, assign every perturbed point to its cell and accumulate the
 *    noise vectors z and the points x~ per cell. Stop when the relative change of the per-cell noise
 *    means between passes falls below `tol` (default 1e-2, at most `maxPasses` = 150 passes).
 * 3. By Tweedie's formula E[z | x~] = -sigma grad log p_sigma(x~), so the score at the cell centroid is
 *    -E[z | cell] / sigma.
 * 4. Fit a small Swish MLP (default 128-64, linear output) to the cell values with a count-weighted
 *    MSE. The MLP predicts E[z | x] (an O(1) quantity, better conditioned than the score itself) and
 *    the model's score is -MLP(x) / sigma: the same count-weighted MSE up to the constant sigma^2.
 */

import { type TrainingProgress, type TrainingRecord, train, warmupCosine } from '@sdekit/nn';
import { buildTreePartition } from '@sdekit/partition';
import {
  checkBatch,
  checkInteger,
  checkOpenInterval,
  checkPositive,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { MlpEpsNetwork, NetworkScore } from './network-score.js';

/** Options of `kgmm`. */
export interface KgmmOptions {
  /** Noise level (data units). */
  sigma: number;
  /** Tree-partition threshold p_min (about 0.74 / pMin cells). Default 2e-3. */
  pMin?: number;
  /** Build the partition on at most this many perturbed points. Default 200000. */
  maxBuildPoints?: number;
  /** Relative change of the per-cell means that stops the passes. Default 1e-2. */
  tol?: number;
  /** Maximum number of noise passes. Default 150. */
  maxPasses?: number;
  /** Hidden widths of the interpolating MLP. Default [128, 64]. */
  hiddenDims?: number[];
  /** Full-batch Adam steps of the MLP fit. Default 3000. */
  steps?: number;
  /** Peak learning rate. Default 3e-3. */
  lr?: number;
  seed: number;
  /** Called with every record of the MLP fit (@sdekit/nn `TrainingProgress`). */
  onProgress?: (p: TrainingProgress) => void;
  /** Checked before every step of the MLP fit: an aborted signal ends it by throwing its reason. */
  signal?: AbortSignal;
}

/** Result of `kgmm`. */
export interface KgmmResult {
  model: NetworkScore;
  /** K x D cell centroids (means of the perturbed points over all passes). */
  centroids: Float64Array;
  /** K x D score estimates at the centroids, -E[z | cell] / sigma. */
  cellScores: Float64Array;
  /** Points per cell summed over passes (the fit weights). */
  counts: Float64Array;
  passes: number;
  /** True when the relative change fell below tol within maxPasses. */
  converged: boolean;
  /** Relative change of the last pass. */
  relativeChange: number;
  history: TrainingRecord[];
}

/**
 * KGMM: cell-averaged noise over repeated perturbation passes, then a count-weighted MLP fit.
 *
 * @example
 * const { model, passes } = kgmm(samples, 1, { sigma: 0.05, seed: 3 });
 * const s = model.score(Float64Array.of(0.5)); // ~ grad log p_sigma(0.5)
 */
export function kgmm(data: Float64Array, dim: number, options: KgmmOptions): KgmmResult {
  const n = checkBatch('data', data, dim, 10);
  const sigma = options.sigma;
  checkPositive('sigma', sigma);
  const pMin = options.pMin ?? 2e-3;
  checkOpenInterval('pMin', pMin, 0, 0.5);
  if (n * pMin < 5) {
    throw new InvalidArgumentError(
      'data',
      `has ${n} points, too few for pMin = ${pMin} (need at least ${Math.ceil(5 / pMin)})`,
      'pass more points or a larger pMin',
    );
  }
  const tol = options.tol ?? 1e-2;
  checkPositive('tol', tol);
  const maxPasses = options.maxPasses ?? 150;
  checkInteger('maxPasses', maxPasses, 1);
  const seed = options.seed;
  const rng = Rng.fromSeed(seed, 21);

  const z = new Float64Array(n * dim);
  const xt = new Float64Array(n * dim);
  const drawPass = () => {
    for (let i = 0; i < z.length; i++) {
      const zi = rng.normal();
      z[i] = zi;
      xt[i] = data[i] + sigma * zi;
    }
  };
  drawPass();
  const partition = buildTreePartition(xt, dim, { pMin, seed, maxBuildPoints: options.maxBuildPoints });
  const K = partition.size;
  const sumZ = new Float64Array(K * dim);
  const sumX = new Float64Array(K * dim);
  const counts = new Float64Array(K);
  const prev = new Float64Array(K * dim);
  let passes = 0;
  let converged = false;
  let relativeChange = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < maxPasses; pass++) {
    if (pass > 0) drawPass();
    const labels = partition.assign(xt);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      counts[c]++;
      for (let j = 0; j < dim; j++) {
        sumZ[c * dim + j] += z[i * dim + j];
        sumX[c * dim + j] += xt[i * dim + j];
      }
    }
    passes = pass + 1;
    // Relative change of the per-cell means E[z | cell] (Frobenius norm over occupied cells).
    let diff = 0;
    let norm = 0;
    for (let c = 0; c < K; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < dim; j++) {
        const m = sumZ[c * dim + j] / counts[c];
        diff += (m - prev[c * dim + j]) ** 2;
        norm += m * m;
        prev[c * dim + j] = m;
      }
    }
    if (pass > 0) {
      relativeChange = Math.sqrt(diff / Math.max(norm, 1e-300));
      if (relativeChange < tol) {
        converged = true;
        break;
      }
    }
  }

  // Occupied cells: centroid, E[z | cell], weight.
  const occupied: number[] = [];
  for (let c = 0; c < K; c++) if (counts[c] > 0) occupied.push(c);
  const k = occupied.length;
  const centroids = new Float64Array(K * dim);
  const cellScores = new Float64Array(K * dim);
  const xIn = new Float32Array(k * dim);
  const yIn = new Float32Array(k * dim);
  const wIn = new Float32Array(k);
  let totalCount = 0;
  for (const c of occupied) totalCount += counts[c];
  occupied.forEach((c, r) => {
    for (let j = 0; j < dim; j++) {
      const cx = sumX[c * dim + j] / counts[c];
      const ez = sumZ[c * dim + j] / counts[c];
      centroids[c * dim + j] = cx;
      cellScores[c * dim + j] = -ez / sigma;
      xIn[r * dim + j] = cx;
      yIn[r * dim + j] = ez;
    }
    wIn[r] = counts[c] / totalCount;
  });

  // Count-weighted MSE fit of E[z | x] (full batch).
  const steps = options.steps ?? 3000;
  checkInteger('steps', steps, 1);
  const net = MlpEpsNetwork.create(dim, options.hiddenDims ?? [128, 64], seed);
  const xT = tf.tensor2d(xIn, [k, dim]);
  const yT = tf.tensor2d(yIn, [k, dim]);
  const wT = tf.tensor2d(wIn, [k, 1]);
  let history: TrainingRecord[];
  try {
    history = train(
      {
        variables: net.variables,
        step: () => ({
          loss: () => tf.div(tf.sum(tf.mul(wT, tf.squaredDifference(net.apply(xT), yT))), dim) as tf.Scalar,
        }),
      },
      {
        steps,
        optimizer: {
          lr: warmupCosine({
            peak: options.lr ?? 3e-3,
            warmupSteps: Math.min(200, Math.floor(steps / 10)),
            totalSteps: steps,
            floor: 1e-5,
          }),
          clipNorm: 10,
        },
        ...(options.signal ? { signal: options.signal } : {}),
        onRecord: (record, total) => options.onProgress?.({ ...record, steps: total }),
      },
    ).records;
  } catch (err) {
    // A throwing onProgress or an abort leaves no tensor behind.
    net.dispose();
    throw err;
  } finally {
    tf.dispose([xT, yT, wT]);
  }
  return {
    model: new NetworkScore(dim, sigma, 'kgmm', net, null),
    centroids,
    cellScores,
    counts,
    passes,
    converged,
    relativeChange,
    history,
  };
}

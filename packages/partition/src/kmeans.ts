/**
 * Plain k-means partition (docs/methods.md §3 alternative): k-means++ initialisation (Arthur & Vassilvitskii
 * 2007), Lloyd iterations until no point changes cell, nearest-centroid assignment.
 */
import {
  checkBatch,
  checkInteger,
  DimensionError,
  FormatError,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import type { Partition } from './partition.js';

export interface KMeansOptions {
  /** Number of cells K (1 <= K <= number of build points). */
  k: number;
  /** Seed (stream 0 draws the subsample, stream 1 the k-means++ centres). */
  seed: number;
  /** Lloyd iteration limit (default 100); `converged` reports whether assignments settled before it. */
  maxIterations?: number;
  /** Build on a uniform random subsample of at most this many points (default Infinity: all points). */
  maxBuildPoints?: number;
}

/** Serialised KMeansPartition. */
export interface KMeansPartitionJSON {
  format: 'sdekit.partition.kmeans';
  version: 1;
  dim: number;
  size: number;
  centroids: number[];
  masses: number[];
}

/**
 * A k-means partition: cell i is the Voronoi cell of centroid i (ties go to the lower index).
 * Assignment costs O(K D) per point.
 *
 * @example
 * const km = kmeansPartition(points, 2, { k: 50, seed: 3 });
 * const labels = km.assign(points);
 */
export class KMeansPartition implements Partition {
  readonly dim: number;
  readonly size: number;
  /** Centroids (size x dim, row-major). */
  readonly centroids: Float64Array;
  /** Fraction of the build points in each cell. */
  readonly masses: Float64Array;
  /** Lloyd iterations run by the build (0 after fromJSON). */
  readonly iterations: number;
  /** Whether the assignments stopped changing within maxIterations (true after fromJSON). */
  readonly converged: boolean;

  constructor(dim: number, centroids: Float64Array, masses: Float64Array, iterations = 0, converged = true) {
    checkInteger('dim', dim, 1);
    if (centroids.length % dim !== 0 || masses.length !== centroids.length / dim) {
      throw new DimensionError(
        'centroids',
        `length ${centroids.length} does not match ${masses.length} masses of dim ${dim}`,
        'pass K*dim centroids and K masses',
      );
    }
    this.dim = dim;
    this.size = masses.length;
    this.centroids = centroids;
    this.masses = masses;
    this.iterations = iterations;
    this.converged = converged;
  }

  assign(points: Float64Array): Int32Array {
    const n = checkBatch('points', points, this.dim, 0);
    const out = new Int32Array(n);
    for (let p = 0; p < n; p++) out[p] = nearest(this.centroids, this.size, points, p * this.dim, this.dim);
    return out;
  }

  toJSON(): KMeansPartitionJSON {
    return {
      format: 'sdekit.partition.kmeans',
      version: 1,
      dim: this.dim,
      size: this.size,
      centroids: Array.from(this.centroids),
      masses: Array.from(this.masses),
    };
  }

  static fromJSON(json: KMeansPartitionJSON): KMeansPartition {
    if (json?.format !== 'sdekit.partition.kmeans') {
      throw new FormatError(
        'KMeansPartition',
        `expected format 'sdekit.partition.kmeans', got '${json?.format}'`,
      );
    }
    if (json.version !== 1)
      throw new FormatError('KMeansPartition', `unsupported version ${json.version} (this build reads 1)`);
    return new KMeansPartition(json.dim, Float64Array.from(json.centroids), Float64Array.from(json.masses));
  }
}

function dist2(c: Float64Array, co: number, x: Float64Array, xo: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const z = x[xo + d] - c[co + d];
    s += z * z;
  }
  return s;
}

function nearest(centroids: Float64Array, k: number, x: Float64Array, xo: number, dim: number): number {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    const d = dist2(centroids, c * dim, x, xo, dim);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/**
 * Fits a k-means partition with K cells. Cost O(N K D) per Lloyd iteration (and for the k-means++
 * start); an emptied cell is re-seeded at the point farthest from its centroid.
 * Throws InvalidArgumentError for empty data or k outside 1..N.
 *
 * @example
 * const km = kmeansPartition(points, 2, { k: 20, seed: 1 });
 * km.centroids; // 20 x 2
 */
export function kmeansPartition(points: Float64Array, dim: number, options: KMeansOptions): KMeansPartition {
  const N = checkBatch('points', points, dim, 1);
  const maxBuild = options.maxBuildPoints ?? Number.POSITIVE_INFINITY;
  if (maxBuild !== Number.POSITIVE_INFINITY) checkInteger('maxBuildPoints', maxBuild, 1);
  const Nb = Math.min(N, maxBuild);
  checkInteger('k', options.k, 1);
  if (options.k > Nb) {
    throw new DimensionError(
      'k',
      `${options.k} cells for ${Nb} build points`,
      'pass k <= number of (build) points',
    );
  }
  const maxIterations = options.maxIterations ?? 100;
  checkInteger('maxIterations', maxIterations, 1);
  const K = options.k;
  const sampleRng = Rng.fromSeed(options.seed, 0);
  const rng = Rng.fromSeed(options.seed, 1);

  let X = points;
  if (Nb < N) {
    const perm = new Int32Array(N);
    for (let i = 0; i < N; i++) perm[i] = i;
    for (let q = 0; q < Nb; q++) {
      const j = q + sampleRng.integer(N - q);
      const t = perm[q];
      perm[q] = perm[j];
      perm[j] = t;
    }
    const chosen = perm.slice(0, Nb).sort();
    X = new Float64Array(Nb * dim);
    for (let q = 0; q < Nb; q++) X.set(points.subarray(chosen[q] * dim, (chosen[q] + 1) * dim), q * dim);
  }

  // k-means++ seeding.
  const C = new Float64Array(K * dim);
  const d2 = new Float64Array(Nb).fill(Number.POSITIVE_INFINITY);
  let pick = rng.integer(Nb);
  for (let c = 0; c < K; c++) {
    C.set(X.subarray(pick * dim, (pick + 1) * dim), c * dim);
    let total = 0;
    for (let p = 0; p < Nb; p++) {
      const d = dist2(C, c * dim, X, p * dim, dim);
      if (d < d2[p]) d2[p] = d;
      total += d2[p];
    }
    if (c === K - 1) break;
    if (!(total > 0)) {
      pick = rng.integer(Nb); // all points coincide with centres: duplicates are unavoidable
      continue;
    }
    const r = rng.uniform() * total;
    let acc = 0;
    pick = Nb - 1;
    for (let p = 0; p < Nb; p++) {
      acc += d2[p];
      if (acc > r && d2[p] > 0) {
        pick = p;
        break;
      }
    }
  }

  // Lloyd iterations.
  const labels = new Int32Array(Nb).fill(-1);
  const sums = new Float64Array(K * dim);
  const counts = new Float64Array(K);
  let iterations = 0;
  let converged = false;
  for (let it = 0; it < maxIterations; it++) {
    iterations++;
    let moved = 0;
    for (let p = 0; p < Nb; p++) {
      const c = nearest(C, K, X, p * dim, dim);
      if (c !== labels[p]) {
        moved++;
        labels[p] = c;
      }
    }
    if (moved === 0) {
      converged = true;
      break;
    }
    sums.fill(0);
    counts.fill(0);
    for (let p = 0; p < Nb; p++) {
      const c = labels[p];
      counts[c]++;
      for (let d = 0; d < dim; d++) sums[c * dim + d] += X[p * dim + d];
    }
    for (let c = 0; c < K; c++) {
      if (counts[c] > 0) {
        for (let d = 0; d < dim; d++) C[c * dim + d] = sums[c * dim + d] / counts[c];
        continue;
      }
      // Re-seed an empty cell at the point farthest from its current centroid.
      let far = 0;
      let farD = -1;
      for (let p = 0; p < Nb; p++) {
        const d = dist2(C, labels[p] * dim, X, p * dim, dim);
        if (d > farD) {
          farD = d;
          far = p;
        }
      }
      C.set(X.subarray(far * dim, (far + 1) * dim), c * dim);
      labels[far] = c;
    }
  }
  const masses = new Float64Array(K);
  for (let p = 0; p < Nb; p++) masses[labels[p]]++;
  const empty = masses.reduce((n, m) => n + (m === 0 ? 1 : 0), 0);
  if (empty > 0) {
    // Re-seeding could not fill them: the data have fewer distinct points than cells.
    throw new InvalidArgumentError(
      'k',
      `${empty} of ${K} cells stayed empty (the ${Nb} points hold fewer than ${K} distinct values)`,
      'pass fewer cells',
    );
  }
  for (let c = 0; c < K; c++) masses[c] /= Nb;
  return new KMeansPartition(dim, C, masses, iterations, converged);
}

import { DimensionError, FormatError, InvalidArgumentError, Rng } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import {
  buildTreePartition,
  KMeansPartition,
  kmeansPartition,
  partitionFromJSON,
  TreePartition,
} from '../src/index.js';

function gaussianPoints(n: number, dim: number, seed: number): Float64Array {
  return Rng.fromSeed(seed).fillNormal(new Float64Array(n * dim));
}

/** Two well-separated clusters of n points each around -5 e_0 and +5 e_0. */
function twoClusters(n: number, dim: number, seed: number): Float64Array {
  const x = gaussianPoints(2 * n, dim, seed);
  for (let p = 0; p < 2 * n; p++) x[p * dim] += p < n ? -5 : 5;
  return x;
}

describe('buildTreePartition (docs/methods.md §3)', () => {
  it('assignment by descent reproduces the training labels exactly', () => {
    const dim = 3;
    const x = gaussianPoints(20000, dim, 1);
    const tree = buildTreePartition(x, dim, {
      pMin: 0.005,
      seed: 5,
      maxBuildPoints: Number.POSITIVE_INFINITY,
    });
    expect(tree.training).not.toBeNull();
    const labels = tree.assign(x);
    const t = tree.training!;
    expect(t.indices.length).toBe(20000);
    for (let k = 0; k < t.indices.length; k++) {
      if (labels[t.indices[k]] !== t.labels[k])
        throw new Error(`point ${t.indices[k]}: ${labels[t.indices[k]]} != ${t.labels[k]}`);
    }
  });

  it('leaves respect the split rule and number about 0.74 / pMin', () => {
    const dim = 2;
    const N = 40000;
    const pMin = 0.002;
    const x = gaussianPoints(N, dim, 2);
    const tree = buildTreePartition(x, dim, { pMin, seed: 3, maxBuildPoints: Number.POSITIVE_INFINITY });
    // Every leaf holds at most 2 pMin N points (else it would have been split; Gaussian data has no ties).
    let total = 0;
    for (let i = 0; i < tree.size; i++) {
      expect(tree.masses[i] * N).toBeLessThanOrEqual(2 * pMin * N + 1e-9);
      total += tree.masses[i];
    }
    expect(total).toBeCloseTo(1, 12);
    // A node is split only when it holds > 2 pMin N points, so leaves average between pMin N / 2 and
    // 2 pMin N points in practice; docs/methods.md quotes ~0.74 / pMin = 370 here. Allow 0.5/pMin..1.2/pMin.
    expect(tree.size).toBeGreaterThan(0.5 / pMin);
    expect(tree.size).toBeLessThan(1.2 / pMin);
    expect(tree.internalNodes).toBe(tree.size - 1);
    // Centroids are the means of the training points in each leaf.
    const t = tree.training!;
    const sums = new Float64Array(tree.size * dim);
    const counts = new Float64Array(tree.size);
    for (let k = 0; k < t.indices.length; k++) {
      counts[t.labels[k]]++;
      for (let d = 0; d < dim; d++) sums[t.labels[k] * dim + d] += x[t.indices[k] * dim + d];
    }
    for (let i = 0; i < tree.size; i++) {
      expect(counts[i] / N).toBeCloseTo(tree.masses[i], 14);
      for (let d = 0; d < dim; d++)
        expect(tree.centroids[i * dim + d]).toBeCloseTo(sums[i * dim + d] / counts[i], 12);
    }
  });

  it('the first split separates two well-separated clusters', () => {
    const dim = 2;
    const x = twoClusters(2000, dim, 4);
    const tree = buildTreePartition(x, dim, { pMin: 0.3, seed: 1 });
    // 4000 points, threshold 2 * 0.3 * 4000 = 2400: the root splits once, the 2000-point halves stay leaves.
    expect(tree.size).toBe(2);
    const labels = tree.assign(x);
    for (let p = 1; p < 2000; p++) expect(labels[p]).toBe(labels[0]);
    for (let p = 2000; p < 4000; p++) expect(labels[p]).toBe(1 - labels[0]);
  });

  it('same seed gives the same partition; a different seed a different one', () => {
    const dim = 4;
    const x = gaussianPoints(5000, dim, 6);
    const a = buildTreePartition(x, dim, { pMin: 0.01, seed: 9, maxBuildPoints: 3000 });
    const b = buildTreePartition(x, dim, { pMin: 0.01, seed: 9, maxBuildPoints: 3000 });
    const c = buildTreePartition(x, dim, { pMin: 0.01, seed: 10, maxBuildPoints: 3000 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(Array.from(a.training!.indices)).toEqual(Array.from(b.training!.indices));
    expect(JSON.stringify(a.toJSON())).not.toBe(JSON.stringify(c.toJSON()));
  });

  it('subsample build: training points are a subset, all points get labelled, JSON round trip', () => {
    const dim = 2;
    const x = gaussianPoints(10000, dim, 7);
    const tree = buildTreePartition(x, dim, { pMin: 0.02, seed: 2, maxBuildPoints: 4000 });
    expect(tree.buildPoints).toBe(4000);
    const idx = tree.training!.indices;
    for (let k = 1; k < idx.length; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
    const labels = tree.assign(x);
    for (let k = 0; k < idx.length; k++) expect(labels[idx[k]]).toBe(tree.training!.labels[k]);
    // Masses on all points agree with the build masses up to sampling noise:
    // a cell of mass m on 10000 points has std sqrt(m (1 - m) / 10000) <= 0.005; allow 0.03.
    const counts = new Float64Array(tree.size);
    for (const l of labels) counts[l]++;
    for (let i = 0; i < tree.size; i++)
      expect(Math.abs(counts[i] / 10000 - tree.masses[i])).toBeLessThan(0.03);
    const back = partitionFromJSON(JSON.parse(JSON.stringify(tree.toJSON())));
    expect(back).toBeInstanceOf(TreePartition);
    expect(Array.from(back.assign(x))).toEqual(Array.from(labels));
  });

  it('typed errors: empty data, pMin outside (0, 1), wrong dims, bad JSON', () => {
    const x = gaussianPoints(100, 2, 8);
    expect(() => buildTreePartition(new Float64Array(0), 2, { pMin: 0.1, seed: 1 })).toThrow(
      InvalidArgumentError,
    );
    for (const pMin of [0, 1, -0.1, 1.5, Number.NaN]) {
      expect(() => buildTreePartition(x, 2, { pMin, seed: 1 })).toThrow(InvalidArgumentError);
    }
    expect(() => buildTreePartition(x, 3, { pMin: 0.1, seed: 1 })).toThrow(DimensionError);
    const tree = buildTreePartition(x, 2, { pMin: 0.1, seed: 1 });
    expect(() => tree.assign(new Float64Array(3))).toThrow(DimensionError);
    expect(() => TreePartition.fromJSON({ ...tree.toJSON(), version: 2 as 1 })).toThrow(FormatError);
    expect(() => partitionFromJSON({ format: 'nope' } as never)).toThrow(FormatError);
  });

  it('identical points cannot be split: a single cell is a typed error, not a partition', () => {
    const x = new Float64Array(200).fill(1.5);
    expect(() => buildTreePartition(x, 2, { pMin: 0.01, seed: 1 })).toThrow(
      /pMin: = 0.01 leaves a single cell/,
    );
  });
});

describe('kmeansPartition', () => {
  it('recovers the centres of well-separated clusters and assigns to the nearest centroid', () => {
    const dim = 2;
    const n = 3000;
    const x = twoClusters(n, dim, 12);
    const km = kmeansPartition(x, dim, { k: 2, seed: 4 });
    expect(km.converged).toBe(true);
    const labels = km.assign(x);
    const left = labels[0];
    // centroid of each cluster: mean of n standard normals -> std 1/sqrt(3000) ~ 0.018; allow 0.1.
    expect(km.centroids[left * dim]).toBeCloseTo(-5, 1);
    expect(km.centroids[(1 - left) * dim]).toBeCloseTo(5, 1);
    for (let p = 0; p < n; p++) expect(labels[p]).toBe(left);
    expect(km.masses[left]).toBe(0.5);
    // nearest-centroid rule on arbitrary points
    const q = gaussianPoints(500, dim, 13);
    const ql = km.assign(q);
    for (let p = 0; p < 500; p++) {
      const d = (c: number) =>
        (q[p * 2] - km.centroids[c * 2]) ** 2 + (q[p * 2 + 1] - km.centroids[c * 2 + 1]) ** 2;
      expect(d(ql[p])).toBeLessThanOrEqual(d(1 - ql[p]));
    }
  });

  it('Lloyd fixed point: every centroid is the mean of its cell; seeded and serialisable', () => {
    const dim = 3;
    const x = gaussianPoints(4000, dim, 14);
    const km = kmeansPartition(x, dim, { k: 12, seed: 1, maxIterations: 300 });
    expect(km.converged).toBe(true);
    const labels = km.assign(x);
    const sums = new Float64Array(12 * dim);
    const counts = new Float64Array(12);
    for (let p = 0; p < 4000; p++) {
      counts[labels[p]]++;
      for (let d = 0; d < dim; d++) sums[labels[p] * dim + d] += x[p * dim + d];
    }
    for (let c = 0; c < 12; c++) {
      expect(counts[c]).toBeGreaterThan(0);
      for (let d = 0; d < dim; d++)
        expect(km.centroids[c * dim + d]).toBeCloseTo(sums[c * dim + d] / counts[c], 10);
    }
    const again = kmeansPartition(x, dim, { k: 12, seed: 1, maxIterations: 300 });
    expect(Array.from(again.centroids)).toEqual(Array.from(km.centroids));
    const back = partitionFromJSON(JSON.parse(JSON.stringify(km.toJSON())));
    expect(back).toBeInstanceOf(KMeansPartition);
    expect(Array.from(back.assign(x))).toEqual(Array.from(labels));
    expect(() => kmeansPartition(x, dim, { k: 0, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => kmeansPartition(x, dim, { k: 5000, seed: 1 })).toThrow(DimensionError);
    expect(() => kmeansPartition(new Float64Array(0), dim, { k: 2, seed: 1 })).toThrow(InvalidArgumentError);
  });
});

/**
 * Tree partition by recursive bisecting 2-means (docs/methods.md §3, [S] Souza 2024): a node is split in
 * two by 2-means (k-means++ start, a few Lloyd iterations) while it holds more than 2 * pMin * N
 * points; the leaves are the cells (about 0.74 / pMin of them). A point is assigned by descending the
 * tree to the nearer of the two child centres at every node, never to the nearest leaf centroid.
 *
 * "Nearer of c0, c1" is evaluated as the side of the bisecting hyperplane: x goes right iff
 * w . x > w . m with w = c1 - c0, m = (c0 + c1) / 2 (ties go left). The build uses the very same
 * expression for its final split, so assigning the training points reproduces their training cells
 * bit for bit.
 *
 * Storage is flat typed arrays over the internal nodes only: normals (I x D), offsets (I), children
 * (2 I; a child code c >= 0 is an internal node, c < 0 the leaf -c - 1).
 */
import {
  checkBatch,
  checkInteger,
  checkOpenInterval,
  DimensionError,
  FormatError,
  InvalidArgumentError,
  Rng,
} from '@sdekit/sde';
import type { Partition } from './partition.js';

export interface TreePartitionOptions {
  /** Split threshold p_min in (0, 1): split while a node holds more than 2 * pMin * N points. */
  pMin: number;
  /** Seed of the Rng (stream 0 draws the subsample, stream 1 the k-means++ starts). */
  seed: number;
  /**
   * Build on a uniform random subsample of at most this many points (default 200000), then label
   * everything with `assign`. N in the threshold is then the subsample size. Pass Infinity to build on all points.
   */
  maxBuildPoints?: number;
  /** Lloyd iterations per split after the k-means++ start (default 5; stops early when no point moves). */
  lloydIterations?: number;
}

/** Serialised TreePartition. */
export interface TreePartitionJSON {
  format: 'sdekit.partition.tree';
  version: 1;
  dim: number;
  size: number;
  pMin: number;
  buildPoints: number;
  normals: number[];
  offsets: number[];
  children: number[];
  centroids: number[];
  masses: number[];
}

/**
 * A fitted bisecting-2-means tree. `size` leaves numbered 0..size-1 in depth-first, left-first order.
 *
 * @example
 * const tree = buildTreePartition(points, 2, { pMin: 0.01, seed: 1 });
 * const labels = tree.assign(points);   // Int32Array of leaf indices
 * tree.centroids;                       // size x dim leaf means over the build points
 */
export class TreePartition implements Partition {
  readonly dim: number;
  /** Number of leaves K. */
  readonly size: number;
  /** The p_min used to build the tree. */
  readonly pMin: number;
  /** Number of points the tree was built on (the subsample size). */
  readonly buildPoints: number;
  /** Hyperplane normals w = c1 - c0 of the internal nodes (row-major, internalNodes x dim). */
  readonly normals: Float64Array;
  /** Hyperplane offsets w . (c0 + c1) / 2 of the internal nodes. */
  readonly offsets: Float64Array;
  /** Children codes: 2k = left (nearer c0), 2k + 1 = right; >= 0 internal node, < 0 leaf -code - 1. */
  readonly children: Int32Array;
  /** Leaf centroids (size x dim, row-major): means of the build points in each leaf. */
  readonly centroids: Float64Array;
  /** Leaf masses: fraction of the build points in each leaf. */
  readonly masses: Float64Array;
  /**
   * For a freshly built tree: the indices (into the input points) of the build points and the leaf
   * each ended in during the build. Null after fromJSON.
   */
  readonly training: { indices: Int32Array; labels: Int32Array } | null;

  constructor(args: {
    dim: number;
    size: number;
    pMin: number;
    buildPoints: number;
    normals: Float64Array;
    offsets: Float64Array;
    children: Int32Array;
    centroids: Float64Array;
    masses: Float64Array;
    training?: { indices: Int32Array; labels: Int32Array } | null;
  }) {
    this.dim = args.dim;
    this.size = args.size;
    this.pMin = args.pMin;
    this.buildPoints = args.buildPoints;
    this.normals = args.normals;
    this.offsets = args.offsets;
    this.children = args.children;
    this.centroids = args.centroids;
    this.masses = args.masses;
    this.training = args.training ?? null;
    const I = this.offsets.length;
    if (this.normals.length !== I * this.dim || this.children.length !== 2 * I) {
      throw new DimensionError(
        'tree arrays',
        'normals, offsets and children disagree in size',
        'pass arrays from one tree',
      );
    }
    if (
      this.size !== I + 1 ||
      this.centroids.length !== this.size * this.dim ||
      this.masses.length !== this.size
    ) {
      throw new DimensionError(
        'tree arrays',
        `${I} internal nodes need ${I + 1} leaves`,
        'pass arrays from one tree',
      );
    }
    for (let k = 0; k < 2 * I; k++) {
      const c = this.children[k];
      if (c >= I || c < -this.size || (c >= 0 && c <= k >> 1)) {
        throw new InvalidArgumentError(
          'children',
          `code ${c} at ${k} is invalid`,
          'pass children from one tree',
        );
      }
    }
  }

  /** Number of internal (split) nodes, size - 1. */
  get internalNodes(): number {
    return this.offsets.length;
  }

  /** Leaf index of every point (row-major batch) by descent to the nearer child centre. */
  assign(points: Float64Array): Int32Array {
    const n = checkBatch('points', points, this.dim, 0);
    const out = new Int32Array(n);
    if (this.offsets.length === 0) return out;
    const { normals, offsets, children, dim } = this;
    for (let p = 0; p < n; p++) {
      const xo = p * dim;
      let node = 0;
      for (;;) {
        const c =
          children[2 * node + (goesRight(normals, node * dim, offsets[node], points, xo, dim) ? 1 : 0)];
        if (c < 0) {
          out[p] = -c - 1;
          break;
        }
        node = c;
      }
    }
    return out;
  }

  toJSON(): TreePartitionJSON {
    return {
      format: 'sdekit.partition.tree',
      version: 1,
      dim: this.dim,
      size: this.size,
      pMin: this.pMin,
      buildPoints: this.buildPoints,
      normals: Array.from(this.normals),
      offsets: Array.from(this.offsets),
      children: Array.from(this.children),
      centroids: Array.from(this.centroids),
      masses: Array.from(this.masses),
    };
  }

  static fromJSON(json: TreePartitionJSON): TreePartition {
    if (json?.format !== 'sdekit.partition.tree') {
      throw new FormatError(
        'TreePartition',
        `expected format 'sdekit.partition.tree', got '${json?.format}'`,
      );
    }
    if (json.version !== 1)
      throw new FormatError('TreePartition', `unsupported version ${json.version} (this build reads 1)`);
    return new TreePartition({
      dim: json.dim,
      size: json.size,
      pMin: json.pMin,
      buildPoints: json.buildPoints,
      normals: Float64Array.from(json.normals),
      offsets: Float64Array.from(json.offsets),
      children: Int32Array.from(json.children),
      centroids: Float64Array.from(json.centroids),
      masses: Float64Array.from(json.masses),
    });
  }
}

/**
 * The single split test shared by build and assign: w . x > offset. Four partial sums break the
 * floating-point add dependency chain (a faster descent, docs/findings.md); build and assign both call this
 * function, so they agree bit for bit.
 */
function goesRight(
  normals: Float64Array,
  wo: number,
  offset: number,
  x: Float64Array,
  xo: number,
  dim: number,
): boolean {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += normals[wo + d] * x[xo + d];
    s1 += normals[wo + d + 1] * x[xo + d + 1];
    s2 += normals[wo + d + 2] * x[xo + d + 2];
    s3 += normals[wo + d + 3] * x[xo + d + 3];
  }
  for (; d < dim; d++) s0 += normals[wo + d] * x[xo + d];
  return s0 + s1 + (s2 + s3) > offset;
}

function swapRows(X: Float64Array, a: number, b: number, dim: number, tmp: Float64Array): void {
  const ao = a * dim;
  const bo = b * dim;
  for (let d = 0; d < dim; d++) tmp[d] = X[ao + d];
  X.copyWithin(ao, bo, bo + dim);
  for (let d = 0; d < dim; d++) X[bo + d] = tmp[d];
}

/** Growable flat storage for internal nodes during the build. */
class NodeStore {
  normals: Float64Array;
  offsets: Float64Array;
  children: Int32Array;
  count = 0;
  constructor(
    readonly dim: number,
    capacity: number,
  ) {
    this.normals = new Float64Array(capacity * dim);
    this.offsets = new Float64Array(capacity);
    this.children = new Int32Array(2 * capacity);
  }
  add(): number {
    if (this.count === this.offsets.length) {
      const cap = 2 * this.offsets.length;
      const nn = new Float64Array(cap * this.dim);
      nn.set(this.normals);
      const no = new Float64Array(cap);
      no.set(this.offsets);
      const nc = new Int32Array(2 * cap);
      nc.set(this.children);
      this.normals = nn;
      this.offsets = no;
      this.children = nc;
    }
    return this.count++;
  }
}

/**
 * Builds a bisecting-2-means tree partition (docs/methods.md §3).
 *
 * Cost: each tree level touches every build point (lloydIterations + 2) times, so the build is
 * O(Nb D (L + 2) depth) with depth ~ log2(1 / pMin), all passes streaming through contiguous rows;
 * memory is a working copy of the build points (Nb D doubles, the input is never modified) plus O(Nb)
 * integers. Throws InvalidArgumentError for empty data, pMin outside (0, 1) or bad options.
 *
 * @example
 * const rng = Rng.fromSeed(0);
 * const points = rng.fillNormal(new Float64Array(2 * 10000));
 * const tree = buildTreePartition(points, 2, { pMin: 0.01, seed: 7 });
 * tree.size;                    // ~74 leaves
 * const labels = tree.assign(points);
 */
export function buildTreePartition(
  points: Float64Array,
  dim: number,
  options: TreePartitionOptions,
): TreePartition {
  const N = checkBatch('points', points, dim, 1);
  checkOpenInterval('pMin', options.pMin, 0, 1);
  const maxBuild = options.maxBuildPoints ?? 200_000;
  if (maxBuild !== Number.POSITIVE_INFINITY) checkInteger('maxBuildPoints', maxBuild, 1);
  const lloyd = options.lloydIterations ?? 5;
  checkInteger('lloydIterations', lloyd, 0);
  const sampleRng = Rng.fromSeed(options.seed, 0);
  const rng = Rng.fromSeed(options.seed, 1);

  // Working copy of the build points (subsample without replacement by partial Fisher-Yates, kept
  // in input order). Its rows are permuted along with the tree so that every node's points are
  // contiguous: all passes stream through memory instead of gathering rows through an index.
  const Nb = Math.min(N, maxBuild);
  let indices: Int32Array;
  if (Nb < N) {
    const perm = new Int32Array(N);
    for (let i = 0; i < N; i++) perm[i] = i;
    for (let k = 0; k < Nb; k++) {
      const j = k + sampleRng.integer(N - k);
      const t = perm[k];
      perm[k] = perm[j];
      perm[j] = t;
    }
    indices = perm.slice(0, Nb).sort();
  } else {
    indices = new Int32Array(N);
    for (let i = 0; i < N; i++) indices[i] = i;
  }
  const X = new Float64Array(Nb * dim);
  for (let k = 0; k < Nb; k++) X.set(points.subarray(indices[k] * dim, (indices[k] + 1) * dim), k * dim);

  const threshold = 2 * options.pMin * Nb;
  // idx[p]: which build point (0..Nb-1, in `indices` order) sits in row p of X.
  const idx = new Int32Array(Nb);
  for (let i = 0; i < Nb; i++) idx[i] = i;
  const rowTmp = new Float64Array(dim);
  const labels = new Int32Array(Nb);
  const side = new Uint8Array(Nb);
  const d2 = new Float64Array(Nb);
  const c0 = new Float64Array(dim);
  const c1 = new Float64Array(dim);
  const s0 = new Float64Array(dim);
  const s1 = new Float64Array(dim);
  const w = new Float64Array(dim);
  const store = new NodeStore(dim, Math.max(16, Math.min(Nb, Math.ceil(2 / options.pMin))));
  const leafCentroids: number[] = [];
  const leafMasses: number[] = [];
  let leaves = 0;

  /** Sets w, returns the offset of the hyperplane bisecting c0 and c1. */
  const hyperplane = (): number => {
    let b = 0;
    for (let d = 0; d < dim; d++) {
      w[d] = c1[d] - c0[d];
      b += w[d] * 0.5 * (c0[d] + c1[d]);
    }
    return b;
  };

  /** 2-means on idx[start, end); on success returns the offset (w set) for the final split, else NaN. */
  const twoMeans = (start: number, end: number): number => {
    const n = end - start;
    // k-means++ start: first centre uniform, second with probability proportional to squared distance.
    const a = (start + rng.integer(n)) * dim;
    for (let d = 0; d < dim; d++) c0[d] = X[a + d];
    let total = 0;
    for (let p = start; p < end; p++) {
      const o = p * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) {
        const z = X[o + d] - c0[d];
        s += z * z;
      }
      d2[p] = s;
      total += s;
    }
    if (!(total > 0)) return Number.NaN; // all points identical: cannot split
    const r = rng.uniform() * total;
    let acc = 0;
    let pick = end - 1;
    for (let p = start; p < end; p++) {
      acc += d2[p];
      if (acc > r && d2[p] > 0) {
        pick = p;
        break;
      }
    }
    while (d2[pick] === 0) pick--; // rounding fallback: any point distinct from c0
    const bo = pick * dim;
    for (let d = 0; d < dim; d++) c1[d] = X[bo + d];

    for (let it = 0; it < lloyd; it++) {
      const b = hyperplane();
      s0.fill(0);
      s1.fill(0);
      let n1 = 0;
      let moved = 0;
      for (let p = start; p < end; p++) {
        const o = p * dim;
        const right = goesRight(w, 0, b, X, o, dim) ? 1 : 0;
        if (right !== side[p]) moved++;
        side[p] = right;
        const s = right ? s1 : s0;
        n1 += right;
        for (let d = 0; d < dim; d++) s[d] += X[o + d];
      }
      const n0 = n - n1;
      if (n0 === 0 || n1 === 0) break; // keep the previous centres
      for (let d = 0; d < dim; d++) {
        c0[d] = s0[d] / n0;
        c1[d] = s1[d] / n1;
      }
      if (it > 0 && moved === 0) break;
    }
    return hyperplane();
  };

  const finishLeaf = (start: number, end: number): number => {
    const id = leaves++;
    const sum = new Float64Array(dim);
    for (let p = start; p < end; p++) {
      const o = p * dim;
      labels[idx[p]] = id;
      for (let d = 0; d < dim; d++) sum[d] += X[o + d];
    }
    for (let d = 0; d < dim; d++) leafCentroids.push(sum[d] / (end - start));
    leafMasses.push((end - start) / Nb);
    return id;
  };

  // Depth-first, left child first: stack of (start, end, slot in children to write this node's code).
  const stack: number[] = [0, Nb, -1];
  while (stack.length > 0) {
    const slot = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    let mid = -1;
    let b = Number.NaN;
    if (end - start > threshold && end - start >= 2) {
      b = twoMeans(start, end);
      if (!Number.isNaN(b)) {
        // Partition rows [start, end) of X (and idx) in place: left (w . x <= b) first.
        let lo = start;
        let hi = end - 1;
        while (lo <= hi) {
          if (!goesRight(w, 0, b, X, lo * dim, dim)) lo++;
          else {
            swapRows(X, lo, hi, dim, rowTmp);
            const t = idx[lo];
            idx[lo] = idx[hi];
            idx[hi] = t;
            hi--;
          }
        }
        mid = lo;
        if (mid === start || mid === end) mid = -1;
      }
    }
    if (mid < 0) {
      const leaf = finishLeaf(start, end);
      if (slot >= 0) store.children[slot] = -leaf - 1;
      continue;
    }
    const k = store.add();
    store.normals.set(w, k * dim);
    store.offsets[k] = b;
    if (slot >= 0) store.children[slot] = k;
    stack.push(mid, end, 2 * k + 1);
    stack.push(start, mid, 2 * k);
  }

  if (leaves < 2) {
    // One cell carries no information about where the state is (no generator, no Cdot).
    throw new InvalidArgumentError(
      'pMin',
      `= ${options.pMin} leaves a single cell for ${Nb} points (a node splits only while it holds more than 2 pMin N points, and only when 2-means separates it)`,
      'pass a smaller pMin (about 0.74 / pMin cells), or more distinct points',
    );
  }
  const I = store.count;
  return new TreePartition({
    dim,
    size: leaves,
    pMin: options.pMin,
    buildPoints: Nb,
    normals: store.normals.slice(0, I * dim),
    offsets: store.offsets.slice(0, I),
    children: store.children.slice(0, 2 * I),
    centroids: Float64Array.from(leafCentroids),
    masses: Float64Array.from(leafMasses),
    training: { indices, labels },
  });
}

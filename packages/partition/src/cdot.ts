/**
 * Finite-volume estimate of Cdot = dC/dt(0+), C(t) = E[x(t + tau) x(tau)^T] (docs/methods.md §1 steps 4-5):
 * with cell centroids M (D x K), generator Q and stationary distribution pi,
 *
 *     Cdot = M Q diag(pi) M^T,
 *
 * because the coarse-grained correlation is M exp(Q t) diag(pi) M^T.
 */
import { checkBatch, checkFinite, DimensionError, InvalidArgumentError, Matrix } from '@sdekit/sde';
import { checkLabels } from './labels.js';
import type { SparseColumnMatrix } from './sparse.js';

/** Options of `cellCentroids`. */
export interface CellCentroidsOptions {
  /**
   * What a cell without points gets. 'zero' (default): a zero column, the right value for Cdot
   * (`cdot`): such a cell has pi_i = 0 and, for a generator estimated from the same labels, zero
   * rates in and out, so any finite column gives the same Cdot; it happens legitimately when a
   * partition built on other data is applied to this series. 'error': an InvalidArgumentError
   * naming the first empty cell, for callers that use the columns as positions of the cells.
   */
  emptyCells?: 'zero' | 'error';
}

/**
 * Centroid matrix M (D x K): column i is the mean of the points labelled i (docs/methods.md §1 step 4).
 * Cells with no points get a zero column (they carry pi_i = 0, so they do not enter Cdot), or are an
 * InvalidArgumentError naming the cell with `{ emptyCells: 'error' }`.
 *
 * @example
 * const M = cellCentroids(Float64Array.of(0, 0, 2, 2, 10, 10), Int32Array.of(0, 0, 1), 2, 2);
 * M.toArray(); // [[1, 10], [1, 10]]
 */
export function cellCentroids(
  points: Float64Array,
  labels: Int32Array,
  dim: number,
  numStates: number,
  options: CellCentroidsOptions = {},
): Matrix {
  const emptyCells = options.emptyCells ?? 'zero';
  if (emptyCells !== 'zero' && emptyCells !== 'error') {
    throw new InvalidArgumentError(
      'emptyCells',
      `is '${String(emptyCells)}'`,
      "pass 'zero' (a zero column, the value for Cdot) or 'error'",
    );
  }
  const n = checkBatch('points', points, dim, 1);
  checkLabels(labels, numStates, 1);
  if (labels.length !== n) {
    throw new DimensionError(
      'labels',
      `has ${labels.length} entries for ${n} points`,
      'pass one label per point',
    );
  }
  const K = numStates;
  const sums = new Float64Array(K * dim);
  const counts = new Float64Array(K);
  for (let p = 0; p < n; p++) {
    const c = labels[p];
    counts[c]++;
    const o = c * dim;
    const x = p * dim;
    for (let d = 0; d < dim; d++) sums[o + d] += points[x + d];
  }
  const M = new Matrix(dim, K);
  for (let c = 0; c < K; c++) {
    if (counts[c] === 0) {
      if (emptyCells === 'error') {
        let empty = 0;
        for (let e = 0; e < K; e++) if (counts[e] === 0) empty++;
        throw new InvalidArgumentError(
          'labels',
          `cell ${c} has no points (${empty} of ${K} cells are empty), so it has no centroid`,
          `label at least one point in every cell 0..${K - 1}, or pass { emptyCells: 'zero' } where a zero column is meant (Cdot)`,
        );
      }
      continue;
    }
    for (let d = 0; d < dim; d++) M.data[d * K + c] = sums[c * dim + d] / counts[c];
  }
  return M;
}

/**
 * Cdot = M Q diag(pi) M^T (docs/methods.md §1 step 5), D x D. Uses the sparse columns of Q: first
 * W = M Q (O(nnz D)), then W diag(pi) M^T (O(K D^2)).
 *
 * @example
 * const labels = tree.assign(series);
 * const { Q } = generatorFromLabels(labels, tree.size, dt);
 * const C1 = cdot(cellCentroids(series, labels, D, tree.size), Q, stationaryDistribution(labels, tree.size));
 */
export function cdot(M: Matrix, Q: SparseColumnMatrix, pi: Float64Array): Matrix {
  const K = Q.size;
  const D = M.rows;
  if (M.cols !== K)
    throw new DimensionError(
      'M',
      `has ${M.cols} columns, Q has ${K} states`,
      'pass the D x K centroid matrix',
    );
  if (pi.length !== K)
    throw new DimensionError('pi', `length ${pi.length} != K = ${K}`, 'pass one probability per state');
  checkFinite('M', M.data);
  checkFinite('pi', pi);
  let total = 0;
  for (let i = 0; i < K; i++) {
    if (pi[i] < 0) {
      throw new InvalidArgumentError(
        'pi',
        `entry ${i} is ${pi[i]} < 0`,
        'pass a probability vector (stationaryDistribution)',
      );
    }
    total += pi[i];
  }
  if (Math.abs(total - 1) > 1e-9) {
    throw new InvalidArgumentError(
      'pi',
      `sums to ${total}, not 1`,
      'pass a probability vector (stationaryDistribution)',
    );
  }
  // W = M Q: column i of W = sum_j Q[j, i] M[:, j]
  const W = new Float64Array(D * K);
  for (let i = 0; i < K; i++) {
    for (let p = Q.colPtr[i]; p < Q.colPtr[i + 1]; p++) {
      const j = Q.rowIndex[p];
      const q = Q.values[p];
      for (let a = 0; a < D; a++) W[a * K + i] += M.data[a * K + j] * q;
    }
  }
  const out = new Matrix(D, D);
  for (let a = 0; a < D; a++) {
    for (let b = 0; b < D; b++) {
      let s = 0;
      for (let i = 0; i < K; i++) s += W[a * K + i] * pi[i] * M.data[b * K + i];
      out.data[a * D + b] = s;
    }
  }
  return out;
}

/**
 * Label sequences c_0..c_T (cell indices in 0..K-1) and the counts built from them: occupation,
 * lag-k pair counts in sparse column form, and the empirical stationary distribution.
 */
import { checkInteger, InvalidArgumentError } from '@sdekit/sde';
import { SparseColumnMatrix } from './sparse.js';

/**
 * Checks a label sequence: an Int32Array of at least `minLength` entries in [0, numStates).
 * Throws InvalidArgumentError naming the first bad entry.
 *
 * @example
 * checkLabels(Int32Array.of(0, 2, 1), 3);    // passes
 * checkLabels(Int32Array.of(0, 3), 3);       // throws InvalidArgumentError ('labels': entry 1 is 3)
 */
export function checkLabels(labels: Int32Array, numStates: number, minLength = 1): void {
  checkInteger('numStates', numStates, 1);
  if (!(labels instanceof Int32Array)) {
    throw new InvalidArgumentError('labels', 'must be an Int32Array', 'convert with Int32Array.from(labels)');
  }
  if (labels.length < minLength) {
    throw new InvalidArgumentError(
      'labels',
      `has ${labels.length} entries, at least ${minLength} needed`,
      'pass a longer label sequence (empty data cannot define a generator)',
    );
  }
  for (let t = 0; t < labels.length; t++) {
    const c = labels[t];
    if (c < 0 || c >= numStates) {
      throw new InvalidArgumentError(
        'labels',
        `entry ${t} is ${c}, outside [0, ${numStates})`,
        `pass labels in 0..${numStates - 1} or increase numStates`,
      );
    }
  }
}

/**
 * Segment boundaries [0, s_1, ..., s_m, n] of a label sequence of length n made of independent
 * segments (several runs, or one record with gaps) that start at `segmentStarts` = s_1 < ... < s_m,
 * each in (0, n). No transition is counted from the last sample of one segment to the first of the
 * next. Without `segmentStarts`: [0, n], one segment. Throws InvalidArgumentError naming
 * `segmentStarts` for unsorted, repeated or out-of-range entries.
 *
 * @example
 * segmentBounds(Int32Array.of(3, 7), 10); // [0, 3, 7, 10]: segments 0..2, 3..6, 7..9
 */
export function segmentBounds(segmentStarts: Int32Array | undefined, n: number): Int32Array {
  if (segmentStarts === undefined) return Int32Array.of(0, n);
  if (!(segmentStarts instanceof Int32Array)) {
    throw new InvalidArgumentError(
      'segmentStarts',
      'must be an Int32Array',
      'convert with Int32Array.from(starts)',
    );
  }
  const bounds = new Int32Array(segmentStarts.length + 2);
  bounds[bounds.length - 1] = n;
  for (let k = 0; k < segmentStarts.length; k++) {
    const s = segmentStarts[k];
    const previous = k === 0 ? 0 : segmentStarts[k - 1];
    if (!(s > previous && s < n)) {
      throw new InvalidArgumentError(
        'segmentStarts',
        `entry ${k} is ${s}; starts must increase strictly within (0, ${n})`,
        'pass the index of the first sample of every segment after the first, in increasing order',
      );
    }
    bounds[k + 1] = s;
  }
  return bounds;
}

/**
 * Counts of pairs (c_t = i, c_{t+lag} = j) for t = 0..T-lag within each segment of `bounds`
 * (`segmentBounds`), in sparse column form (column i = origin). With `skipSelf`, pairs with j = i
 * are not stored (the off-diagonal counts N_ij of docs/methods.md §3).
 * Bucket sort by origin, then a numeric sort within each column: O(T + sum_i m_i log m_i), no maps.
 * @internal
 */
export function pairCounts(
  labels: Int32Array,
  numStates: number,
  lag: number,
  skipSelf: boolean,
  bounds: Int32Array = Int32Array.of(0, labels.length),
): SparseColumnMatrix {
  const perOrigin = new Int32Array(numStates + 1);
  for (let k = 0; k + 1 < bounds.length; k++) {
    for (let t = bounds[k]; t < bounds[k + 1] - lag; t++) {
      const i = labels[t];
      if (!skipSelf || labels[t + lag] !== i) perOrigin[i + 1]++;
    }
  }
  for (let i = 0; i < numStates; i++) perOrigin[i + 1] += perOrigin[i];
  const dest = new Int32Array(perOrigin[numStates]);
  const fill = perOrigin.slice(0, numStates);
  for (let k = 0; k + 1 < bounds.length; k++) {
    for (let t = bounds[k]; t < bounds[k + 1] - lag; t++) {
      const i = labels[t];
      const j = labels[t + lag];
      if (!skipSelf || j !== i) dest[fill[i]++] = j;
    }
  }
  // Compress each column's sorted destinations into (row, count) runs, in place.
  const colPtr = new Int32Array(numStates + 1);
  let w = 0;
  const counts = new Float64Array(dest.length);
  for (let i = 0; i < numStates; i++) {
    const seg = dest.subarray(perOrigin[i], perOrigin[i + 1]);
    seg.sort();
    for (let p = 0; p < seg.length; p++) {
      if (p > 0 && seg[p] === seg[p - 1]) counts[w - 1]++;
      else {
        dest[w] = seg[p];
        counts[w] = 1;
        w++;
      }
    }
    colPtr[i + 1] = w;
  }
  return new SparseColumnMatrix(numStates, colPtr, dest.slice(0, w), counts.slice(0, w));
}

/**
 * Empirical stationary distribution: occupation frequencies of the labels over all T+1 samples
 * (docs/methods.md §1 step 3).
 *
 * @example
 * stationaryDistribution(Int32Array.of(0, 0, 1, 2), 3); // [0.5, 0.25, 0.25]
 */
export function stationaryDistribution(labels: Int32Array, numStates: number): Float64Array {
  checkLabels(labels, numStates, 1);
  const pi = new Float64Array(numStates);
  for (let t = 0; t < labels.length; t++) pi[labels[t]]++;
  for (let i = 0; i < numStates; i++) pi[i] /= labels.length;
  return pi;
}

/**
 * Transition matrix at lag k in column convention: P[j, i] = #{t : c_t = i, c_{t+k} = j} / #{t : c_t = i},
 * t = 0..T-k, pairs within one segment only when `segmentStarts` is given (`segmentBounds`). Columns
 * of states never seen as an origin are zero (not stochastic); every other column sums to 1. Sparse:
 * only observed transitions are stored.
 *
 * @example
 * const P = transitionMatrix(Int32Array.of(0, 0, 1, 0), 2, 1);
 * P.get(1, 0); // 0.5: of the two steps from 0, one went to 1
 */
export function transitionMatrix(
  labels: Int32Array,
  numStates: number,
  lag = 1,
  segmentStarts?: Int32Array,
): SparseColumnMatrix {
  checkInteger('lag', lag, 1);
  checkLabels(labels, numStates, lag + 1);
  const counts = pairCounts(labels, numStates, lag, false, segmentBounds(segmentStarts, labels.length));
  const values = counts.values.slice();
  for (let i = 0; i < numStates; i++) {
    let total = 0;
    for (let p = counts.colPtr[i]; p < counts.colPtr[i + 1]; p++) total += values[p];
    for (let p = counts.colPtr[i]; p < counts.colPtr[i + 1]; p++) values[p] /= total;
  }
  return new SparseColumnMatrix(numStates, counts.colPtr, counts.rowIndex, values);
}

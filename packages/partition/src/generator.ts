/**
 * Generators of continuous-time Markov chains estimated from a label sequence c_0..c_T sampled at
 * interval dt (docs/methods.md §3, [S]). Column convention: Q[j, i] is the rate i -> j, columns sum to 0.
 */
import { checkPositive, InvalidArgumentError } from '@sdekit/sde';
import { checkLabels, pairCounts, segmentBounds } from './labels.js';
import { Generator } from './sparse.js';

/** Which rate estimator to use (docs/methods.md §3). */
export type GeneratorEstimator = 'counts' | 'holding-times';
/** Finite-dt correction of the exit rates (docs/methods.md §3). */
export type FiniteDtCorrection = 'none' | 'per-state' | 'global';

export interface GeneratorOptions {
  /**
   * 'counts' (default): Q[j, i] = kappa_i N_ij / (n_i dt), n_i = #{t < T : c_t = i}.
   * 'holding-times': exit rate 1 / tau_i with tau_i the mean sojourn time in i (every maximal run of
   * i counts, including the final, censored one, as in MarkovChainHammer.jl's `generator`), split
   * over destinations in proportion to the observed exits.
   */
  estimator?: GeneratorEstimator;
  /** 'none' (default): kappa = 1; 'per-state': kappa_i = -ln(p_stay_i) / (1 - p_stay_i); 'global': one factor. */
  correction?: FiniteDtCorrection;
  /**
   * Indices at which a new, independent segment of the label sequence begins (several runs
   * concatenated, or a record with gaps): increasing, in (0, T]. No transition is counted across a
   * segment boundary, and each segment's last sample ends a (censored) holding time. Default: one
   * segment.
   */
  segmentStarts?: Int32Array;
}

export interface GeneratorEstimate {
  /** The estimated generator (sparse, column convention). */
  Q: Generator;
  /** Human-readable warnings (dt too coarse, clamped probabilities, zero columns). Empty when all is well. */
  warnings: string[];
  /** Fraction of the T steps with c_{t+1} != c_t. Above 0.3 the sampling is too coarse for the partition. */
  leaveFraction: number;
  /** Correction factor applied to each state's rates (all 1 without correction). */
  kappa: Float64Array;
  /** Per-state samples used as the rate denominator: n_i (counts) or total run length (holding times). */
  occupancy: Float64Array;
  /** Per-state number of observed exits sum_j N_ij. */
  exits: Float64Array;
}

/** Leave fraction per step above which a warning is returned (docs/methods.md §3). */
export const LEAVE_FRACTION_WARNING = 0.3;

/**
 * Estimates the generator Q of a Markov-state model from a label sequence (docs/methods.md §3).
 *
 * - n_i = #{t in 0..T-1 : c_t = i}, N_ij = #{t : c_t = i, c_{t+1} = j}, j != i.
 * - counts: Q[j, i] = kappa_i N_ij / (n_i dt); Q[i, i] = -sum_{j != i} Q[j, i].
 * - holding-times: Q[i, i] = -kappa_i / tau_i, Q[j, i] = kappa_i N_ij / (tau_i sum_k N_ik).
 * - A state never left (no observed exit) has a zero column; so has a state never visited or visited
 *   only at the last sample (c_T). These are reported in `warnings` when they occur.
 * - Finite-dt correction: with p_leave_i = naive exit rate * dt and p_stay_i = 1 - p_leave_i,
 *   'per-state' uses kappa_i = -ln(p_stay_i) / (1 - p_stay_i) (exact for the exit rate when returns
 *   within one dt are negligible: P_ii(dt) ~ exp(-lambda_i dt)); p_stay_i = 0 (a state left at every
 *   step) is raised to 0.5 / (samples in i) and reported. 'global' uses the single factor
 *   kappa = sum_i w_i lambda_i^corr / sum_i w_i lambda_i^naive, w_i = occupancy (the ratio of the
 *   occupation-weighted mean corrected to mean naive exit rate), preserving the relative rates.
 *
 * Throws InvalidArgumentError for labels out of range, fewer than 2 labels, or dt <= 0.
 *
 * @example
 * // docs/methods.md §3 exact check (0-based labels):
 * const { Q } = generatorFromLabels(Int32Array.of(0, 0, 0, 1, 1, 2, 2, 2, 1, 0), 3, 1, { estimator: 'holding-times' });
 * Q.toDense().toArray(); // [[-1/2, 1/3, 0], [1/2, -2/3, 1/3], [0, 1/3, -1/3]]
 */
export function generatorFromLabels(
  labels: Int32Array,
  numStates: number,
  dt: number,
  options: GeneratorOptions = {},
): GeneratorEstimate {
  const estimator = options.estimator ?? 'counts';
  const correction = options.correction ?? 'none';
  if (estimator !== 'counts' && estimator !== 'holding-times') {
    throw new InvalidArgumentError(
      'estimator',
      `unknown estimator '${estimator}'`,
      "use 'counts' or 'holding-times'",
    );
  }
  if (correction !== 'none' && correction !== 'per-state' && correction !== 'global') {
    throw new InvalidArgumentError(
      'correction',
      `unknown correction '${correction}'`,
      "use 'none', 'per-state' or 'global'",
    );
  }
  checkPositive('dt', dt);
  checkLabels(labels, numStates, 2);
  const K = numStates;
  const bounds = segmentBounds(options.segmentStarts, labels.length);
  // T: the number of one-step transitions (pairs within a segment).
  const T = labels.length - (bounds.length - 1);
  if (T < 1) {
    throw new InvalidArgumentError(
      'segmentStarts',
      'leaves no pair of consecutive samples within a segment',
      'pass segments of at least 2 samples',
    );
  }
  const warnings: string[] = [];

  // Off-diagonal transition counts N_ij (column i = origin) and per-state occupation.
  const N = pairCounts(labels, K, 1, true, bounds);
  const exits = N.columnSums();
  const occupancy = new Float64Array(K);
  // naiveRate[i]: exit rate without correction.
  const naiveRate = new Float64Array(K);
  if (estimator === 'counts') {
    // n_i counts origins of transitions: every sample but the last of each segment.
    for (let k = 0; k + 1 < bounds.length; k++)
      for (let t = bounds[k]; t < bounds[k + 1] - 1; t++) occupancy[labels[t]]++;
    for (let i = 0; i < K; i++) if (exits[i] > 0) naiveRate[i] = exits[i] / (occupancy[i] * dt);
  } else {
    // Holding times: all maximal runs within each segment, including each segment's last
    // (censored) one.
    const runs = new Float64Array(K);
    for (let k = 0; k + 1 < bounds.length; k++) {
      let start = bounds[k];
      const end = bounds[k + 1];
      for (let t = start + 1; t <= end; t++) {
        if (t === end || labels[t] !== labels[t - 1]) {
          const c = labels[t - 1];
          runs[c]++;
          occupancy[c] += t - start;
          start = t;
        }
      }
    }
    // mean holding time tau_i = occupancy_i * dt / runs_i
    for (let i = 0; i < K; i++) if (exits[i] > 0) naiveRate[i] = runs[i] / (occupancy[i] * dt);
  }

  let totalExits = 0;
  for (let i = 0; i < K; i++) totalExits += exits[i];
  const leaveFraction = totalExits / T;
  if (leaveFraction > LEAVE_FRACTION_WARNING) {
    warnings.push(
      `leave fraction per step is ${leaveFraction.toFixed(3)} > ${LEAVE_FRACTION_WARNING}: dt = ${dt} is coarse for ${K} cells, ` +
        'so the cells are not Markov states at this dt. For a Markov-state model sample more finely or use fewer cells; ' +
        'for Cdot from a fine partition (docs/methods.md §1) this is expected (keep correction none)',
    );
  }

  // Finite-dt correction factors.
  const kappa = new Float64Array(K).fill(1);
  if (correction !== 'none') {
    let clamped = 0;
    for (let i = 0; i < K; i++) {
      if (naiveRate[i] === 0) continue;
      const pLeave = naiveRate[i] * dt;
      let pStay = 1 - pLeave;
      const floor = 0.5 / occupancy[i];
      if (pStay < floor) {
        pStay = floor;
        clamped++;
      }
      // -ln(p_stay) / (1 - p_stay), written with log1p for accuracy when p_leave is small.
      kappa[i] = -Math.log1p(-(1 - pStay)) / (1 - pStay);
    }
    if (clamped > 0) {
      warnings.push(
        `${clamped} state(s) were left at every observed step (p_stay = 0); p_stay was raised to 0.5 / (samples in the state) ` +
          'for their correction factor. Sample more finely or use fewer cells.',
      );
    }
    if (correction === 'global') {
      let corrected = 0;
      let naive = 0;
      for (let i = 0; i < K; i++) {
        corrected += occupancy[i] * kappa[i] * naiveRate[i];
        naive += occupancy[i] * naiveRate[i];
      }
      kappa.fill(naive > 0 ? corrected / naive : 1);
    }
  }

  // Assemble Q: per column, the off-diagonal entries of N scaled, plus the diagonal.
  const colPtr = new Int32Array(K + 1);
  for (let i = 0; i < K; i++) {
    const m = N.colPtr[i + 1] - N.colPtr[i];
    colPtr[i + 1] = colPtr[i] + (m > 0 ? m + 1 : 0);
  }
  const nnz = colPtr[K];
  const rowIndex = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  for (let i = 0; i < K; i++) {
    const p0 = N.colPtr[i];
    const p1 = N.colPtr[i + 1];
    if (p1 === p0) continue;
    // rate i -> j = kappa_i * lambda_i * N_ij / exits_i (identical to kappa_i N_ij / (n_i dt) for counts)
    const scale = (kappa[i] * naiveRate[i]) / exits[i];
    let w = colPtr[i];
    let diagPos = -1;
    let sum = 0;
    for (let p = p0; p < p1; p++) {
      if (diagPos < 0 && N.rowIndex[p] > i) diagPos = w++; // keep rows sorted: diagonal slot here
      const v = scale * N.values[p];
      rowIndex[w] = N.rowIndex[p];
      values[w] = v;
      sum += v;
      w++;
    }
    if (diagPos < 0) diagPos = w;
    rowIndex[diagPos] = i;
    values[diagPos] = -sum;
  }

  // A state whose every sample is the last of a segment is never an origin: zero column, reported
  // apart from the visited states that were never left.
  const visits = new Float64Array(K);
  for (let t = 0; t < labels.length; t++) visits[labels[t]]++;
  const finals = new Float64Array(K);
  for (let k = 1; k < bounds.length; k++) finals[labels[bounds[k] - 1]]++;
  let neverLeftVisited = 0;
  for (let i = 0; i < K; i++) {
    if (exits[i] > 0 || visits[i] === 0) continue;
    if (visits[i] === finals[i]) {
      warnings.push(
        `state ${i} is visited only at the last sample${bounds.length > 2 ? ' of a segment' : ''}; its column is zero (no exit observed)`,
      );
    } else neverLeftVisited++;
  }
  if (neverLeftVisited > 0) {
    warnings.push(
      `${neverLeftVisited} visited state(s) were never left; their columns are zero (absorbing in Q). ` +
        'Use a longer series or a coarser partition.',
    );
  }

  return { Q: new Generator(K, colPtr, rowIndex, values), warnings, leaveFraction, kappa, occupancy, exits };
}

/**
 * The score-model interface and exact (analytic) scores.
 *
 * A score model maps a batch of points (row-major, docs/methods.md section 0) to s(x) = grad log p(x) at
 * each point, in float64. Trained networks (DSM), KGMM and analytic scores all implement it, and the
 * Langevin pipeline only sees this interface (architecture.md).
 */
import { checkBatch, checkInteger, InvalidArgumentError } from '@sdekit/sde';

/**
 * Anything that evaluates a score s(x) = grad log p(x) on a batch of points.
 *
 * @example
 * const gaussian: ScoreModel = { dim: 1, score: (x) => x.map((v) => -v) };
 */
export interface ScoreModel {
  /** Dimension D of one point. */
  readonly dim: number;
  /** Scores of N points: input and output are row-major N*D Float64Arrays. */
  score(points: Float64Array): Float64Array;
}

/** A score model that can be written to JSON (trained networks, KGMM). */
export interface SerializableScoreModel extends ScoreModel {
  /** Noise level sigma of the smoothed density p_sigma the model represents (0 for exact scores). */
  readonly sigma: number;
  toJSON(): ScoreModelJSON;
  /** Frees the TensorFlow.js variables held by the model. */
  dispose(): void;
}

/** Serialised score model: `format` names the kind, `version` its layout. */
export interface ScoreModelJSON {
  format: string;
  version: number;
  [key: string]: unknown;
}

/** Pointwise score function: reads one point `x` (length dim) and writes s(x) into `out`. */
export type PointScore = (x: Float64Array, out: Float64Array) => void;

/** Exact score given as a pointwise function (see `analyticScore`). */
export class AnalyticScore implements ScoreModel {
  readonly dim: number;
  /** Always 0: an analytic score is the score of p itself, not of a smoothed density. */
  readonly sigma = 0;
  private readonly fn: PointScore;
  private readonly xBuf: Float64Array;
  private readonly sBuf: Float64Array;

  constructor(dim: number, fn: PointScore) {
    checkInteger('dim', dim, 1);
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError(
        'fn',
        'must be a function (x, out) => void',
        'pass a pointwise score function',
      );
    }
    this.dim = dim;
    this.fn = fn;
    this.xBuf = new Float64Array(dim);
    this.sBuf = new Float64Array(dim);
  }

  score(points: Float64Array): Float64Array {
    const d = this.dim;
    const n = checkBatch('points', points, d);
    const out = new Float64Array(n * d);
    const x = this.xBuf;
    const s = this.sBuf;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) x[j] = points[i * d + j];
      s.fill(0);
      this.fn(x, s);
      for (let j = 0; j < d; j++) out[i * d + j] = s[j];
    }
    return out;
  }
}

/**
 * Wraps an exact score s(x) = grad log p(x) given pointwise, for tests and for users who know their
 * density. `fn` receives a reused buffer holding one point and writes the score into `out`.
 *
 * @example
 * // standard normal in 2-D: s(x) = -x
 * const s = analyticScore(2, (x, out) => { out[0] = -x[0]; out[1] = -x[1]; });
 * s.score(Float64Array.of(1, 2, 3, 4)); // [-1, -2, -3, -4]
 */
export function analyticScore(dim: number, fn: PointScore): AnalyticScore {
  return new AnalyticScore(dim, fn);
}

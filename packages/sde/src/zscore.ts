/**
 * Per-coordinate z-scoring with the maps of docs/methods.md section 1: a model learned in z-scored
 * coordinates maps back to the original ones (scores by S^{-1}, mobility matrices by S Phi S).
 */

import { DimensionError, FormatError, InvalidArgumentError } from './errors.js';
import { Matrix } from './linalg.js';
import { mean, variance } from './summary.js';
import { checkFinite } from './validate.js';

/** Serialised ZScore. */
export interface ZScoreJSON {
  format: 'sdekit.zscore';
  version: 1;
  mean: number[];
  std: number[];
}

/**
 * Per-coordinate z-scoring y = S^{-1} (x - m), S = diag(std), with the maps of docs/methods.md section 1:
 * scores transform as s_x = S^{-1} s_y and mobility matrices as Phi_x = S Phi_y S.
 *
 * @example
 * const z = ZScore.fit(series.data, 2);
 * const y = z.apply(series.data);              // mean 0, std 1 per coordinate
 * const phiX = z.phiToOriginal(phiY);          // S Phi_y S
 * const sX = z.scoreToOriginal(sY);            // S^{-1} s_y
 */
export class ZScore {
  readonly dim: number;
  readonly mean: Float64Array;
  readonly std: Float64Array;

  constructor(mean: Float64Array, std: Float64Array) {
    if (mean.length !== std.length || mean.length === 0) {
      throw new DimensionError(
        'std',
        `length ${std.length} != mean length ${mean.length}`,
        'pass one mean and one std per coordinate',
      );
    }
    checkFinite('mean', mean);
    for (let j = 0; j < std.length; j++) {
      if (!(std[j] > 0) || !Number.isFinite(std[j])) {
        throw new InvalidArgumentError(
          `std[${j}]`,
          `must be finite and > 0, got ${std[j]} (a constant coordinate)`,
          'drop constant coordinates before z-scoring',
        );
      }
    }
    this.dim = mean.length;
    this.mean = Float64Array.from(mean);
    this.std = Float64Array.from(std);
  }

  /** Fits mean and unbiased std per coordinate. Throws on constant coordinates. */
  static fit(data: Float64Array, dim: number): ZScore {
    const m = mean(data, dim);
    const v = variance(data, dim);
    return new ZScore(m, v.map(Math.sqrt));
  }

  private check(name: string, data: Float64Array): number {
    if (!(data instanceof Float64Array) || data.length % this.dim !== 0) {
      throw new DimensionError(
        name,
        `must be a Float64Array with a multiple of dim = ${this.dim} values`,
        'pass a row-major batch of the fitted dimension',
      );
    }
    return data.length / this.dim;
  }

  /** y = (x - m) / s, a new array. */
  apply(data: Float64Array): Float64Array {
    const n = this.check('data', data);
    const d = this.dim;
    const out = new Float64Array(data.length);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) out[i * d + j] = (data[i * d + j] - this.mean[j]) / this.std[j];
    return out;
  }

  /** x = m + s y, a new array. */
  invert(data: Float64Array): Float64Array {
    const n = this.check('data', data);
    const d = this.dim;
    const out = new Float64Array(data.length);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) out[i * d + j] = this.mean[j] + this.std[j] * data[i * d + j];
    return out;
  }

  /** Scores from z-scored to original units: s_x = S^{-1} s_y (batch). */
  scoreToOriginal(scores: Float64Array): Float64Array {
    const n = this.check('scores', scores);
    const d = this.dim;
    const out = new Float64Array(scores.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = scores[i * d + j] / this.std[j];
    return out;
  }

  /** Scores from original to z-scored units: s_y = S s_x (batch). */
  scoreToStandard(scores: Float64Array): Float64Array {
    const n = this.check('scores', scores);
    const d = this.dim;
    const out = new Float64Array(scores.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = scores[i * d + j] * this.std[j];
    return out;
  }

  /** Mobility matrix from z-scored to original units: Phi_x = S Phi_y S. */
  phiToOriginal(phi: Matrix): Matrix {
    return this.scaleMatrix(phi, 1);
  }

  /** Mobility matrix from original to z-scored units: Phi_y = S^{-1} Phi_x S^{-1}. */
  phiToStandard(phi: Matrix): Matrix {
    return this.scaleMatrix(phi, -1);
  }

  private scaleMatrix(phi: Matrix, power: 1 | -1): Matrix {
    const d = this.dim;
    if (phi.rows !== d || phi.cols !== d) {
      throw new DimensionError(
        'phi',
        `is ${phi.rows} x ${phi.cols}, expected ${d} x ${d}`,
        'pass a dim x dim matrix',
      );
    }
    const out = new Matrix(d, d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const s = this.std[i] * this.std[j];
        out.data[i * d + j] = power === 1 ? phi.data[i * d + j] * s : phi.data[i * d + j] / s;
      }
    }
    return out;
  }

  toJSON(): ZScoreJSON {
    return { format: 'sdekit.zscore', version: 1, mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  static fromJSON(json: unknown): ZScore {
    const j = json as Partial<ZScoreJSON> | null;
    if (j?.format !== 'sdekit.zscore')
      throw new FormatError('ZScore', `format is ${String(j?.format)}, expected sdekit.zscore`);
    if (j.version !== 1)
      throw new FormatError('ZScore', `version ${String(j.version)} is not supported (expected 1)`);
    if (!Array.isArray(j.mean) || !Array.isArray(j.std))
      throw new FormatError('ZScore', 'mean and std must be arrays');
    return new ZScore(Float64Array.from(j.mean), Float64Array.from(j.std));
  }
}

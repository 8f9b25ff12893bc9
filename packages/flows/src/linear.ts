/**
 * Fixed (parameter-free) volume-preserving linear transforms: coordinate permutations and a random
 * orthogonal mixing. Both are v = u M with |det M| = 1, so log|det| = 0, and the inverse is
 * u = v M^T. A permutation is applied as a column gather, O(dim) per row, with the gradient of a
 * permutation (the gather by the inverse permutation) registered as a custom gradient, because the
 * built-in gather gradient needs UnsortedSegmentSum, which the wasm backend lacks. The orthogonal
 * mixing is a product with a dense dim x dim matrix through the custom-gradient matMul of
 * @sdekit/nn (O(dim^2) per row: meant for moderate dims).
 *
 * Interleaved between couplings they make every coordinate transformed and conditioned on every
 * other one (Dinh et al. 2017 alternate masks; Kingma & Dhariwal 2018, Glow, use 1x1 mixing).
 */

import { matMul } from '@sdekit/nn';
import { checkInteger, DimensionError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { Transform, TransformJSON, TransformResult } from './transform.js';

/** Column gather x[:, index] whose gradient is the gather of dy by the inverse index. */
function permuteColumns(x: tf.Tensor2D, index: tf.Tensor1D, inverseIndex: tf.Tensor1D): tf.Tensor2D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a] = args as [tf.Tensor2D];
    return {
      value: tf.gather(a, index, 1),
      gradFunc: (dy: tf.Tensor) => [tf.gather(dy as tf.Tensor2D, inverseIndex, 1)],
    };
  })(x) as tf.Tensor2D;
}

function checkWidth(x: tf.Tensor2D, dim: number): void {
  if (x.rank !== 2 || x.shape[1] !== dim) {
    throw new DimensionError(
      'x',
      `shape [${x.shape}] does not match dim ${dim}`,
      `pass a [batch, ${dim}] tensor`,
    );
  }
}

/**
 * Fixed permutation of coordinates: v_j = u_{perm[j]}. `Permutation.reverse(dim)` reverses the
 * order (the alternating masks of RealNVP); `Permutation.random(dim, seed)` draws a fixed random one.
 *
 * @example
 * const p = Permutation.reverse(3);
 * p.forward(tf.tensor2d([[1, 2, 3]])).y; // [[3, 2, 1]]
 */
export class Permutation implements Transform {
  readonly dim: number;
  readonly contextDim = 0;
  readonly variables: readonly tf.Variable[] = [];
  readonly paramShapes: readonly number[][] = [];
  readonly numParams = 0;
  readonly permutation: Int32Array;
  private readonly index: tf.Tensor1D;
  private readonly inverseIndex: tf.Tensor1D;

  constructor(permutation: ArrayLike<number>) {
    const dim = permutation.length;
    checkInteger('permutation.length', dim, 1);
    const seen = new Uint8Array(dim);
    for (let j = 0; j < dim; j++) {
      const p = permutation[j];
      if (!Number.isInteger(p) || p < 0 || p >= dim || seen[p]) {
        throw new InvalidArgumentError(
          'permutation',
          `is not a permutation of 0..${dim - 1}`,
          'pass each index exactly once',
        );
      }
      seen[p] = 1;
    }
    this.dim = dim;
    this.permutation = Int32Array.from(permutation);
    const inv = new Int32Array(dim);
    for (let j = 0; j < dim; j++) inv[this.permutation[j]] = j;
    this.index = tf.keep(tf.tensor1d(this.permutation, 'int32'));
    this.inverseIndex = tf.keep(tf.tensor1d(inv, 'int32'));
  }

  forward(u: tf.Tensor2D): TransformResult {
    checkWidth(u, this.dim);
    return { y: permuteColumns(u, this.index, this.inverseIndex), logDet: null };
  }

  inverse(v: tf.Tensor2D): TransformResult {
    checkWidth(v, this.dim);
    return { y: permuteColumns(v, this.inverseIndex, this.index), logDet: null };
  }

  dispose(): void {
    this.index.dispose();
    this.inverseIndex.dispose();
  }

  static reverse(dim: number): Permutation {
    checkInteger('dim', dim, 1);
    return new Permutation(Array.from({ length: dim }, (_, j) => dim - 1 - j));
  }

  static random(dim: number, seed: number | Rng): Permutation {
    checkInteger('dim', dim, 1);
    const rng = typeof seed === 'number' ? Rng.fromSeed(seed) : seed;
    return new Permutation(rng.permutation(new Int32Array(dim)));
  }

  toJSON(): TransformJSON {
    return { type: 'Permutation', dim: this.dim, permutation: Array.from(this.permutation) };
  }
}

/**
 * Fixed random orthogonal mixing v = u Q, Q drawn from the Haar measure on O(dim) (Gram-Schmidt of a
 * Gaussian matrix with sign correction, Mezzadri 2007), in float64. log|det| = 0.
 *
 * @example
 * const q = OrthogonalMixing.random(4, 11);
 * const { y } = q.forward(tf.randomNormal([5, 4]));
 */
export class OrthogonalMixing implements Transform {
  readonly dim: number;
  readonly contextDim = 0;
  readonly variables: readonly tf.Variable[] = [];
  readonly paramShapes: readonly number[][] = [];
  readonly numParams = 0;
  /** Q (row-major dim x dim, float64) with v = u Q. */
  readonly matrix: Float64Array;
  private readonly q: tf.Tensor2D;
  private readonly qT: tf.Tensor2D;

  constructor(dim: number, matrix: ArrayLike<number>) {
    checkInteger('dim', dim, 1);
    if (matrix.length !== dim * dim) {
      throw new DimensionError(
        'matrix',
        `length ${matrix.length} != dim^2 = ${dim * dim}`,
        'pass a row-major orthogonal matrix',
      );
    }
    const m = Float64Array.from(matrix);
    // check orthogonality: |Q Q^T - I| entrywise
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) {
        let s = 0;
        for (let l = 0; l < dim; l++) s += m[i * dim + l] * m[j * dim + l];
        if (Math.abs(s - (i === j ? 1 : 0)) > 1e-6) {
          throw new InvalidArgumentError(
            'matrix',
            `is not orthogonal ((Q Q^T)[${i}][${j}] = ${s})`,
            'pass an orthogonal matrix, e.g. from OrthogonalMixing.random',
          );
        }
      }
    this.dim = dim;
    this.matrix = m;
    const t = new Float32Array(dim * dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) t[j * dim + i] = m[i * dim + j];
    this.q = tf.keep(tf.tensor2d(Float32Array.from(m), [dim, dim]));
    this.qT = tf.keep(tf.tensor2d(t, [dim, dim]));
  }

  forward(u: tf.Tensor2D): TransformResult {
    checkWidth(u, this.dim);
    return { y: matMul(u, this.q), logDet: null };
  }

  inverse(v: tf.Tensor2D): TransformResult {
    checkWidth(v, this.dim);
    return { y: matMul(v, this.qT), logDet: null };
  }

  dispose(): void {
    this.q.dispose();
    this.qT.dispose();
  }

  static random(dim: number, seed: number | Rng): OrthogonalMixing {
    checkInteger('dim', dim, 1);
    const rng = typeof seed === 'number' ? Rng.fromSeed(seed) : seed;
    const q = new Float64Array(dim * dim);
    rng.fillNormal(q);
    // modified Gram-Schmidt on the rows; the sign convention of the implicit R diagonal (positive)
    // makes the distribution Haar (Mezzadri 2007)
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let l = 0; l < dim; l++) dot += q[i * dim + l] * q[j * dim + l];
        for (let l = 0; l < dim; l++) q[i * dim + l] -= dot * q[j * dim + l];
      }
      let norm = 0;
      for (let l = 0; l < dim; l++) norm += q[i * dim + l] ** 2;
      norm = Math.sqrt(norm);
      for (let l = 0; l < dim; l++) q[i * dim + l] /= norm;
    }
    return new OrthogonalMixing(dim, q);
  }

  toJSON(): TransformJSON {
    return { type: 'OrthogonalMixing', dim: this.dim, matrix: Array.from(this.matrix) };
  }
}

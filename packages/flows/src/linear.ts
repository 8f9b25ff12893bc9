/**
 * Fixed (parameter-free) volume-preserving linear transforms: coordinate permutations and a random
 * orthogonal mixing. Both are v = u M with |det M| = 1, so log|det| = 0, and the inverse is
 * u = v M^T. They are applied as a product with a small dim x dim matrix through the custom-gradient
 * matMul of @sdekit/nn (a gather's gradient has no kernel on the wasm backend).
 *
 * Interleaved between couplings they make every coordinate transformed and conditioned on every
 * other one (Dinh et al. 2017 alternate masks; Kingma & Dhariwal 2018, Glow, use 1x1 mixing).
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '@sdekit/nn';
import { DimensionError, InvalidArgumentError, Rng, checkInteger } from '@sdekit/sde';
import type { Transform, TransformJSON, TransformResult } from './transform.js';

abstract class FixedLinear implements Transform {
  readonly dim: number;
  readonly contextDim = 0;
  readonly variables: readonly tf.Variable[] = [];
  readonly paramShapes: readonly number[][] = [];
  readonly numParams = 0;
  /** M (row-major dim x dim, float64) with v = u M. */
  protected readonly matrix: Float64Array;
  private readonly m: tf.Tensor2D;
  private readonly mT: tf.Tensor2D;

  protected constructor(dim: number, matrix: Float64Array) {
    this.dim = dim;
    this.matrix = matrix;
    const t = new Float32Array(dim * dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) t[j * dim + i] = matrix[i * dim + j];
    this.m = tf.keep(tf.tensor2d(Float32Array.from(matrix), [dim, dim]));
    this.mT = tf.keep(tf.tensor2d(t, [dim, dim]));
  }

  private check(x: tf.Tensor2D): void {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new DimensionError('x', `shape [${x.shape}] does not match dim ${this.dim}`, `pass a [batch, ${this.dim}] tensor`);
    }
  }

  forward(u: tf.Tensor2D): TransformResult {
    this.check(u);
    return { y: matMul(u, this.m), logDet: null };
  }

  inverse(v: tf.Tensor2D): TransformResult {
    this.check(v);
    return { y: matMul(v, this.mT), logDet: null };
  }

  abstract toJSON(): TransformJSON;

  dispose(): void {
    this.m.dispose();
    this.mT.dispose();
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
export class Permutation extends FixedLinear {
  readonly permutation: Int32Array;

  constructor(permutation: ArrayLike<number>) {
    const dim = permutation.length;
    checkInteger('permutation.length', dim, 1);
    const seen = new Uint8Array(dim);
    for (let j = 0; j < dim; j++) {
      const p = permutation[j];
      if (!Number.isInteger(p) || p < 0 || p >= dim || seen[p]) {
        throw new InvalidArgumentError('permutation', `is not a permutation of 0..${dim - 1}`, 'pass each index exactly once');
      }
      seen[p] = 1;
    }
    const m = new Float64Array(dim * dim);
    for (let j = 0; j < dim; j++) m[permutation[j] * dim + j] = 1;
    super(dim, m);
    this.permutation = Int32Array.from(permutation);
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
export class OrthogonalMixing extends FixedLinear {
  constructor(dim: number, matrix: ArrayLike<number>) {
    checkInteger('dim', dim, 1);
    if (matrix.length !== dim * dim) {
      throw new DimensionError('matrix', `length ${matrix.length} != dim^2 = ${dim * dim}`, 'pass a row-major orthogonal matrix');
    }
    const m = Float64Array.from(matrix);
    // check orthogonality: |Q Q^T - I| entrywise
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) {
        let s = 0;
        for (let l = 0; l < dim; l++) s += m[i * dim + l] * m[j * dim + l];
        if (Math.abs(s - (i === j ? 1 : 0)) > 1e-6) {
          throw new InvalidArgumentError('matrix', `is not orthogonal ((Q Q^T)[${i}][${j}] = ${s})`, 'pass an orthogonal matrix, e.g. from OrthogonalMixing.random');
        }
      }
    super(dim, m);
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

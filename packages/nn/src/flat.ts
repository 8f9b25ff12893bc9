/**
 * Flat parameter vectors: a list of tensors laid out one after another, each in row-major order.
 * The variational posterior (docs/methods.md §5) and other functional code treat a model's parameters as
 * one vector theta; these helpers convert between the two views.
 *
 * @example
 * const shapes = [[3, 2], [2]];
 * const theta = tf.tensor1d(new Float32Array(numElements(shapes)));
 * const [w, b] = unflatten(theta, shapes); // differentiable slices of theta
 */

import { checkFinite, DimensionError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Total number of elements in a list of shapes. */
export function numElements(shapes: readonly (readonly number[])[]): number {
  let n = 0;
  for (const s of shapes) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Reads the tensors' values into one Float32Array (synchronous download). */
export function flatten(tensors: readonly tf.Tensor[]): Float32Array {
  let n = 0;
  for (const t of tensors) n += t.size;
  const out = new Float32Array(n);
  let offset = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, offset);
    offset += t.size;
  }
  return out;
}

/**
 * Differentiable views of theta[offset ...] reshaped to `shapes` (one slice + reshape per shape).
 * Throws DimensionError when theta is too short.
 */
export function unflatten(
  theta: tf.Tensor1D,
  shapes: readonly (readonly number[])[],
  offset = 0,
): tf.Tensor[] {
  if (theta.rank !== 1) {
    throw new DimensionError(
      'theta',
      `must be rank 1, got shape [${theta.shape}]`,
      'pass a flat tf.Tensor1D',
    );
  }
  const need = numElements(shapes);
  if (offset + need > theta.shape[0]) {
    throw new DimensionError(
      'theta',
      `length ${theta.shape[0]} < offset ${offset} + ${need} parameters`,
      'pass a parameter vector laid out as getFlat()/getParams()',
    );
  }
  const out: tf.Tensor[] = [];
  let o = offset;
  for (const s of shapes) {
    const size = s.reduce((a, b) => a * b, 1);
    out.push(tf.reshape(tf.slice(theta, [o], [size]), s as number[]));
    o += size;
  }
  return out;
}

/**
 * Writes `flat` (laid out as `flatten(variables)`) into the variables. Checks length and finiteness.
 */
export function assignFlat(variables: readonly tf.Variable[], flat: ArrayLike<number>, name = 'flat'): void {
  let n = 0;
  for (const v of variables) n += v.size;
  if (flat.length !== n) {
    throw new DimensionError(
      name,
      `length ${flat.length} != number of parameters ${n}`,
      'pass a vector laid out as the matching getter returns',
    );
  }
  checkFinite(name, flat);
  let offset = 0;
  for (const v of variables) {
    const part = new Float32Array(v.size);
    for (let i = 0; i < v.size; i++) part[i] = flat[offset + i];
    tf.tidy(() => v.assign(tf.tensor(part, v.shape)));
    offset += v.size;
  }
}

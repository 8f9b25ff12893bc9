/**
 * Matrix product and dense layer with explicit-transpose custom gradients.
 *
 * The reverse-mode rule of C = A B is dA = dC B^T, dB = A^T dC. The built-in gradient of
 * tfjs-core's matMul evaluates it with `transposeA/transposeB` flags, which the wasm backend executes
 * several times slower than a plain product of explicitly transposed operands (bench/dense.bench.ts;
 * numbers in the README and docs/findings.md, nn). These functions register the same rule with
 * `tf.customGrad`, transposing explicitly on wasm (flags elsewhere, see explicitTranspose), and fuse the bias add and its gradient db = sum_rows dC
 * into one tape node for `dense`.
 */

import { DimensionError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether to transpose explicitly: on wasm a transposed copy plus a plain product is several times
 * faster than a product with a transpose flag (docs/findings.md, nn); on the JS cpu backend the copy
 * is the slow part, so the flag is kept there (and on every other backend, whose kernels handle flags
 * natively).
 */
function explicitTranspose(): boolean {
  return tf.getBackend() === 'wasm';
}

/** a b^T */
function productWithTransposedB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return explicitTranspose() ? tf.matMul(a, tf.transpose(b)) : tf.matMul(a, b, false, true);
}

/** a^T b */
function productWithTransposedA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return explicitTranspose() ? tf.matMul(tf.transpose(a), b) : tf.matMul(a, b, true, false);
}

const matMulWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [productWithTransposedB(dy as tf.Tensor2D, sb), productWithTransposedA(sa, dy as tf.Tensor2D)];
    },
  };
});

const denseWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as tf.Tensor2D[];
      return [
        productWithTransposedB(dy as tf.Tensor2D, sw),
        productWithTransposedA(sx, dy as tf.Tensor2D),
        tf.sum(dy, 0),
      ];
    },
  };
});

function checkRank2(name: string, t: tf.Tensor): void {
  if (t.rank !== 2) {
    throw new DimensionError(
      name,
      `must be a rank-2 tensor, got shape [${t.shape.join(', ')}]`,
      'reshape to [rows, cols]',
    );
  }
}

/**
 * C = A B for rank-2 tensors, with the explicit-transpose gradient dA = dC B^T, dB = A^T dC.
 *
 * @example
 * const c = matMul(tf.ones([4, 3]), tf.ones([3, 2])); // [4, 2], every entry 3
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  checkRank2('a', a);
  checkRank2('b', b);
  if (a.shape[1] !== b.shape[0]) {
    throw new DimensionError(
      'b',
      `inner dimensions differ: a is [${a.shape}], b is [${b.shape}]`,
      'pass b with b.shape[0] === a.shape[1]',
    );
  }
  return matMulWithGrad(a, b) as tf.Tensor2D;
}

/**
 * Affine layer y = x W + b (x: [N, in], W: [in, out], b: [out]) as one custom-gradient node:
 * dx = dy W^T, dW = x^T dy, db = sum over rows of dy.
 *
 * @example
 * const y = dense(tf.ones([8, 3]), tf.zeros([3, 5]), tf.ones([5])); // [8, 5] of ones
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  checkRank2('x', x);
  checkRank2('w', w);
  if (x.shape[1] !== w.shape[0]) {
    throw new DimensionError(
      'w',
      `shape [${w.shape}] does not match x [${x.shape}]`,
      'pass w with w.shape[0] === x.shape[1]',
    );
  }
  if (b.rank !== 1 || b.shape[0] !== w.shape[1]) {
    throw new DimensionError(
      'b',
      `shape [${b.shape}] does not match w [${w.shape}]`,
      'pass a bias of length w.shape[1]',
    );
  }
  return denseWithGrad(x, w, b) as tf.Tensor2D;
}

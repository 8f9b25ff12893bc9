/**
 * One-dimensional convolution with circular (periodic) padding and explicit gradients.
 *
 * Used by the periodic 1-D U-Net of @sdekit/score (docs/methods.md section 2: "all convolutions use
 * circular padding"; strided down-sampling is a k = 2, s = 2 convolution). The wasm backend of
 * TensorFlow.js has no Conv2DBackpropFilter kernel and a slow Conv2DBackpropInput, so the gradients
 * are written here: for stride 1 both are forward convolutions (the adjoint of a circular correlation
 * is a circular correlation with the flipped, channel-transposed filter; the filter gradient is a
 * 'valid' correlation of the padded input with dy); for non-overlapping windows (k = stride) the
 * convolution is a reshape and a matrix product. Both are checked against central finite differences.
 *
 * Shapes (channels last): x [B, W, Cin], filter [k, Cin, Cout], output [B, ceil(W / stride), Cout].
 * Output position o sees the input positions o * stride - padLeft + t (t = 0..k-1) taken modulo W,
 * with padLeft = floor(P / 2) and P = (Wout - 1) * stride + k - W the total padding, so for odd k and
 * stride 1 the kernel is centred ("same" convolution on a ring).
 */

import { InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { matMul } from './dense.js';

type ValidConv = (x: tf.Tensor3D, filter: tf.Tensor3D) => tf.Tensor3D;

const validConvByStride = new Map<number, ValidConv>();

/**
 * 'valid' 1-D convolution with a custom gradient (forward: the backend's conv1d kernel;
 * d/dx: transposed convolution; d/dfilter: im2col^T dy, one matMul).
 */
function validConv(stride: number): ValidConv {
  const cached = validConvByStride.get(stride);
  if (cached) return cached;
  const fn = tf.customGrad(((x: tf.Tensor, filter: tf.Tensor, save: tf.GradSaveFunc) => {
    const x3 = x as tf.Tensor3D;
    const f3 = filter as tf.Tensor3D;
    save([x3, f3]);
    const value = tf.conv1d(x3, f3, stride, 'valid');
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, fs] = saved as [tf.Tensor3D, tf.Tensor3D];
        const [b, w, cin] = xs.shape;
        const [k, , cout] = fs.shape;
        const wout = dy.shape[1] as number;
        const dy3 = dy as tf.Tensor3D;
        // dL/dx: the adjoint of the strided correlation.
        const dx = tf.reshape(
          tf.conv2dTranspose(
            tf.reshape(dy3, [b, 1, wout, cout]) as tf.Tensor4D,
            tf.reshape(fs, [1, k, cin, cout]) as tf.Tensor4D,
            [b, 1, w, cin],
            [1, stride],
            'valid',
          ),
          [b, w, cin],
        );
        // dL/dfilter[t, ci, co] = sum_{b, o} x[b, o * stride + t, ci] dy[b, o, co]:
        // im2col columns ordered (t, ci) so that the product reshapes to [k, Cin, Cout].
        const taps: tf.Tensor3D[] = [];
        const span = stride * (wout - 1) + 1;
        for (let t = 0; t < k; t++) {
          taps.push(
            stride === 1
              ? (tf.slice(xs, [0, t, 0], [b, wout, cin]) as tf.Tensor3D)
              : (tf.stridedSlice(xs, [0, t, 0], [b, t + span, cin], [1, stride, 1]) as tf.Tensor3D),
          );
        }
        const cols = tf.reshape(k === 1 ? taps[0] : tf.concat(taps, 2), [b * wout, k * cin]) as tf.Tensor2D;
        // Explicit transpose: wasm runs transposeA products slowly.
        const df = tf.reshape(
          tf.matMul(tf.transpose(cols), tf.reshape(dy3, [b * wout, cout]) as tf.Tensor2D),
          [k, cin, cout],
        );
        return [dx, df];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as ValidConv;
  validConvByStride.set(stride, fn);
  return fn;
}

/**
 * Circularly pads x [B, W, C] along the width: `left` values from the end before, `right` from the
 * start after (each at most W).
 */
export function circularPad1d(x: tf.Tensor3D, left: number, right: number): tf.Tensor3D {
  const [b, w, c] = x.shape;
  if (left > w || right > w || left < 0 || right < 0) {
    throw new InvalidArgumentError(
      'padding',
      `circular padding (${left}, ${right}) exceeds the width ${w}`,
      'use a kernel no wider than the input',
    );
  }
  if (left === 0 && right === 0) return x;
  const parts: tf.Tensor3D[] = [];
  if (left > 0) parts.push(tf.slice(x, [0, w - left, 0], [b, left, c]));
  parts.push(x);
  if (right > 0) parts.push(tf.slice(x, [0, 0, 0], [b, right, c]));
  return tf.concat(parts, 1);
}

/**
 * Stride-1 circular convolution as one custom-gradient node (all three products are forward
 * convolutions, which every backend runs fast):
 *   y  = conv(pad_c(x; l, r), f)
 *   dx = conv(pad_c(dy; r, l), g),  g[t, co, ci] = f[k-1-t, ci, co]  (the adjoint on the ring)
 *   df[t, ci, co] = sum_{b, o} pad_c(x)[b, o + t, ci] dy[b, o, co], computed as a 'valid' convolution
 *   of pad_c(x) read as [ci, position, b] with dy read as a width-Wout filter [o, b, co].
 */
function circularConvStride1(left: number, right: number): ValidConv {
  return tf.customGrad(((x: tf.Tensor, filter: tf.Tensor, save: tf.GradSaveFunc) => {
    const x3 = x as tf.Tensor3D;
    const f3 = filter as tf.Tensor3D;
    const xp = circularPad1d(x3, left, right);
    save([xp, f3]);
    return {
      value: tf.conv1d(xp, f3, 1, 'valid'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xps, fs] = saved as [tf.Tensor3D, tf.Tensor3D];
        const dy3 = dy as tf.Tensor3D;
        const flipped = tf.transpose(tf.reverse(fs, 0), [0, 2, 1]) as tf.Tensor3D;
        const dx = tf.conv1d(circularPad1d(dy3, right, left), flipped, 1, 'valid');
        const xt = tf.transpose(xps, [2, 1, 0]) as tf.Tensor3D;
        const dyt = tf.transpose(dy3, [1, 0, 2]) as tf.Tensor3D;
        const df = tf.transpose(tf.conv1d(xt, dyt, 1, 'valid'), [1, 0, 2]);
        return [dx, df];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as ValidConv;
}

const stride1ByPadding = new Map<string, ValidConv>();

/**
 * Circular 1-D convolution (cross-correlation, as in every deep-learning library): x [B, W, Cin],
 * filter [k, Cin, Cout], integer stride >= 1; returns [B, ceil(W / stride), Cout]. Differentiable in
 * both x and filter on every backend (custom gradients, see the module comment). Three paths:
 * stride 1 (a single custom-gradient node of forward convolutions); k = stride dividing W
 * (non-overlapping windows, e.g. the U-Net's k = 2, s = 2 down-sampling: a reshape and one matrix
 * product, whose gradients are matrix products); otherwise a 'valid' convolution of the padded input
 * with a transposed-convolution input gradient and an im2col filter gradient.
 *
 * @example
 * const x = tf.randomNormal([8, 32, 1]) as tf.Tensor3D;
 * const f = tf.randomNormal([5, 1, 16]) as tf.Tensor3D;
 * const y = conv1dCircular(x, f, 1);        // [8, 32, 16], periodic in the width
 * const down = conv1dCircular(y, tf.randomNormal([2, 16, 16]) as tf.Tensor3D, 2); // [8, 16, 16]
 */
export function conv1dCircular(x: tf.Tensor3D, filter: tf.Tensor3D, stride = 1): tf.Tensor3D {
  if (!Number.isInteger(stride) || stride < 1) {
    throw new InvalidArgumentError(
      'stride',
      `must be an integer >= 1, got ${stride}`,
      'pass a positive integer stride',
    );
  }
  if (x.rank !== 3 || filter.rank !== 3) {
    throw new InvalidArgumentError(
      'x/filter',
      `must be rank 3, got ranks ${x.rank} and ${filter.rank}`,
      'pass x [B, W, Cin] and filter [k, Cin, Cout]',
    );
  }
  const [b, w] = x.shape;
  const [k, cin, cout] = filter.shape;
  if (x.shape[2] !== cin) {
    throw new InvalidArgumentError(
      'filter',
      `has ${cin} input channels, x has ${x.shape[2]}`,
      'match filter.shape[1] to x.shape[2]',
    );
  }
  const wout = Math.ceil(w / stride);
  // Negative when stride > k leaves trailing inputs unused; then no padding is needed.
  const total = Math.max(0, (wout - 1) * stride + k - w);
  const left = Math.floor(total / 2);
  const right = total - left;
  if (left > w || right > w) {
    throw new InvalidArgumentError(
      'filter',
      `kernel width ${k} needs padding (${left}, ${right}) beyond the width ${w}`,
      'use a kernel no wider than the input',
    );
  }
  return tf.tidy(() => {
    if (stride === 1) {
      const key = `${left},${right}`;
      let fn = stride1ByPadding.get(key);
      if (!fn) {
        fn = circularConvStride1(left, right);
        stride1ByPadding.set(key, fn);
      }
      return fn(x, filter);
    }
    if (k === stride && w % stride === 0) {
      const y = matMul(
        tf.reshape(x, [b * wout, k * cin]) as tf.Tensor2D,
        tf.reshape(filter, [k * cin, cout]) as tf.Tensor2D,
      );
      return tf.reshape(y, [b, wout, cout]) as tf.Tensor3D;
    }
    return validConv(stride)(circularPad1d(x, left, right), filter);
  });
}

/**
 * Monotone rational-quadratic splines (Gregory & Delbourgo 1982) as used in neural spline flows
 * (Durkan et al. 2019, §3.1, Appendix A), vectorised over a batch of [N, D] coordinates with
 * per-element knots. Equations below cite that paper.
 *
 * Parameterisation of the unnormalised conditioner output raw [N, D, 3K - 1]:
 *   bin widths  w = 2B (m + (1 - K m) softmax(raw[..., 0:K])),         m = MIN_BIN = 1e-3
 *   bin heights h = 2B (m + (1 - K m) softmax(raw[..., K:2K])),
 *   interior derivatives d_1..d_{K-1} = MIN_DERIV + softplus(raw[..., 2K:] + c0), d_0 = d_K = 1,
 *   with c0 = log(exp(1 - MIN_DERIV) - 1), so raw = 0 gives equal bins and unit slopes: the identity.
 * Outside [-B, B] the map is the identity (linear tails, log-derivative 0).
 *
 * The bin of each element is found by comparing with the left knots and selected with a one-hot
 * mask; masks are constants for reverse mode (withoutGradient), and the tails are blended in with
 * products, so every differentiated operation has a gradient kernel in tfjs.
 */
import * as tf from '@tensorflow/tfjs-core';

const MIN_BIN = 1e-3;
const MIN_DERIV = 1e-3;
const DERIV_SHIFT = Math.log(Math.expm1(1 - MIN_DERIV));

interface Knots {
  /** Left knot x_k of the selected bin, [N, D]. */
  xk: tf.Tensor;
  /** Bin width w_k. */
  wk: tf.Tensor;
  yk: tf.Tensor;
  hk: tf.Tensor;
  /** Derivatives at the left and right knots of the bin. */
  dk: tf.Tensor;
  dk1: tf.Tensor;
}

/** Bin sizes (w or h), [N, D, K], and left knot positions, [N, D, K]. */
function binsOf(raw: tf.Tensor3D, k: number, bound: number): { sizes: tf.Tensor3D; left: tf.Tensor3D } {
  const sizes = tf.mul(2 * bound, tf.add(MIN_BIN, tf.mul(1 - k * MIN_BIN, tf.softmax(raw)))) as tf.Tensor3D;
  // left knots: -B, -B + w_0, ..., exclusive cumulative sum
  const left = tf.sub(tf.cumsum(sizes, 2, true), bound) as tf.Tensor3D;
  return { sizes, left };
}

/**
 * One-hot bin membership [N, D, K] of each element of xc (already clipped to [-B, B]): bin = last k
 * with xc >= left_k. Constant for reverse mode.
 */
function binOneHot(xc: tf.Tensor2D, left: tf.Tensor3D, k: number): tf.Tensor {
  const [n, d] = xc.shape;
  return withoutGradient(
    (a, l) => {
      const ge = tf.cast(tf.greaterEqual(tf.expandDims(a, 2), l), 'float32'); // 1..1 0..0 along bins
      return tf.sub(ge, tf.concat([tf.slice(ge, [0, 0, 1], [n, d, k - 1]), tf.zeros([n, d, 1])], 2));
    },
    xc,
    left,
  );
}

/**
 * f(inputs) treated as a constant by reverse mode (zero gradient): the bin masks are piecewise
 * constant, and comparisons/logical ops have no gradient kernels in tfjs.
 */
function withoutGradient(f: (...inputs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const ts = args.slice(0, inputs.length) as tf.Tensor[];
    const shapes = ts.map((t) => t.shape);
    return { value: f(...ts), gradFunc: () => shapes.map((s) => tf.zeros(s)) };
  })(...inputs);
}

/** 1 where |x| <= B (spline interval), 0 in the identity tails; constant for reverse mode. */
function insideMask(x: tf.Tensor2D, bound: number): tf.Tensor {
  return withoutGradient((a) => tf.cast(tf.lessEqual(tf.abs(a), bound), 'float32'), x);
}

/** m * a + (1 - m) * b for a 0/1 mask m (a and b finite). */
function blend(m: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(b, tf.mul(m, tf.sub(a, b)));
}

function knots(xc: tf.Tensor2D, raw: tf.Tensor3D, k: number, bound: number, searchOnY: boolean): Knots {
  const [n, d] = xc.shape;
  const w = binsOf(tf.slice(raw, [0, 0, 0], [n, d, k]) as tf.Tensor3D, k, bound);
  const h = binsOf(tf.slice(raw, [0, 0, k], [n, d, k]) as tf.Tensor3D, k, bound);
  const inner = tf.add(
    MIN_DERIV,
    tf.softplus(tf.add(tf.slice(raw, [0, 0, 2 * k], [n, d, k - 1]), DERIV_SHIFT)),
  );
  const ones = tf.ones([n, d, 1]);
  const dLeft = tf.concat([ones, inner], 2) as tf.Tensor3D; // d_0 .. d_{K-1}
  const dRight = tf.concat([inner, ones], 2) as tf.Tensor3D; // d_1 .. d_K
  const onehot = binOneHot(xc, searchOnY ? h.left : w.left, k);
  // select all six per-bin quantities with one product and one sum: [6, N, D, K] -> [6, N, D]
  // (stacked on the leading axis so that unstacking takes contiguous blocks)
  const table = tf.stack([w.left, w.sizes, h.left, h.sizes, dLeft, dRight], 0);
  const picked = tf.unstack(tf.sum(tf.mul(onehot, table), 3), 0);
  return { xk: picked[0], wk: picked[1], yk: picked[2], hk: picked[3], dk: picked[4], dk1: picked[5] };
}

/** log of dy/dx at relative position xi in the bin (Durkan et al. 2019, eq. 5). */
function logDerivative(xi: tf.Tensor, s: tf.Tensor, kn: Knots): tf.Tensor {
  const xi1 = tf.sub(1, xi);
  const xx = tf.mul(xi, xi1);
  const den = tf.add(s, tf.mul(tf.sub(tf.add(kn.dk1, kn.dk), tf.mul(2, s)), xx));
  const num = tf.mul(
    tf.square(s),
    tf.add(tf.add(tf.mul(kn.dk1, tf.square(xi)), tf.mul(tf.mul(2, s), xx)), tf.mul(kn.dk, tf.square(xi1))),
  );
  return tf.sub(tf.log(num), tf.mul(2, tf.log(den)));
}

/**
 * Spline forward y = g(x) elementwise, with log g'(x) per element ([N, D] each).
 */
export function rqsForward(
  x: tf.Tensor2D,
  raw: tf.Tensor3D,
  k: number,
  bound: number,
): { y: tf.Tensor2D; logDet: tf.Tensor2D } {
  const inside = insideMask(x, bound);
  const xc = tf.clipByValue(x, -bound, bound) as tf.Tensor2D;
  const kn = knots(xc, raw, k, bound, false);
  const xi = tf.div(tf.sub(xc, kn.xk), kn.wk);
  const s = tf.div(kn.hk, kn.wk);
  const xx = tf.mul(xi, tf.sub(1, xi));
  // eq. 4: y = y_k + h_k [s xi^2 + d_k xi (1 - xi)] / [s + (d_{k+1} + d_k - 2 s) xi (1 - xi)]
  const num = tf.mul(kn.hk, tf.add(tf.mul(s, tf.square(xi)), tf.mul(kn.dk, xx)));
  const den = tf.add(s, tf.mul(tf.sub(tf.add(kn.dk1, kn.dk), tf.mul(2, s)), xx));
  const yIn = tf.add(kn.yk, tf.div(num, den));
  const y = blend(inside, yIn, x) as tf.Tensor2D;
  const logDet = tf.mul(inside, logDerivative(xi, s, kn)) as tf.Tensor2D;
  return { y, logDet };
}

/**
 * Spline inverse x = g^{-1}(y) elementwise (root of the quadratic, Durkan et al. 2019, eq. 6-8),
 * with log (g^{-1})'(y) = -log g'(x) per element.
 */
export function rqsInverse(
  y: tf.Tensor2D,
  raw: tf.Tensor3D,
  k: number,
  bound: number,
): { y: tf.Tensor2D; logDet: tf.Tensor2D } {
  const inside = insideMask(y, bound);
  const yc = tf.clipByValue(y, -bound, bound) as tf.Tensor2D;
  const kn = knots(yc, raw, k, bound, true);
  const s = tf.div(kn.hk, kn.wk);
  const dy = tf.sub(yc, kn.yk);
  const sum = tf.sub(tf.add(kn.dk1, kn.dk), tf.mul(2, s));
  const a = tf.add(tf.mul(kn.hk, tf.sub(s, kn.dk)), tf.mul(dy, sum));
  const b = tf.sub(tf.mul(kn.hk, kn.dk), tf.mul(dy, sum));
  const c = tf.mul(tf.neg(s), dy);
  // b^2 - 4ac >= 0 for a monotone spline; relu only removes float32 round-off below 0
  const disc = tf.relu(tf.sub(tf.square(b), tf.mul(4, tf.mul(a, c))));
  const xi = tf.div(tf.mul(2, c), tf.sub(tf.neg(b), tf.sqrt(disc)));
  const xIn = tf.add(tf.mul(xi, kn.wk), kn.xk);
  const x = blend(inside, xIn, y) as tf.Tensor2D;
  const logDet = tf.mul(inside, tf.neg(logDerivative(xi, s, kn))) as tf.Tensor2D;
  return { y: x, logDet };
}

import { DimensionError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { activation, dense, matMul } from '../src/index.js';

/** Uniform(-1, 1) float32 values from a seeded stream. */
function randArray(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * rng.uniform() - 1;
  return out;
}

/**
 * Central finite differences of a float32 loss, accumulated in float64. With step h = 1e-2 and a
 * loss of magnitude <= 10 computed in float32 (relative rounding 6e-8, so absolute error <= 1e-6 per
 * evaluation), the rounding part of the error is <= 1e-6 / h = 1e-4, and the truncation part
 * h^2 / 6 * |f'''| <= 2e-5 for the smooth losses below: tolerance 2e-3 leaves a 10x margin.
 */
function numericalGrad(loss: (v: Float32Array) => number, at: Float32Array, h = 1e-2): Float64Array {
  const g = new Float64Array(at.length);
  for (let i = 0; i < at.length; i++) {
    const p = at.slice();
    const m = at.slice();
    p[i] += h;
    m[i] -= h;
    // the perturbation actually applied after float32 rounding
    const step = p[i] - m[i];
    g[i] = (loss(p) - loss(m)) / step;
  }
  return g;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol * (1 + Math.abs(expected[i])));
}

describe('matMul', () => {
  const rng = Rng.fromSeed(1);
  const [n, k, m] = [5, 4, 3];
  const a = randArray(n * k, rng);
  const b = randArray(k * m, rng);
  const r = randArray(n * m, rng); // loss weights: L = sum(R .* (A B))

  it('matches the float64 product and the analytic gradient dL/dA = R B^T, dL/dB = A^T R', () => {
    const loss = (ta: tf.Tensor, tb: tf.Tensor) =>
      tf.sum(tf.mul(tf.tensor2d(r, [n, m]), matMul(ta as tf.Tensor2D, tb as tf.Tensor2D)));
    const [ga, gb] = tf.grads(loss)([tf.tensor2d(a, [n, k]), tf.tensor2d(b, [k, m])]);
    const c = tf.tidy(() => matMul(tf.tensor2d(a, [n, k]), tf.tensor2d(b, [k, m])).dataSync());
    const cRef = new Float64Array(n * m);
    const gaRef = new Float64Array(n * k);
    const gbRef = new Float64Array(k * m);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++)
        for (let l = 0; l < k; l++) {
          cRef[i * m + j] += a[i * k + l] * b[l * m + j];
          gaRef[i * k + l] += r[i * m + j] * b[l * m + j];
          gbRef[l * m + j] += a[i * k + l] * r[i * m + j];
        }
    // float32 sums of k <= 5 products of magnitude <= 1: error <= 5 * 6e-8
    expectClose(c, cRef, 1e-5);
    expectClose(ga.dataSync(), gaRef, 1e-5);
    expectClose(gb.dataSync(), gbRef, 1e-5);
    tf.dispose([ga, gb]);
  });

  it('gradient agrees with central finite differences', () => {
    const lossA = (v: Float32Array) =>
      tf.tidy(
        () =>
          tf
            .sum(tf.mul(tf.tensor2d(r, [n, m]), matMul(tf.tensor2d(v, [n, k]), tf.tensor2d(b, [k, m]))))
            .dataSync()[0],
      );
    const ga = tf.tidy(() =>
      tf
        .grad((ta: tf.Tensor) =>
          tf.sum(tf.mul(tf.tensor2d(r, [n, m]), matMul(ta as tf.Tensor2D, tf.tensor2d(b, [k, m])))),
        )(tf.tensor2d(a, [n, k]))
        .dataSync(),
    );
    expectClose(ga, numericalGrad(lossA, a), 2e-3);
  });

  it('rejects mismatched shapes with DimensionError', () => {
    expect(() => matMul(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(
      DimensionError,
    );
  });
});

describe('dense', () => {
  const rng = Rng.fromSeed(2);
  const [n, k, m] = [6, 3, 4];
  const x = randArray(n * k, rng);
  const w = randArray(k * m, rng);
  const b = randArray(m, rng);
  const r = randArray(n * m, rng);
  // L = sum(R .* tanh(x W + b)): smooth, |L| <= 24
  const lossOf = (tx: tf.Tensor, tw: tf.Tensor, tb: tf.Tensor) =>
    tf.sum(
      tf.mul(tf.tensor2d(r, [n, m]), tf.tanh(dense(tx as tf.Tensor2D, tw as tf.Tensor2D, tb as tf.Tensor1D))),
    );

  it('gradients in x, W and b agree with central finite differences', () => {
    const grads = tf.tidy(() =>
      tf
        .grads(lossOf)([tf.tensor2d(x, [n, k]), tf.tensor2d(w, [k, m]), tf.tensor1d(b)])
        .map((g) => g.dataSync()),
    );
    const evalAt = (vx: Float32Array, vw: Float32Array, vb: Float32Array) =>
      tf.tidy(() => lossOf(tf.tensor2d(vx, [n, k]), tf.tensor2d(vw, [k, m]), tf.tensor1d(vb)).dataSync()[0]);
    expectClose(
      grads[0],
      numericalGrad((v) => evalAt(v, w, b), x),
      2e-3,
    );
    expectClose(
      grads[1],
      numericalGrad((v) => evalAt(x, v, b), w),
      2e-3,
    );
    expectClose(
      grads[2],
      numericalGrad((v) => evalAt(x, w, v), b),
      2e-3,
    );
  });

  it.each([
    [1, 1, 1],
    [9, 2, 17],
    [3, 33, 5],
  ])(
    'gradients in x, W and b agree with central finite differences at [%i, %i] x [., %i]',
    (rows, inner, cols) => {
      const g = Rng.fromSeed(rows * 1000 + inner * 10 + cols);
      const [vx, vw, vb, vr] = [rows * inner, inner * cols, cols, rows * cols].map((len) =>
        randArray(len, g),
      );
      const at = (tx: tf.Tensor, tw: tf.Tensor, tb: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.tensor2d(vr, [rows, cols]),
            tf.tanh(dense(tx as tf.Tensor2D, tw as tf.Tensor2D, tb as tf.Tensor1D)),
          ),
        );
      const grads = tf.tidy(() =>
        tf
          .grads(at)([tf.tensor2d(vx, [rows, inner]), tf.tensor2d(vw, [inner, cols]), tf.tensor1d(vb)])
          .map((t) => t.dataSync()),
      );
      const evalAt = (ax: Float32Array, aw: Float32Array, ab: Float32Array) =>
        tf.tidy(
          () =>
            at(tf.tensor2d(ax, [rows, inner]), tf.tensor2d(aw, [inner, cols]), tf.tensor1d(ab)).dataSync()[0],
        );
      expectClose(
        grads[0],
        numericalGrad((v) => evalAt(v, vw, vb), vx),
        2e-3,
      );
      expectClose(
        grads[1],
        numericalGrad((v) => evalAt(vx, v, vb), vw),
        2e-3,
      );
      expectClose(
        grads[2],
        numericalGrad((v) => evalAt(vx, vw, v), vb),
        2e-3,
      );
    },
  );

  it('equals x W + b computed in float64', () => {
    const y = tf.tidy(() => dense(tf.tensor2d(x, [n, k]), tf.tensor2d(w, [k, m]), tf.tensor1d(b)).dataSync());
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let s = b[j];
        for (let l = 0; l < k; l++) s += x[i * k + l] * w[l * m + j];
        expect(Math.abs(y[i * m + j] - s)).toBeLessThan(1e-5);
      }
  });

  it('rejects a bias of the wrong length', () => {
    expect(() =>
      dense(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 4]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D),
    ).toThrow(DimensionError);
  });
});

describe('activation', () => {
  const xs = Float32Array.from([-4, -1.5, -0.3, 0, 0.2, 1, 3.5]);
  const ref: Record<string, (v: number) => number> = {
    swish: (v) => v / (1 + Math.exp(-v)),
    tanh: Math.tanh,
    relu: (v) => Math.max(0, v),
    softplus: (v) => Math.log1p(Math.exp(v)),
    linear: (v) => v,
  };
  for (const name of ['swish', 'tanh', 'relu', 'softplus', 'linear'] as const) {
    it(`${name}: values match the float64 formula, gradient matches finite differences`, () => {
      const f = activation(name);
      const y = tf.tidy(() => f(tf.tensor1d(xs)).dataSync());
      const g = tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) => tf.sum(f(t)))(tf.tensor1d(xs))
          .dataSync(),
      );
      for (let i = 0; i < xs.length; i++) {
        expect(Math.abs(y[i] - ref[name](xs[i]))).toBeLessThan(1e-5 * (1 + Math.abs(ref[name](xs[i]))));
        // float64 central difference of the reference: error ~ h^2 f''' / 6 <= 1e-8 at h = 1e-4,
        // except relu's kink at 0, where tfjs (like every autodiff framework) returns 0
        const fd = (ref[name](xs[i] + 1e-4) - ref[name](xs[i] - 1e-4)) / 2e-4;
        const expected = name === 'relu' && xs[i] === 0 ? 0 : fd;
        expect(Math.abs(g[i] - expected)).toBeLessThan(1e-5);
      }
    });
  }

  it('rejects an unknown name', () => {
    expect(() => activation('gelu' as never)).toThrow(InvalidArgumentError);
  });
});

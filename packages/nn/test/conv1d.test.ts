import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { conv1dCircular } from '../src/conv1d';

/** Float64 reference: y[b, o, co] = sum_{t, ci} x[b, (o*s - left + t) mod W, ci] f[t, ci, co]. */
function reference(
  x: Float64Array,
  shape: [number, number, number],
  f: Float64Array,
  k: number,
  cout: number,
  s: number,
) {
  const [b, w, cin] = shape;
  const wout = Math.ceil(w / s);
  const total = Math.max(0, (wout - 1) * s + k - w);
  const left = Math.floor(total / 2);
  const y = new Float64Array(b * wout * cout);
  for (let bi = 0; bi < b; bi++)
    for (let o = 0; o < wout; o++)
      for (let co = 0; co < cout; co++) {
        let acc = 0;
        for (let t = 0; t < k; t++) {
          const i = (((o * s - left + t) % w) + w) % w;
          for (let ci = 0; ci < cin; ci++) acc += x[(bi * w + i) * cin + ci] * f[(t * cin + ci) * cout + co];
        }
        y[(bi * wout + o) * cout + co] = acc;
      }
  return y;
}

function randn(rng: Rng, n: number): Float64Array {
  return rng.fillNormal(new Float64Array(n));
}

const cases = [
  { b: 2, w: 8, cin: 1, cout: 3, k: 5, s: 1 },
  { b: 3, w: 8, cin: 2, cout: 4, k: 3, s: 1 },
  { b: 2, w: 8, cin: 3, cout: 2, k: 2, s: 2 },
  { b: 2, w: 6, cin: 2, cout: 2, k: 1, s: 1 },
  { b: 1, w: 7, cin: 2, cout: 3, k: 3, s: 2 },
];

describe('conv1dCircular', () => {
  it.each(cases)('matches the float64 circular reference (%o)', ({ b, w, cin, cout, k, s }) => {
    const rng = Rng.fromSeed(1);
    const x = randn(rng, b * w * cin);
    const f = randn(rng, k * cin * cout);
    const want = reference(x, [b, w, cin], f, k, cout, s);
    const got = tf.tidy(() =>
      conv1dCircular(
        tf.tensor3d(Float32Array.from(x), [b, w, cin]),
        tf.tensor3d(Float32Array.from(f), [k, cin, cout]),
        s,
      ).dataSync(),
    );
    expect(got.length).toBe(want.length);
    // float32 products of O(1) numbers summed over k*cin <= 15 terms: error ~ 1e-6 relative.
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
  });

  it.each(cases)('gradients in x and filter match central differences (%o)', ({ b, w, cin, cout, k, s }) => {
    const rng = Rng.fromSeed(2);
    const x = randn(rng, b * w * cin);
    const f = randn(rng, k * cin * cout);
    const wout = Math.ceil(w / s);
    const r = randn(rng, b * wout * cout);
    // L(x, f) = sum(conv(x, f) * r) is bilinear, so a central difference with a large step h = 0.5
    // is exact up to float32 rounding: the check tests the gradient code, not the step size.
    const loss = (xv: Float64Array, fv: Float64Array) =>
      tf.tidy(
        () =>
          tf
            .sum(
              tf.mul(
                conv1dCircular(
                  tf.tensor3d(Float32Array.from(xv), [b, w, cin]),
                  tf.tensor3d(Float32Array.from(fv), [k, cin, cout]),
                  s,
                ),
                tf.tensor3d(Float32Array.from(r), [b, wout, cout]),
              ),
            )
            .dataSync()[0],
      );
    const [gx, gf] = tf.tidy(() => {
      const g = tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
        tf.sum(
          tf.mul(
            conv1dCircular(xt as tf.Tensor3D, ft as tf.Tensor3D, s),
            tf.tensor3d(Float32Array.from(r), [b, wout, cout]),
          ),
        ),
      );
      const [a, c] = g([
        tf.tensor3d(Float32Array.from(x), [b, w, cin]),
        tf.tensor3d(Float32Array.from(f), [k, cin, cout]),
      ]);
      return [a.dataSync().slice(), c.dataSync().slice()];
    });
    const h = 0.5;
    const check = (v: Float64Array, grad: Float32Array | Int32Array | Uint8Array, isX: boolean) => {
      for (let i = 0; i < v.length; i++) {
        const p = v.slice();
        const m = v.slice();
        p[i] += h;
        m[i] -= h;
        const num = isX ? (loss(p, f) - loss(m, f)) / (2 * h) : (loss(x, p) - loss(x, m)) / (2 * h);
        expect(Math.abs(grad[i] - num)).toBeLessThan(2e-3 * (1 + Math.abs(num)));
      }
    };
    check(x, gx, true);
    check(f, gf, false);
  });

  it('is periodic: shifting the input by s*m positions shifts the output by m', () => {
    const rng = Rng.fromSeed(3);
    const [b, w, cin, cout, k] = [2, 16, 2, 3, 2];
    const x = randn(rng, b * w * cin);
    const f = randn(rng, k * cin * cout);
    const shift = 4;
    const xs = new Float64Array(x.length);
    for (let bi = 0; bi < b; bi++)
      for (let i = 0; i < w; i++)
        for (let c = 0; c < cin; c++) xs[(bi * w + ((i + shift) % w)) * cin + c] = x[(bi * w + i) * cin + c];
    const [y, ys] = tf.tidy(() => [
      conv1dCircular(
        tf.tensor3d(Float32Array.from(x), [b, w, cin]),
        tf.tensor3d(Float32Array.from(f), [k, cin, cout]),
        2,
      ).dataSync(),
      conv1dCircular(
        tf.tensor3d(Float32Array.from(xs), [b, w, cin]),
        tf.tensor3d(Float32Array.from(f), [k, cin, cout]),
        2,
      ).dataSync(),
    ]);
    const wo = w / 2;
    for (let bi = 0; bi < b; bi++)
      for (let o = 0; o < wo; o++)
        for (let c = 0; c < cout; c++)
          expect(ys[(bi * wo + ((o + shift / 2) % wo)) * cout + c]).toBeCloseTo(
            y[(bi * wo + o) * cout + c],
            5,
          );
  });

  it('leaks no tensors and rejects bad arguments', () => {
    const x = tf.zeros([1, 8, 2]) as tf.Tensor3D;
    const f = tf.zeros([3, 2, 1]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grad((xt: tf.Tensor) => tf.sum(conv1dCircular(xt as tf.Tensor3D, f, 1)))(x);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => conv1dCircular(x, tf.zeros([3, 3, 1]) as tf.Tensor3D, 1)).toThrow(/input channels/);
    expect(() => conv1dCircular(x, f, 0)).toThrow(/stride/);
    tf.dispose([x, f]);
  });
});

import { assignFlat } from '@sdekit/nn';
import { DimensionError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  AffineCoupling,
  ElementwiseAffine,
  LowRankMixing,
  OrthogonalMixing,
  Permutation,
  RationalQuadraticSplineCoupling,
  SinhArcsinh,
  type Transform,
} from '../src/index.js';
import { normalBatch, numericalLogDet } from './helpers.js';

/** Random non-trivial parameters, N(0, scale^2) per entry, so no layer is the identity. */
function randomize(t: Transform, seed: number, scale: number): void {
  const rng = Rng.fromSeed(seed, 1);
  const v = new Float64Array(t.numParams);
  rng.fillNormal(v, 0, scale);
  assignFlat(t.variables as tf.Variable[], v);
}

const D = 4;
const N = 64;
const C = 2;
const cases: { name: string; make: () => Transform; context: boolean }[] = [
  {
    name: 'AffineCoupling',
    make: () => new AffineCoupling({ dim: D, hiddenDims: [16, 16] }, 1),
    context: false,
  },
  {
    name: 'AffineCoupling (context)',
    make: () => new AffineCoupling({ dim: D, contextDim: C, hiddenDims: [16] }, 2),
    context: true,
  },
  {
    name: 'AffineCoupling (dim 1, no conditioning input)',
    make: () => new AffineCoupling({ dim: 1, hiddenDims: [8] }, 3),
    context: false,
  },
  // bound 2 puts about 5% of the N(0, 1.5^2) inputs in the identity tails, which the test must also cover
  {
    name: 'RationalQuadraticSplineCoupling',
    make: () => new RationalQuadraticSplineCoupling({ dim: D, hiddenDims: [16, 16], bins: 6, bound: 2 }, 4),
    context: false,
  },
  {
    name: 'RationalQuadraticSplineCoupling (context, odd split)',
    make: () =>
      new RationalQuadraticSplineCoupling({ dim: 3, contextDim: C, hiddenDims: [16], bins: 5, bound: 3 }, 5),
    context: true,
  },
  { name: 'ElementwiseAffine', make: () => new ElementwiseAffine({ dim: D }), context: false },
  { name: 'Permutation (random)', make: () => Permutation.random(D, 6), context: false },
  { name: 'OrthogonalMixing', make: () => OrthogonalMixing.random(D, 7), context: false },
  { name: 'SinhArcsinh', make: () => new SinhArcsinh({ dim: D }), context: false },
  { name: 'LowRankMixing', make: () => new LowRankMixing({ dim: D, rank: 3 }), context: false },
  { name: 'LowRankMixing (rank = dim)', make: () => new LowRankMixing({ dim: D, rank: D }), context: false },
];

describe.each(cases)('$name', ({ make, context }) => {
  const t = make();
  const d = t.dim;
  randomize(t, 11, 0.3);
  const x = normalBatch(N, d, 21, 1.5);
  const ctx = context ? tf.tensor2d(normalBatch(N, C, 22), [N, C]) : null;

  it('inverse(forward(x)) = x and forward(inverse(x)) = x to float32 tolerance; log-dets cancel', () => {
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [N, d]);
      const f = t.forward(xt, t.variables, ctx);
      const back = t.inverse(f.y, t.variables, ctx);
      const g = t.inverse(xt, t.variables, ctx);
      const fwd = t.forward(g.y, t.variables, ctx);
      const [a, b, c] = [back.y.dataSync(), fwd.y.dataSync(), f.y.dataSync()];
      // a few float32 roundings of values |x| <= 6 through exp/rational maps: 1e-4 relative is ~100 ulps
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(a[i] - x[i])).toBeLessThan(1e-4 * (1 + Math.abs(x[i])));
        expect(Math.abs(b[i] - x[i])).toBeLessThan(1e-4 * (1 + Math.abs(x[i])));
      }
      // the transform is not the identity (parameters were randomised) unless it is a fixed map
      expect(Array.from(c).some((v, i) => Math.abs(v - x[i]) > 1e-3)).toBe(true);
      if (f.logDet && back.logDet) {
        const l1 = f.logDet.dataSync();
        const l2 = back.logDet.dataSync();
        for (let i = 0; i < N; i++)
          expect(Math.abs(l1[i] + l2[i])).toBeLessThan(1e-4 * (1 + Math.abs(l1[i])));
      }
    });
  });

  it('log|det| matches a numerical Jacobian determinant in both directions', () => {
    // Central differences with h = 1e-3 on float32 outputs |y| <= ~10: rounding error per Jacobian
    // entry <= 10 * 6e-8 / 2e-3 = 3e-4, truncation h^2/6 |y'''| <= 1e-5 for smooth maps; over d <= 4
    // entries of a well-conditioned Jacobian, log|det| errors stay below 2e-3 (observed median 3e-5).
    // The spline is only C^1 at its knots: a step straddling a knot adds O(h |jump of y''|) ~ 1e-2 to
    // that row, which happens for a few rows in 64, hence 95% of rows < 2e-3 and every row < 2e-2.
    for (const direction of ['forward', 'inverse'] as const) {
      const fd = numericalLogDet(
        (pts) => {
          const rows = pts.shape[0];
          // each input row r is expanded to 2d perturbed rows: repeat its context row 2d times
          const c = ctx
            ? (tf.reshape(tf.tile(tf.expandDims(ctx, 1), [1, 2 * d, 1]), [rows, C]) as tf.Tensor2D)
            : null;
          return t[direction](pts, t.variables, c).y;
        },
        x,
        d,
        1e-3,
      );
      const analytic = tf.tidy(() => {
        const r = t[direction](tf.tensor2d(x, [N, d]), t.variables, ctx);
        return r.logDet ? r.logDet.dataSync() : new Float32Array(N);
      });
      // Only rows with |log det| <= 4 are resolvable: for slopes far below 1 the float32 rounding
      // error of a difference (3e-4 absolute) is comparable to the Jacobian entries themselves.
      const resolvable = Array.from(analytic.keys()).filter((i) => Math.abs(analytic[i]) <= 4);
      expect(resolvable.length).toBeGreaterThanOrEqual(0.75 * N);
      const errs = resolvable.map((i) => Math.abs(analytic[i] - fd[i])).sort((p, q) => p - q);
      expect(errs[Math.floor(0.95 * errs.length)]).toBeLessThan(2e-3);
      expect(errs[errs.length - 1]).toBeLessThan(2e-2);
    }
  });

  it('rejects points of the wrong width', () => {
    expect(() => t.forward(tf.zeros([3, d + 1]) as tf.Tensor2D, t.variables, ctx)).toThrow(DimensionError);
  });
});

describe('couplings at initialisation', () => {
  it('are exactly the identity with zero log-determinant (zero-initialised conditioner output)', () => {
    const x = normalBatch(32, 3, 5, 2);
    for (const t of [
      new AffineCoupling({ dim: 3 }, 1),
      new RationalQuadraticSplineCoupling({ dim: 3, bins: 8, bound: 5 }, 2),
    ]) {
      tf.tidy(() => {
        const r = t.forward(tf.tensor2d(x, [32, 3]), t.variables, null);
        const y = r.y.dataSync();
        const ld = r.logDet?.dataSync() ?? new Float32Array(32);
        // affine: exact; spline: equal bins and unit slopes reproduce x up to float32 rounding of knots
        for (let i = 0; i < x.length; i++)
          expect(Math.abs(y[i] - x[i])).toBeLessThan(2e-6 * (1 + Math.abs(x[i])));
        for (let i = 0; i < 32; i++) expect(Math.abs(ld[i])).toBeLessThan(1e-5);
      });
      t.dispose();
    }
  });
});

describe('Permutation gradient', () => {
  it('is the inverse permutation of the upstream gradient (d/dx sum(w * x[:, perm]) = w[:, perm^-1])', () => {
    const p: Transform = new Permutation([2, 0, 3, 1]);
    const w = tf.tensor2d([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    for (const direction of ['forward', 'inverse'] as const) {
      const g = tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(w, p[direction](x as tf.Tensor2D, [], null).y)))(
          tf.zeros([2, 4]),
        )
        .arraySync();
      // forward: y_j = x_{perm[j]}, so dL/dx_{perm[j]} = w_j; inverse: y_{perm[j]} = x_j, so dL/dx_j = w_{perm[j]}
      const expected =
        direction === 'forward'
          ? [
              [2, 4, 1, 3],
              [6, 8, 5, 7],
            ]
          : [
              [3, 1, 4, 2],
              [7, 5, 8, 6],
            ];
      expect(g).toEqual(expected);
    }
    p.dispose();
  });
});

describe('argument checks', () => {
  it('throws typed errors', () => {
    expect(() => new AffineCoupling({ dim: 0 }, 1)).toThrow(InvalidArgumentError);
    expect(() => new AffineCoupling({ dim: 3, identityDims: 3 }, 1)).toThrow(InvalidArgumentError);
    expect(() => new RationalQuadraticSplineCoupling({ dim: 2, bins: 1 }, 1)).toThrow(InvalidArgumentError);
    expect(() => new Permutation([0, 0, 1])).toThrow(InvalidArgumentError);
    expect(() => new OrthogonalMixing(2, [1, 1, 0, 1])).toThrow(InvalidArgumentError);
    const c = new AffineCoupling({ dim: 2, contextDim: 1 }, 1);
    expect(() => c.forward(tf.zeros([3, 2]) as tf.Tensor2D, c.variables, null)).toThrow(DimensionError);
    c.dispose();
    const e = new ElementwiseAffine({ dim: 2 });
    expect(() =>
      e.initializeFromData(
        tf.tensor2d([
          [1, 2],
          [1, 3],
        ]),
      ),
    ).toThrow(InvalidArgumentError);
    e.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import {
  addScaled,
  antisymmetricPart,
  cholesky,
  choleskySolve,
  DimensionError,
  eigenvalues,
  expm,
  frobeniusNorm,
  lyapunovSolve,
  Matrix,
  matmul,
  NonFiniteError,
  NotPositiveDefiniteError,
  Rng,
  SingularMatrixError,
  solve,
  solveLower,
  solveRight,
  solveUpper,
  symmetricEigen,
  symmetricPart,
  transpose,
} from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

function randomMatrix(rng: Rng, r: number, c: number): Matrix {
  return new Matrix(r, c, rng.fillNormal(new Float64Array(r * c)));
}

/** A random symmetric positive-definite matrix B B^T + n I. */
function randomSpd(rng: Rng, n: number): Matrix {
  const b = randomMatrix(rng, n, n);
  const a = matmul(b, transpose(b));
  for (let i = 0; i < n; i++) a.data[i * n + i] += n;
  return a;
}

describe('linear algebra', () => {
  it('multiplies, transposes, and splits into symmetric and antisymmetric parts', () => {
    const a = Matrix.from([
      [1, 2],
      [3, 4],
    ]);
    const b = Matrix.from([
      [0, 1],
      [1, 0],
    ]);
    expect(matmul(a, b).toArray()).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(transpose(a).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(symmetricPart(a).toArray()).toEqual([
      [1, 2.5],
      [2.5, 4],
    ]);
    expect(antisymmetricPart(a).toArray()).toEqual([
      [0, -0.5],
      [0.5, 0],
    ]);
    expect(frobeniusNorm(a)).toBeCloseTo(Math.sqrt(30), 14);
    expect(maxAbsDiff(addScaled(symmetricPart(a), 1, antisymmetricPart(a), 1), a)).toBe(0);
    expect(() => matmul(a, new Matrix(3, 1))).toThrow(DimensionError);
  });

  it('Cholesky: known factor, random SPD reconstruction, and NotPositiveDefiniteError', () => {
    const l = cholesky(
      Matrix.from([
        [4, 2],
        [2, 3],
      ]),
    );
    expect(l.get(0, 0)).toBe(2);
    expect(l.get(1, 0)).toBe(1);
    expect(l.get(1, 1)).toBeCloseTo(Math.SQRT2, 15);
    expect(l.get(0, 1)).toBe(0);
    const rng = Rng.fromSeed(1);
    const a = randomSpd(rng, 8);
    const f = cholesky(a);
    expect(maxAbsDiff(matmul(f, transpose(f)), a)).toBeLessThan(1e-12 * frobeniusNorm(a));
    const indefinite = Matrix.from([
      [1, 2],
      [2, 1],
    ]);
    let err: unknown;
    try {
      cholesky(indefinite, 'Phi_S');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect((err as NotPositiveDefiniteError).pivot).toBe(1);
    expect((err as NotPositiveDefiniteError).argument).toBe('Phi_S');
    expect(() => cholesky(Matrix.from([[Number.NaN]]))).toThrow(NonFiniteError);
  });

  it('triangular, Cholesky, LU and right solves have round-off residuals', () => {
    const rng = Rng.fromSeed(2);
    const n = 7;
    const a = randomSpd(rng, n);
    const b = randomMatrix(rng, n, 3);
    const l = cholesky(a);
    expect(maxAbsDiff(matmul(l, solveLower(l, b)), b)).toBeLessThan(1e-12);
    const u = transpose(l);
    expect(maxAbsDiff(matmul(u, solveUpper(u, b)), b)).toBeLessThan(1e-12);
    expect(maxAbsDiff(matmul(a, choleskySolve(l, b)), b)).toBeLessThan(1e-11);
    const g = randomMatrix(rng, n, n); // general, non-symmetric
    expect(maxAbsDiff(matmul(g, solve(g, b)), b)).toBeLessThan(1e-10);
    const br = randomMatrix(rng, 3, n);
    expect(maxAbsDiff(matmul(solveRight(br, g), g), br)).toBeLessThan(1e-10);
    const singular = Matrix.from([
      [1, 2],
      [2, 4],
    ]);
    expect(() => solve(singular, Matrix.from([[1], [1]]))).toThrow(SingularMatrixError);
    expect(() => solve(g, new Matrix(n + 1, 1))).toThrow(DimensionError);
  });

  it('symmetricEigen: a known 2 x 2 case and A V = V Lambda with orthonormal V on a random matrix', () => {
    const { values, vectors } = symmetricEigen(
      Matrix.from([
        [2, 1],
        [1, 2],
      ]),
    );
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(vectors.get(0, 1))).toBeCloseTo(Math.SQRT1_2, 14);
    expect(vectors.get(0, 1) * vectors.get(1, 1)).toBeGreaterThan(0); // (1, 1)/sqrt 2 for 3
    const rng = Rng.fromSeed(3);
    const b = randomMatrix(rng, 6, 6);
    const a = symmetricPart(b);
    const e = symmetricEigen(a);
    for (let k = 1; k < 6; k++) expect(e.values[k]).toBeGreaterThanOrEqual(e.values[k - 1]);
    const av = matmul(a, e.vectors);
    const vl = matmul(e.vectors, Matrix.diagonal(e.values));
    expect(maxAbsDiff(av, vl)).toBeLessThan(1e-12);
    expect(maxAbsDiff(matmul(transpose(e.vectors), e.vectors), Matrix.identity(6))).toBeLessThan(1e-13);
    let trace = 0;
    for (let i = 0; i < 6; i++) trace += a.get(i, i);
    expect(e.values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 12);
  });

  it('eigenvalues of a rotation generator are +-i omega', () => {
    const w = 0.8;
    const ev = eigenvalues(
      Matrix.from([
        [0, -w],
        [w, 0],
      ]),
    );
    const ims = Array.from(ev.im).sort((x, y) => x - y);
    expect(Math.abs(ev.re[0]) + Math.abs(ev.re[1])).toBeLessThan(1e-12);
    expect(ims[0]).toBeCloseTo(-w, 12);
    expect(ims[1]).toBeCloseTo(w, 12);
  });

  it('eigenvalues of circulant matrices equal the DFT of the first row (incl. the generator that stalls plain QR)', () => {
    const check = (c: number[]) => {
      const n = c.length;
      const m = new Matrix(n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, c[(j - i + n) % n]);
      const ev = eigenvalues(m);
      const exact: [number, number][] = [];
      for (let k = 0; k < n; k++) {
        let re = 0;
        let im = 0;
        for (let j = 0; j < n; j++) {
          re += c[j] * Math.cos((2 * Math.PI * j * k) / n);
          im += c[j] * Math.sin((2 * Math.PI * j * k) / n);
        }
        exact.push([re, im]);
      }
      // Match each computed eigenvalue to the nearest exact one (all distinct here).
      const used = new Set<number>();
      for (let i = 0; i < n; i++) {
        let best = -1;
        let dist = Infinity;
        exact.forEach(([re, im], k) => {
          const d = Math.hypot(ev.re[i] - re, ev.im[i] - im);
          if (!used.has(k) && d < dist) {
            dist = d;
            best = k;
          }
        });
        used.add(best);
        expect(dist).toBeLessThan(1e-10);
      }
    };
    check([-2, 0, 2]); // the column-convention generator [[-2,0,2],[2,-2,0],[0,2,-2]] transposed
    check([3, 1, -2, 0.5, 0, 0, 1, 2]);
    const gen = eigenvalues(
      Matrix.from([
        [-2, 0, 2],
        [2, -2, 0],
        [0, 2, -2],
      ]),
    );
    expect(Math.abs(gen.re[2])).toBeLessThan(1e-12); // the stationary mode 0
    expect(gen.re[0]).toBeCloseTo(-3, 12);
    expect(Math.abs(gen.im[0])).toBeCloseTo(Math.sqrt(3), 12);
  });

  it('eigenvalues of random and triangular matrices satisfy the Newton power sums trace(A^k) = sum lambda^k', () => {
    const n = 6;
    const a = randomMatrix(Rng.fromSeed(6), n, n);
    const ev = eigenvalues(a);
    let ak = Matrix.identity(n);
    for (let k = 1; k <= n; k++) {
      ak = matmul(ak, a);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += ak.get(i, i);
      // sum of lambda^k in complex arithmetic
      let sre = 0;
      let sim = 0;
      for (let i = 0; i < n; i++) {
        const r = Math.hypot(ev.re[i], ev.im[i]) ** k;
        const phi = Math.atan2(ev.im[i], ev.re[i]) * k;
        sre += r * Math.cos(phi);
        sim += r * Math.sin(phi);
      }
      expect(Math.abs(sre - trace)).toBeLessThan(1e-9 * Math.max(1, Math.abs(trace)));
      expect(Math.abs(sim)).toBeLessThan(1e-9 * Math.max(1, Math.abs(trace)));
    }
    const tri = eigenvalues(
      Matrix.from([
        [3, 7, -1],
        [0, -2, 4],
        [0, 0, 0.5],
      ]),
    );
    expect(Array.from(tri.re)).toEqual([-2, 0.5, 3]);
    expect(Array.from(tri.im)).toEqual([0, 0, 0]);
  });

  it('expm: rotations, diagonal, nilpotent, large norm, and exp(A) exp(-A) = I', () => {
    for (const w of [1, 10, 100]) {
      const r = expm(
        Matrix.from([
          [0, -w],
          [w, 0],
        ]),
      );
      expect(r.get(0, 0)).toBeCloseTo(Math.cos(w), 11);
      expect(r.get(1, 0)).toBeCloseTo(Math.sin(w), 11);
      expect(r.get(0, 1)).toBeCloseTo(-Math.sin(w), 11);
    }
    const d = expm(Matrix.diagonal([-50, 0.5, 3]));
    expect(d.get(0, 0) / Math.exp(-50)).toBeCloseTo(1, 12);
    expect(d.get(1, 1) / Math.exp(0.5)).toBeCloseTo(1, 12);
    expect(d.get(2, 2) / Math.exp(3)).toBeCloseTo(1, 12);
    expect(
      expm(
        Matrix.from([
          [0, 1],
          [0, 0],
        ]),
      ).toArray(),
    ).toEqual([
      [1, 1],
      [0, 1],
    ]);
    const a = randomMatrix(Rng.fromSeed(4), 5, 5);
    const minus = new Matrix(
      5,
      5,
      a.data.map((v) => -v),
    );
    expect(maxAbsDiff(matmul(expm(a), expm(minus)), Matrix.identity(5))).toBeLessThan(1e-11);
  });

  it('lyapunovSolve: A X + X A^T = Q to round-off, the scalar case, and singular operators', () => {
    const rng = Rng.fromSeed(5);
    const n = 4;
    const a = randomMatrix(rng, n, n);
    for (let i = 0; i < n; i++) a.data[i * n + i] += 4; // shift into the stable half-plane
    const s = randomMatrix(rng, n, 2);
    const q = matmul(s, transpose(s));
    const x = lyapunovSolve(a, q);
    const res = addScaled(matmul(a, x), 1, matmul(x, transpose(a)), 1);
    expect(maxAbsDiff(res, q)).toBeLessThan(1e-12);
    expect(maxAbsDiff(x, transpose(x))).toBeLessThan(1e-12);
    expect(lyapunovSolve(Matrix.from([[2]]), Matrix.from([[3]])).get(0, 0)).toBeCloseTo(0.75, 15);
    // A with eigenvalues +-i: lambda_1 + lambda_2 = 0, so the operator is singular.
    expect(() =>
      lyapunovSolve(
        Matrix.from([
          [0, -1],
          [1, 0],
        ]),
        Matrix.identity(2),
      ),
    ).toThrow(SingularMatrixError);
    expect(() => lyapunovSolve(Matrix.identity(2), Matrix.identity(3))).toThrow(DimensionError);
  });
});

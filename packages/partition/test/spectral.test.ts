import {
  ConvergenceError,
  InvalidArgumentError,
  Matrix,
  Rng,
  SingularMatrixError,
  symmetricEigen,
} from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import {
  Generator,
  generatorAutocorrelation,
  generatorExpAction,
  generatorNullVector,
  relaxationRates,
} from '../src/index.js';

/** Two-state chain, rate a for 0 -> 1 and b for 1 -> 0 (column convention). */
function twoState(a: number, b: number): Generator {
  return Generator.fromDense(
    Matrix.from([
      [-a, b],
      [a, -b],
    ]),
  );
}

/** A random irreducible generator with K states and about `degree` exits per state. */
function randomGenerator(K: number, degree: number, seed: number): Generator {
  const rng = Rng.fromSeed(seed);
  const m = new Matrix(K, K);
  for (let i = 0; i < K; i++) {
    m.set((i + 1) % K, i, 0.5 + rng.uniform()); // a ring keeps it irreducible
    for (let e = 0; e < degree; e++) {
      const j = rng.integer(K);
      if (j !== i) m.set(j, i, m.get(j, i) + rng.uniform());
    }
    let s = 0;
    for (let j = 0; j < K; j++) if (j !== i) s += m.get(j, i);
    m.set(i, i, -s);
  }
  return Generator.fromDense(m);
}

describe('generatorExpAction (uniformisation)', () => {
  it('matches the closed-form two-state transition probabilities, short and long times', () => {
    const a = 50;
    const b = 30;
    const s = a + b;
    const Q = twoState(a, b);
    // exp(Q t) e_0 = [(b + a e^{-s t}) / s, a (1 - e^{-s t}) / s]; t = 20 gives Lambda t = 1000 (two sub-steps).
    for (const t of [0, 1e-3, 0.01, 0.1, 20]) {
      const p = generatorExpAction(Q, Float64Array.of(1, 0), t);
      const e = Math.exp(-s * t);
      // truncation error <= tol ||v||_1 = 1e-13, plus rounding over <= ~1000 products
      expect(p[0]).toBeCloseTo((b + a * e) / s, 11);
      expect(p[1]).toBeCloseTo((a * (1 - e)) / s, 11);
    }
    expect(() => generatorExpAction(Q, Float64Array.of(1, 0), -1)).toThrow(InvalidArgumentError);
  });

  it('conserves mass and matches a dense Taylor series on a random generator', () => {
    const Q = randomGenerator(12, 3, 5);
    const v = Rng.fromSeed(1).fillUniform(new Float64Array(12));
    const t = 0.05;
    const out = generatorExpAction(Q, v, t);
    // Reference: sum_k (Q t)^k v / k! with dense products; ||Q t|| < 1 so 40 terms reach 1e-16.
    const dense = Q.toDense();
    const ref = v.slice();
    let term = v.slice();
    for (let k = 1; k < 40; k++) {
      const next = new Float64Array(12);
      for (let j = 0; j < 12; j++)
        for (let i = 0; i < 12; i++) next[j] += (dense.get(j, i) * term[i] * t) / k;
      term = next;
      for (let j = 0; j < 12; j++) ref[j] += term[j];
    }
    let massIn = 0;
    let massOut = 0;
    for (let j = 0; j < 12; j++) {
      // truncation error <= 1e-13 ||v||_1 (||v||_1 < 12)
      expect(out[j]).toBeCloseTo(ref[j], 11);
      massIn += v[j];
      massOut += out[j];
    }
    expect(massOut).toBeCloseTo(massIn, 12);
  });
});

describe('generatorAutocorrelation', () => {
  it('two-state chain: covariance var e^{-(a+b) t}, raw adds the squared mean', () => {
    const a = 0.7;
    const b = 0.3;
    const s = a + b;
    const Q = twoState(a, b);
    const pi = Float64Array.of(b / s, a / s);
    const g = Float64Array.of(1, -1);
    const times = [2, 0, 0.5, 5]; // unsorted on purpose
    const m = (b - a) / s;
    const variance = 1 - m * m;
    const cov = generatorAutocorrelation(Q, pi, g, times, { mode: 'covariance' });
    const corr = generatorAutocorrelation(Q, pi, g, times, { mode: 'correlation' });
    const raw = generatorAutocorrelation(Q, pi, g, times);
    times.forEach((t, k) => {
      expect(cov[k]).toBeCloseTo(variance * Math.exp(-s * t), 12);
      expect(corr[k]).toBeCloseTo(Math.exp(-s * t), 12);
      expect(raw[k]).toBeCloseTo(variance * Math.exp(-s * t) + m * m, 12);
    });
    expect(() => generatorAutocorrelation(Q, pi, g, [-1])).toThrow(InvalidArgumentError);
  });
});

describe('generatorNullVector', () => {
  it('two-state chain: pi = (b, a) / (a + b)', () => {
    const pi = generatorNullVector(twoState(2, 1));
    expect(pi[0]).toBeCloseTo(1 / 3, 14);
    expect(pi[1]).toBeCloseTo(2 / 3, 14);
  });

  it('dense and iterative solutions agree and satisfy Q pi = 0 on a random generator', () => {
    const K = 40;
    const Q = randomGenerator(K, 4, 9);
    const dense = generatorNullVector(Q, { method: 'dense' });
    const iter = generatorNullVector(Q, { method: 'iterative', tol: 1e-13 });
    const r = Q.apply(dense);
    let sum = 0;
    for (let i = 0; i < K; i++) {
      expect(Math.abs(r[i])).toBeLessThan(1e-12);
      expect(dense[i]).toBeGreaterThan(0);
      // residual tolerance 1e-13 * Lambda bounds the error by ~ tol / gap; 1e-9 is ample
      expect(iter[i]).toBeCloseTo(dense[i], 9);
      sum += dense[i];
    }
    expect(sum).toBeCloseTo(1, 14);
    expect(() => generatorNullVector(Q, { method: 'iterative', maxIterations: 2 })).toThrow(ConvergenceError);
  });

  it('never-visited states get zero mass; absorbing states and several closed classes are errors', () => {
    const withIsolated = Generator.fromDense(
      Matrix.from([
        [-1, 0, 2],
        [0, 0, 0],
        [1, 0, -2],
      ]),
    );
    const pi = generatorNullVector(withIsolated);
    expect(pi[1]).toBe(0);
    expect(pi[0]).toBeCloseTo(2 / 3, 14);
    const absorbing = Generator.fromDense(
      Matrix.from([
        [-1, 0],
        [1, 0],
      ]),
    );
    expect(() => generatorNullVector(absorbing)).toThrow(InvalidArgumentError);
    const twoClasses = Generator.fromDense(
      Matrix.from([
        [-1, 1, 0, 0],
        [1, -1, 0, 0],
        [0, 0, -1, 1],
        [0, 0, 1, -1],
      ]),
    );
    expect(() => generatorNullVector(twoClasses)).toThrow(SingularMatrixError);
  });
});

describe('relaxationRates', () => {
  it('two-state chain: rates 0 and a + b', () => {
    const { rates, frequencies } = relaxationRates(twoState(0.7, 0.3));
    expect(rates[0]).toBeCloseTo(0, 12);
    expect(rates[1]).toBeCloseTo(1, 12);
    expect(frequencies[1]).toBeCloseTo(0, 12);
  });

  it('irreversible 3-cycle: eigenvalues 0 and the roots of the characteristic quadratic', () => {
    // 0 -> 1 at 2, 1 -> 2 at 2, 2 -> 0 at 2.1. det Q = 0, so the other eigenvalues solve
    // l^2 - tr(Q) l + (sum of principal 2x2 minors) = l^2 + 6.1 l + 12.4 = 0: l = -3.05 +- i sqrt(3.0975).
    const Q = Generator.fromDense(
      Matrix.from([
        [-2, 0, 2.1],
        [2, -2, 0],
        [0, 2, -2.1],
      ]),
    );
    const { rates, frequencies } = relaxationRates(Q);
    expect(rates[0]).toBeCloseTo(0, 11);
    expect(rates[1]).toBeCloseTo(3.05, 11);
    expect(rates[2]).toBeCloseTo(3.05, 11);
    expect(Math.abs(frequencies[1])).toBeCloseTo(Math.sqrt(3.0975), 11);
    expect(frequencies[1] + frequencies[2]).toBeCloseTo(0, 11);
    expect(() => relaxationRates(Q, { maxSize: 2 })).toThrow(InvalidArgumentError);
  });

  it('reversible 30-state generator: rates equal the spectrum of the symmetrised matrix (Jacobi)', () => {
    // Detailed balance pi_i Q[j,i] = F_ij with a symmetric flux F: then D^{-1/2} Q D^{1/2} (D = diag pi)
    // is symmetric with entries F_ij / sqrt(pi_i pi_j), and its eigenvalues (symmetricEigen, an
    // independent algorithm) are those of Q.
    const K = 30;
    const rng = Rng.fromSeed(21);
    const pi = rng.fillUniform(new Float64Array(K), 0.5, 1.5);
    const F = new Matrix(K, K);
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        if (j !== i + 1 && rng.uniform() > 0.15) continue; // a chain plus random shortcuts
        const f = rng.uniform();
        F.set(i, j, f);
        F.set(j, i, f);
      }
    }
    const q = new Matrix(K, K);
    const sym = new Matrix(K, K);
    for (let i = 0; i < K; i++) {
      let exit = 0;
      for (let j = 0; j < K; j++) {
        if (j === i) continue;
        q.set(j, i, F.get(i, j) / pi[i]);
        sym.set(j, i, F.get(i, j) / Math.sqrt(pi[i] * pi[j]));
        exit += F.get(i, j) / pi[i];
      }
      q.set(i, i, -exit);
      sym.set(i, i, -exit);
    }
    const { rates, frequencies } = relaxationRates(Generator.fromDense(q));
    const ref = Array.from(symmetricEigen(sym).values)
      .map((v) => -v)
      .sort((a, b) => a - b);
    for (let k = 0; k < K; k++) {
      expect(rates[k]).toBeCloseTo(ref[k], 9);
      expect(frequencies[k]).toBeCloseTo(0, 9);
    }
  });
});

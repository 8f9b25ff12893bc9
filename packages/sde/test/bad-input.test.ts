/** Library calls that used to return a silently wrong result now throw a typed error naming the argument. */
import { describe, expect, it } from 'vitest';
import {
  hellinger,
  InvalidArgumentError,
  klDivergence,
  Matrix,
  quantile,
  symmetricEigen,
} from '../src/index.js';

describe('silently wrong calls become typed errors', () => {
  it('symmetricEigen of a non-symmetric matrix', () => {
    const a = Matrix.from([
      [1, 2],
      [0, 1],
    ]);
    expect(() => symmetricEigen(a, 'A')).toThrow(InvalidArgumentError);
    expect(() => symmetricEigen(a, 'A')).toThrow(/A: is not symmetric.*symmetricPart/);
    // Symmetric up to round-off is accepted.
    const b = Matrix.from([
      [2, 1 + 1e-14],
      [1, 2],
    ]);
    expect(symmetricEigen(b).values[0]).toBeCloseTo(1, 12);
  });

  it('quantile of unsorted input', () => {
    expect(() => quantile(Float64Array.of(3, 1, 2), 0.5)).toThrow(
      /sorted: is not sorted ascending.*quantiles/,
    );
    expect(quantile(Float64Array.of(1, 2, 3), 0.5)).toBe(2);
  });

  it('Matrix.from with NaN, strings or null', () => {
    expect(() => Matrix.from([[1, Number.NaN]])).toThrow(/rows\[0\]: element 1 is NaN/);
    expect(() => Matrix.from([[1, '2' as unknown as number]])).toThrow(/got '2'/);
    expect(() => Matrix.from([[null as unknown as number]])).toThrow(/got null/);
  });

  it('klDivergence and hellinger of vectors that do not sum to 1', () => {
    expect(() => klDivergence(Float64Array.of(2, 2), Float64Array.of(0.5, 0.5))).toThrow(
      /p: sums to 4, not 1/,
    );
    expect(() => hellinger(Float64Array.of(0.5, 0.5), Float64Array.of(0.5, 0.2))).toThrow(/q: sums to 0.7/);
    expect(klDivergence(Float64Array.of(0.5, 0.5), Float64Array.of(0.9, 0.1))).toBeCloseTo(0.5108256, 6);
  });
});

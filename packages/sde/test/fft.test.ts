import { describe, expect, it } from 'vitest';
import { DimensionError, InvalidArgumentError } from '../src/errors.js';
import { ComplexFft, fftInPlace, isPowerOfTwo, nextPowerOfTwo, RealFft } from '../src/fft.js';
import { Rng } from '../src/rng.js';
import { maxAbsDiff } from './helpers.js';

/** Direct O(n^2) DFT with the same sign convention; angles reduced mod n for accuracy. */
function directDft(
  re: Float64Array,
  im: Float64Array,
  inverse: boolean,
): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * ((j * k) % n)) / n;
      const c = Math.cos(a);
      const s = Math.sin(a);
      sr += re[j] * c - im[j] * s;
      si += re[j] * s + im[j] * c;
    }
    outRe[k] = inverse ? sr / n : sr;
    outIm[k] = inverse ? si / n : si;
  }
  return { re: outRe, im: outIm };
}

function randomVector(n: number, seed: number, stream: number): Float64Array {
  const v = new Float64Array(n);
  Rng.fromSeed(seed, stream).fillNormal(v);
  return v;
}

function norm2(...parts: Float64Array[]): number {
  let s = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) s += p[i] * p[i];
  return Math.sqrt(s);
}

// The radix-2 FFT has relative 2-norm error O(eps log2 n); the direct DFT's error is O(eps n) at
// worst in the sums. With unit normals the entries of X are O(sqrt n) and the max error stays below
// ~1e-13 * sqrt(n) for n <= 1024, so a tolerance of 1e-12 * norm is tight yet safe.
const sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024];

describe('fftInPlace / ComplexFft', () => {
  it.each(sizes)('matches the direct DFT, forward and inverse, n = %i', (n) => {
    const re = randomVector(n, 1, n);
    const im = randomVector(n, 2, n);
    for (const inverse of [false, true]) {
      const want = directDft(re, im, inverse);
      const gotRe = re.slice();
      const gotIm = im.slice();
      fftInPlace(gotRe, gotIm, inverse);
      const scale = norm2(want.re, want.im) + 1e-300;
      expect(maxAbsDiff(gotRe, want.re) / scale).toBeLessThan(1e-12 / Math.sqrt(n) + 1e-15);
      expect(maxAbsDiff(gotIm, want.im) / scale).toBeLessThan(1e-12 / Math.sqrt(n) + 1e-15);
    }
  });

  it('a unit impulse at index 1 gives the twiddles exp(-2 pi i k / n)', () => {
    const n = 16;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    re[1] = 1;
    new ComplexFft(n).forward(re, im);
    for (let k = 0; k < n; k++) {
      expect(re[k]).toBeCloseTo(Math.cos((2 * Math.PI * k) / n), 14);
      expect(im[k]).toBeCloseTo(-Math.sin((2 * Math.PI * k) / n), 14);
    }
  });

  it('round trip and Parseval at n = 2^16', () => {
    const n = 1 << 16;
    const re = randomVector(n, 3, 0);
    const im = randomVector(n, 4, 0);
    const re0 = re.slice();
    const im0 = im.slice();
    const energy = norm2(re, im) ** 2;
    fftInPlace(re, im);
    // Parseval: sum |X|^2 = n sum |x|^2; relative error O(eps log n).
    expect(Math.abs(norm2(re, im) ** 2 / n - energy) / energy).toBeLessThan(1e-13);
    fftInPlace(re, im, true);
    expect(maxAbsDiff(re, re0)).toBeLessThan(1e-13);
    expect(maxAbsDiff(im, im0)).toBeLessThan(1e-13);
  });

  it('rejects non-power-of-two sizes and mismatched arrays with typed errors', () => {
    expect(() => fftInPlace(new Float64Array(12), new Float64Array(12))).toThrow(InvalidArgumentError);
    expect(() => fftInPlace(new Float64Array(0), new Float64Array(0))).toThrow(InvalidArgumentError);
    expect(() => fftInPlace(new Float64Array(8), new Float64Array(4))).toThrow(DimensionError);
    expect(() => new ComplexFft(3)).toThrow(InvalidArgumentError);
    expect(() => new ComplexFft(2.5)).toThrow(InvalidArgumentError);
    expect(() => new ComplexFft(8).inverse(new Float64Array(16), new Float64Array(16))).toThrow(
      DimensionError,
    );
  });
});

describe('RealFft', () => {
  it.each([2, 4, 8, 16, 64, 256, 1024])(
    'forward equals the first n/2+1 bins of the direct DFT, n = %i',
    (n) => {
      const x = randomVector(n, 5, n);
      const want = directDft(x, new Float64Array(n), false);
      const fft = new RealFft(n);
      const re = new Float64Array(n / 2 + 1);
      const im = new Float64Array(n / 2 + 1);
      fft.forward(x, re, im);
      const scale = norm2(want.re, want.im);
      expect(maxAbsDiff(re, want.re.subarray(0, n / 2 + 1)) / scale).toBeLessThan(1e-12 / Math.sqrt(n));
      expect(maxAbsDiff(im, want.im.subarray(0, n / 2 + 1)) / scale).toBeLessThan(1e-12 / Math.sqrt(n));
      expect(im[0]).toBe(0);
      expect(im[n / 2]).toBe(0);
    },
  );

  it.each([2, 4, 16, 128, 1024])(
    'inverse equals the direct inverse DFT of the Hermitian extension, n = %i',
    (n) => {
      const m = n / 2;
      const re = randomVector(m + 1, 6, n);
      const im = randomVector(m + 1, 7, n);
      im[0] = 0;
      im[m] = 0;
      const fullRe = new Float64Array(n);
      const fullIm = new Float64Array(n);
      for (let k = 0; k <= m; k++) {
        fullRe[k] = re[k];
        fullIm[k] = im[k];
        if (k > 0 && k < m) {
          fullRe[n - k] = re[k];
          fullIm[n - k] = -im[k];
        }
      }
      const want = directDft(fullRe, fullIm, true);
      const out = new Float64Array(n);
      const reCopy = re.slice();
      new RealFft(n).inverse(re, im, out);
      expect(maxAbsDiff(out, want.re) / norm2(want.re)).toBeLessThan(1e-12 / Math.sqrt(n));
      expect(maxAbsDiff(re, reCopy)).toBe(0); // inputs untouched
    },
  );

  it('ignores im[0] and im[n/2] in the inverse, as for any real signal', () => {
    const fft = new RealFft(8);
    const re = Float64Array.from([1, 2, 3, 4, 5]);
    const a = new Float64Array(8);
    const b = new Float64Array(8);
    fft.inverse(re, new Float64Array(5), a);
    fft.inverse(re, Float64Array.from([9, 0, 0, 0, -9]), b);
    expect(maxAbsDiff(a, b)).toBe(0);
  });

  it('round trip and Parseval for a real sequence, n = 4096', () => {
    const n = 4096;
    const m = n / 2;
    const fft = new RealFft(n);
    const x = randomVector(n, 8, 0);
    const re = new Float64Array(m + 1);
    const im = new Float64Array(m + 1);
    fft.forward(x, re, im);
    // sum |X_k|^2 over all n bins = |X_0|^2 + |X_m|^2 + 2 sum_{0<k<m} |X_k|^2 = n sum x^2.
    let spec = re[0] ** 2 + re[m] ** 2;
    for (let k = 1; k < m; k++) spec += 2 * (re[k] ** 2 + im[k] ** 2);
    const energy = norm2(x) ** 2;
    expect(Math.abs(spec / n - energy) / energy).toBeLessThan(1e-13);
    const y = new Float64Array(n);
    fft.inverse(re, im, y);
    expect(maxAbsDiff(x, y)).toBeLessThan(1e-13);
  });

  it('packed transforms agree with forward/inverse and square pointwise (pseudo-spectral product)', () => {
    const n = 64;
    const m = n / 2;
    const fft = new RealFft(n);
    const x = randomVector(n, 9, 0);
    const re = new Float64Array(m + 1);
    const im = new Float64Array(m + 1);
    fft.forward(x, re, im);
    const zr = new Float64Array(m);
    const zi = new Float64Array(m);
    fft.inversePacked(re, im, zr, zi);
    for (let j = 0; j < m; j++) {
      expect(zr[j]).toBeCloseTo(x[2 * j], 13);
      expect(zi[j]).toBeCloseTo(x[2 * j + 1], 13);
      zr[j] *= zr[j];
      zi[j] *= zi[j];
    }
    const sqRe = new Float64Array(m + 1);
    const sqIm = new Float64Array(m + 1);
    fft.forwardPacked(zr, zi, sqRe, sqIm);
    const want = directDft(
      x.map((v) => v * v),
      new Float64Array(n),
      false,
    );
    const scale = norm2(want.re, want.im);
    expect(maxAbsDiff(sqRe, want.re.subarray(0, m + 1)) / scale).toBeLessThan(1e-13);
    expect(maxAbsDiff(sqIm, want.im.subarray(0, m + 1)) / scale).toBeLessThan(1e-13);
    expect(() => fft.forwardPacked(new Float64Array(m + 1), zi, sqRe, sqIm)).toThrow(DimensionError);
  });

  it('rejects bad sizes and lengths with typed errors', () => {
    expect(() => new RealFft(1)).toThrow(InvalidArgumentError);
    expect(() => new RealFft(48)).toThrow(InvalidArgumentError);
    const fft = new RealFft(16);
    expect(() => fft.forward(new Float64Array(15), new Float64Array(9), new Float64Array(9))).toThrow(
      DimensionError,
    );
    expect(() => fft.forward(new Float64Array(16), new Float64Array(8), new Float64Array(9))).toThrow(
      DimensionError,
    );
    expect(() => fft.inverse(new Float64Array(9), new Float64Array(9), new Float64Array(8))).toThrow(
      DimensionError,
    );
  });
});

describe('nextPowerOfTwo / isPowerOfTwo', () => {
  it('returns the smallest power of two >= n', () => {
    expect(nextPowerOfTwo(1)).toBe(1);
    expect(nextPowerOfTwo(2)).toBe(2);
    expect(nextPowerOfTwo(3)).toBe(4);
    expect(nextPowerOfTwo(1000)).toBe(1024);
    expect(nextPowerOfTwo(1024)).toBe(1024);
    expect(nextPowerOfTwo(1025)).toBe(2048);
    expect(isPowerOfTwo(64)).toBe(true);
    expect(isPowerOfTwo(96)).toBe(false);
    expect(isPowerOfTwo(0)).toBe(false);
  });

  it('rejects non-positive or non-integer n', () => {
    expect(() => nextPowerOfTwo(0)).toThrow(InvalidArgumentError);
    expect(() => nextPowerOfTwo(2.5)).toThrow(InvalidArgumentError);
    expect(() => nextPowerOfTwo(Number.NaN)).toThrow(InvalidArgumentError);
  });
});

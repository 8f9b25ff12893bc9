/**
 * Fast Fourier transforms on Float64Array: an iterative radix-2 complex FFT (Cooley & Tukey 1965,
 * decimation in time) and a real FFT built on a half-length complex FFT (the "two-for-one" packing,
 * e.g. Press et al., Numerical Recipes, 3rd ed., section 12.3).
 *
 * Conventions (the same as numpy.fft):
 *   forward  X[k] = sum_{j<n} x[j] exp(-2 pi i j k / n)            (unnormalised)
 *   inverse  x[j] = (1/n) sum_{k<n} X[k] exp(+2 pi i j k / n)
 *
 * A plan (`ComplexFft`, `RealFft`) precomputes the twiddle factors and the bit-reversal swap table
 * once, and owns its scratch buffers, so transforms allocate nothing. `fftInPlace` keeps one cached
 * plan per size. Sizes must be powers of two.
 *
 * @example
 * const fft = new RealFft(8);
 * const x = Float64Array.from([1, 2, 3, 4, 0, 0, 0, 0]);
 * const re = new Float64Array(5), im = new Float64Array(5);
 * fft.forward(x, re, im);          // re[0] === 10 (the sum)
 * const y = new Float64Array(8);
 * fft.inverse(re, im, y);          // y equals x up to round-off
 */
import { DimensionError, InvalidArgumentError } from './errors.js';

/** Largest supported size: 2^30 points (index arithmetic stays in 32-bit integers). */
const MAX_SIZE = 2 ** 30;

/** True when n is an integer power of two (1, 2, 4, ...). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_SIZE && (n & (n - 1)) === 0;
}

/**
 * Smallest power of two >= n (n a positive integer <= 2^30). Used to zero-pad a series before an
 * FFT, e.g. `nextPowerOfTwo(2 * length)` for a linear (non-circular) autocorrelation.
 *
 * @example
 * nextPowerOfTwo(1000); // 1024
 */
export function nextPowerOfTwo(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SIZE) {
    throw new InvalidArgumentError(
      'n',
      `must be an integer in [1, 2^30], got ${n}`,
      'pass a positive integer length',
    );
  }
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function checkSize(name: string, n: number, min: number): void {
  if (!isPowerOfTwo(n) || n < min) {
    throw new InvalidArgumentError(
      name,
      `must be a power of two in [${min}, 2^30], got ${n}`,
      'zero-pad the data to nextPowerOfTwo(length), or pick a power-of-two size',
    );
  }
}

function checkLength(name: string, arr: Float64Array, expected: number): void {
  if (!(arr instanceof Float64Array)) {
    throw new InvalidArgumentError(name, 'must be a Float64Array', 'convert with Float64Array.from(values)');
  }
  if (arr.length !== expected) {
    throw new DimensionError(
      name,
      `has length ${arr.length}, expected ${expected}`,
      `pass a Float64Array of length ${expected}`,
    );
  }
}

/**
 * Plan for an in-place complex FFT of one power-of-two size n: iterative radix-2 decimation in
 * time, with a bit-reversal swap table and per-stage tables of the twiddles exp(-2 pi i j / span).
 * The first three stages run as one pass of length-8 transforms and the later stages in fused
 * pairs, so the data are swept about log2(n)/2 times.
 *
 * Cost: at most (n/2) log2(n) butterflies; no allocation per transform. Round-off: relative error
 * O(eps log2 n) in the 2-norm.
 *
 * @example
 * const plan = new ComplexFft(4);
 * const re = Float64Array.from([1, 0, 0, 0]), im = new Float64Array(4);
 * plan.forward(re, im); // re = [1, 1, 1, 1], im = [0, 0, 0, 0]
 */
export class ComplexFft {
  readonly n: number;
  /**
   * Per-stage twiddles: for half = 1, 2, 4, ..., n/2 and j < half, index half + j holds
   * cos(pi j / half) (twiddleRe) and -sin(pi j / half) (twiddleIm), i.e. exp(-2 pi i j / (2 half)).
   */
  private readonly twiddleRe: Float64Array;
  private readonly twiddleIm: Float64Array;
  /** Pairs (i, j), i < j, with j = bitreverse(i): the permutation as a list of swaps. */
  private readonly swaps: Uint32Array;

  constructor(n: number) {
    checkSize('n', n, 1);
    this.n = n;
    this.twiddleRe = new Float64Array(n);
    this.twiddleIm = new Float64Array(n);
    for (let half = 1; half < n; half <<= 1) {
      for (let j = 0; j < half; j++) {
        const a = (Math.PI * j) / half;
        this.twiddleRe[half + j] = Math.cos(a);
        this.twiddleIm[half + j] = -Math.sin(a);
      }
    }
    const bits = Math.round(Math.log2(n));
    const pairs: number[] = [];
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0, v = i; b < bits; b++, v >>>= 1) r = (r << 1) | (v & 1);
      if (i < r) pairs.push(i, r);
    }
    this.swaps = Uint32Array.from(pairs);
  }

  /** In-place forward transform X[k] = sum_j x[j] exp(-2 pi i j k / n) (unnormalised). */
  forward(re: Float64Array, im: Float64Array): void {
    checkLength('re', re, this.n);
    checkLength('im', im, this.n);
    this.transformUnchecked(re, im, -1);
  }

  /** In-place inverse transform x[j] = (1/n) sum_k X[k] exp(+2 pi i j k / n). */
  inverse(re: Float64Array, im: Float64Array): void {
    checkLength('re', re, this.n);
    checkLength('im', im, this.n);
    this.transformUnchecked(re, im, 1);
    const s = 1 / this.n;
    for (let i = 0; i < this.n; i++) {
      re[i] *= s;
      im[i] *= s;
    }
  }

  /**
   * The unscaled transform with exponent sign `sign` (-1 forward, +1 inverse without the 1/n), for
   * hot loops that have validated their buffers once: no length checks, no scaling.
   */
  transformUnchecked(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
    const n = this.n;
    if (n === 1) return;
    const sw = this.swaps;
    for (let s = 0; s < sw.length; s += 2) {
      const i = sw[s];
      const j = sw[s + 1];
      const tr = re[i];
      re[i] = re[j];
      re[j] = tr;
      const ti = im[i];
      im[i] = im[j];
      im[j] = ti;
    }
    if (n === 2) {
      const ar = re[0];
      const ai = im[0];
      re[0] = ar + re[1];
      im[0] = ai + im[1];
      re[1] = ar - re[1];
      im[1] = ai - im[1];
      return;
    }
    if (n === 4) {
      // Both stages of a length-4 transform; twiddles 1 and sign * i, no multiplications.
      const t0r = re[0] + re[1];
      const t0i = im[0] + im[1];
      const t1r = re[0] - re[1];
      const t1i = im[0] - im[1];
      const t2r = re[2] + re[3];
      const t2i = im[2] + im[3];
      // (sign i) * (x3 - x4)
      const ur = -sign * (im[2] - im[3]);
      const ui = sign * (re[2] - re[3]);
      re[0] = t0r + t2r;
      im[0] = t0i + t2i;
      re[2] = t0r - t2r;
      im[2] = t0i - t2i;
      re[1] = t1r + ur;
      im[1] = t1i + ui;
      re[3] = t1r - ur;
      im[3] = t1i - ui;
      return;
    }
    // First three stages fused into length-8 transforms on consecutive blocks. Their twiddles are
    // 1, sign * i and exp(sign i pi / 4) = r (1 + sign i), exp(sign 3 i pi / 4) = r (-1 + sign i)
    // with r = 1/sqrt(2), so they need only 4 real multiplications per block.
    const r = Math.SQRT1_2;
    for (let i = 0; i < n; i += 8) {
      // stage 1 (pairs of neighbours)
      const p0r = re[i] + re[i + 1];
      const p0i = im[i] + im[i + 1];
      const p1r = re[i] - re[i + 1];
      const p1i = im[i] - im[i + 1];
      const p2r = re[i + 2] + re[i + 3];
      const p2i = im[i + 2] + im[i + 3];
      const p3r = re[i + 2] - re[i + 3];
      const p3i = im[i + 2] - im[i + 3];
      const p4r = re[i + 4] + re[i + 5];
      const p4i = im[i + 4] + im[i + 5];
      const p5r = re[i + 4] - re[i + 5];
      const p5i = im[i + 4] - im[i + 5];
      const p6r = re[i + 6] + re[i + 7];
      const p6i = im[i + 6] + im[i + 7];
      const p7r = re[i + 6] - re[i + 7];
      const p7i = im[i + 6] - im[i + 7];
      // stage 2 (twiddles 1 and sign * i; (sign i)(x + i y) = -sign y + i sign x)
      const q0r = p0r + p2r;
      const q0i = p0i + p2i;
      const q2r = p0r - p2r;
      const q2i = p0i - p2i;
      const q1r = p1r - sign * p3i;
      const q1i = p1i + sign * p3r;
      const q3r = p1r + sign * p3i;
      const q3i = p1i - sign * p3r;
      const q4r = p4r + p6r;
      const q4i = p4i + p6i;
      const q6r = p4r - p6r;
      const q6i = p4i - p6i;
      const q5r = p5r - sign * p7i;
      const q5i = p5i + sign * p7r;
      const q7r = p5r + sign * p7i;
      const q7i = p5i - sign * p7r;
      // stage 3 (twiddles 1, r (1 + sign i), sign i, r (-1 + sign i))
      re[i] = q0r + q4r;
      im[i] = q0i + q4i;
      re[i + 4] = q0r - q4r;
      im[i + 4] = q0i - q4i;
      let tr = r * (q5r - sign * q5i);
      let ti = r * (q5i + sign * q5r);
      re[i + 1] = q1r + tr;
      im[i + 1] = q1i + ti;
      re[i + 5] = q1r - tr;
      im[i + 5] = q1i - ti;
      tr = -sign * q6i;
      ti = sign * q6r;
      re[i + 2] = q2r + tr;
      im[i + 2] = q2i + ti;
      re[i + 6] = q2r - tr;
      im[i + 6] = q2i - ti;
      tr = -r * (q7r + sign * q7i);
      ti = r * (sign * q7r - q7i);
      re[i + 3] = q3r + tr;
      im[i + 3] = q3i + ti;
      re[i + 7] = q3r - tr;
      im[i + 7] = q3i - ti;
    }
    const twr = this.twiddleRe;
    const twi = this.twiddleIm;
    // Remaining radix-2 stages (half = 8, 16, ..., n/2), fused in pairs: one pass over blocks of
    // 4 half does the butterflies of stage `half` (twiddle w = exp(-2 pi i j / (2 half)), stored at
    // index half + j) and of stage 2 half (twiddles W = exp(-2 pi i j / (4 half)) at 2 half + j, and
    // W * (sign i) for the odd pair). Half the memory passes of plain radix 2, same arithmetic.
    // The twiddle tables hold the forward (sign = -1) values; the inverse conjugates them.
    let half = 8;
    for (; 4 * half <= n; half <<= 2) {
      const half2 = half << 1;
      const span = half << 2;
      for (let start = 0; start < n; start += span) {
        for (let j = 0; j < half; j++) {
          const wr = twr[half + j];
          const wi = -sign * twi[half + j];
          const Wr = twr[half2 + j];
          const Wi = -sign * twi[half2 + j];
          const i0 = start + j;
          const i1 = i0 + half;
          const i2 = i1 + half;
          const i3 = i2 + half;
          // stage `half`: (i0, i1) and (i2, i3) with twiddle w
          let xr = re[i1];
          let xi = im[i1];
          let tr = wr * xr - wi * xi;
          let ti = wr * xi + wi * xr;
          const a0r = re[i0] + tr;
          const a0i = im[i0] + ti;
          const a1r = re[i0] - tr;
          const a1i = im[i0] - ti;
          xr = re[i3];
          xi = im[i3];
          tr = wr * xr - wi * xi;
          ti = wr * xi + wi * xr;
          const a2r = re[i2] + tr;
          const a2i = im[i2] + ti;
          const a3r = re[i2] - tr;
          const a3i = im[i2] - ti;
          // stage 2 half: (i0, i2) with W, (i1, i3) with W * (sign i)
          tr = Wr * a2r - Wi * a2i;
          ti = Wr * a2i + Wi * a2r;
          re[i0] = a0r + tr;
          im[i0] = a0i + ti;
          re[i2] = a0r - tr;
          im[i2] = a0i - ti;
          const br = Wr * a3r - Wi * a3i;
          const bi = Wr * a3i + Wi * a3r;
          // (sign i) * (br + i bi) = -sign bi + i sign br
          tr = -sign * bi;
          ti = sign * br;
          re[i1] = a1r + tr;
          im[i1] = a1i + ti;
          re[i3] = a1r - tr;
          im[i3] = a1i - ti;
        }
      }
    }
    if (half < n) {
      // One last radix-2 stage (half = n/2) when the number of remaining stages is odd.
      for (let j = 0; j < half; j++) {
        const wr = twr[half + j];
        const wi = -sign * twi[half + j];
        const k = j + half;
        const xr = re[k];
        const xi = im[k];
        const tr = wr * xr - wi * xi;
        const ti = wr * xi + wi * xr;
        const ur = re[j];
        const ui = im[j];
        re[k] = ur - tr;
        im[k] = ui - ti;
        re[j] = ur + tr;
        im[j] = ui + ti;
      }
    }
  }
}

const planCache = new Map<number, ComplexFft>();

/**
 * In-place complex FFT of (re, im), length a power of two. `inverse = true` computes the inverse
 * transform including the factor 1/n. Plans are cached per size, so repeated calls allocate nothing.
 *
 * @example
 * const re = Float64Array.from([0, 1, 0, 0]), im = new Float64Array(4);
 * fftInPlace(re, im);       // X[k] = exp(-2 pi i k / 4): re = [1, 0, -1, 0], im = [0, -1, 0, 1]
 * fftInPlace(re, im, true); // back to [0, 1, 0, 0]
 */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  if (!(re instanceof Float64Array)) {
    throw new InvalidArgumentError('re', 'must be a Float64Array', 'convert with Float64Array.from(values)');
  }
  const n = re.length;
  let plan = planCache.get(n);
  if (plan === undefined) {
    checkSize('re.length', n, 1);
    plan = new ComplexFft(n);
    planCache.set(n, plan);
  }
  if (inverse) plan.inverse(re, im);
  else plan.forward(re, im);
}

/**
 * Plan for the FFT of a real sequence of power-of-two length n >= 2, returning the n/2 + 1
 * non-negative-frequency bins (the rest follow from X[n-k] = conj(X[k])).
 *
 * Method: the even and odd samples are packed as z[j] = x[2j] + i x[2j+1], one complex FFT of length
 * m = n/2 gives Z, and with E[k] = (Z[k] + conj(Z[m-k]))/2, O[k] = (Z[k] - conj(Z[m-k]))/(2i):
 *   X[k] = E[k] + exp(-2 pi i k / n) O[k],  k = 0..m.
 * The inverse runs the same steps backwards. About half the work of a complex FFT of length n.
 *
 * @example
 * const fft = new RealFft(64);
 * const x = new Float64Array(64).map((_, j) => Math.cos((2 * Math.PI * 3 * j) / 64));
 * const re = new Float64Array(33), im = new Float64Array(33);
 * fft.forward(x, re, im); // re[3] = 32, all other bins ~ 0
 */
export class RealFft {
  readonly n: number;
  /** Number of output bins, n/2 + 1. */
  readonly bins: number;
  private readonly half: ComplexFft;
  /** cos(2 pi k / n), sin(2 pi k / n) for k <= n/2 (post-processing twiddles). */
  private readonly cosTable: Float64Array;
  private readonly sinTable: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(n: number) {
    checkSize('n', n, 2);
    this.n = n;
    const m = n >>> 1;
    this.bins = m + 1;
    this.half = new ComplexFft(m);
    this.cosTable = new Float64Array(m + 1);
    this.sinTable = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      const a = (2 * Math.PI * k) / n;
      this.cosTable[k] = Math.cos(a);
      this.sinTable[k] = Math.sin(a);
    }
    this.zr = new Float64Array(m);
    this.zi = new Float64Array(m);
  }

  /**
   * Forward transform of real x (length n) into re, im (length n/2 + 1 each), unnormalised:
   * X[k] = sum_j x[j] exp(-2 pi i j k / n). im[0] and im[n/2] are exactly 0. x is not modified.
   */
  forward(x: Float64Array, re: Float64Array, im: Float64Array): void {
    checkLength('x', x, this.n);
    const m = this.n >>> 1;
    const zr = this.zr;
    const zi = this.zi;
    for (let j = 0; j < m; j++) {
      zr[j] = x[2 * j];
      zi[j] = x[2 * j + 1];
    }
    this.forwardPacked(zr, zi, re, im);
  }

  /**
   * Inverse transform of the n/2 + 1 bins (re, im) into real out (length n), including 1/n:
   * out[j] = (1/n) sum_{k<n} X[k] exp(2 pi i j k / n) with X[n-k] = conj(X[k]). im[0] and im[n/2]
   * are ignored (they are zero for the transform of any real sequence). re, im are not modified.
   */
  inverse(re: Float64Array, im: Float64Array, out: Float64Array): void {
    checkLength('out', out, this.n);
    const m = this.n >>> 1;
    const zr = this.zr;
    const zi = this.zi;
    this.inversePacked(re, im, zr, zi);
    for (let j = 0; j < m; j++) {
      out[2 * j] = zr[j];
      out[2 * j + 1] = zi[j];
    }
  }

  /**
   * `forward` for a real sequence given in packed form z[j] = x[2j] + i x[2j+1] (zr, zi of length
   * n/2; overwritten, used as work space). With `inversePacked`, a pointwise operation on x (e.g.
   * squaring for a pseudo-spectral product) applies to zr and zi directly, skipping the unpacking.
   *
   * @example
   * // pseudo-spectral square: bins of x^2 from the bins of x, no unpacked copy of x
   * fft.inversePacked(re, im, zr, zi);
   * for (let j = 0; j < zr.length; j++) { zr[j] *= zr[j]; zi[j] *= zi[j]; }
   * fft.forwardPacked(zr, zi, re, im);
   */
  forwardPacked(zr: Float64Array, zi: Float64Array, re: Float64Array, im: Float64Array): void {
    const m = this.n >>> 1;
    checkLength('zr', zr, m);
    checkLength('zi', zi, m);
    checkLength('re', re, this.bins);
    checkLength('im', im, this.bins);
    this.half.transformUnchecked(zr, zi, -1);
    const cosT = this.cosTable;
    const sinT = this.sinTable;
    re[0] = zr[0] + zi[0];
    im[0] = 0;
    re[m] = zr[0] - zi[0];
    im[m] = 0;
    // Bins k and m - k share Z[k] and Z[m-k]: with E = (Z[k] + conj Z[m-k])/2,
    // O = (Z[k] - conj Z[m-k])/(2i) and W^k = c - i s (c, s = cos, sin of 2 pi k / n):
    //   X[k] = E + W^k O,  X[m-k] = conj(E) + W^{m-k} conj(O) with W^{m-k} = -(c + i s).
    for (let k = 1, kk = m - 1; k <= kk; k++, kk--) {
      const akr = zr[k];
      const aki = zi[k];
      const bkr = zr[kk];
      const bki = zi[kk];
      const er = 0.5 * (akr + bkr);
      const ei = 0.5 * (aki - bki);
      const or = 0.5 * (aki + bki);
      const oi = -0.5 * (akr - bkr);
      const c = cosT[k];
      const s = sinT[k];
      const pr = c * or + s * oi;
      const pi = c * oi - s * or;
      re[k] = er + pr;
      im[k] = ei + pi;
      re[kk] = er - pr;
      im[kk] = pi - ei;
    }
  }

  /**
   * `inverse` into packed form: writes zr[j] = x[2j], zi[j] = x[2j+1] (length n/2 each), where x is
   * the real inverse transform of (re, im) including 1/n. See `forwardPacked`.
   */
  inversePacked(re: Float64Array, im: Float64Array, zr: Float64Array, zi: Float64Array): void {
    const m = this.n >>> 1;
    checkLength('re', re, this.bins);
    checkLength('im', im, this.bins);
    checkLength('zr', zr, m);
    checkLength('zi', zi, m);
    const cosT = this.cosTable;
    const sinT = this.sinTable;
    // Undo the forward post-processing, with the 1/m of the half-length inverse folded in:
    // E = (X[k] + conj X[m-k])/2, D = (X[k] - conj X[m-k])/2, O = D conj(W^k), Z[k] = E + i O,
    // and Z[m-k] = conj(E) + i conj(O). k = 0 uses X[0], X[m] (both real).
    const h = 0.5 / m;
    zr[0] = h * (re[0] + re[m]);
    zi[0] = h * (re[0] - re[m]);
    for (let k = 1, kk = m - 1; k <= kk; k++, kk--) {
      const xkr = re[k];
      const xki = im[k];
      const ymr = re[kk];
      const ymi = im[kk];
      const er = h * (xkr + ymr);
      const ei = h * (xki - ymi);
      const dr = h * (xkr - ymr);
      const di = h * (xki + ymi);
      const c = cosT[k];
      const s = sinT[k];
      const or = dr * c - di * s;
      const oi = di * c + dr * s;
      zr[k] = er - oi;
      zi[k] = ei + or;
      zr[kk] = er + oi;
      zi[kk] = or - ei;
    }
    this.half.transformUnchecked(zr, zi, 1);
  }
}

import { ouExactPath } from '@sdekit/systems';
import { describe, expect, it } from 'vitest';
import {
  acfPooled,
  acfPooledCoordinates,
  compareSamples,
  DimensionError,
  InvalidArgumentError,
  Matrix,
  Rng,
  runBounds,
} from '../src/index.js';

/** R independent exact OU runs dx = -theta x dt + sqrt(2 theta) s dW (stationary law N(0, s^2)), stacked. */
function ouRuns(theta: number, runs: number, length: number, dt: number, seed: number, s = 1): Float64Array {
  const out = new Float64Array(runs * length);
  for (let r = 0; r < runs; r++) {
    const x = ouExactPath(Matrix.from([[theta]]), Matrix.from([[s * Math.sqrt(2 * theta)]]), {
      dt,
      length,
      seed,
      stream: r,
    });
    out.set(x, r * length);
  }
  return out;
}

/** The estimator written out: pooled mean, lag products within runs, sum over runs / number of pairs. */
function bruteForce(
  x: Float64Array,
  dim: number,
  runs: Int32Array,
  maxLag: number,
  stride: number,
  j: number,
) {
  const rows = x.length / dim;
  let m = 0;
  for (let i = 0; i < rows; i++) m += x[i * dim + j];
  m /= rows;
  const gamma = new Float64Array(maxLag + 1);
  for (let k = 0; k <= maxLag; k++) {
    let s = 0;
    let n = 0;
    for (let r = 0; r + 1 < runs.length; r++)
      for (let t = runs[r]; t + k * stride < runs[r + 1]; t++) {
        s += (x[t * dim + j] - m) * (x[(t + k * stride) * dim + j] - m);
        n++;
      }
    gamma[k] = s / n;
  }
  return gamma.map((g) => g / gamma[0]);
}

describe('acfPooledCoordinates', () => {
  it('is the pooled estimator written out, summed directly or by chunked FFTs, for runs of any lengths', () => {
    const rng = Rng.fromSeed(5);
    // Short runs (direct sums) and one run longer than a chunk with a wide lag window (FFTs).
    const cases = [
      { lengths: [7, 30, 12, 50], maxLag: 5, stride: 1 },
      { lengths: [40_000, 300, 25_000], maxLag: 120, stride: 2 },
    ];
    for (const { lengths, maxLag, stride } of cases) {
      const runs = runBounds(lengths);
      const rows = runs[runs.length - 1];
      const x = new Float64Array(2 * rows);
      let u = 0;
      for (let i = 0; i < rows; i++) {
        u = 0.95 * u + rng.normal();
        x[2 * i] = u + 3;
        x[2 * i + 1] = rng.normal();
      }
      const rho = acfPooledCoordinates(x, 2, runs, maxLag, stride);
      for (let j = 0; j < 2; j++) {
        const exact = bruteForce(x, 2, runs, maxLag, stride, j);
        for (let k = 0; k <= maxLag; k++) expect(Math.abs(rho[j][k] - exact[k])).toBeLessThan(1e-11);
      }
    }
  });

  it('acfPooled is its average over coordinates', () => {
    const x = ouRuns(1, 30, 40, 0.1, 3);
    const pooled = acfPooled(x, 1, 30, 10);
    const per = acfPooledCoordinates(x, 1, runBounds(new Array(30).fill(40)), 10)[0];
    for (let k = 0; k <= 10; k++) expect(pooled[k]).toBeCloseTo(per[k], 14);
  });

  it('names bad runs and lag windows', () => {
    expect(() => acfPooledCoordinates(new Float64Array(10), 1, Int32Array.of(0, 4, 9), 1)).toThrow(
      DimensionError,
    );
    expect(() => acfPooledCoordinates(new Float64Array(10), 1, runBounds([5, 5]), 5)).toThrow(/longest run/);
  });
});

describe('compareSamples on exact OU samples', () => {
  // dx = -theta x dt + sqrt(2 theta) dW, N(0, 1) stationary, sampled exactly (AR(1) with a = e^{-theta dt}).
  // dt = 0.05: the integrated autocorrelation time is (1 + a)/(1 - a) = 40 samples for theta = 1.
  const dt = 0.05;
  const maxLag = 60; // 3 time units
  const data = { data: ouRuns(1, 16, 5000, dt, 1), runs: runBounds(new Array(16).fill(5000)) };
  const same = { data: ouRuns(1, 8, 5000, dt, 2), runs: runBounds(new Array(8).fill(5000)) };
  const opts = { maxLag, bins: 30, seed: 7 };

  it('a simulation of the same process: every difference within its noise; the errors are the exact ones', () => {
    const c = compareSamples(data, same, 1, opts);
    expect(c.acf.significant).toEqual([false]);
    expect(c.acf.error[0]).toBeLessThan(c.acf.errorNoise[0]);
    expect(c.pdf.significant).toEqual([false]);
    expect(c.moments).toEqual({ meanSignificant: [false], stdSignificant: [false] });
    expect(c.pdf.kl[0] - c.pdf.klNoise[0]).toBeLessThan(2 * c.pdf.klSe[0]);
    expect(Math.abs(c.a.mean[0] - c.b.mean[0])).toBeLessThan(3 * Math.hypot(c.a.meanSe[0], c.b.meanSe[0]));
    expect(Math.abs(c.a.std[0] - c.b.std[0])).toBeLessThan(3 * Math.hypot(c.a.stdSe[0], c.b.stdSe[0]));
    // The bootstrap SE of the mean against the exact one: Var(mean of a run of n samples) =
    // (1/n^2) sum_{|k| < n} (n - |k|) a^|k| (stationary variance 1), over R independent runs.
    for (const [side, runs] of [
      [c.a, 16],
      [c.b, 8],
    ] as const) {
      const a = Math.exp(-dt);
      const n = 5000;
      let v = n;
      for (let k = 1; k < n; k++) v += 2 * (n - k) * a ** k;
      const exactSe = Math.sqrt(v / n ** 2 / runs);
      // 200 replicates of 16 (8) runs-worth of blocks: the SE of an SE is ~ 1/sqrt(2 * 200) plus
      // the block estimator's own bias; 30 % bounds both.
      expect(Math.abs(side.meanSe[0] / exactSe - 1)).toBeLessThan(0.3);
      // Effective samples = n R / (integrated autocorrelation time (1 + a)/(1 - a) = 40).
      expect(side.effectiveSamples[0] / ((n * runs) / ((1 + a) / (1 - a)))).toBeGreaterThan(0.6);
      expect(side.effectiveSamples[0] / ((n * runs) / ((1 + a) / (1 - a)))).toBeLessThan(1.6);
    }
    // Both ACFs are the exact e^{-t} within 4 of their standard errors at every lag.
    for (const side of [c.a, c.b])
      for (let k = 0; k <= maxLag; k++)
        expect(Math.abs(side.acf[0][k] - Math.exp(-k * dt))).toBeLessThan(4 * side.acfSe[0][k] + 1e-12);
  });

  it('a wrong timescale (theta = 2, same stationary law) is flagged in the ACF, not in the PDF', () => {
    const fast = { data: ouRuns(2, 8, 5000, dt, 3), runs: runBounds(new Array(8).fill(5000)) };
    const c = compareSamples(data, fast, 1, opts);
    expect(c.acf.significant).toEqual([true]);
    // e^{-t} - e^{-2t} peaks at 1/4 (t = ln 2): the error is that, far above its noise.
    expect(Math.abs(c.acf.error[0] - 0.25)).toBeLessThan(3 * c.acf.errorNoise[0]);
    expect(c.acf.error[0]).toBeGreaterThan(3 * c.acf.errorNoise[0]);
    expect(c.pdf.significant).toEqual([false]);
    // A wrong variance (std 1.3) is flagged in the PDF.
    const wide = { data: ouRuns(1, 8, 5000, dt, 4, 1.3), runs: runBounds(new Array(8).fill(5000)) };
    const w = compareSamples(data, wide, 1, opts);
    expect(w.pdf.significant).toEqual([true]);
    expect(w.moments).toEqual({ meanSignificant: [false], stdSignificant: [true] });
    expect(w.pdf.kl[0]).toBeGreaterThan(w.pdf.klNoise[0] + 5 * w.pdf.klSe[0]);
  });

  it('independent pieces of one long series read as runs give its statistics; read as one series they do not', () => {
    // One long path; pieces of 50 samples (2.5 correlation times) with 600-sample gaps between them
    // (e^{-30}: independent), 400 pieces.
    const piece = 50;
    const gap = 600;
    const count = 400;
    const long = ouRuns(1, 1, count * (piece + gap), dt, 9);
    const pieces = new Float64Array(count * piece);
    for (let r = 0; r < count; r++)
      pieces.set(long.subarray(r * (piece + gap), r * (piece + gap) + piece), r * piece);
    const lag = 20;
    const o = { maxLag: lag, bins: 20, seed: 1 };
    const asRuns = compareSamples(
      { data: pieces, runs: runBounds(new Array(count).fill(piece)) },
      { data: long },
      1,
      o,
    );
    expect(asRuns.acf.significant).toEqual([false]);
    expect(asRuns.pdf.significant).toEqual([false]);
    expect(Math.abs(asRuns.a.mean[0] - asRuns.b.mean[0])).toBeLessThan(
      3 * Math.hypot(asRuns.a.meanSe[0], asRuns.b.meanSe[0]),
    );
    for (let k = 0; k <= lag; k++)
      expect(Math.abs(asRuns.a.acf[0][k] - Math.exp(-k * dt))).toBeLessThan(4 * asRuns.a.acfSe[0][k] + 1e-12);
    // As one series the lag products across the 399 joins (uncorrelated) pull rho(k) down by about
    // k / 50: 0.4 e^{-1} = 0.15 at k = 20, many noise levels.
    const joined = compareSamples({ data: pieces }, { data: long }, 1, o);
    expect(joined.acf.significant).toEqual([true]);
    expect(joined.acf.error[0]).toBeGreaterThan(0.1);
  });

  it('a set that is one block has no noise level: NaN standard errors, nothing flagged, a warning', () => {
    // One path of 400 samples of a slow OU (theta = 0.05: 5 autocorrelation times are ~4000 samples).
    const slow = { data: ouRuns(0.05, 1, 400, dt, 6) };
    const c = compareSamples(data, slow, 1, { maxLag: 10, bins: 10 });
    expect(c.b.layout.units).toBe(1);
    expect(c.b.meanSe[0]).toBeNaN();
    expect(c.acf.errorNoise[0]).toBeNaN();
    expect(c.pdf.klSe[0]).toBeNaN();
    expect([c.acf.significant, c.pdf.significant]).toEqual([[false], [false]]);
    expect(c.warnings.join()).toMatch(/set B is a single block .*no difference is flagged/);
    expect(Number.isFinite(c.a.meanSe[0])).toBe(true);
  });

  it('names a bad argument', () => {
    expect(() => compareSamples(data, same, 1, { maxLag: 10, replicates: 5 })).toThrow(InvalidArgumentError);
    expect(() => compareSamples(data, { data: same.data, runs: runBounds([10]) }, 1, { maxLag: 10 })).toThrow(
      /b\.runs/,
    );
  });
});

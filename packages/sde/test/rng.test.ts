import { describe, expect, it } from 'vitest';
import { childSeed, InvalidArgumentError, Rng, streamOf } from '../src/index.js';
import { correlation, ksCritical001, ksStatistic, normalCdf } from './helpers.js';

describe('Rng', () => {
  it('uniforms have the moments of U(0, 1) and pass a KS test', () => {
    const n = 1_000_000;
    const u = Rng.fromSeed(11).fillUniform(new Float64Array(n));
    let s = 0;
    let s2 = 0;
    let outOfRange = 0;
    for (const v of u) {
      if (!(v >= 0 && v < 1)) outOfRange++;
      s += v;
    }
    expect(outOfRange).toBe(0);
    const m = s / n;
    for (const v of u) s2 += (v - m) ** 2;
    // sd of the mean sqrt(1/12/n); sd of the variance sqrt((1/80 - 1/144)/n); 4 sigma bounds.
    expect(Math.abs(m - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - 1 / 12)).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / n));
    const sub = u.subarray(0, 100_000);
    expect(ksStatistic(sub, (x) => Math.min(1, Math.max(0, x)))).toBeLessThan(ksCritical001(sub.length));
  });

  it('normals have the moments of N(0, 1) and pass a KS test that a shifted CDF fails', () => {
    const n = 1_000_000;
    const z = Rng.fromSeed(12).fillNormal(new Float64Array(n));
    let m1 = 0;
    for (const v of z) m1 += v;
    m1 /= n;
    let c2 = 0;
    let c3 = 0;
    let c4 = 0;
    for (const v of z) {
      const e = v - m1;
      c2 += e * e;
      c3 += e * e * e;
      c4 += e * e * e * e;
    }
    c2 /= n;
    // Asymptotic sds of mean, variance, skewness, kurtosis for a Gaussian: 1, sqrt2, sqrt6, sqrt24 over sqrt n.
    expect(Math.abs(m1)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(c2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(c3 / n / c2 ** 1.5)).toBeLessThan(4 * Math.sqrt(6 / n));
    expect(Math.abs(c4 / n / (c2 * c2) - 3)).toBeLessThan(4 * Math.sqrt(24 / n));
    const sub = z.subarray(0, 200_000);
    const crit = ksCritical001(sub.length);
    expect(ksStatistic(sub, normalCdf)).toBeLessThan(crit);
    // Power check: the same sample against N(0.02, 1) is rejected (shift 0.02 >> crit ~ 0.0044).
    expect(ksStatistic(sub, (x) => normalCdf(x - 0.02))).toBeGreaterThan(crit);
    // The tail sampler: P(|Z| > 3.4426) (the ziggurat's base strip) matches 2 (1 - Phi(3.4426)).
    let tail = 0;
    for (const v of z) if (Math.abs(v) > 3.442619855899) tail++;
    const p = 2 * (1 - normalCdf(3.442619855899));
    expect(Math.abs(tail / n - p)).toBeLessThan(4 * Math.sqrt(p / n));
  });

  it('is bit-reproducible for a seed; fills equal repeated single draws; state round-trips', () => {
    const a = Rng.fromSeed(2024, 3);
    const b = Rng.fromSeed(2024, 3);
    const za = a.fillNormal(new Float64Array(5000));
    const zb = new Float64Array(5000);
    for (let i = 0; i < zb.length; i++) zb[i] = b.normal();
    expect(Array.from(za)).toEqual(Array.from(zb));
    const ua = a.fillUniform(new Float64Array(1000), -2, 3);
    const ub = new Float64Array(1000);
    for (let i = 0; i < ub.length; i++) ub[i] = -2 + 5 * b.uniform();
    expect(Array.from(ua)).toEqual(Array.from(ub));
    const saved = a.state();
    const next = a.fillNormal(new Float64Array(10));
    const restored = Rng.fromState(saved).fillNormal(new Float64Array(10));
    expect(Array.from(restored)).toEqual(Array.from(next));
    const c = a.clone();
    expect(c.nextUint32()).toBe(a.nextUint32());
    expect(Rng.fromSeed(2024, 4).normal()).not.toBe(Rng.fromSeed(2024, 3).normal());
  });

  it('different streams and seeds are uncorrelated (|r| < 4 / sqrt(n))', () => {
    const n = 200_000;
    const base = Rng.fromSeed(7, 0).fillNormal(new Float64Array(n));
    for (const other of [Rng.fromSeed(7, 1), Rng.fromSeed(7, 2), Rng.fromSeed(8, 0)]) {
      const z = other.fillNormal(new Float64Array(n));
      expect(Math.abs(correlation(base, z))).toBeLessThan(4 / Math.sqrt(n));
      // Lag-1 cross correlation too (catches a stream that is a shifted copy).
      expect(Math.abs(correlation(base.subarray(1), z.subarray(0, n - 1)))).toBeLessThan(4 / Math.sqrt(n));
    }
  });

  it('jump() moves to a different, non-overlapping sub-sequence', () => {
    const a = Rng.fromSeed(5);
    const b = a.clone();
    b.jump();
    const n = 100_000;
    const ua = new Uint32Array(n);
    const ub = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      ua[i] = a.nextUint32();
      ub[i] = b.nextUint32();
    }
    // No 3-word window of the jumped stream occurs in the first 1e5 words of the original
    // (a chance match has probability ~ 1e5^2 / 2^96).
    const windows = new Set<string>();
    for (let i = 0; i + 2 < n; i++) windows.add(`${ua[i]},${ua[i + 1]},${ua[i + 2]}`);
    let hits = 0;
    for (let i = 0; i + 2 < n; i++) if (windows.has(`${ub[i]},${ub[i + 1]},${ub[i + 2]}`)) hits++;
    expect(hits).toBe(0);
    const fa = Float64Array.from(ua, (v) => v / 2 ** 32);
    const fb = Float64Array.from(ub, (v) => v / 2 ** 32);
    expect(Math.abs(correlation(fa, fb))).toBeLessThan(4 / Math.sqrt(n));
    // jump is deterministic: two jumps from the same state agree.
    const c = Rng.fromSeed(5);
    c.jump();
    expect(c.nextUint32()).toBe(ub[0]);
  });

  it('integer(n) is unbiased, including ranges where modulo reduction would be biased', () => {
    const rng = Rng.fromSeed(9);
    const draws = 300_000;
    const counts = new Float64Array(3);
    for (let i = 0; i < draws; i++) counts[rng.integer(3)]++;
    let chi2 = 0;
    for (const c of counts) chi2 += (c - draws / 3) ** 2 / (draws / 3);
    expect(chi2).toBeLessThan(13.8); // chi-square, 2 degrees of freedom, p = 0.001
    // n = 3 * 2^30: plain r % n would put 1/2 of the mass below 2^30, the unbiased sampler 1/3.
    const big = 3 * 2 ** 30;
    let low = 0;
    const m = 100_000;
    for (let i = 0; i < m; i++) if (rng.integer(big) < 2 ** 30) low++;
    expect(Math.abs(low / m - 1 / 3)).toBeLessThan(4 * Math.sqrt(2 / 9 / m));
    const perm = rng.permutation(new Int32Array(50));
    expect(Array.from(perm).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects bad seeds and ranges with typed errors', () => {
    expect(() => Rng.fromSeed(-1)).toThrow(InvalidArgumentError);
    expect(() => Rng.fromSeed(1.5)).toThrow(InvalidArgumentError);
    expect(() => Rng.fromSeed(1, Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => Rng.fromSeed(1).integer(0)).toThrow(InvalidArgumentError);
    expect(() => Rng.fromState(new Uint32Array(3))).toThrow(InvalidArgumentError);
  });
});

describe('named streams and child seeds', () => {
  it('give every (seed, name) its own seed and stream, also across neighbouring seeds', () => {
    const names = ['stein-samples', 'cdot-perturbation', 'dsm-batches', 'a', 'b', 'ab', 'ba'];
    const seen = new Set<number>();
    for (let seed = 0; seed < 2000; seed++)
      for (const name of names) {
        const c = childSeed(seed, name);
        expect(Number.isInteger(c) && c >= 0 && c < 2 ** 52).toBe(true);
        seen.add(c);
      }
    // 14000 children, none equal to another (or to a small seed a user would pick).
    expect(seen.size).toBe(2000 * names.length);
    for (let seed = 0; seed < 2000; seed++) expect(seen.has(seed)).toBe(false);
    expect(new Set(names.map(streamOf)).size).toBe(names.length);
    expect(childSeed(5, 'a')).toBe(childSeed(5, 'a'));
    expect(() => childSeed(-1, 'a')).toThrow(InvalidArgumentError);
    expect(() => streamOf('')).toThrow(InvalidArgumentError);
  });

  it('named streams of one seed are uncorrelated (|r| < 4 / sqrt(n))', () => {
    const n = 20000;
    const a = Rng.named(3, 'stein-samples').fillNormal(new Float64Array(n));
    const b = Rng.named(3, 'cdot-perturbation').fillNormal(new Float64Array(n));
    const c = Rng.fromSeed(childSeed(3, 'stein-samples')).fillNormal(new Float64Array(n));
    let ab = 0;
    let ac = 0;
    for (let i = 0; i < n; i++) {
      ab += a[i] * b[i];
      ac += a[i] * c[i];
    }
    expect(Math.abs(ab / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(ac / n)).toBeLessThan(4 / Math.sqrt(n));
  });
});

/**
 * bandCalibration against exchangeability: for a curve drawn from the same law as the draws, the
 * p-value is uniform on {1, ..., S + 1} / (S + 1) and the simultaneous band holds the whole curve
 * with probability given by the order statistic its factor interpolates (both exact for
 * exchangeable draws); a curve displaced by 3 standard deviations lies beyond (almost) every draw.
 */
import { InvalidArgumentError, Rng } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { bandCalibration, bandCoverage } from '../src/index.js';

const G = 21;
const X = Float64Array.from({ length: G }, (_, g) => -1 + (2 * g) / (G - 1));

/** Random lines a + b x, a, b ~ N(0, 1): a smooth 2-dof curve, as the error of a fitted bbar is. */
function lines(rng: Rng, count: number): Float64Array {
  const out = new Float64Array(count * G);
  for (let s = 0; s < count; s++) {
    const a = rng.normal();
    const b = rng.normal();
    for (let g = 0; g < G; g++) out[s * G + g] = a + b * X[g];
  }
  return out;
}

describe('bandCalibration', () => {
  it('uniform p-values and level coverage of the simultaneous band for curves from the same law', () => {
    // R = 2000 replicates of S = 40 draws and one fresh curve (few draws, where measuring a draw
    // against a band that contains it would show: its distance is biased low). Exchangeability
    // makes P(p <= k / 41) = k / 41 exactly; the simultaneous band's factor is the type-7 0.95
    // quantile of 40 distances, between the 38th and 39th order statistics (h = 39 * 0.95 = 37.05),
    // so a fresh curve lies inside with probability between 38/41 and 39/41. Binomial standard
    // errors <= 0.011: 4 se allowed.
    const rng = Rng.fromSeed(3, 0);
    const R = 2000;
    const S = 40;
    const thresholds = [2, 10, 20];
    const atMost = [0, 0, 0];
    let inside = 0;
    for (let r = 0; r < R; r++) {
      const draws = lines(rng, S);
      const curve = lines(rng, 1);
      const c = bandCalibration(draws, S, G, curve);
      thresholds.forEach((k, i) => {
        if (c.pValue <= k / (S + 1) + 1e-12) atMost[i]++;
      });
      let all = true;
      for (let g = 0; g < G; g++) {
        if (curve[g] < c.simultaneous.lower[g] || curve[g] > c.simultaneous.upper[g]) all = false;
      }
      if (all) inside++;
    }
    console.log(
      `P(p <= k/41) for k = ${thresholds.join(', ')}: ${atMost.map((a) => a / R).join(', ')}; inside the simultaneous band: ${inside / R}`,
    );
    thresholds.forEach((k, i) => {
      const p = k / (S + 1);
      expect(Math.abs(atMost[i] / R - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / R));
    });
    const se = Math.sqrt((0.05 * 0.95) / R);
    expect(inside / R).toBeGreaterThan(38 / 41 - 4 * se);
    expect(inside / R).toBeLessThan(39 / 41 + 4 * se);
  });

  it('a curve 3 standard deviations off lies beyond almost every draw; bad input is named', () => {
    const rng = Rng.fromSeed(4, 0);
    const S = 300;
    const draws = lines(rng, S);
    // Offset 3 at every x: |a - 3| / 1.96 exceeds a draw's sup distance for all but ~0.3 % of draws.
    const curve = Float64Array.from(X, () => 3);
    const c = bandCalibration(draws, S, G, curve);
    expect(c.pValue).toBeLessThan(0.02);
    // Coverage by the pointwise band: half-widths 1.96 sqrt(1 + x^2) <= 2.8 < 3, so no point is
    // inside; the same count by bandCoverage on the band itself.
    expect(c.coverage).toBe(0);
    expect(
      bandCoverage(
        Float64Array.from(X, (x) => 0.1 * x),
        c.simultaneous.lower,
        c.simultaneous.upper,
      ),
    ).toBe(1);
    expect(c.simultaneous.coverage).toBe(bandCoverage(curve, c.simultaneous.lower, c.simultaneous.upper));
    expect(c.drawDistances.length).toBe(S);
    for (let s = 1; s < S; s++) expect(c.drawDistances[s]).toBeGreaterThanOrEqual(c.drawDistances[s - 1]);
    // Only the judged outputs count: judging the single point x = 0 (where sd = 1) against a curve
    // that is 3 there still flags it; a curve equal to the median there is central.
    const judged = Array.from({ length: G }, (_, g) => g === 10);
    expect(bandCalibration(draws, S, G, curve, { judged }).pValue).toBeLessThan(0.02);
    expect(bandCalibration(draws, S, G, new Float64Array(G), { judged }).pValue).toBeGreaterThan(0.5);
    expect(() => bandCalibration(draws, S, G, new Float64Array(3))).toThrow(InvalidArgumentError);
    expect(() => bandCalibration(draws, S, G, curve, { judged: new Array(G).fill(false) })).toThrow(/judged/);
  });
});

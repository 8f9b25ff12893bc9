import { InvalidArgumentError, Matrix, Rng } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import {
  Generator,
  generatorFromLabels,
  type SparseColumnMatrix,
  stationaryDistribution,
  transitionMatrix,
} from '../src/index.js';

// docs/methods.md §3 exact check, 0-based: [1,1,1,2,2,3,3,3,2,1] -> [0,0,0,1,1,2,2,2,1,0], dt = 1.
const EXAMPLE = Int32Array.of(0, 0, 0, 1, 1, 2, 2, 2, 1, 0);

function expectDense(Q: SparseColumnMatrix, expected: number[][], tol = 1e-14): void {
  const D = Q.toDense();
  for (let j = 0; j < expected.length; j++) {
    for (let i = 0; i < expected.length; i++)
      expect(D.get(j, i)).toBeCloseTo(expected[j][i], -Math.log10(tol));
  }
}

describe('generatorFromLabels: exact small cases (docs/methods.md §3)', () => {
  it('holding-time estimator reproduces the docs/methods.md generator exactly', () => {
    // Sojourns: state 0 -> runs of 3 and 1 (the final, censored one) -> tau_0 = 2, one exit to 1;
    // state 1 -> runs 2 and 1 -> tau_1 = 3/2, exits to 2 and to 0; state 2 -> run 3, exit to 1.
    const { Q, warnings } = generatorFromLabels(EXAMPLE, 3, 1, { estimator: 'holding-times' });
    expectDense(Q, [
      [-1 / 2, 1 / 3, 0],
      [1 / 2, -2 / 3, 1 / 3],
      [0, 1 / 3, -1 / 3],
    ]);
    // 4 changes in 9 steps: only the coarse-sampling warning (leave fraction 4/9 > 0.3)
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain('leave fraction');
  });

  it('count estimator gives the hand-computed n_i and N_ij rates (differs in column 0)', () => {
    // n = (3, 3, 3) over t = 0..8; N_01 = N_12 = N_21 = N_10 = 1 -> Q[j,i] = N_ij / n_i.
    const est = generatorFromLabels(EXAMPLE, 3, 1);
    expectDense(est.Q, [
      [-1 / 3, 1 / 3, 0],
      [1 / 3, -2 / 3, 1 / 3],
      [0, 1 / 3, -1 / 3],
    ]);
    expect(Array.from(est.occupancy)).toEqual([3, 3, 3]);
    expect(Array.from(est.exits)).toEqual([1, 2, 1]);
    expect(est.leaveFraction).toBeCloseTo(4 / 9, 15);
    // leave fraction 4/9 > 0.3 -> the coarse-sampling warning is returned
    expect(est.warnings.some((w) => w.includes('leave fraction'))).toBe(true);
  });

  it('dt scales the rates as 1/dt', () => {
    const a = generatorFromLabels(EXAMPLE, 3, 1).Q.toDense();
    const b = generatorFromLabels(EXAMPLE, 3, 0.25).Q.toDense();
    for (let k = 0; k < 9; k++) expect(b.data[k]).toBeCloseTo(4 * a.data[k], 14);
  });

  it('per-state correction: exit rate becomes -ln(p_stay)/dt, split by N_ij', () => {
    // p_stay = (2/3, 1/3, 2/3) -> corrected exit rates ln(3/2), ln 3, ln(3/2).
    const { Q, kappa } = generatorFromLabels(EXAMPLE, 3, 1, { correction: 'per-state' });
    const l15 = Math.log(1.5);
    const l3 = Math.log(3);
    expectDense(Q, [
      [-l15, l3 / 2, 0],
      [l15, -l3, l15],
      [0, l3 / 2, -l15],
    ]);
    expect(kappa[0]).toBeCloseTo(3 * l15, 14);
    expect(kappa[1]).toBeCloseTo(1.5 * l3, 14);
  });

  it('global correction: one factor = weighted mean corrected / mean naive exit rate', () => {
    // occupancy weights (3,3,3): corrected mean (2 ln 1.5 + ln 3)/3, naive mean (1/3 + 2/3 + 1/3)/3 = 4/9.
    const kappaGlobal = (2 * Math.log(1.5) + Math.log(3)) / 3 / (4 / 9);
    const { Q, kappa } = generatorFromLabels(EXAMPLE, 3, 1, { correction: 'global' });
    for (let i = 0; i < 3; i++) expect(kappa[i]).toBeCloseTo(kappaGlobal, 14);
    expectDense(Q, [
      [-kappaGlobal / 3, kappaGlobal / 3, 0],
      [kappaGlobal / 3, (-2 * kappaGlobal) / 3, kappaGlobal / 3],
      [0, kappaGlobal / 3, -kappaGlobal / 3],
    ]);
  });

  it('never-visited states have zero rows and columns', () => {
    const { Q } = generatorFromLabels(Int32Array.of(0, 0, 1, 1, 0, 0), 4, 1);
    // n = (3, 2), N_01 = 1, N_10 = 1
    expectDense(Q, [
      [-1 / 3, 1 / 2, 0, 0],
      [1 / 3, -1 / 2, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(Q.nnz).toBe(4);
  });

  it('a state visited only at the last sample has a zero column and is reported', () => {
    const labels = Int32Array.of(0, 0, 1, 0, 1, 2);
    for (const estimator of ['counts', 'holding-times'] as const) {
      const { Q, warnings } = generatorFromLabels(labels, 3, 1, { estimator });
      for (let j = 0; j < 3; j++) expect(Q.get(j, 2)).toBe(0);
      expect(Q.get(2, 1)).toBeGreaterThan(0); // it was entered
      expect(warnings.some((w) => w.includes('state 2 is visited only at the last sample'))).toBe(true);
    }
    // counts: n_1 = 2 with exits to 0 and 2 -> 1/2 each
    const { Q } = generatorFromLabels(labels, 3, 1);
    expect(Q.get(0, 1)).toBe(0.5);
    expect(Q.get(2, 1)).toBe(0.5);
  });

  it('counts no transition across segment boundaries (exact, both estimators)', () => {
    // Segments [0, 0, 1, 1] and [2, 2, 0, 0]: the concatenation's step 1 -> 2 at t = 3 is not a transition.
    const labels = Int32Array.of(0, 0, 1, 1, 2, 2, 0, 0);
    const segmentStarts = Int32Array.of(4);
    // counts: origins 0, 0, 1 | 2, 2, 0 -> n = (3, 1, 2); exits 0 -> 1 once, 2 -> 0 once.
    const counts = generatorFromLabels(labels, 3, 1, { segmentStarts });
    expectDense(counts.Q, [
      [-1 / 3, 0, 1 / 2],
      [1 / 3, 0, 0],
      [0, 0, -1 / 2],
    ]);
    expect(counts.leaveFraction).toBeCloseTo(2 / 6, 15);
    expect(counts.warnings.some((w) => w.startsWith('1 visited state(s) were never left'))).toBe(true);
    // holding times: runs 0 (2) | 1 (2, censored) || 2 (2) | 0 (2, censored): tau_0 = 2, tau_2 = 2.
    const held = generatorFromLabels(labels, 3, 1, { segmentStarts, estimator: 'holding-times' });
    expectDense(held.Q, [
      [-1 / 2, 0, 1 / 2],
      [1 / 2, 0, 0],
      [0, 0, -1 / 2],
    ]);
    // Without the boundary the step 1 -> 2 is counted: state 1 then has an exit.
    expect(generatorFromLabels(labels, 3, 1).Q.get(2, 1)).toBe(1 / 2);
    // A state seen only at a segment's last sample is named.
    const ends = generatorFromLabels(Int32Array.of(0, 0, 2, 1, 1, 0), 3, 1, {
      segmentStarts: Int32Array.of(3),
    });
    expect(ends.warnings).toContain(
      'state 2 is visited only at the last sample of a segment; its column is zero (no exit observed)',
    );
  });

  it('transitionMatrix skips pairs across segments; bad segmentStarts are typed errors', () => {
    const labels = Int32Array.of(0, 1, 0, 1, 1, 0);
    const P = transitionMatrix(labels, 2, 2, Int32Array.of(3));
    // lag-2 pairs within [0, 1, 0] and [1, 1, 0]: (0 -> 0) and (1 -> 0).
    expectDense(P, [
      [1, 1],
      [0, 0],
    ]);
    for (const bad of [Int32Array.of(0), Int32Array.of(6), Int32Array.of(3, 3), Int32Array.of(4, 2)]) {
      expect(() => generatorFromLabels(labels, 2, 1, { segmentStarts: bad })).toThrow(InvalidArgumentError);
      expect(() => generatorFromLabels(labels, 2, 1, { segmentStarts: bad })).toThrow(/segmentStarts/);
    }
    expect(() => generatorFromLabels(Int32Array.of(0, 1), 2, 1, { segmentStarts: Int32Array.of(1) })).toThrow(
      /no pair of consecutive samples/,
    );
  });

  it('columns sum to zero for random label sequences, every estimator and correction', () => {
    const rng = Rng.fromSeed(11);
    const K = 60;
    const labels = new Int32Array(5000);
    // sticky random walk so that states repeat
    let c = 0;
    for (let t = 0; t < labels.length; t++) {
      if (rng.uniform() < 0.4) c = rng.integer(K);
      labels[t] = c;
    }
    for (const estimator of ['counts', 'holding-times'] as const) {
      for (const correction of ['none', 'per-state', 'global'] as const) {
        const { Q } = generatorFromLabels(labels, K, 0.1, { estimator, correction });
        const sums = Q.columnSums();
        let scale = 0;
        for (let i = 0; i < K; i++) scale = Math.max(scale, Q.exitRate(i));
        for (let i = 0; i < K; i++) expect(Math.abs(sums[i])).toBeLessThan(1e-12 * scale);
        for (let i = 0; i < K; i++) {
          Q.forEachInColumn(i, (j, v) => {
            if (j !== i) expect(v).toBeGreaterThan(0);
          });
        }
      }
    }
  });

  it('no warning when the leave fraction is small', () => {
    const labels = new Int32Array(100);
    for (let t = 50; t < 100; t++) labels[t] = 1;
    labels[99] = 0;
    const est = generatorFromLabels(labels, 2, 1);
    expect(est.leaveFraction).toBeCloseTo(2 / 99, 15);
    expect(est.warnings).toEqual([]);
  });

  it('typed errors: labels out of range, too few labels, dt <= 0, bad options', () => {
    expect(() => generatorFromLabels(Int32Array.of(0, 3), 3, 1)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(Int32Array.of(0, -1), 3, 1)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(Int32Array.of(0), 3, 1)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(new Int32Array(0), 3, 1)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(EXAMPLE, 3, 0)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(EXAMPLE, 3, -1)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(EXAMPLE, 3, Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels([0, 1] as unknown as Int32Array, 3, 1)).toThrow(InvalidArgumentError);
    expect(() => generatorFromLabels(EXAMPLE, 3, 1, { correction: 'foo' as 'none' })).toThrow(
      InvalidArgumentError,
    );
    try {
      generatorFromLabels(Int32Array.of(0, 5), 3, 1);
    } catch (e) {
      expect((e as InvalidArgumentError).argument).toBe('labels');
    }
  });
});

describe('transition matrices and occupation', () => {
  it('lag-1 and lag-2 transition matrices match hand counts', () => {
    const P1 = transitionMatrix(EXAMPLE, 3, 1);
    // from 0 (t=0,1,2): 0,0,1; from 1 (t=3,4,8): 1,2,0; from 2 (t=5,6,7): 2,2,1
    expectDense(P1, [
      [2 / 3, 1 / 3, 0],
      [1 / 3, 1 / 3, 1 / 3],
      [0, 1 / 3, 2 / 3],
    ]);
    const P2 = transitionMatrix(EXAMPLE, 3, 2);
    // pairs (c_t, c_{t+2}), t = 0..7: (0,0) (0,1) (0,1) (1,2) (1,2) (2,2) (2,1) (2,0)
    expectDense(P2, [
      [1 / 3, 0, 1 / 3],
      [2 / 3, 0, 1 / 3],
      [0, 1, 1 / 3],
    ]);
    const sums = P2.columnSums();
    for (let i = 0; i < 3; i++) expect(sums[i]).toBeCloseTo(1, 15);
    expect(() => transitionMatrix(EXAMPLE, 3, 0)).toThrow(InvalidArgumentError);
    expect(() => transitionMatrix(EXAMPLE, 3, 10)).toThrow(InvalidArgumentError);
  });

  it('stationaryDistribution counts all T+1 samples', () => {
    const pi = stationaryDistribution(EXAMPLE, 4);
    expect(Array.from(pi)).toEqual([0.4, 0.3, 0.3, 0]);
  });
});

describe('Generator storage', () => {
  it('get, apply, applyTranspose, toDense and JSON agree with the dense matrix', () => {
    const dense = Matrix.from([
      [-1.5, 0.3, 0.4],
      [1.0, -1.0, 0.2],
      [0.5, 0.7, -0.6],
    ]);
    const Q = Generator.fromDense(dense);
    const v = Float64Array.of(0.2, -1, 3);
    const Qv = Q.apply(v);
    const QTv = Q.applyTranspose(v);
    for (let j = 0; j < 3; j++) {
      let s = 0;
      let sT = 0;
      for (let i = 0; i < 3; i++) {
        s += dense.get(j, i) * v[i];
        sT += dense.get(i, j) * v[i];
        expect(Q.get(j, i)).toBe(dense.get(j, i));
      }
      expect(Qv[j]).toBeCloseTo(s, 15);
      expect(QTv[j]).toBeCloseTo(sT, 15);
    }
    const back = Generator.fromJSON(JSON.parse(JSON.stringify(Q.toJSON())));
    expect(Array.from(back.toDense().data)).toEqual(Array.from(dense.data));
    expect(() =>
      Generator.fromDense(
        Matrix.from([
          [-1, 0],
          [2, 0],
        ]),
      ),
    ).toThrow(InvalidArgumentError);
  });
});

/**
 * fitLangevin is the pipeline of public steps run in one call: the steps run by hand with the same
 * seed give the same model bit for bit (learned and exact scores), and a step can be replaced (a Cdot
 * of the caller's own).
 */
import { Matrix, matmul, pathOf, simulate, solve, type TimeSeries } from '@sdekit/sde';
import { ouSystem, reducedTriadSystem } from '@sdekit/systems';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  analyticScore,
  type CdotEstimator,
  estimateCdot,
  estimateScore,
  estimateStein,
  estimateUncertainty,
  fitLangevin,
  LagCdot,
  LangevinModel,
  langevinCoefficients,
  planBootstrap,
  type ScoreOptions,
  selectCdotEstimator,
  standardize,
} from '../src';

/** Everything the model holds, as one string: matrices, uncertainty, diagnostics, warnings, weights. */
const whole = (m: LangevinModel) =>
  JSON.stringify({ json: m.toJSON(), uncertainty: m.diagnostics.uncertainty, tail: m.tailBox });

/** The pipeline by hand, as README "The pipeline step by step" shows it. */
function byHand(
  series: TimeSeries,
  score: ScoreOptions['score'],
  extra: Partial<ScoreOptions>,
  seed: number,
) {
  const data = standardize(series);
  const bootstrap = planBootstrap(data);
  const selection = selectCdotEstimator(data, { seed });
  const s = estimateScore(data, { score, ...extra, seed });
  const stein = estimateStein(data, s, { blocks: bootstrap.blocks, seed });
  const cdot = estimateCdot(data, selection, { scoreSigma: s.sigma, blocks: bootstrap.blocks, seed });
  const coefficients = langevinCoefficients(cdot.cdot, stein.v);
  const uncertainty = estimateUncertainty(bootstrap, { cdot, stein, coefficients, seed });
  const model = LangevinModel.fromSteps({
    data,
    bootstrap,
    score: s,
    stein,
    cdot,
    coefficients,
    uncertainty,
  });
  return { data, s, stein, cdot, coefficients, uncertainty, bootstrap, model };
}

// 2-D OU process dx = -Phi C0^{-1} x dt + sqrt(2) chol(Phi_S) dW with p = N(0, C0) (langevin.test.ts).
const C0_INV = solve(
  Matrix.from([
    [1, 0.3],
    [0.3, 0.5],
  ]),
  Matrix.identity(2),
);
const ouScore = analyticScore(2, (x, out) => {
  out[0] = -(C0_INV.data[0] * x[0] + C0_INV.data[1] * x[1]);
  out[1] = -(C0_INV.data[2] * x[0] + C0_INV.data[3] * x[1]);
});
const drift = Matrix.from([
  [1, -0.5],
  [0.5, 0.7],
]);
const noise = Matrix.from([
  [Math.SQRT2, 0],
  [0, Math.SQRT2 * Math.sqrt(0.7)],
]);
const ou = pathOf(
  simulate(ouSystem(matmul(drift, C0_INV), noise), {
    x0: new Float64Array(2),
    h: 1e-3,
    T: 300,
    saveEvery: 10,
    burnIn: 2000,
    seed: 1,
  }),
  0,
);

describe('the pipeline step by step', () => {
  it('a given exact score: the hand-run steps give exactly the model of fitLangevin', () => {
    const score = { model: ouScore, units: 'original' as const };
    const fitted = fitLangevin(ou, { score, seed: 2 });
    const h = byHand(ou, score, {}, 2);
    const model = h.model;
    expect(h.uncertainty).not.toBeNull();
    expect(Array.from(model.phi.data)).toEqual(Array.from(fitted.phi.data));
    expect(Array.from(model.sigma.data)).toEqual(Array.from(fitted.sigma.data));
    expect(model.diagnostics.warnings).toEqual(fitted.diagnostics.warnings);
    expect(whole(model)).toBe(whole(fitted));
    // Another seed gives another bootstrap (the steps do read the seed).
    const other = byHand(ou, score, {}, 3);
    expect(other.uncertainty!.phi.se.data[0]).not.toBe(h.uncertainty!.phi.se.data[0]);
  });

  it('DSM: the hand-run steps give exactly the model of fitLangevin, weights included, no tensor left', () => {
    const t1 = pathOf(
      simulate(reducedTriadSystem(), {
        x0: Float64Array.of(0.02),
        h: 1e-3,
        T: 100,
        saveEvery: 10,
        burnIn: 1000,
        seed: 1,
      }),
      0,
    );
    const before = tf.memory().numTensors;
    const dsm = { steps: 60, hiddenDims: [16, 16] };
    const fitted = fitLangevin(t1, { score: 'dsm-mlp', sigma: 0.05, dsm, seed: 4 });
    const h = byHand(t1, 'dsm-mlp', { sigma: 0.05, dsm }, 4);
    const model = h.model;
    expect(h.s.history.at(-1)?.step).toBe(60);
    expect(model.diagnostics.heldOutLoss).toBe(fitted.diagnostics.heldOutLoss);
    expect(Array.from(model.phi.data)).toEqual(Array.from(fitted.phi.data));
    expect(whole(model)).toBe(whole(fitted));
    const pts = Float64Array.of(-1.5, 0, 0.7);
    expect(Array.from(model.score.score(pts))).toEqual(Array.from(fitted.score.score(pts)));
    model.dispose();
    fitted.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("swaps in the caller's own Cdot: Phi = Cdot V^{-1} of that Cdot", () => {
    const own = Matrix.from([
      [-1.2, 0.4],
      [-0.6, -0.9],
    ]);
    const fixed: CdotEstimator = {
      name: 'lag',
      estimate: () => ({
        cdot: own,
        estimator: 'lag',
        biasOrder: 1,
        details: {},
        warnings: [],
        partition: null,
      }),
    };
    const data = standardize(ou);
    const score = estimateScore(data, { score: { model: ouScore, units: 'original' }, seed: 1 });
    const stein = estimateStein(data, score, { seed: 1 });
    const cdot = estimateCdot(data, selectCdotEstimator(data, { cdotEstimator: fixed }), { seed: 1 });
    const coefficients = langevinCoefficients(cdot.cdot, stein.v);
    const model = LangevinModel.fromSteps({ data, score, stein, cdot, coefficients });
    // Phi V = Cdot (a linear solve; no shift for this Cdot).
    expect(model.diagnostics.shift).toBe(0);
    const back = matmul(model.phi, stein.v);
    for (let k = 0; k < 4; k++) expect(back.data[k]).toBeCloseTo(own.data[k], 12);
    expect(model.diagnostics.cdotChoice).toBe('custom');
    expect(model.diagnostics.uncertainty).toBeNull();
    // The same estimator through fitLangevin (no bootstrap: it has no replicate) gives the same model.
    const fitted = fitLangevin(ou, {
      score: { model: ouScore, units: 'original' },
      cdotEstimator: fixed,
      uncertainty: false,
      seed: 1,
    });
    expect(whole(model)).toBe(whole(fitted));
    // A library estimator by hand equals the same estimator named in fitLangevin.
    const lag2 = new LagCdot({ lag: 2, extrapolate: false });
    const viaFit = fitLangevin(ou, {
      score: { model: ouScore, units: 'original' },
      cdotEstimator: lag2,
      seed: 1,
    });
    const bootstrap = planBootstrap(data);
    const stein2 = estimateStein(data, score, { blocks: bootstrap.blocks, seed: 1 });
    const cdot2 = estimateCdot(data, selectCdotEstimator(data, { cdotEstimator: lag2 }), {
      blocks: bootstrap.blocks,
      seed: 1,
    });
    const c2 = langevinCoefficients(cdot2.cdot, stein2.v);
    const u2 = estimateUncertainty(bootstrap, { cdot: cdot2, stein: stein2, coefficients: c2, seed: 1 });
    const byHand2 = LangevinModel.fromSteps({
      data,
      bootstrap,
      score,
      stein: stein2,
      cdot: cdot2,
      coefficients: c2,
      uncertainty: u2,
    });
    expect(whole(byHand2)).toBe(whole(viaFit));
  });

  it('fitLangevin frees the trained network when onProgress throws after the last step', () => {
    const before = tf.memory().numTensors;
    const fail = (stage: string) => () =>
      fitLangevin(ou, {
        score: 'dsm-mlp',
        dsm: { steps: 5, hiddenDims: [8] },
        seed: 1,
        onProgress: (p) => {
          if (p.stage === stage) throw new Error(`stop at ${stage}`);
        },
      });
    for (const stage of ['stein', 'bootstrap', 'done']) {
      expect(fail(stage)).toThrow(`stop at ${stage}`);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('the steps check their inputs with typed errors', () => {
    const data = standardize(ou);
    expect(() => planBootstrap(data, { replicates: 5 })).toThrow(/replicates/);
    expect(() => selectCdotEstimator(data, { cdotEstimator: 'richardson' as never })).toThrow(/removed/);
    expect(() => selectCdotEstimator(data, { correction: 'per-state' })).toThrow(/chose the lag estimator/);
    const exact = estimateScore(data, { score: { model: ouScore, units: 'original' }, seed: 1 });
    expect(() => estimateCdot(data, selectCdotEstimator(data), { perturbSeries: true })).toThrow(/sigma 0/);
    expect(() => estimateStein(data, exact, { samples: 0 })).toThrow(/samples/);
    expect(() => estimateScore(data, { score: 'dsm' as never, seed: 1 })).toThrow(/unknown choice/);
  });
});

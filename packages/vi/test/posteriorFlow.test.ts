import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  flowForward,
  flowForwardTensor,
  flowLogProb,
  flowLogProbConstant,
  flowLogProbTensor,
  initialFlowParams,
  numFlowParams,
  toCentredParams,
} from '../src/index.js';

/** A flow with every block away from the identity, so each term of log q is exercised. */
function randomFlow(dim: number, layers: number, rank: number, seed: number) {
  const shape = { dim, layers, rank };
  const rng = Rng.fromSeed(seed, 9);
  const phi = new Float64Array(numFlowParams(shape));
  rng.fillNormal(phi, 0, 0.4);
  return { shape, phi };
}

describe('posterior flow (float64)', () => {
  it('inverse log-density equals forward log-density at the sampled points', () => {
    const { shape, phi } = randomFlow(5, 2, 3, 1);
    const e = new Float64Array(50 * 5);
    Rng.fromSeed(2).fillNormal(e);
    const fwd = flowForward(phi, shape, e);
    const inv = flowLogProb(phi, shape, fwd.theta);
    for (let i = 0; i < 50; i++) expect(inv[i]).toBeCloseTo(fwd.logProb[i], 9);
  });

  it('log q equals log N(e) - log|det dtheta/de| with a finite-difference Jacobian (dim 3)', () => {
    const { shape, phi } = randomFlow(3, 2, 2, 3);
    const e = Float64Array.from([0.3, -1.1, 0.7]);
    const { theta, logProb } = flowForward(phi, shape, e);
    const h = 1e-6;
    const J: number[][] = [[], [], []];
    for (let j = 0; j < 3; j++) {
      const ep = e.slice();
      const em = e.slice();
      ep[j] += h;
      em[j] -= h;
      const tp = flowForward(phi, shape, ep).theta;
      const tm = flowForward(phi, shape, em).theta;
      for (let i = 0; i < 3; i++) J[i][j] = (tp[i] - tm[i]) / (2 * h);
    }
    const det =
      J[0][0] * (J[1][1] * J[2][2] - J[1][2] * J[2][1]) -
      J[0][1] * (J[1][0] * J[2][2] - J[1][2] * J[2][0]) +
      J[0][2] * (J[1][0] * J[2][1] - J[1][1] * J[2][0]);
    let logN = -1.5 * Math.log(2 * Math.PI);
    for (let i = 0; i < 3; i++) logN -= 0.5 * e[i] * e[i];
    // central differences have error O(h^2) ~ 1e-12 relative to O(1) entries, round-off ~1e-10/h
    expect(logProb[0]).toBeCloseTo(logN - Math.log(Math.abs(det)), 6);
    expect(theta.length).toBe(3);
  });

  it('initial params give exactly N(mean, diag(std^2))', () => {
    const shape = { dim: 4, layers: 2, rank: 2 };
    const mean = Float64Array.from([1, -2, 0.5, 3]);
    const std = Float64Array.from([0.1, 2, 1, 0.5]);
    const phi = initialFlowParams(shape, { mean, std }, Rng.fromSeed(4));
    const e = Float64Array.from([0.2, -0.4, 1.5, -2]);
    const { theta, logProb } = flowForward(phi, shape, e);
    let expected = -2 * Math.log(2 * Math.PI);
    for (let i = 0; i < 4; i++) {
      expect(theta[i]).toBeCloseTo(mean[i] + std[i] * e[i], 12);
      expected -= 0.5 * e[i] * e[i] + Math.log(std[i]);
    }
    expect(logProb[0]).toBeCloseTo(expected, 12);
  });
});

describe('posterior flow (tfjs float32) matches float64', () => {
  it('forward theta, forward log q and inverse log q agree to float32 precision', () => {
    const { shape, phi } = randomFlow(6, 2, 3, 5);
    const n = 20;
    const e = new Float64Array(n * 6);
    Rng.fromSeed(6).fillNormal(e);
    const ref = flowForward(phi, shape, e);
    const before = tf.memory().numTensors;
    const [theta, lqF, lqI] = tf.tidy(() => {
      const p = tf.tensor1d(Float32Array.from(phi));
      const fw = flowForwardTensor(p, shape, tf.tensor2d(Float32Array.from(e), [n, 6]));
      const inv = flowLogProbTensor(p, shape, fw.theta);
      return [fw.theta.dataSync(), fw.logProbVar.dataSync(), inv.dataSync()];
    });
    expect(tf.memory().numTensors).toBe(before);
    const c = flowLogProbConstant(shape);
    for (let i = 0; i < n * 6; i++)
      expect(Math.abs(theta[i] - ref.theta[i])).toBeLessThan(1e-4 * (1 + Math.abs(ref.theta[i])));
    for (let s = 0; s < n; s++) {
      // float32 sums of ~30 O(1) terms: absolute error ~1e-5
      expect(Math.abs(lqF[s] + c - ref.logProb[s])).toBeLessThan(1e-3);
      expect(Math.abs(lqI[s] + c - ref.logProb[s])).toBeLessThan(1e-3);
    }
  });

  it('the non-centred (anchored) parameterisation equals the centred one after toCentredParams', () => {
    const { shape, phi } = randomFlow(4, 1, 2, 7);
    const anchor = Float64Array.from([1, -2, 3, 0.5]);
    const n = 6;
    const e = new Float64Array(n * 4);
    Rng.fromSeed(8).fillNormal(e);
    const ref = flowForward(toCentredParams(phi, shape, anchor), shape, e);
    const [theta, lqF, lqI] = tf.tidy(() => {
      const p = tf.tensor1d(Float32Array.from(phi));
      const a = tf.tensor1d(Float32Array.from(anchor));
      const fw = flowForwardTensor(p, shape, tf.tensor2d(Float32Array.from(e), [n, 4]), a);
      return [
        fw.theta.dataSync(),
        fw.logProbVar.dataSync(),
        flowLogProbTensor(p, shape, fw.theta, a).dataSync(),
      ];
    });
    const c = flowLogProbConstant(shape);
    for (let i = 0; i < n * 4; i++)
      expect(Math.abs(theta[i] - ref.theta[i])).toBeLessThan(1e-4 * (1 + Math.abs(ref.theta[i])));
    for (let s = 0; s < n; s++) {
      expect(Math.abs(lqF[s] + c - ref.logProb[s])).toBeLessThan(1e-3);
      expect(Math.abs(lqI[s] + c - ref.logProb[s])).toBeLessThan(1e-3);
    }
  });
});

import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ElementwiseAffine, Flow, LowRankMixing, realNvp, SinhArcsinh } from '../src/index.js';
import { logAbsDet } from './helpers.js';

/** A transform with float64 twins at explicit parameters. */
type Twin = (SinhArcsinh | LowRankMixing | ElementwiseAffine) & {
  forward64(params: readonly Float64Array[], u: Float64Array, logDensity?: Float64Array): void;
  inverse64(params: readonly Float64Array[], v: Float64Array, logDensity?: Float64Array): void;
};

/** Random parameters N(0, scale^2) per entry, one Float64Array per parameter shape. */
function randomParams(t: Twin, seed: number, scale: number): Float64Array[] {
  const rng = Rng.fromSeed(seed, 3);
  return t.paramShapes.map((s) => {
    const p = new Float64Array(s.reduce((a, b) => a * b, 1));
    rng.fillNormal(p, 0, scale);
    return p;
  });
}

/** log|det dv/du| of the float64 forward map at one point, by central differences (h = 1e-6). */
function fdLogDet(t: Twin, params: Float64Array[], x: Float64Array): number {
  const d = t.dim;
  const h = 1e-6;
  const jac = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const p = Float64Array.from(x);
    const m = Float64Array.from(x);
    p[j] += h;
    m[j] -= h;
    t.forward64(params, p);
    t.forward64(params, m);
    for (let i = 0; i < d; i++) jac[i * d + j] = (p[i] - m[i]) / (2 * h);
  }
  return logAbsDet(jac, d);
}

const D = 5;
const N = 40;
const cases: { name: string; make: () => Twin }[] = [
  { name: 'SinhArcsinh', make: () => new SinhArcsinh({ dim: D }) },
  { name: 'LowRankMixing', make: () => new LowRankMixing({ dim: D, rank: 2 }) },
  { name: 'ElementwiseAffine', make: () => new ElementwiseAffine({ dim: D, dataInit: false }) },
];

describe.each(cases)('$name float64 twins', ({ make }) => {
  const t = make();
  const params = randomParams(t, 1, 0.6);
  const x = new Float64Array(N * D);
  Rng.fromSeed(2).fillNormal(x, 0, 1.5);

  it('holds no tensors unless its variables are used', () => {
    const before = tf.memory().numTensors;
    const u = make();
    u.forward64(params, Float64Array.from(x));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('inverse64(forward64(x)) = x, and both add log|det du/dv| = -log|det dv/du| (float64)', () => {
    const y = Float64Array.from(x);
    const lqForward = new Float64Array(N).fill(0.25);
    t.forward64(params, y, lqForward);
    expect(Array.from(y).some((v, i) => Math.abs(v - x[i]) > 1e-2)).toBe(true);
    const lqInverse = new Float64Array(N).fill(0.25);
    t.inverse64(params, y, lqInverse);
    // a handful of float64 roundings through exp/asinh/sinh: 1e-12 relative is ~4000 ulps
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(y[i] - x[i])).toBeLessThan(1e-12 * (1 + Math.abs(x[i])));
    for (let r = 0; r < N; r++) {
      expect(lqForward[r]).not.toBe(0.25);
      expect(Math.abs(lqInverse[r] - lqForward[r])).toBeLessThan(1e-12 * (1 + Math.abs(lqForward[r])));
    }
  });

  it('forward64 subtracts log|det| of a finite-difference Jacobian (float64)', () => {
    for (let r = 0; r < 8; r++) {
      const row = x.slice(r * D, (r + 1) * D);
      const lq = new Float64Array(1);
      const y = Float64Array.from(row);
      t.forward64(params, y, lq);
      // central differences: truncation h^2 |f'''| ~ 1e-12, rounding 1e-16 / h ~ 1e-10 per entry
      expect(Math.abs(-lq[0] - fdLogDet(t, params, row))).toBeLessThan(1e-7);
    }
  });

  it('agrees with the float32 tf forward and inverse', () => {
    const y = Float64Array.from(x);
    const lq = new Float64Array(N);
    t.forward64(params, y, lq);
    const [ty, tld, tback, tild] = tf.tidy(() => {
      const p = params.map((v, i) => tf.tensor(Float32Array.from(v), t.paramShapes[i]));
      const f = t.forward(tf.tensor2d(Float32Array.from(x), [N, D]), p);
      const b = t.inverse(tf.tensor2d(Float32Array.from(y), [N, D]), p);
      return [f.y.dataSync(), f.logDet?.dataSync(), b.y.dataSync(), b.logDet?.dataSync()];
    });
    for (let i = 0; i < x.length; i++) {
      // float32 roundings of the parameters and of O(10) values: 1e-5 relative
      expect(Math.abs(ty[i] - y[i])).toBeLessThan(1e-5 * (1 + Math.abs(y[i])));
      expect(Math.abs(tback[i] - x[i])).toBeLessThan(1e-4 * (1 + Math.abs(x[i])));
    }
    for (let r = 0; r < N; r++) {
      expect(Math.abs((tld as Float32Array)[r] + lq[r])).toBeLessThan(1e-4 * (1 + Math.abs(lq[r])));
      expect(Math.abs((tild as Float32Array)[r] - lq[r])).toBeLessThan(1e-4 * (1 + Math.abs(lq[r])));
    }
  });
});

describe('SinhArcsinh split log-determinant', () => {
  it('forward = forwardSplit + logDetConstant, inverse = inverseSplit - logDetConstant, exactly', () => {
    const t = new SinhArcsinh({ dim: 3 });
    expect(t.logDetConstant).toBe(-3 * Math.LN2);
    tf.tidy(() => {
      const p = [tf.tensor1d([0.3, -0.2, 0.1]), tf.tensor1d([0.2, -0.4, 0])];
      const u = tf.randomNormal([6, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
      const whole = t.forward(u, p).logDet?.dataSync() as Float32Array;
      const split = t.forwardSplit(u, p).logDet?.dataSync() as Float32Array;
      const inv = t.inverse(u, p).logDet?.dataSync() as Float32Array;
      const invSplit = t.inverseSplit(u, p).logDet?.dataSync() as Float32Array;
      for (let r = 0; r < 6; r++) {
        expect(whole[r]).toBe(Math.fround(split[r] + t.logDetConstant));
        expect(inv[r]).toBe(Math.fround(invSplit[r] - t.logDetConstant));
      }
    });
  });

  it('is the identity at zero parameters and at construction', () => {
    const t = new SinhArcsinh({ dim: 2 });
    tf.tidy(() => {
      const u = tf.tensor2d([
        [0.5, -3],
        [10, 0],
      ]);
      const r = t.forward(u, t.variables);
      const y = r.y.dataSync();
      expect(Array.from(y).map((v, i) => Math.abs(v - u.dataSync()[i]) < 1e-5)).toEqual([
        true,
        true,
        true,
        true,
      ]);
      for (const v of r.logDet?.dataSync() ?? []) expect(Math.abs(v)).toBeLessThan(1e-5);
    });
    t.dispose();
  });
});

describe('LowRankMixing', () => {
  it('initialParams is the identity (U = 0) with v_k drawn row by row from the stream', () => {
    const t = new LowRankMixing({ dim: 3, rank: 2 });
    const [u, v] = t.initialParams(Rng.fromSeed(5));
    const rng = Rng.fromSeed(5);
    expect(Array.from(u)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(v)).toEqual(Array.from({ length: 6 }, () => rng.normal()));
    const x = Float64Array.of(0.5, -1, 2);
    const y = Float64Array.from(x);
    t.forward64([u, v], y);
    for (let i = 0; i < 3; i++) expect(Math.abs(y[i] - x[i])).toBeLessThan(1e-15);
    expect(Math.abs(t.logDet64([u, v]))).toBeLessThan(1e-15);
  });

  it('rejects a rank above dim', () => {
    expect(() => new LowRankMixing({ dim: 2, rank: 3 })).toThrow();
  });
});

describe('flows of the new transforms', () => {
  it('sample, logProb and JSON through Flow; sampleAt(params) = setParams + sample bit for bit', () => {
    const before = tf.memory().numTensors;
    const flow = new Flow([
      new SinhArcsinh({ dim: 3 }),
      new LowRankMixing({ dim: 3, rank: 2 }),
      new ElementwiseAffine({ dim: 3, dataInit: false }),
    ]);
    const theta = new Float64Array(flow.numParams);
    Rng.fromSeed(6).fillNormal(theta, 0, 0.4);
    const at = flow.sampleAndLogProbAt(theta, 50, 7);
    expect(Array.from(flow.getParams()).every((v) => v === 0)).toBe(true); // untouched
    flow.setParams(theta);
    const set = flow.sampleAndLogProb(50, 7);
    expect(Array.from(at.x)).toEqual(Array.from(set.x));
    expect(Array.from(at.logProb)).toEqual(Array.from(set.logProb));
    const lp = flow.logProb(set.x);
    for (let i = 0; i < 50; i++) expect(Math.abs(lp[i] - set.logProb[i])).toBeLessThan(1e-4);
    const again = Flow.fromJSON(JSON.parse(JSON.stringify(flow.toJSON())));
    expect(Array.from(again.logProb(set.x))).toEqual(Array.from(lp));
    again.dispose();
    flow.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sampleAt of a coupling flow equals setParams + sample and checks its parameters', () => {
    const flow = realNvp({ dim: 2, layers: 2, hidden: 8, seed: 1 });
    const theta = flow.getParams().map((v, i) => v + 0.01 * Math.sin(i));
    const at = flow.sampleAt(theta, 20, 3);
    flow.setParams(theta);
    expect(Array.from(at)).toEqual(Array.from(flow.sample(20, 3)));
    expect(() => flow.sampleAt(theta.subarray(1), 20, 3)).toThrow();
    flow.dispose();
  });
});

import { flatten, type TrainingCheckpoint } from '@sdekit/nn';
import { DimensionError, FormatError, InvalidArgumentError, NonFiniteError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Flow, realNvp, splineFlow } from '../src/index.js';
import { normalBatch } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Perturbs every parameter by N(0, scale^2) so the flow is far from the identity. */
function perturb(flow: Flow, seed: number, scale = 0.2): void {
  const p = flow.getParams();
  const rng = Rng.fromSeed(seed, 3);
  for (let i = 0; i < p.length; i++) p[i] += scale * rng.normal();
  flow.setParams(p);
}

describe('Flow at initialisation', () => {
  it('has exactly the standard-normal density (realNvp, splineFlow, random mixing, conditional)', () => {
    const x = Float64Array.from(normalBatch(50, 3, 1, 2));
    const ctx = Float64Array.from(normalBatch(50, 2, 2));
    const flows: [Flow, Float64Array | undefined][] = [
      [realNvp({ dim: 3, layers: 3, hidden: 16, seed: 1 }), undefined],
      [splineFlow({ dim: 3, layers: 3, hidden: 16, mixing: 'orthogonal', seed: 2 }), undefined],
      [splineFlow({ dim: 3, layers: 2, hidden: 16, mixing: 'random', contextDim: 2, seed: 3 }), ctx],
    ];
    for (const [flow, c] of flows) {
      const lp = flow.logProb(x, c);
      for (let i = 0; i < 50; i++) {
        let s = 0;
        for (let j = 0; j < 3; j++) s += x[i * 3 + j] ** 2;
        // float32 inputs (relative 6e-8 on |x|^2 <= 40) and, for splines, knot rounding: 1e-5
        expect(Math.abs(lp[i] - (-0.5 * s - 1.5 * LOG_2PI))).toBeLessThan(1e-5);
      }
      flow.dispose();
    }
  });
});

describe('Flow APIs agree', () => {
  const flow = splineFlow({ dim: 3, layers: 3, hidden: 16, bins: 6, mixing: 'orthogonal', seed: 4 });
  perturb(flow, 1);
  const z = tf.tensor2d(normalBatch(40, 3, 7), [40, 3]);

  it('flat API with theta = getParams() equals the variable API, values and gradients', () => {
    const theta = tf.tensor1d(Float32Array.from(flow.getParams()));
    expect(theta.shape[0]).toBe(flow.numParams);
    tf.tidy(() => {
      const x1 = flow.forwardTensor(z);
      const x2 = flow.forwardFlat(z, theta);
      expect(Array.from(x2.dataSync())).toEqual(Array.from(x1.dataSync()));
      const l1 = flow.logProbTensor(x1).dataSync();
      const l2 = flow.logProbFlat(x1, theta).dataSync();
      expect(Array.from(l2)).toEqual(Array.from(l1));
      const s1 = flow.sampleAndLogProbTensor(z);
      const s2 = flow.sampleAndLogProbFlat(z, theta);
      expect(Array.from(s2.logProb.dataSync())).toEqual(Array.from(s1.logProb.dataSync()));
      // sampling-direction log-density equals the density-direction one at the same point
      const back = s1.logProb.dataSync();
      for (let i = 0; i < 40; i++)
        expect(Math.abs(back[i] - l1[i])).toBeLessThan(1e-3 * (1 + Math.abs(l1[i])));
    });
    // d/dtheta of sum log p(x) equals the variable gradients, flattened in the same layout
    const x = flow.forwardTensor(z);
    const gTheta = tf
      .grad((t: tf.Tensor) => tf.sum(flow.logProbFlat(x, t as tf.Tensor1D)))(theta)
      .dataSync();
    const { grads } = tf.variableGrads(
      () => tf.sum(flow.logProbTensor(x)) as tf.Scalar,
      flow.variables as tf.Variable[],
    );
    const gVar = flatten(flow.variables.map((v) => grads[v.name]));
    let maxAbs = 0;
    for (let i = 0; i < gVar.length; i++) maxAbs = Math.max(maxAbs, Math.abs(gVar[i]));
    expect(maxAbs).toBeGreaterThan(0);
    for (let i = 0; i < gVar.length; i++)
      expect(Math.abs(gTheta[i] - gVar[i])).toBeLessThan(1e-4 * (1 + maxAbs));
    tf.dispose([theta, x, ...Object.values(grads)]);
  });

  it('sample is seeded and consistent with logProb (float64 arrays)', () => {
    const a = flow.sampleAndLogProb(200, 5);
    const b = flow.sample(200, 5);
    const c = flow.sample(200, 6);
    expect(Array.from(b)).toEqual(Array.from(a.x));
    expect(Array.from(c)).not.toEqual(Array.from(a.x));
    const lp = flow.logProb(a.x);
    for (let i = 0; i < 200; i++)
      expect(Math.abs(lp[i] - a.logProb[i])).toBeLessThan(1e-3 * (1 + Math.abs(lp[i])));
  });

  it('round-trips through JSON', () => {
    const copy = Flow.fromJSON(JSON.parse(JSON.stringify(flow.toJSON())));
    const x = flow.sample(30, 9);
    expect(Array.from(copy.logProb(x))).toEqual(Array.from(flow.logProb(x)));
    expect(Array.from(copy.getParams())).toEqual(Array.from(flow.getParams()));
    expect(() => Flow.fromJSON({ ...flow.toJSON(), version: 2 as 1 })).toThrow(FormatError);
    expect(() => Flow.fromJSON({ ...flow.toJSON(), format: 'other' as 'sdekit.flow' })).toThrow(FormatError);
    copy.dispose();
  });

  it('a model JSON refused part way (bad params, a bad transform) leaves no tensor behind', () => {
    const json = flow.toJSON();
    const before = tf.memory().numTensors;
    expect(() => Flow.fromJSON({ ...json, params: json.params.slice(1) })).toThrow(/params/);
    const broken = { ...json, transforms: [...json.transforms.slice(0, -1), { kind: 'nope' }] };
    expect(() => Flow.fromJSON(broken as unknown as typeof json)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws typed errors for wrong dimension, non-finite data, zero layers', () => {
    expect(() => flow.logProb(new Float64Array(7))).toThrow(DimensionError);
    expect(() => flow.forwardTensor(tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(DimensionError);
    expect(() => flow.logProbFlat(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([5]) as tf.Tensor1D)).toThrow(
      DimensionError,
    );
    expect(() => flow.setParams(new Float64Array(3))).toThrow(DimensionError);
    const bad = Float64Array.from([0, 1, 2, 3, Number.NaN, 5]);
    expect(() => flow.logProb(bad)).toThrow(NonFiniteError);
    expect(() => flow.fit(bad, { seed: 1, steps: 1 })).toThrow(NonFiniteError);
    expect(() => realNvp({ dim: 2, layers: 0, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => new Flow([])).toThrow(InvalidArgumentError);
    expect(() => flow.sample(10, 1, new Float64Array(20))).toThrow(DimensionError); // context to an unconditional flow
  });
});

describe('Flow.fit bookkeeping', () => {
  it('leaves no tensor behind when training is aborted (a throwing onProgress, a schedule that turns bad)', () => {
    const flow = realNvp({ dim: 2, layers: 2, hidden: 8, seed: 6 });
    const data = Float64Array.from(normalBatch(400, 2, 9, 0.5));
    flow.fit(data, { seed: 1, steps: 5, batchSize: 32, evaluateEvery: 5 }); // warm-up: Adam's kernels
    const before = tf.memory().numTensors;
    const stop = () => {
      throw new Error('stop');
    };
    expect(() =>
      flow.fit(data, { seed: 2, steps: 20, batchSize: 32, evaluateEvery: 5, onProgress: stop }),
    ).toThrow('stop');
    const bad = (step: number) => (step < 3 ? 1e-3 : Number.NaN);
    expect(() => flow.fit(data, { seed: 3, steps: 20, batchSize: 32, lr: bad })).toThrow();
    // aborted through the signal part way (after the record at step 10) and before the first step
    const abort = new AbortController();
    const onProgress = ({ step }: { step: number }) => {
      if (step === 10) abort.abort();
    };
    expect(() =>
      flow.fit(data, {
        seed: 4,
        steps: 20,
        batchSize: 32,
        evaluateEvery: 5,
        onProgress,
        signal: abort.signal,
      }),
    ).toThrow(/abort/i);
    expect(() => flow.fit(data, { seed: 4, steps: 20, batchSize: 32, signal: abort.signal })).toThrow(
      /abort/i,
    );
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('keeps tf.memory().numTensors flat across many steps, restores the best parameters, reports progress', () => {
    const flow = realNvp({ dim: 2, layers: 2, hidden: 16, seed: 5 });
    const data = Float64Array.from(normalBatch(2000, 2, 8, 0.5));
    const counts: number[] = [];
    const progress: number[] = [];
    const h1 = flow.fit(data, { seed: 1, steps: 20, batchSize: 64, evaluateEvery: 10 }); // warm-up: creates Adam's kernels
    expect(h1.stepsRun).toBe(20);
    const before = tf.memory().numTensors;
    const h = flow.fit(data, {
      seed: 2,
      steps: 300,
      batchSize: 64,
      evaluateEvery: 25,
      patience: 100,
      onProgress: (p) => {
        counts.push(tf.memory().numTensors);
        progress.push(p.step);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(counts).size).toBe(1);
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => 25 * (i + 1)));
    expect(h.stepsRun).toBe(300);
    const best = Math.min(...h.records.map((r) => r.heldOutLoss as number));
    expect(h.bestHeldOutLoss).toBe(best);
    expect(h.records.find((r) => r.step === h.bestStep)?.heldOutLoss).toBe(best);
    expect(Number.isFinite(h.records[h.records.length - 1].loss)).toBe(true);
    flow.dispose();
  });

  it('a fit resumed from a checkpoint equals the uninterrupted fit bit for bit (an aborted run resumed)', () => {
    const data = Float64Array.from(normalBatch(400, 2, 10, 0.5));
    // 360 training points in batches of 48: 7 batches an epoch, so the checkpoints at steps 17 and
    // 34 fall inside epochs and the run crosses five reshuffles.
    const options = { seed: 7, steps: 40, batchSize: 48, evaluateEvery: 5, patience: 100 };
    const fresh = () => realNvp({ dim: 2, layers: 2, hidden: 8, seed: 6 });
    const start = tf.memory().numTensors;
    const a = fresh();
    const saved: TrainingCheckpoint[] = [];
    const whole = a.fit(data, {
      ...options,
      checkpoint: { every: 17, save: (c) => saved.push(JSON.parse(JSON.stringify(c))) },
    });
    expect(saved.map((c) => c.step)).toEqual([17, 34, 40]);
    const want = Array.from(a.getParams());

    // the same fit, aborted after its record at step 20: its last checkpoint is the one of step 17
    const b = fresh();
    const before = tf.memory().numTensors;
    const abort = new AbortController();
    let last: TrainingCheckpoint | undefined;
    expect(() =>
      b.fit(data, {
        ...options,
        checkpoint: { every: 17, save: (c) => (last = JSON.parse(JSON.stringify(c))) },
        signal: abort.signal,
        onProgress: ({ step }) => {
          if (step === 20) abort.abort();
        },
      }),
    ).toThrow(/abort/i);
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toEqual(saved[0]);
    b.dispose();

    for (const checkpoint of [last as TrainingCheckpoint, saved[1]]) {
      const c = fresh();
      const resumed = c.fit(data, { ...options, resume: checkpoint });
      expect(Array.from(c.getParams())).toEqual(want);
      expect(resumed).toEqual(whole);
      c.dispose();
    }
    // a checkpoint of another fit (seed, batch size) is refused
    const d = fresh();
    expect(() => d.fit(data, { ...options, seed: 8, resume: saved[0] })).toThrow(InvalidArgumentError);
    expect(() => d.fit(data, { ...options, batchSize: 40, resume: saved[0] })).toThrow(InvalidArgumentError);
    d.dispose();
    a.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

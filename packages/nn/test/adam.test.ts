import { InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Adam, Mlp, warmupCosine } from '../src/index.js';

describe('Adam', () => {
  it('matches a float64 reference implementation of Algorithm 1 with global-norm clipping', () => {
    // f(w) = sum_i a_i (w_i - c_i)^2, gradient 2 a (w - c); clipNorm = 1 is active (|g| >> 1 at start)
    const a = [1, 10, 0.1];
    const c = [0.5, -1, 2];
    const w0 = [3, 2, -1];
    const w = tf.variable(tf.tensor1d(w0));
    const lr = (s: number) => 0.05 / (1 + s);
    const opt = new Adam([w], { lr, clipNorm: 1 });
    const ref = Float64Array.from(w0);
    const m = new Float64Array(3);
    const v = new Float64Array(3);
    for (let t = 1; t <= 20; t++) {
      opt.step(() => tf.sum(tf.mul(tf.tensor1d(a), tf.square(tf.sub(w, tf.tensor1d(c))))));
      const g = ref.map((wi, i) => 2 * a[i] * (wi - c[i]));
      const norm = Math.hypot(...g);
      const s = Math.min(1, 1 / norm);
      for (let i = 0; i < 3; i++) {
        const gi = g[i] * s;
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        ref[i] -= (lr(t - 1) * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    const got = w.dataSync();
    // float32 parameters: 20 updates with rounding 6e-8 relative each
    for (let i = 0; i < 3; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-5);
    expect(opt.iterations).toBe(20);
    opt.dispose();
    w.dispose();
  });

  it('minimises an ill-conditioned quadratic', () => {
    const w = tf.variable(tf.tensor1d([4, -3, 2, 1]));
    const scales = tf.tensor1d([100, 1, 0.1, 10]);
    const target = tf.tensor1d([1, 2, -1, 0.5]);
    const opt = new Adam([w], {
      lr: warmupCosine({ peak: 0.1, warmupSteps: 20, totalSteps: 1500, floor: 1e-4 }),
    });
    let loss = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 1500; i++)
      loss = opt.step(() => tf.sum(tf.mul(scales, tf.square(tf.sub(w, target)))));
    expect(loss).toBeLessThan(1e-6);
    const got = w.dataSync();
    for (const [i, t] of [1, 2, -1, 0.5].entries()) expect(Math.abs(got[i] - t)).toBeLessThan(2e-3);
    tf.dispose([w, scales, target]);
    opt.dispose();
  });

  it('keeps tf.memory().numTensors flat over many MLP training steps', () => {
    const net = new Mlp({ inputDim: 2, hiddenDims: [16, 16], outputDim: 1 }, 1);
    const opt = new Adam(net.variables, { lr: 1e-2, clipNorm: 5 });
    const rng = Rng.fromSeed(9);
    const xs = new Float32Array(64 * 2);
    for (let i = 0; i < xs.length; i++) xs[i] = rng.normal();
    const x = tf.tensor2d(xs, [64, 2]);
    const y = tf.tidy(() => tf.sin(tf.sum(x, 1, true)));
    const loss = () => tf.mean(tf.square(tf.sub(net.apply(x), y))) as tf.Scalar;
    opt.step(loss);
    const before = tf.memory().numTensors;
    let first = 0;
    let last = 0;
    for (let i = 0; i < 300; i++) {
      last = opt.step(loss);
      if (i === 0) first = last;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(0.2 * first);
    opt.dispose();
    net.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before - net.variables.length - 2 /* m, v */ - 2 /* x, y */);
  });

  it('resumes bit for bit from state() restored into a fresh optimiser over copied weights', () => {
    const a = tf.tensor1d([1, 10, 0.1]);
    const loss = (w: tf.Variable) => () => tf.sum(tf.mul(a, tf.square(tf.sub(w, 0.5)))) as tf.Scalar;
    const lr = warmupCosine({ peak: 0.05, warmupSteps: 5, totalSteps: 40, floor: 1e-3 });
    const straight = tf.variable(tf.tensor1d([3, 2, -1]));
    const opt = new Adam([straight], { lr, clipNorm: 1 });
    for (let i = 0; i < 40; i++) opt.step(loss(straight));
    const first = tf.variable(tf.tensor1d([3, 2, -1]));
    const optA = new Adam([first], { lr, clipNorm: 1 });
    for (let i = 0; i < 25; i++) optA.step(loss(first));
    const saved = JSON.parse(JSON.stringify(optA.state()));
    const second = tf.variable(tf.tensor1d(Array.from(first.dataSync())));
    const optB = new Adam([second], { lr, clipNorm: 1 });
    const before = tf.memory().numTensors;
    optB.restore(saved);
    expect(tf.memory().numTensors).toBe(before);
    expect(optB.iterations).toBe(25);
    for (let i = 0; i < 15; i++) optB.step(loss(second));
    expect(Array.from(second.dataSync())).toEqual(Array.from(straight.dataSync()));
    expect(() => optB.restore({ ...saved, m: saved.m.slice(1) })).toThrow(InvalidArgumentError);
    expect(() => optB.restore({ ...saved, t: -1 })).toThrow(/state/);
    for (const o of [opt, optA, optB]) o.dispose();
    tf.dispose([a, straight, first, second]);
  });

  it('skips the update on a non-finite loss and reports it', () => {
    const w = tf.variable(tf.tensor1d([1]));
    const opt = new Adam([w], { lr: 0.1 });
    const loss = opt.step(() => tf.sum(tf.log(tf.sub(w, 2))));
    expect(Number.isNaN(loss)).toBe(true);
    expect(opt.skippedSteps).toBe(1);
    expect(w.dataSync()[0]).toBe(1);
    opt.dispose();
    w.dispose();
  });

  it('skips the update on a finite loss with a non-finite gradient', () => {
    // loss = sqrt(w - 1) at w = 1: value 0, gradient 1 / (2 sqrt(0)) = Infinity
    const w = tf.variable(tf.tensor1d([1]));
    const opt = new Adam([w], { lr: 0.1 });
    opt.step(() => tf.sum(tf.square(tf.sub(w, 3)))); // one normal step first: moments non-zero
    const after1 = w.dataSync()[0];
    expect(opt.iterations).toBe(1);
    w.assign(tf.tensor1d([1]));
    const loss = opt.step(() => tf.sum(tf.sqrt(tf.sub(w, 1))));
    expect(Number.isNaN(loss)).toBe(true);
    expect(opt.skippedSteps).toBe(1);
    expect(opt.lastGradNorm).toBe(Number.POSITIVE_INFINITY);
    expect(opt.iterations).toBe(1);
    expect(w.dataSync()[0]).toBe(1);
    // moments and step count untouched: continuing from after1 matches an optimiser that never skipped
    expect(after1).toBeCloseTo(1.1, 5); // the first Adam step moves by lr towards 3
    w.assign(tf.tensor1d([after1]));
    opt.step(() => tf.sum(tf.square(tf.sub(w, 3))));
    const u = tf.variable(tf.tensor1d([1]));
    const ref = new Adam([u], { lr: 0.1 });
    ref.step(() => tf.sum(tf.square(tf.sub(u, 3))));
    ref.step(() => tf.sum(tf.square(tf.sub(u, 3))));
    expect(w.dataSync()[0]).toBe(u.dataSync()[0]);
    ref.dispose();
    u.dispose();
    opt.dispose();
    w.dispose();
  });

  it('validates its options', () => {
    const w = tf.variable(tf.tensor1d([1]));
    expect(() => new Adam([w], { lr: -1 })).toThrow(InvalidArgumentError);
    expect(() => new Adam([w], { lr: 1e-3, beta1: 1 })).toThrow(InvalidArgumentError);
    expect(() => new Adam([], { lr: 1e-3 })).toThrow(InvalidArgumentError);
    w.dispose();
  });
});

describe('warmupCosine', () => {
  it('rises linearly, peaks, and decays by a half cosine to the floor', () => {
    const lr = warmupCosine({ peak: 1, warmupSteps: 10, totalSteps: 110, floor: 0.1 });
    expect(lr(0)).toBeCloseTo(0.1, 12);
    expect(lr(9)).toBeCloseTo(1, 12);
    expect(lr(10)).toBeCloseTo(1, 12);
    expect(lr(60)).toBeCloseTo(0.1 + 0.45, 12); // half-way: (1 + cos(pi/2)) / 2 = 1/2
    expect(lr(110)).toBeCloseTo(0.1, 12);
    expect(lr(500)).toBeCloseTo(0.1, 12);
    expect(() => warmupCosine({ peak: 1, warmupSteps: 10, totalSteps: 5 })).toThrow(InvalidArgumentError);
  });
});

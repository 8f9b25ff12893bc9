import { DimensionError, FormatError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { flatten, Mlp, numElements, unflatten } from '../src/index.js';

function batch(n: number, d: number, seed: number): tf.Tensor2D {
  const v = new Float32Array(n * d);
  const rng = Rng.fromSeed(seed);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return tf.tensor2d(v, [n, d]);
}

describe('Mlp', () => {
  const config = { inputDim: 3, hiddenDims: [8, 5], outputDim: 2, activation: 'swish' as const };

  it('counts parameters and is bit-identical for the same seed, different for another', () => {
    const a = new Mlp(config, 7);
    const b = new Mlp(config, 7);
    const c = new Mlp(config, 8);
    expect(a.numParams).toBe(3 * 8 + 8 + 8 * 5 + 5 + 5 * 2 + 2);
    expect(Array.from(a.getFlat())).toEqual(Array.from(b.getFlat()));
    expect(Array.from(a.getFlat())).not.toEqual(Array.from(c.getFlat()));
    // Glorot bound for the first layer: sqrt(6 / (3 + 8))
    const w0 = a.getFlat().subarray(0, 24);
    expect(Math.max(...Array.from(w0, Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 11));
    for (const m of [a, b, c]) m.dispose();
  });

  it('applyFlat(theta = getFlat()) equals apply, and its theta-gradient equals the variable gradients', () => {
    const net = new Mlp(config, 3);
    const x = batch(10, 3, 1);
    const theta = tf.tensor1d(net.getFlat());
    const y1 = net.apply(x).dataSync();
    const y2 = net.applyFlat(x, theta).dataSync();
    expect(Array.from(y2)).toEqual(Array.from(y1));
    // with an offset: theta padded by 4 leading entries
    const padded = tf.concat([tf.ones([4]), theta]) as tf.Tensor1D;
    expect(Array.from(net.applyFlat(x, padded, 4).dataSync())).toEqual(Array.from(y1));
    const loss = (y: tf.Tensor) => tf.sum(tf.square(y));
    const gTheta = tf
      .grad((t: tf.Tensor) => loss(net.applyFlat(x, t as tf.Tensor1D)))(theta)
      .dataSync();
    const { grads } = tf.variableGrads(() => loss(net.apply(x)) as tf.Scalar, net.variables);
    const gVars = flatten(net.variables.map((v) => grads[v.name]));
    for (let i = 0; i < gVars.length; i++)
      expect(Math.abs(gTheta[i] - gVars[i])).toBeLessThan(1e-5 * (1 + Math.abs(gVars[i])));
    tf.dispose([x, theta, padded, ...Object.values(grads)]);
    net.dispose();
  });

  it("initialises 'glorot' (zero biases) and PyTorch's 'fan-in' (weights and biases U(+-1/sqrt(fan_in)))", () => {
    const wide = { inputDim: 2, hiddenDims: [400], outputDim: 300 };
    for (const init of ['glorot', 'fan-in'] as const) {
      const net = new Mlp({ ...wide, init }, 3);
      net.variables.forEach((v, k) => {
        const x = v.dataSync();
        const fanIn = net.paramShapes[k - (k % 2)][0];
        const isWeight = k % 2 === 0;
        const bound =
          init === 'fan-in'
            ? 1 / Math.sqrt(fanIn)
            : isWeight
              ? Math.sqrt(6 / (v.shape[0] + (v.shape[1] ?? 0)))
              : 0;
        let max = 0;
        let sq = 0;
        for (const w of x) {
          max = Math.max(max, Math.abs(w));
          sq += w * w;
        }
        if (bound === 0) {
          expect(max).toBe(0);
          return;
        }
        // Uniform on (-a, a): E w^2 = a^2 / 3, Var w^2 = 4 a^4 / 45; 5 standard errors.
        const n = x.length;
        expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6));
        expect(Math.abs(sq / n - bound ** 2 / 3)).toBeLessThan(5 * Math.sqrt((4 * bound ** 4) / 45 / n));
      });
      const json = net.toJSON();
      // Files record the initialisation and reload the same; a file without the key (written when
      // every Mlp was Glorot) reloads as Glorot.
      expect(json.config.init).toBe(init);
      const legacy = Mlp.fromJSON({ ...json, config: { ...json.config, init: undefined } });
      expect(legacy.config.init).toBe('glorot');
      legacy.dispose();
      const copy = Mlp.fromJSON(JSON.parse(JSON.stringify(json)));
      expect(copy.config.init).toBe(init);
      expect(Array.from(copy.getFlat())).toEqual(Array.from(net.getFlat()));
      copy.dispose();
      net.dispose();
    }
    const byDefault = new Mlp(wide, 3);
    expect(byDefault.config.init).toBe('fan-in');
    byDefault.dispose();
    expect(() => new Mlp({ ...wide, init: 'he' as 'glorot' }, 1)).toThrow(InvalidArgumentError);
  });

  it('frees every tensor it created on dispose', () => {
    const before = tf.memory().numTensors;
    new Mlp(config, 1).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('zeroInitOutput gives an exactly zero output', () => {
    const net = new Mlp({ ...config, zeroInitOutput: true }, 1);
    const y = tf.tidy(() => net.apply(batch(4, 3, 2)).dataSync());
    expect(Array.from(y).every((v) => v === 0)).toBe(true);
    net.dispose();
  });

  it('round-trips through JSON and setFlat', () => {
    const net = new Mlp({ ...config, activation: 'tanh' }, 5);
    const copy = Mlp.fromJSON(JSON.parse(JSON.stringify(net.toJSON())));
    const x = batch(6, 3, 3);
    expect(Array.from(copy.apply(x).dataSync())).toEqual(Array.from(net.apply(x).dataSync()));
    expect(copy.config.activation).toBe('tanh');
    expect(() => Mlp.fromJSON({ ...net.toJSON(), version: 2 as 1 })).toThrow(FormatError);
    expect(() => net.setFlat(new Float32Array(3))).toThrow(DimensionError);
    x.dispose();
    net.dispose();
    copy.dispose();
  });

  it('unflatten slices a flat vector into shapes', () => {
    const shapes = [[2, 3], [3]];
    expect(numElements(shapes)).toBe(9);
    const parts = unflatten(tf.range(0, 10) as tf.Tensor1D, shapes, 1);
    expect(parts[0].shape).toEqual([2, 3]);
    expect(Array.from(parts[1].dataSync())).toEqual([7, 8, 9]);
    expect(() => unflatten(tf.zeros([5]) as tf.Tensor1D, shapes)).toThrow(DimensionError);
  });

  it('validates its arguments', () => {
    expect(() => new Mlp({ ...config, inputDim: 0 }, 1)).toThrow(InvalidArgumentError);
    expect(() => new Mlp({ ...config, hiddenDims: [4, 0] }, 1)).toThrow(InvalidArgumentError);
    const net = new Mlp(config, 1);
    expect(() => net.apply(tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(DimensionError);
    net.dispose();
  });
});

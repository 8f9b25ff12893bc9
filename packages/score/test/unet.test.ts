import { conv1dCircular } from '@sdekit/nn';
import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { UNet1d } from '../src/unet';

function shifted(x: Float64Array, n: number, w: number, shift: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) out[i * w + ((j + shift) % w)] = x[i * w + j];
  return out;
}

describe('UNet1d', () => {
  it('maps [N, W] to [N, W] and commutes with circular shifts by 2^levels', () => {
    const w = 32;
    const n = 5;
    const net = new UNet1d({ width: w, baseChannels: 4 }, 3);
    const x = Rng.fromSeed(4).fillNormal(new Float64Array(n * w));
    // Train-mode pass first so that the running statistics are not the identity.
    tf.tidy(() => {
      net.apply(tf.tensor2d(Float32Array.from(x), [n, w]), true);
    });
    for (const training of [false, true]) {
      const [y, ys] = tf.tidy(() => [
        net.apply(tf.tensor2d(Float32Array.from(x), [n, w]), training).dataSync(),
        net.apply(tf.tensor2d(Float32Array.from(shifted(x, n, w, 8)), [n, w]), training).dataSync(),
      ]);
      expect(y.length).toBe(n * w);
      const want = shifted(Float64Array.from(y), n, w, 8);
      let scale = 0;
      for (const v of y) scale = Math.max(scale, Math.abs(v));
      expect(scale).toBeGreaterThan(1e-3);
      // float32 evaluation of the same sums in a different order: agreement to ~1e-5 relative.
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(ys[i] - want[i])).toBeLessThan(1e-4 * (1 + scale));
    }
    // A shift by 1 (not a multiple of 8) is not an exact symmetry of the strided network. In training
    // mode (batch statistics: the running ones after a single pass shrink a fresh network's signal
    // through its 14 convolutions, in PyTorch as here).
    const [y, y1] = tf.tidy(() => [
      net.apply(tf.tensor2d(Float32Array.from(x), [n, w]), true).dataSync(),
      net.apply(tf.tensor2d(Float32Array.from(shifted(x, n, w, 1)), [n, w]), true).dataSync(),
    ]);
    const want1 = shifted(Float64Array.from(y), n, w, 1);
    let maxDiff = 0;
    for (let i = 0; i < want1.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y1[i] - want1[i]));
    let scale1 = 0;
    for (const v of y) scale1 = Math.max(scale1, Math.abs(v));
    // Far above the float32 agreement of the exact symmetry above (1e-4 relative).
    expect(maxDiff).toBeGreaterThan(1e-2 * scale1);
    net.dispose();
  });

  it('loads weights with down-sampling biases (older files) by folding each into the next batch norm', () => {
    const config = { width: 16, baseChannels: 2, multipliers: [1, 2], kernelSize: 3 };
    const net = new UNet1d(config, 5);
    const weights: Record<string, number[]> = net.toJSON().weights;
    const rng = Rng.fromSeed(6);
    const old: Record<string, number[]> = { ...weights };
    for (const [l, ch] of [
      [0, 2],
      [1, 4],
    ]) {
      old[`down${l}.b`] = Array.from(rng.fillNormal(new Float64Array(ch)));
      old[l === 0 ? 'enc1.bn1.mean' : 'bottleneck.bn1.mean'] = Array.from(
        rng.fillNormal(new Float64Array(2 * ch)),
      );
    }
    const loaded = new UNet1d(config, 0, old);
    const got = loaded.toJSON().weights;
    expect('down0.b' in got).toBe(false);
    for (const [l, next] of [
      [0, 'enc1'],
      [1, 'bottleneck'],
    ] as const) {
      // The constant the bias adds after the next circular convolution, by the convolution itself.
      const ch = old[`down${l}.b`].length;
      const c = tf.tidy(() => {
        const constant = tf.mul(tf.ones([1, 4, ch]), tf.tensor1d(old[`down${l}.b`]));
        const filter = tf.tensor3d(old[`${next}.conv1`], [3, ch, 2 * ch]);
        return conv1dCircular(constant as tf.Tensor3D, filter, 1)
          .dataSync()
          .slice(0, 2 * ch);
      });
      const mean = got[`${next}.bn1.mean`];
      for (let o = 0; o < 2 * ch; o++) expect(mean[o]).toBeCloseTo(old[`${next}.bn1.mean`][o] - c[o], 5);
    }
    net.dispose();
    loaded.dispose();
  });

  it('rejects a width not divisible by 2^levels; round-trips through JSON exactly; leaks no tensors', () => {
    expect(() => new UNet1d({ width: 20 }, 1)).toThrow(/divisible/);
    const before = tf.memory().numTensors;
    const net = new UNet1d({ width: 16, baseChannels: 2 }, 5);
    const x = tf.tensor2d(Float32Array.from(Rng.fromSeed(6).fillNormal(new Float64Array(3 * 16))), [3, 16]);
    tf.tidy(() => {
      net.apply(x, true);
    });
    const copy = UNet1d.fromJSON(JSON.parse(JSON.stringify(net.toJSON())));
    const a = tf.tidy(() => net.apply(x, false).dataSync());
    const b = tf.tidy(() => copy.apply(x, false).dataSync());
    expect(Array.from(b)).toEqual(Array.from(a));
    net.dispose();
    copy.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

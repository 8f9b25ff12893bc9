// Dense layer forward + backward: sdekit's explicit-transpose custom gradient vs tfjs-core's built-in
// matMul gradient (which multiplies with transpose flags). Run: npx vitest bench --run
// Backend: wasm by default (vitest.tf-setup.ts), SDEKIT_TF_BACKEND=cpu for cpu.

import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { dense } from '../src/index.js';

function randn(shape: [number, number] | [number], seed: number): tf.Tensor {
  const rng = Rng.fromSeed(seed);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * 0.1;
  return tf.tensor(v, shape);
}

for (const [n, width] of [
  [1024, 64],
  [1024, 256],
] as const) {
  describe(`dense [${n}, ${width}] x [${width}, ${width}] forward + backward (${tf.getBackend()})`, () => {
    const x = randn([n, width], 1) as tf.Tensor2D;
    const w = tf.variable(randn([width, width], 2)) as tf.Variable<tf.Rank.R2>;
    const b = tf.variable(randn([width], 3)) as tf.Variable<tf.Rank.R1>;
    const run = (layer: () => tf.Tensor) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.tanh(layer())) as tf.Scalar, [w, b]);
      grads[w.name].dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    bench('sdekit dense (explicit-transpose custom gradient)', () => run(() => dense(x, w, b)));
    bench('tf.matMul + tf.add (built-in gradient)', () => run(() => tf.add(tf.matMul(x, w), b)));
  });
}

// The TensorFlow.js forms of the slow drifts compute the float64 forms (to float32 precision), and
// the pairwise forms equal the row-paired ones on every pair.
import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  multiscaleDoubleWellSlowDrift,
  multiscaleDoubleWellSlowDriftTf,
  multiscaleDoubleWellSlowDriftTfPairwise,
  taggedParticleSlowDrift,
  taggedParticleSlowDriftTf,
  taggedParticleSlowDriftTfPairwise,
} from '../src/index.js';

/** rows x w standard normals, rounded to float32 so both forms see the same inputs. */
function normals(rng: Rng, rows: number, w: number): Float64Array {
  const out = new Float64Array(rows * w);
  rng.fillNormal(out);
  return Float64Array.from(Float32Array.from(out));
}

function t2(v: Float64Array, rows: number, cols: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(v), [rows, cols]);
}

describe('tf forms of the slow drifts', () => {
  it('multiscale double-well: row-paired and pairwise tf forms equal the float64 form', () => {
    const rng = Rng.fromSeed(1);
    const m = 4;
    const B = 3;
    const L = 5;
    const x = normals(rng, B, 1);
    const y = normals(rng, L, m);
    const paired = tf.tidy(() =>
      multiscaleDoubleWellSlowDriftTf(t2(x.slice(0, 1), 1, 1), t2(y.slice(0, m), 1, m), m, 0.7).dataSync(),
    );
    expect(paired[0]).toBeCloseTo(multiscaleDoubleWellSlowDrift(x[0], y, m, 0.7), 5);
    const pairwise = tf.tidy(() =>
      multiscaleDoubleWellSlowDriftTfPairwise(t2(x, B, 1), t2(y, L, m), m, 0.7).arraySync(),
    );
    for (let b = 0; b < B; b++)
      for (let l = 0; l < L; l++)
        expect(pairwise[b][l][0]).toBeCloseTo(multiscaleDoubleWellSlowDrift(x[b], y, m, 0.7, l * m), 5);
  });

  it('tagged particle: row-paired and pairwise tf forms equal the float64 form (d = 2)', () => {
    const rng = Rng.fromSeed(2);
    const d = 2;
    const N = 3;
    const B = 2;
    const L = 4;
    const x = normals(rng, B, d);
    const y = normals(rng, L, N * d);
    const out = new Float64Array(d);
    const paired = tf.tidy(() =>
      taggedParticleSlowDriftTf(t2(x.slice(0, d), 1, d), t2(y.slice(0, N * d), 1, N * d), d, N).dataSync(),
    );
    taggedParticleSlowDrift(x.subarray(0, d), y.subarray(0, N * d), out, d, N);
    for (let c = 0; c < d; c++) expect(paired[c]).toBeCloseTo(out[c], 5);
    const pairwise = tf.tidy(() =>
      taggedParticleSlowDriftTfPairwise(t2(x, B, d), t2(y, L, N * d), d, N).arraySync(),
    );
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        taggedParticleSlowDrift(
          x.subarray(b * d, (b + 1) * d),
          y.subarray(l * N * d, (l + 1) * N * d),
          out,
          d,
          N,
        );
        for (let c = 0; c < d; c++) expect(pairwise[b][l][c]).toBeCloseTo(out[c], 5);
      }
    }
  });
});

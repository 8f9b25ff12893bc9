import { fitAveraged, m1Coefficients } from '@sdekit/averaging';
import type { TrainingCheckpoint } from '@sdekit/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type AveragedPosteriorOptions, averagedPosterior } from '../src/index.js';
import { m1SlowPath } from './m1-path.js';

describe('averagedPosterior checkpoints: the inner-sample stream of the likelihood resumes too', () => {
  // Test-size M1 (m = 2, T = 10, 40 steps): only the exactness of the resume matters here.
  const slow = m1SlowPath({ m: 2, beta: 0.5, T: 10, seed: 3 });
  const model = fitAveraged({
    path: slow,
    coefficients: m1Coefficients({ m: 2, beta: 0.5 }),
    flow: { layers: 2, hidden: 8 },
    L: 16,
    steps: 40,
    batchSize: 256,
    seed: 2,
  });

  it.each([
    ['a subspace posterior', { subspace: { rank: 2 } }],
    ['a posterior over all flow weights', {}],
  ])('%s resumed from a checkpoint equals the uninterrupted fit bit for bit', (_name, extra) => {
    // batchSize < transitions: the stream also draws the transition subsets.
    const options: AveragedPosteriorOptions = {
      L: 8,
      batchSize: 300,
      samples: 2,
      steps: 16,
      seed: 6,
      ...extra,
    };
    const checkpoints: TrainingCheckpoint[] = [];
    const full = averagedPosterior(model, slow, {
      ...options,
      checkpoint: { every: 5, save: (c) => checkpoints.push(JSON.parse(JSON.stringify(c))) },
    });
    const plain = averagedPosterior(model, slow, options);
    expect(Array.from(full.posterior.params)).toEqual(Array.from(plain.posterior.params));
    const before = tf.memory().numTensors;
    const resumed = averagedPosterior(model, slow, { ...options, resume: checkpoints[1] });
    expect(tf.memory().numTensors).toBe(before);
    expect(checkpoints[1].step).toBe(10);
    expect(Array.from(resumed.posterior.params)).toEqual(Array.from(full.posterior.params));
    expect(Array.from(resumed.posterior.elboHistory)).toEqual(Array.from(full.posterior.elboHistory));
    // The model is left at theta_hat.
    expect(Array.from(model.getParams())).toEqual(Array.from(full.fitted));
  });

  it('an aborted fit throws the reason and leaves no tensor behind', () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    expect(() =>
      averagedPosterior(model, slow, {
        subspace: { rank: 2 },
        steps: 20,
        evaluateEvery: 5,
        seed: 1,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 10) controller.abort(new Error('user cancelled'));
        },
      }),
    ).toThrow('user cancelled');
    expect(tf.memory().numTensors).toBe(before);
  });
});

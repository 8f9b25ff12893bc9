import { realNvp } from '@sdekit/flows';
import { simulate, type TimeSeries } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AveragedModel, m1Coefficients } from '../src/index.js';

describe('AveragedModel at explicit parameters (the `params` option)', () => {
  it('bbar, sigmabar, logLikelihood and system equal setParams + call bit for bit, and leave the model as it was', () => {
    const before = tf.memory().numTensors;
    const flow = realNvp({ dim: 2, layers: 2, hidden: 8, seed: 1 });
    const model = new AveragedModel(flow, m1Coefficients({ m: 2 }), 0.01, {
      steps: 0,
      trainTransitions: 0,
      heldOutTransitions: 0,
      history: [],
      warnings: [],
    });
    const own = model.getParams();
    const theta = own.map((v, i) => v + 0.05 * Math.cos(i));
    const xs = Float64Array.of(-1, 0, 0.5);
    const path: TimeSeries = {
      data: Float64Array.from({ length: 40 }, (_, k) => Math.sin(k / 5)),
      dim: 1,
      length: 40,
      dt: 0.01,
      t0: 0,
    };
    const opts = { fastSamples: 64, seed: 3 };
    const at = {
      bbar: model.bbar(xs, { ...opts, params: theta }).value,
      sigma: model.sigmabar(xs, { ...opts, params: theta }).covariance,
      ll: model.logLikelihood(path, { ...opts, params: theta }).total,
      paths: simulate(model.system({ fastSamples: 16, seed: 4, params: theta }), {
        x0: Float64Array.of(-1),
        paths: 2,
        h: 0.01,
        steps: 20,
        seed: 5,
      }).data,
    };
    expect(Array.from(model.getParams())).toEqual(Array.from(own));
    model.setParams(theta);
    expect(Array.from(at.bbar)).toEqual(Array.from(model.bbar(xs, opts).value));
    expect(Array.from(at.sigma)).toEqual(Array.from(model.sigmabar(xs, opts).covariance));
    expect(at.ll).toBe(model.logLikelihood(path, opts).total);
    const paths = simulate(model.system({ fastSamples: 16, seed: 4 }), {
      x0: Float64Array.of(-1),
      paths: 2,
      h: 0.01,
      steps: 20,
      seed: 5,
    }).data;
    expect(Array.from(at.paths)).toEqual(Array.from(paths));
    // and differ from the model's own parameters
    model.setParams(own);
    expect(Array.from(model.bbar(xs, opts).value)).not.toEqual(Array.from(at.bbar));
    // The pre-0.2 option name is refused, not silently replaced by the default.
    const old = { samples: 64, seed: 3 } as unknown as { fastSamples: number };
    expect(() => model.bbar(xs, old)).toThrow(/samples: was renamed fastSamples/);
    expect(() => model.system(old)).toThrow(/fastSamples/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

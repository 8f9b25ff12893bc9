/**
 * Nothing lost, nothing silently wrong: no tensor left behind on any exit path of the training
 * entries (fitAveraged, fitMlpDriftBaseline), the held-out schedule and subsample of fitAveraged,
 * and typed errors for bad model JSON.
 */
import { realNvp } from '@sdekit/flows';
import type { TrainingRecord } from '@sdekit/nn';
import { childSeed, FormatError, InvalidArgumentError, simulate, type TimeSeries } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  AveragedModel,
  averageCoefficients64,
  checkAveragedModelJson,
  emNll64,
  fitAveraged,
  fitMlpDriftBaseline,
  isEvaluationStep,
  MlpDriftModel,
  m1Coefficients,
  pathTransitions,
  type SlowCoefficients,
} from '../src/index.js';

const coefficients = m1Coefficients({ m: 2 });
const data = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i / 30));
const path: TimeSeries = { data, dim: 1, length: 400, dt: 0.01, t0: 0 };
/** A small, fast fitAveraged run (a 2-layer flow of width 8). */
const SMALL = {
  path,
  coefficients,
  L: 8,
  steps: 6,
  batchSize: 64,
  seed: 1,
  flow: { layers: 2, hidden: 8 },
};
const BASE = { path, hidden: [8], steps: 6, batchSize: 64, seed: 1 };
const stop = () => {
  throw new Error('stop');
};

/** Runs `f`, expects it to throw matching `message`, and returns the change in the tensor count. */
function leakedBy(f: () => unknown, message: RegExp | string): number {
  const before = tf.memory().numTensors;
  expect(f).toThrow(message);
  return tf.memory().numTensors - before;
}

describe('fitAveraged: no tensor left behind on any exit path', () => {
  it('a fit followed by model.dispose() leaves the count unchanged (the initial theta was leaked once per call)', () => {
    for (const options of [SMALL, { ...SMALL, heldOutFraction: 0 }, { ...SMALL, steps: 1 }]) {
      const before = tf.memory().numTensors;
      const model = fitAveraged(options);
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('aborted training: a throwing onProgress, a bad option found after the tensors exist, a non-finite loss', () => {
    expect(leakedBy(() => fitAveraged({ ...SMALL, onProgress: stop }), 'stop')).toBe(0);
    // Throwing at the third step (after held-out evaluations and Adam steps).
    const late = (p: { step: number }) => {
      if (p.step === 3) stop();
    };
    expect(leakedBy(() => fitAveraged({ ...SMALL, evaluateEvery: 1, onProgress: late }), 'stop')).toBe(0);
    // Adam's settings are checked after theta is created.
    expect(leakedBy(() => fitAveraged({ ...SMALL, adam: { beta1: 2 } }), /^beta1:/)).toBe(0);
    // A learning-rate schedule that goes bad throws inside Adam's step, after the loss terms were kept.
    const badLr = (step: number) => (step < 2 ? 1e-3 : -1);
    expect(leakedBy(() => fitAveraged({ ...SMALL, adam: { lr: badLr } }), /^lr: schedule returned -1/)).toBe(
      0,
    );
    // A lambda schedule that goes bad at the 0-based step index 3 (step 4).
    const badLambda = (i: number) => (i < 3 ? 0 : Number.NaN);
    expect(
      leakedBy(() => fitAveraged({ ...SMALL, lambda: badLambda }), /^lambda: is NaN at step 4 \(lambda\(3\)/),
    ).toBe(0);
    // Coefficients of the wrong shape, found on the flow's first samples (the flow exists by then).
    const wrong: SlowCoefficients = { ...coefficients, driftTf: (_x, y) => tf.clone(y) };
    expect(leakedBy(() => fitAveraged({ ...SMALL, coefficients: wrong }), /driftTf/)).toBe(0);
    // A non-finite loss: the divergence message and the coefficients' fault.
    expect(
      leakedBy(
        () => fitAveraged({ ...SMALL, steps: 50, adam: { lr: 1e9 } }),
        /^fitAveraged: the loss became non-finite/,
      ),
    ).toBe(0);
    const zeroNoise: SlowCoefficients = {
      slowDim: 1,
      fastDim: 2,
      noise: 'scalar',
      noiseDim: 1,
      constantDiffusion: true,
      driftTf: (x, y) => tf.tidy(() => tf.sub(tf.slice(y, [0, 0], [-1, 1]), x) as tf.Tensor2D),
      diffusionTf: (x) => tf.zeros([x.shape[0], 1]) as tf.Tensor2D,
      drift: (x, y, out) => {
        out[0] = y[0] - x[0];
      },
      diffusion: (_x, _y, out) => {
        out[0] = 0;
      },
    };
    expect(
      leakedBy(
        () => fitAveraged({ ...SMALL, coefficients: zeroNoise }),
        /^coefficients: the loss became non-finite at step 1 because the coefficients' sigma\(x, y\) is 0/,
      ),
    ).toBe(0);
  });

  it("a caller's flow is trained in place and survives a failed fit; only the caller disposes it", () => {
    const before = tf.memory().numTensors;
    const flow = realNvp({ dim: 2, layers: 2, hidden: 8, seed: 4 });
    const own = tf.memory().numTensors - before;
    expect(() => fitAveraged({ ...SMALL, flow, onProgress: stop })).toThrow('stop');
    expect(tf.memory().numTensors - before).toBe(own);
    expect(flow.sample(3, 1).every(Number.isFinite)).toBe(true);
    const wrongDim = realNvp({ dim: 3, layers: 2, hidden: 8, seed: 4 });
    expect(() => fitAveraged({ ...SMALL, flow: wrongDim })).toThrow(/^flow: has dim 3, fastDim is 2/);
    wrongDim.dispose();
    const model = fitAveraged({ ...SMALL, flow });
    expect(model.flow).toBe(flow);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fitMlpDriftBaseline: no tensor left behind on any exit path', () => {
  it('fit + dispose, a throwing onProgress, bad Adam settings and schedules, a non-finite loss', () => {
    for (const options of [BASE, { ...BASE, sigma: 0.5 }, { ...BASE, steps: 1 }]) {
      const before = tf.memory().numTensors;
      fitMlpDriftBaseline(options).dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(leakedBy(() => fitMlpDriftBaseline({ ...BASE, onProgress: stop }), 'stop')).toBe(0);
    expect(leakedBy(() => fitMlpDriftBaseline({ ...BASE, adam: { beta2: 0 } }), /^beta2:/)).toBe(0);
    const badLr = (step: number) => (step < 2 ? 1e-3 : Number.POSITIVE_INFINITY);
    expect(
      leakedBy(
        () => fitMlpDriftBaseline({ ...BASE, adam: { lr: badLr } }),
        /^lr: schedule returned Infinity/,
      ),
    ).toBe(0);
    expect(
      leakedBy(
        () => fitMlpDriftBaseline({ ...BASE, steps: 50, adam: { lr: 1e12 } }),
        /^fitMlpDriftBaseline: the loss became non-finite/,
      ),
    ).toBe(0);
    expect(leakedBy(() => fitMlpDriftBaseline({ ...BASE, sigma: -1 }), /^sigma:/)).toBe(0);
  });
});

describe('fitAveraged held-out NLL: as often as asked, on a fixed subsample of a long held-out part', () => {
  const evaluations = (model: AveragedModel) =>
    model.training.history.filter((r) => r.heldOutLoss !== undefined).map((r) => r.step);

  it('the number of evaluations is max(1, floor(steps / evaluateEvery)), ending at the last step; every step is recorded', () => {
    const cases: [number, number | undefined, number[]][] = [
      [30, 7, [9, 16, 23, 30]],
      [30, 10, [10, 20, 30]],
      [30, 30, [30]],
      [30, 50, [30]],
      [12, undefined, Array.from({ length: 12 }, (_, i) => i + 1)], // default every = max(1, floor(12 / 20)) = 1
      [45, undefined, Array.from({ length: 22 }, (_, i) => 45 - 2 * (21 - i))], // default every = 2: 22
    ];
    for (const [steps, evaluateEvery, expected] of cases) {
      const model = fitAveraged({ ...SMALL, steps, evaluateEvery });
      expect(evaluations(model)).toEqual(expected);
      expect(model.training.history.map((r) => r.step)).toEqual(
        Array.from({ length: steps }, (_, i) => i + 1),
      );
      const every = evaluateEvery ?? Math.max(1, Math.floor(steps / 20));
      expect(expected.length).toBe(Math.max(1, Math.floor(steps / every)));
      model.dispose();
    }
    // The default gives 20 evaluations for 1000 steps (the steps with step % 50 = 0).
    const at = Array.from({ length: 1000 }, (_, i) => i + 1).filter((k) => isEvaluationStep(k, 1000, 50));
    expect(at).toEqual(Array.from({ length: 20 }, (_, i) => 50 + 50 * i));
    // No held-out part: no evaluation at all.
    const none = fitAveraged({ ...SMALL, heldOutFraction: 0, evaluateEvery: 1 });
    expect(evaluations(none)).toEqual([]);
    none.dispose();
    expect(() => fitAveraged({ ...SMALL, evaluateEvery: 0 })).toThrow(/^evaluateEvery:/);
    expect(() => fitAveraged({ ...SMALL, heldOutMaxTransitions: 2.5 })).toThrow(/^heldOutMaxTransitions:/);
  });

  it('a short held-out part is used whole (the float64 NLL of all its transitions, as before)', () => {
    const model = fitAveraged({ ...SMALL, steps: 4, evaluateEvery: 2 });
    const obs = pathTransitions(path, 1, 0.1);
    const a = averageCoefficients64(
      coefficients,
      obs.x.subarray(obs.trainEnd, obs.transitions),
      model.flow.sample(256, childSeed(SMALL.seed, 'held-out-samples')),
    );
    const exact =
      emNll64(coefficients, obs.dx, obs.trainEnd, obs.transitions, a.bbar, a.cov, obs.dt) /
      (obs.transitions - obs.trainEnd);
    const last = model.training.history[3];
    expect(last.heldOutLoss).toBe(exact);
    expect(model.training.heldOutSubsample).toBeUndefined();
    model.dispose();
  });

  it('a long held-out part: the subsample estimate lies within 4 standard errors of the full held-out NLL', () => {
    // An OU path dX = -X dt + 0.5 dW observed at 0.01 (20001 points), half held out: 10000 transitions.
    const ou = simulate(
      {
        dim: 1,
        noiseDim: 1,
        noise: 'scalar',
        additive: true,
        drift: (_t, x, out) => {
          out[0] = -x[0];
        },
        diffusion: (_t, _x, out) => {
          out[0] = 0.5;
        },
      },
      { x0: Float64Array.of(0), h: 0.01, T: 200, seed: 7 },
    );
    const series: TimeSeries = { data: ou.data, dim: 1, length: ou.length, dt: 0.01, t0: 0 };
    const options = { ...SMALL, path: series, steps: 3, evaluateEvery: 3, heldOutFraction: 0.5 };
    const N = 1000;
    const sub = fitAveraged({ ...options, heldOutMaxTransitions: N });
    const full = fitAveraged(options); // 10000 <= the default 1e5: whole
    expect(sub.training.heldOutSubsample).toBe(N);
    expect(full.training.heldOutSubsample).toBeUndefined();
    // Training does not depend on the held-out evaluation: the same losses, bit for bit.
    expect(sub.training.history.map((r) => r.metrics)).toEqual(full.training.history.map((r) => r.metrics));
    expect(sub.training.history.map((r) => r.loss)).toEqual(full.training.history.map((r) => r.loss));
    // Per-transition held-out losses with the evaluation's own fast samples.
    const obs = pathTransitions(series, 1, 0.5);
    const H = obs.transitions - obs.trainEnd;
    expect(H).toBe(10000);
    const a = averageCoefficients64(
      coefficients,
      obs.x.subarray(obs.trainEnd, obs.transitions),
      full.flow.sample(256, childSeed(SMALL.seed, 'held-out-samples')),
    );
    const losses = Float64Array.from({ length: H }, (_, i) =>
      emNll64(
        coefficients,
        obs.dx,
        obs.trainEnd + i,
        obs.trainEnd + i + 1,
        a.bbar.subarray(i),
        a.cov.subarray(i),
        obs.dt,
      ),
    );
    let mean = 0;
    for (const v of losses) mean += v / H;
    let ss = 0;
    for (const v of losses) ss += (v - mean) ** 2;
    const sd = Math.sqrt(ss / (H - 1));
    // Sampling N of H without replacement: SE = sd / sqrt(N) * sqrt(1 - N / H).
    const se = (sd / Math.sqrt(N)) * Math.sqrt(1 - N / H);
    const fullValue = full.training.history[2].heldOutLoss as number;
    const subValue = sub.training.history[2].heldOutLoss as number;
    expect(fullValue).toBeCloseTo(mean, 10);
    expect(Math.abs(subValue - fullValue)).toBeLessThan(4 * se);
    // It is a subsample, not the whole part: it differs from the full value.
    expect(subValue).not.toBe(fullValue);
    // And fixed: another fit with the same seed draws the same subsample.
    const again = fitAveraged({ ...options, heldOutMaxTransitions: N });
    expect(again.training.history[2].heldOutLoss).toBe(subValue);
    for (const m of [sub, full, again]) m.dispose();
  });
});

describe('AveragedModel.fromJSON refuses bad JSON with a FormatError naming the field', () => {
  it('missing fields, null entries, non-finite numbers, dt <= 0, wrong shapes', () => {
    const model = fitAveraged({ ...SMALL, steps: 2 });
    const good = JSON.parse(JSON.stringify(model.toJSON()));
    model.dispose();
    // biome-ignore lint/suspicious/noExplicitAny: edits of arbitrary fields of a parsed JSON
    const edit = (f: (j: Record<string, any>) => void) => {
      const j = structuredClone(good);
      f(j);
      return j;
    };
    const field = (j: unknown): string => {
      const before = tf.memory().numTensors;
      try {
        AveragedModel.fromJSON(j as never);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        expect(tf.memory().numTensors).toBe(before);
        const m = /^AveragedModel\.fromJSON: (\S+) /.exec((e as Error).message);
        return m ? m[1] : (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(field(null)).toBe('json');
    expect(field(edit((j) => delete j.format))).toBe('format');
    expect(field(edit((j) => (j.version = 3)))).toBe('version');
    expect(field(edit((j) => delete j.dt))).toBe('dt');
    expect(field(edit((j) => (j.dt = 0)))).toBe('dt');
    expect(field(edit((j) => (j.dt = -0.01)))).toBe('dt');
    expect(field(edit((j) => (j.dt = null)))).toBe('dt'); // what JSON.stringify makes of NaN
    expect(field(edit((j) => (j.dt = '0.01')))).toBe('dt');
    expect(field(edit((j) => (j.slowDim = 0)))).toBe('slowDim');
    expect(field(edit((j) => (j.fastDim = 1.5)))).toBe('fastDim');
    expect(field(edit((j) => (j.noise = 'pink')))).toBe('noise');
    expect(field(edit((j) => (j.noiseDim = 2)))).toBe('noiseDim');
    expect(field(edit((j) => delete j.coefficients))).toBe('coefficients');
    expect(field(edit((j) => (j.coefficients.params.beta = null)))).toBe('coefficients.params.beta');
    expect(field(edit((j) => (j.coefficients.kind = 'm9')))).toBe('coefficients.kind');
    expect(field(edit((j) => (j.flow = null)))).toBe('flow');
    expect(field(edit((j) => (j.flow.dim = 3)))).toBe('flow.dim');
    expect(field(edit((j) => (j.flow.transforms = [])))).toBe('flow.transforms');
    expect(field(edit((j) => (j.flow.params[5] = null)))).toBe('flow.params[5]');
    expect(field(edit((j) => delete j.training))).toBe('training');
    expect(field(edit((j) => (j.training.trainTransitions = -1)))).toBe('training.trainTransitions');
    expect(field(edit((j) => (j.training.history[1] = null)))).toBe('training.history[1]');
    expect(field(edit((j) => (j.training.history[0].metrics.nll = null)))).toBe(
      'training.history[0].metrics.nll',
    );
    expect(field(edit((j) => (j.training.history[0].step = 0)))).toBe('training.history[0].step');
    expect(field(edit((j) => (j.training.history[0].heldOutLoss = 'x')))).toBe(
      'training.history[0].heldOutLoss',
    );
    expect(field(edit((j) => (j.training.warnings = [1])))).toBe('training.warnings');
    expect(() => checkAveragedModelJson(good)).not.toThrow();
    // The good JSON still loads, and user coefficients must agree in noiseDim too.
    const before = tf.memory().numTensors;
    AveragedModel.fromJSON(good).dispose();
    const general = { ...coefficients, noise: 'general' as const, noiseDim: 3 };
    expect(() => AveragedModel.fromJSON(good, { coefficients: general })).toThrow(InvalidArgumentError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a version 1 file (per-iteration records) still loads, its history converted to step records', () => {
    const model = fitAveraged({ ...SMALL, steps: 3, evaluateEvery: 3 });
    const v2 = JSON.parse(JSON.stringify(model.toJSON()));
    const params = model.getParams();
    model.dispose();
    expect(v2.version).toBe(2);
    const t = v2.training;
    // The layout version 1 wrote.
    const v1 = {
      ...v2,
      version: 1,
      training: {
        iterations: t.steps,
        trainTransitions: t.trainTransitions,
        validationTransitions: t.heldOutTransitions,
        history: t.history.map((r: TrainingRecord) => ({
          iteration: r.step - 1,
          trainNll: r.metrics?.nll,
          penalty: r.metrics?.penalty,
          lambda: r.metrics?.lambda,
          ...(r.heldOutLoss !== undefined ? { validationNll: r.heldOutLoss } : {}),
        })),
        warnings: t.warnings,
      },
    };
    const before = tf.memory().numTensors;
    const loaded = AveragedModel.fromJSON(v1);
    expect(Array.from(loaded.getParams())).toEqual(Array.from(params));
    expect(loaded.training.steps).toBe(3);
    expect(loaded.training.heldOutTransitions).toBe(t.heldOutTransitions);
    expect(loaded.training.history.map((r) => [r.step, r.metrics, r.heldOutLoss])).toEqual(
      t.history.map((r: TrainingRecord) => [r.step, r.metrics, r.heldOutLoss]),
    );
    // loss: the float64 objective nll + lambda / M * penalty (version 1 kept no float32 loss).
    const r0 = loaded.training.history[0];
    const m = r0.metrics as Record<string, number>;
    expect(r0.loss).toBe(m.nll + (m.lambda / t.trainTransitions) * m.penalty);
    expect(Math.abs(r0.loss - t.history[0].loss)).toBeLessThan(1e-5 * Math.abs(r0.loss));
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // A version 1 file is checked in its own layout.
    expect(() => checkAveragedModelJson({ ...v1, training: t })).toThrow(/training\.iterations must be/);
    expect(() => checkAveragedModelJson({ ...v2, training: v1.training })).toThrow(/training\.steps must be/);
  });

  it('MlpDriftModel.fromJSON names dt, sigma and mlp', () => {
    const m = fitMlpDriftBaseline({ ...BASE, steps: 2 });
    const good = JSON.parse(JSON.stringify(m.toJSON()));
    m.dispose();
    const before = tf.memory().numTensors;
    expect(() => MlpDriftModel.fromJSON({ ...good, dt: 0 })).toThrow(/^MlpDriftModel\.fromJSON: dt /);
    expect(() => MlpDriftModel.fromJSON({ ...good, sigma: [null] })).toThrow(
      /^MlpDriftModel\.fromJSON: sigma /,
    );
    expect(() => MlpDriftModel.fromJSON({ ...good, sigma: [0.5, 0.5] })).toThrow(
      /^MlpDriftModel\.fromJSON: mlp /,
    );
    expect(() => MlpDriftModel.fromJSON({ ...good, mlp: null })).toThrow(/^MlpDriftModel\.fromJSON: mlp /);
    MlpDriftModel.fromJSON(good).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

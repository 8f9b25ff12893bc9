import { InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type TrainingCheckpoint, type TrainingProblem, train, warmupCosine } from '../src/index.js';

/**
 * Least squares y = x . w + noise on mini-batches drawn from the problem's own stream: the exact
 * minimiser is known (w*), and the random stream makes resuming non-trivial.
 */
function regression(seed: number, dim = 3, batch = 16) {
  const wTrue = Float32Array.from({ length: dim }, (_, j) => j - 1);
  let rng = Rng.fromSeed(seed, 3);
  const w = tf.tidy(() => tf.variable(tf.zeros([dim, 1])));
  const xb = new Float32Array(batch * dim);
  const yb = new Float32Array(batch);
  const problem: TrainingProblem = {
    variables: [w],
    step: () => {
      for (let i = 0; i < batch; i++) {
        let y = 0.1 * rng.normal();
        for (let j = 0; j < dim; j++) {
          xb[i * dim + j] = rng.normal();
          y += xb[i * dim + j] * wTrue[j];
        }
        yb[i] = y;
      }
      const x = tf.tensor2d(xb, [batch, dim]);
      const y = tf.tensor2d(yb, [batch, 1]);
      return {
        loss: () => tf.mean(tf.squaredDifference(tf.matMul(x, w), y)) as tf.Scalar,
        release: () => tf.dispose([x, y]),
      };
    },
    saveState: () => Array.from(rng.state()),
    restoreState: (s) => {
      rng = Rng.fromState(Uint32Array.from(s as number[]));
    },
  };
  return { problem, w, wTrue };
}

describe('train', () => {
  it('minimises a least-squares loss; records every evaluateEvery steps and after the last', () => {
    const before = tf.memory().numTensors;
    const { problem, w, wTrue } = regression(1);
    const history = train(problem, {
      steps: 305,
      optimizer: { lr: warmupCosine({ peak: 0.05, warmupSteps: 0, totalSteps: 305, floor: 1e-4 }) },
      evaluateEvery: 100,
    });
    expect(history.records.map((r) => r.step)).toEqual([100, 200, 300, 305]);
    expect(history.stepsRun).toBe(305);
    const got = w.dataSync();
    // Noise 0.1: the least-squares error of w over the last ~50 batches of 16 is about
    // 0.1 / sqrt(800) = 0.0035; 0.01 is three of those.
    for (let j = 0; j < wTrue.length; j++) expect(Math.abs(got[j] - wTrue[j])).toBeLessThan(0.01);
    // The last window's mean loss is near the noise variance 0.01.
    expect(history.records.at(-1)!.loss).toBeLessThan(0.02);
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes from a checkpoint bit for bit (weights, optimiser, the problem stream, records)', () => {
    const whole = regression(2);
    const saved: TrainingCheckpoint[] = [];
    const full = train(whole.problem, {
      steps: 60,
      optimizer: { lr: 0.05 },
      evaluateEvery: 7,
      checkpoint: { every: 25, save: (c) => saved.push(JSON.parse(JSON.stringify(c))) },
    });
    expect(saved.map((c) => c.step)).toEqual([25, 50, 60]);
    const resumed = regression(2);
    const rest = train(resumed.problem, {
      steps: 60,
      optimizer: { lr: 0.05 },
      evaluateEvery: 7,
      resume: saved[0],
    });
    expect(Array.from(resumed.w.dataSync())).toEqual(Array.from(whole.w.dataSync()));
    expect(rest.records).toEqual(full.records);
    // A checkpoint of another run length is refused.
    expect(() => train(resumed.problem, { steps: 61, optimizer: { lr: 0.05 }, resume: saved[0] })).toThrow(
      InvalidArgumentError,
    );
    whole.w.dispose();
    resumed.w.dispose();
  });

  it('early stopping restores the weights of the best held-out loss', () => {
    const { problem, w } = regression(3);
    // A held-out loss that improves until step 40, then worsens.
    const heldOut = (step: number) => Math.abs(step - 40);
    const weightsAt = new Map<number, number[]>();
    const history = train(
      { ...problem, evaluate: heldOut, afterStep: (step) => weightsAt.set(step, Array.from(w.dataSync())) },
      { steps: 200, optimizer: { lr: 0.05 }, evaluateEvery: 10, patience: 3 },
    );
    expect(history.stoppedEarly).toBe(true);
    expect(history.bestStep).toBe(40);
    expect(history.stepsRun).toBe(70);
    expect(history.bestHeldOutLoss).toBe(0);
    expect(Array.from(w.dataSync())).toEqual(weightsAt.get(40));
    w.dispose();
  });

  it('records metrics, skips held-out losses a problem does not give, and stops when stopWhen holds', () => {
    const { problem, w } = regression(6);
    const history = train(
      {
        ...problem,
        evaluate: (step) => (step % 20 === 0 ? 1 / step : undefined),
        metrics: (step) => ({ half: step / 2 }),
      },
      {
        steps: 200,
        optimizer: { lr: 0.05 },
        evaluateEvery: 10,
        // Converged once two records in a row have a mean loss below 0.05 (noise variance 0.01).
        stopWhen: (records) => records.length >= 2 && records.slice(-2).every((r) => r.loss < 0.05),
      },
    );
    expect(history.stopReason).toBe('converged');
    expect(history.stoppedEarly).toBe(true);
    expect(history.stepsRun).toBeLessThan(200);
    expect(history.records.at(-1)!.step).toBe(history.stepsRun);
    for (const r of history.records) {
      expect(r.metrics).toEqual({ half: r.step / 2 });
      expect(r.heldOutLoss).toBe(r.step % 20 === 0 ? 1 / r.step : undefined);
    }
    // Without the test the same run goes to the end, through the same first records.
    const again = regression(6);
    const whole = train(again.problem, { steps: 200, optimizer: { lr: 0.05 }, evaluateEvery: 10 });
    expect(whole.stopReason).toBe('steps');
    expect(whole.records.slice(0, history.records.length).map((r) => r.loss)).toEqual(
      history.records.map((r) => r.loss),
    );
    w.dispose();
    again.w.dispose();
  });

  it('a checkpoint written where the run stopped early resumes without further steps', () => {
    const first = regression(7);
    const saved: TrainingCheckpoint[] = [];
    const heldOut = (step: number) => Math.abs(step - 30);
    const options = { steps: 200, optimizer: { lr: 0.05 }, evaluateEvery: 10, patience: 2 };
    const history = train(
      { ...first.problem, evaluate: heldOut },
      { ...options, checkpoint: { every: 1000, save: (c) => saved.push(JSON.parse(JSON.stringify(c))) } },
    );
    expect(history.stopReason).toBe('patience');
    expect(saved.map((c) => [c.step, c.stopped])).toEqual([[50, 'patience']]);
    const second = regression(7);
    const rest = train({ ...second.problem, evaluate: heldOut }, { ...options, resume: saved[0] });
    expect(rest.stepsRun).toBe(50);
    expect(rest.stopReason).toBe('patience');
    expect(rest.bestStep).toBe(30);
    expect(Array.from(second.w.dataSync())).toEqual(Array.from(first.w.dataSync()));
    first.w.dispose();
    second.w.dispose();
  });

  it('leaves no tensor behind when cancelled or when a callback throws', () => {
    const before = tf.memory().numTensors;
    const { problem, w } = regression(4);
    const controller = new AbortController();
    expect(() =>
      train(
        { ...problem, afterStep: (step) => step === 5 && controller.abort() },
        { steps: 50, optimizer: { lr: 0.05 }, signal: controller.signal },
      ),
    ).toThrow(/abort/i);
    expect(() =>
      train(problem, {
        steps: 50,
        optimizer: { lr: 0.05 },
        evaluateEvery: 5,
        onRecord: () => {
          throw new Error('stop');
        },
      }),
    ).toThrow('stop');
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects patience without a held-out loss and bad step counts', () => {
    const { problem, w } = regression(5);
    expect(() => train(problem, { steps: 10, optimizer: { lr: 0.1 }, patience: 2 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => train(problem, { steps: 0, optimizer: { lr: 0.1 } })).toThrow(InvalidArgumentError);
    w.dispose();
  });
});

describe('train: a loss that throws inside the gradient tape', () => {
  it('leaves no tensor behind (the tape-saved ones included)', () => {
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.ones([8, 8])));
    const x = tf.ones([16, 8]);
    expect(() =>
      train(
        {
          variables: [w],
          step: (k) => ({
            loss: () => {
              // Ops whose inputs the tape saves for the backward pass, then a failure (a user's
              // likelihood throwing on a bad parameter).
              const h = tf.tanh(tf.matMul(x, w));
              const l = tf.mean(tf.square(tf.sigmoid(h)));
              if (k === 3) throw new Error('bad parameter');
              return l as tf.Scalar;
            },
          }),
        },
        { steps: 5, optimizer: { lr: 0.01 } },
      ),
    ).toThrow('bad parameter');
    tf.dispose([w, x]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * fitAveraged and fitMlpDriftBaseline run on @sdekit/nn's `train`: a run resumed from a checkpoint
 * (the weights, Adam's moments, the mini-batch and base-sample streams) gives the bits of the
 * uninterrupted run, and no tensor is left behind when a run ends, is aborted or resumed.
 */
import type { TrainingCheckpoint, TrainingProgress } from '@sdekit/nn';
import { InvalidArgumentError, type TimeSeries } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fitAveraged, fitMlpDriftBaseline, m1Coefficients } from '../src/index.js';

const data = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i / 30) + 0.1 * Math.cos(i / 3.7));
const path: TimeSeries = { data, dim: 1, length: 400, dt: 0.01, t0: 0 };
// 360 training transitions in batches of 64: 5 batches per epoch, so step 4 lies in the first
// epoch and step 8 in the second (after a reshuffle).
const SMALL = {
  path,
  coefficients: m1Coefficients({ m: 2 }),
  L: 8,
  steps: 10,
  evaluateEvery: 3,
  batchSize: 64,
  seed: 5,
  flow: { layers: 2, hidden: 8 },
};
const BASE = { path, hidden: [8], steps: 10, evaluateEvery: 4, batchSize: 64, seed: 5 };

/** Checkpoints of a run, as a file would hold them (a JSON round trip). */
function collector(): { saved: Map<number, TrainingCheckpoint>; save: (c: TrainingCheckpoint) => void } {
  const saved = new Map<number, TrainingCheckpoint>();
  return { saved, save: (c) => saved.set(c.step, JSON.parse(JSON.stringify(c))) };
}

describe('fitAveraged: checkpoint and resume', () => {
  it('a run resumed at step 4 or 8 equals the uninterrupted run bit for bit (parameters and history)', () => {
    const before = tf.memory().numTensors;
    const plain = fitAveraged(SMALL);
    const { saved, save } = collector();
    const full = fitAveraged({ ...SMALL, checkpoint: { every: 4, save } });
    expect([...saved.keys()]).toEqual([4, 8, 10]);
    // Checkpointing changes nothing.
    expect(Array.from(full.getParams())).toEqual(Array.from(plain.getParams()));
    expect(full.training).toEqual(plain.training);
    for (const at of [4, 8]) {
      const seen: TrainingProgress[] = [];
      const resumed = fitAveraged({
        ...SMALL,
        resume: saved.get(at),
        onProgress: (p) => seen.push(p),
      });
      expect(seen.map((p) => p.step)).toEqual(Array.from({ length: 10 - at }, (_, i) => at + 1 + i));
      expect(Array.from(resumed.getParams())).toEqual(Array.from(full.getParams()));
      expect(resumed.training).toEqual(full.training);
      resumed.dispose();
    }
    // The last checkpoint resumes without a step.
    const done = fitAveraged({ ...SMALL, resume: saved.get(10) });
    expect(Array.from(done.getParams())).toEqual(Array.from(full.getParams()));
    done.dispose();
    for (const m of [plain, full]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a checkpoint of another fit is refused (other batches, other steps)', () => {
    const { saved, save } = collector();
    fitAveraged({ ...SMALL, steps: 4, checkpoint: { every: 2, save } }).dispose();
    const before = tf.memory().numTensors;
    const c = saved.get(2);
    expect(() => fitAveraged({ ...SMALL, steps: 4, batchSize: 32, resume: c })).toThrow(InvalidArgumentError);
    expect(() => fitAveraged({ ...SMALL, steps: 4, batchSize: 32, resume: c })).toThrow(
      /^resume: holds mini-batch state/,
    );
    expect(() => fitAveraged({ ...SMALL, steps: 5, resume: c })).toThrow(
      /^resume: is a checkpoint at step 2 of a 4-step run/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('no tensor left behind on an abort (before the first step or during the run) or a throwing onProgress', () => {
    const before = tf.memory().numTensors;
    const aborted = new AbortController();
    aborted.abort();
    expect(() => fitAveraged({ ...SMALL, signal: aborted.signal })).toThrow(/abort/i);
    expect(tf.memory().numTensors).toBe(before);
    const controller = new AbortController();
    const steps: number[] = [];
    const abortAt3 = (p: TrainingProgress) => {
      steps.push(p.step);
      if (p.step === 3) controller.abort(new Error('cancelled at 3'));
    };
    expect(() => fitAveraged({ ...SMALL, signal: controller.signal, onProgress: abortAt3 })).toThrow(
      'cancelled at 3',
    );
    expect(steps).toEqual([1, 2, 3]);
    expect(tf.memory().numTensors).toBe(before);
    const late = (p: TrainingProgress) => {
      if (p.step === 6) throw new Error('stop');
    };
    expect(() => fitAveraged({ ...SMALL, onProgress: late })).toThrow('stop');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fitMlpDriftBaseline: checkpoint and resume', () => {
  it('learned and known sigma: a resumed run equals the uninterrupted one bit for bit', () => {
    const before = tf.memory().numTensors;
    for (const extra of [{}, { sigma: 0.5 }]) {
      const records: TrainingProgress[] = [];
      const { saved, save } = collector();
      const full = fitMlpDriftBaseline({
        ...BASE,
        ...extra,
        checkpoint: { every: 3, save },
        onProgress: (p) => records.push(p),
      });
      expect(records.filter((r) => r.heldOutLoss !== undefined).map((r) => r.step)).toEqual([6, 10]);
      const weights = (m: ReturnType<typeof fitMlpDriftBaseline>) =>
        m.mlp.variables.flatMap((v) => Array.from(v.dataSync()));
      for (const at of [3, 6]) {
        const seen: TrainingProgress[] = [];
        const resumed = fitMlpDriftBaseline({
          ...BASE,
          ...extra,
          resume: saved.get(at),
          onProgress: (p) => seen.push(p),
        });
        expect(weights(resumed)).toEqual(weights(full));
        expect(Array.from(resumed.sigma)).toEqual(Array.from(full.sigma));
        expect(seen).toEqual(records.slice(at));
        resumed.dispose();
      }
      full.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('no tensor left behind on an abort', () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const abortAt2 = (p: TrainingProgress) => {
      if (p.step === 2) controller.abort();
    };
    expect(() => fitMlpDriftBaseline({ ...BASE, signal: controller.signal, onProgress: abortAt2 })).toThrow(
      /abort/i,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

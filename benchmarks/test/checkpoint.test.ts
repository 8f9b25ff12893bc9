/**
 * `--resume`: T3 (tiny sizes) writes its score-training checkpoint, a resumed run in the same folder
 * reads it back and reproduces the first run's numbers, and a checkpoint of other settings is
 * refused with a typed error rather than silently mixed in. (That a resumed DSM run equals an
 * uninterrupted one bit for bit is tested in @sdekit/score.)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, type SdeSystem, simulate } from '@sdekit/sde';
import { ouSystem } from '@sdekit/systems';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateInChunks, simulateLearned } from '../src/cases/common';
import { CaseContext } from '../src/context';
import type { RunReport } from '../src/metrics';
import { silentProgress } from '../src/progress';
import { runSuite } from '../src/runner';

// T = 200 time units (2000 points), a 300-step MLP score and two short paths: wiring, not accuracy.
const TINY = {
  'T3.T': 200,
  'T3.spinUp': 100,
  'T3.dsmSteps': 300,
  'T3.checkpointEvery': 100,
  'T3.hidden': 64,
  'T3.pMin': 0.01,
  // 200 time units of KS are ~9 autocorrelation times: too short for error bars.
  'T3.bootstrap': 0,
  'T3.simPaths': 2,
  'T3.simT': 25,
  'T3.simChunkT': 10,
  // The worker-thread path of the full profile (two threads where there are two cores).
  'T3.simThreads': 2,
};

let dir: string;
let first: RunReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdekit-resume-'));
  first = await runSuite({ cases: ['T3'], profile: 'quick', seed: 7, out: dir, overrides: TINY });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const values = (r: RunReport) => r.cases[0].metrics.map((m) => [m.name, m.value]);

describe('benchmark checkpoints (--resume)', () => {
  it('T3 writes its DSM checkpoint; a resumed run reads it and reproduces the metrics', async () => {
    expect(first.cases[0].error).toBeNull();
    // KS is smooth in time: the regime diagnostic says so, and 'auto' took the generator estimator.
    const regime = first.cases[0].metrics.find((m) => m.name === 'increment slope (regime)');
    expect(regime?.value).toBeGreaterThan(1.5);
    expect(regime?.note).toMatch(/^smooth: .*generator estimator \(auto\)/);
    // T3 simulates on worker threads, one per core, at most one per path and simThreads.
    expect(first.cases[0].sizes.simThreads).toBe(Math.min(2, availableParallelism()));
    const file = join(dir, 'checkpoints', 'T3-dsm.json');
    expect(existsSync(file)).toBe(true);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.format).toBe('sdekit.dsm-checkpoint');
    expect(saved.step).toBe(300);
    const simulation = JSON.parse(readFileSync(join(dir, 'checkpoints', 'T3-simulate.json'), 'utf8'));
    expect([simulation.chunksDone, simulation.filled]).toEqual([3, 251]);
    const run = (resume: boolean) =>
      runSuite({ cases: ['T3'], profile: 'quick', seed: 7, out: dir, overrides: TINY, resume });
    const again = await run(true);
    expect(again.cases[0].error).toBeNull();
    expect(values(again)).toEqual(values(first));
    // The resumed run really uses the file: altered weights in it change the learned model's numbers.
    saved.training.weights = saved.training.weights.map((w: number) => w * 1.05);
    writeFileSync(file, JSON.stringify(saved));
    const altered = await run(true);
    expect(values(altered)).not.toEqual(values(first));
    // Without --resume the file is ignored (and overwritten by the fresh run's checkpoint).
    const fresh = await run(false);
    expect(values(fresh)).toEqual(values(first));
    expect(JSON.parse(readFileSync(file, 'utf8')).training.weights).not.toEqual(saved.training.weights);
  }, 240_000);

  it('refuses the checkpoint of a run with another seed', async () => {
    const other = await runSuite({
      cases: ['T3'],
      profile: 'quick',
      seed: 8,
      out: dir,
      overrides: TINY,
      resume: true,
    });
    expect(other.cases[0].status).toBe('error');
    expect(other.cases[0].error).toMatch(/resume.*seed/s);
  }, 120_000);
});

describe('chunked, resumable simulation', () => {
  const theta = Matrix.from([
    [1, 0.5],
    [-0.5, 1],
  ]);
  const sizes = { simPaths: 3, simT: 2.5, dt: 0.1, simH: 0.01, simChunkT: 1 };
  const context = (resume: boolean) =>
    new CaseContext({
      id: 'X',
      title: 'x',
      profile: 'quick',
      seed: 5,
      runDir: dir,
      resume,
      progress: silentProgress,
    });
  const x0 = Float64Array.of(1, 0, 0, 1, -1, -1);
  const ou = (noise: number[][]) => ouSystem(theta, Matrix.from(noise));

  it('reading a missing checkpoint creates nothing; a chunked simulation needs the model key', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'sdekit-nocheckpoint-'));
    const ctx = new CaseContext({
      id: 'X',
      title: 'x',
      profile: 'quick',
      seed: 5,
      runDir: fresh,
      resume: true,
      progress: silentProgress,
    });
    expect(ctx.checkpoint('dsm').load()).toBeNull();
    expect(existsSync(join(fresh, 'checkpoints'))).toBe(false);
    await expect(
      simulateLearned(
        ctx,
        ou([
          [0.5, 0],
          [0.2, 0.5],
        ]),
        x0,
        sizes,
        0.3,
      ),
    ).rejects.toThrow(/modelKey/);
    await rm(fresh, { recursive: true, force: true });
  });

  it('stitches chunks exactly: without noise it equals one uninterrupted simulation', async () => {
    const quiet = ou([
      [0, 0],
      [0, 0],
    ]);
    const chunked = await simulateInChunks(context(false), quiet, x0, sizes, 0.3, () => {}, 'quiet');
    const whole = simulate(quiet, { x0, paths: 3, h: 0.01, T: 2.5, saveEvery: 10, burnIn: 30, seed: 1 });
    expect(chunked.length).toBe(26);
    expect(whole.length).toBe(26);
    for (let i = 0; i < whole.data.length; i++) expect(chunked.data[i]).toBeCloseTo(whole.data[i], 12);
  });

  it('an interrupted run resumed from its checkpoint equals an uninterrupted one', async () => {
    const noisy = ou([
      [0.5, 0],
      [0.2, 0.5],
    ]);
    const straight = await simulateInChunks(context(false), noisy, x0, sizes, 0.3, () => {}, 'noisy');
    // Drift calls counted per path and step (no batched drift); `stopAt` kills the run at that time.
    const counted = (stopAt: number) => {
      const wrapped = {
        calls: 0,
        system: {
          ...noisy,
          drift: (t: number, x: Float64Array, out: Float64Array) => {
            if (t > stopAt) throw new Error('killed');
            wrapped.calls++;
            noisy.drift(t, x, out);
          },
          driftBatch: undefined,
        } as SdeSystem,
      };
      return wrapped;
    };
    // Killed during chunk 2 (after chunks 0 and 1 were checkpointed).
    const dying = counted(2.3);
    await expect(
      simulateInChunks(context(false), dying.system, x0, sizes, 0.3, () => {}, 'noisy'),
    ).rejects.toThrow('killed');
    expect(dying.calls).toBeGreaterThan(0);
    // Resumed, only chunk 2 (0.5 time units = 50 steps of 3 paths) is integrated again.
    const counting = counted(Number.POSITIVE_INFINITY);
    const resumed = await simulateInChunks(context(true), counting.system, x0, sizes, 0.3, () => {}, 'noisy');
    expect(counting.calls).toBe(50 * 3);
    expect(Array.from(resumed.data)).toEqual(Array.from(straight.data));
    await expect(
      simulateInChunks(context(true), noisy, x0, { ...sizes, simH: 0.005 }, 0.3, () => {}, 'noisy'),
    ).rejects.toThrow(/resume.*h/s);
    await expect(simulateInChunks(context(true), noisy, x0, sizes, 0.3, () => {}, 'other')).rejects.toThrow(
      /resume.*model/s,
    );
  });
});

/**
 * `sdekit fit-averaged`: the held-out likelihood is evaluated as often as asked (--evaluate-every) on
 * at most --held-out-max transitions; a saved averaged model with a bad field is refused naming it;
 * a constant series and too few rows are refused before training.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AveragedModelJSON, fitAveraged, m1Coefficients } from '@sdekit/averaging';
import { FormatError, InvalidArgumentError, Rng, simulate } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv } from '../src/io';
import { loadSavedModel } from '../src/model-system';
import { AFFINE_MODULE, type RunResult, sdekit, tempDir } from './commands-helpers';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-avg-'));
  // dX = (0.7 - X) dt + 0.5 dW at Delta = 0.01: 400 rows.
  const path = simulate(
    {
      dim: 1,
      noiseDim: 1,
      noise: 'scalar',
      additive: true,
      drift: (_t, x, out) => {
        out[0] = 0.7 - x[0];
      },
      diffusion: (_t, _x, out) => {
        out[0] = 0.5;
      },
    },
    { x0: Float64Array.of(0.7), h: 0.01, T: 3.99, seed: 2 },
  );
  await writeFile(join(dir, 'slow.csv'), formatCsv(path.data, 1, ['x']));
  await writeFile(join(dir, 'coef.mjs'), AFFINE_MODULE);
});
afterAll(async () => {
  await cleanup();
});

const FIT = [
  'fit-averaged',
  '--dt',
  '0.01',
  '--coefficients',
  'coef.mjs',
  '--fast-dim',
  '1',
  '--fast-samples',
  '8',
  '--flow-layers',
  '2',
  '--flow-hidden',
  '8',
  '--batch-size',
  '64',
];

function expectFailure(r: RunResult, code: number, message: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(code);
}

describe('fit-averaged: held-out NLL as often as asked, on at most --held-out-max transitions', () => {
  it('--evaluate-every N: floor(steps / N) evaluations, the last at the last step', async () => {
    const r = await sdekit(
      [...FIT, 'slow.csv', '--steps', '10', '--evaluate-every', '3', '--held-out', '0.5', '--out', 'a.json'],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'a.json'), 'utf8')) as AveragedModelJSON;
    expect(json.version).toBe(2);
    const at = json.training.history.filter((h) => h.heldOutLoss !== undefined).map((h) => h.step);
    expect(at).toEqual([4, 7, 10]);
    expect(json.training.heldOutTransitions).toBe(199);
    expect(json.training.heldOutSubsample).toBeUndefined();
    expect(r.stdout).toMatch(/held-out NLL 3 times on all held-out transitions/);

    // A held-out part longer than --held-out-max: a fixed subsample; training itself unchanged.
    const s = await sdekit(
      [
        ...FIT,
        'slow.csv',
        '--steps',
        '10',
        '--evaluate-every',
        '3',
        '--held-out',
        '0.5',
        '--held-out-max',
        '50',
        '--out',
        'b.json',
      ],
      dir,
    );
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/held-out NLL 3 times on a fixed subsample of 50 held-out transitions/);
    const sub = JSON.parse(await readFile(join(dir, 'b.json'), 'utf8')) as AveragedModelJSON;
    expect(sub.training.heldOutSubsample).toBe(50);
    expect(sub.training.history.map((h) => h.metrics)).toEqual(json.training.history.map((h) => h.metrics));
    expect(sub.flow.params).toEqual(json.flow.params);

    // Default: max(1, floor(steps / 20)), here 1 for 10 steps: an evaluation at each.
    const d = await sdekit([...FIT, 'slow.csv', '--steps', '10', '--quiet', '--out', 'c.json'], dir);
    expect(d.code).toBe(0);
    const def = JSON.parse(await readFile(join(dir, 'c.json'), 'utf8')) as AveragedModelJSON;
    expect(def.training.history.filter((h) => h.heldOutLoss !== undefined)).toHaveLength(10);

    expectFailure(
      await sdekit([...FIT, 'slow.csv', '--evaluate-every', '0', '--out', 'x.json'], dir),
      2,
      /--evaluate-every/,
    );
    expectFailure(
      await sdekit([...FIT, 'slow.csv', '--held-out-max', '1.5', '--out', 'x.json'], dir),
      2,
      /--held-out-max/,
    );
  });

  it('a constant series (named by its header) and fewer than 50 rows are refused before training', async () => {
    await writeFile(join(dir, 'flat.csv'), formatCsv(new Float64Array(300).fill(0.25), 1, ['level']));
    expectFailure(
      await sdekit([...FIT, 'flat.csv', '--out', 'f.json'], dir),
      1,
      /DATA: column 'level' is constant \(every row is 0\.25\); leave it out with --columns/,
    );
    const rows = Rng.fromSeed(3).fillNormal(new Float64Array(49));
    await writeFile(join(dir, 'short.csv'), formatCsv(rows, 1, ['x']));
    expectFailure(
      await sdekit([...FIT, 'short.csv', '--out', 's.json'], dir),
      1,
      /DATA: has 49 samples; this command needs at least 50/,
    );
    await writeFile(
      join(dir, 'fifty.csv'),
      formatCsv(Rng.fromSeed(3).fillNormal(new Float64Array(50)), 1, ['x']),
    );
    const ok = await sdekit([...FIT, 'fifty.csv', '--steps', '2', '--quiet', '--out', 'fifty.json'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});

describe('a saved averaged model with a bad field is refused, naming the field', () => {
  it('simulate and loadSavedModel: missing fields, null entries, non-finite numbers, dt <= 0, wrong shapes', async () => {
    // A built-in-coefficients model (m1, m = 2), as a program would save it.
    const series = {
      data: Float64Array.from({ length: 300 }, (_, i) => Math.sin(i / 20)),
      dim: 1,
      length: 300,
      dt: 0.01,
      t0: 0,
    };
    const model = fitAveraged({
      path: series,
      coefficients: m1Coefficients({ m: 2 }),
      L: 8,
      steps: 2,
      batchSize: 64,
      flow: { layers: 2, hidden: 8 },
      seed: 1,
    });
    const good = JSON.parse(
      JSON.stringify({
        ...model.toJSON(),
        sdekitCli: {
          version: 1,
          command: 'fit-averaged',
          data: 'x.csv',
          columns: ['x'],
          samples: 300,
          lastPoint: [0.1],
        },
      }),
    );
    model.dispose();
    await writeFile(join(dir, 'good.json'), JSON.stringify(good));
    const sim = ['--T', '0.5', '--dt', '0.1', '--paths', '2', '--seed', '1', '--quiet'];
    const ok = await sdekit(['simulate', 'good.json', ...sim, '--out', 'ok.npy'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: edits of arbitrary fields of a parsed JSON
    const cases: [string, (j: Record<string, any>) => void, RegExp][] = [
      ['no-dt', (j) => delete j.dt, /AveragedModel\.fromJSON: dt must be a finite number > 0 .*got missing/],
      ['zero-dt', (j) => (j.dt = 0), /AveragedModel\.fromJSON: dt must be a finite number > 0 .*got 0/],
      ['negative-dt', (j) => (j.dt = -1), /AveragedModel\.fromJSON: dt must be a finite number > 0/],
      ['nan-dt', (j) => (j.dt = null), /AveragedModel\.fromJSON: dt must be a finite number > 0 .*got null/],
      [
        'null-param',
        (j) => (j.flow.params[3] = null),
        /AveragedModel\.fromJSON: flow\.params\[3\] must be a finite number, got null/,
      ],
      [
        'flow-dim',
        (j) => (j.flow.dim = 1),
        /AveragedModel\.fromJSON: flow\.dim is 1, must equal fastDim \(2\)/,
      ],
      ['no-flow', (j) => delete j.flow, /AveragedModel\.fromJSON: flow must be a flow's JSON/],
      [
        'beta',
        (j) => (j.coefficients.params.beta = 'x'),
        /AveragedModel\.fromJSON: coefficients\.params\.beta must be a finite number/,
      ],
      ['slow-dim', (j) => (j.slowDim = [1]), /AveragedModel\.fromJSON: slowDim must be a positive integer/],
      [
        'history',
        (j) => (j.training.history = null),
        /AveragedModel\.fromJSON: training\.history must be an array/,
      ],
      [
        'last-point',
        (j) => (j.sdekitCli.lastPoint = [null]),
        /MODEL: sdekitCli\.lastPoint must be an array of finite numbers, got \[null\]/,
      ],
    ];
    for (const [name, edit, message] of cases) {
      const j = structuredClone(good);
      edit(j);
      await writeFile(join(dir, `${name}.json`), JSON.stringify(j));
      expectFailure(
        await sdekit(['simulate', `${name}.json`, ...sim, '--out', `${name}.npy`], dir),
        1,
        message,
      );
      // The library entry the worker threads use refuses it the same way, and leaks no tensor.
      if (name !== 'last-point') {
        const before = tf.memory().numTensors;
        await expect(loadSavedModel(j)).rejects.toThrow(FormatError);
        expect(tf.memory().numTensors).toBe(before);
      }
    }
    // A user-coefficients model is checked before its module is imported.
    const user = { ...structuredClone(good), coefficients: null, dt: 0 };
    await expect(loadSavedModel(user, { coefficientsModule: join(dir, 'missing.mjs') })).rejects.toThrow(
      /AveragedModel\.fromJSON: dt /,
    );
    await expect(loadSavedModel({ ...user, dt: 0.01 })).rejects.toThrow(InvalidArgumentError);
  });
});

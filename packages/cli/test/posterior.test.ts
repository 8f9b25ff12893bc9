/**
 * `sdekit posterior` and what reads its file: the report folder (posterior JSON that round-trips
 * exactly, nested 50 / 90 / 95 % bands on a grid over the data's 0.5-99.5 % range, forecasts, ELBO,
 * convergence test, likelihood check), the exit code of an unconverged posterior, `simulate` with
 * parameters drawn per path (reproducible per seed), and the DATA selection options of compare and
 * of simulate --x0 data:FILE. Tiny sizes: the numbers are not credible, the plumbing is what is tested.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AveragedModel, type AveragedModelJSON } from '@sdekit/averaging';
import { writeSeriesFile } from '@sdekit/io';
import { simulate } from '@sdekit/sde';
import { AveragedPosterior, elboConvergence, forecastSeeds } from '@sdekit/vi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCoefficientsModule } from '../src/commands/model-file';
import { dataRangeGrid, POSTERIOR_CHECKPOINT_FILE } from '../src/commands/posterior';
import { formatCsv, parseCsv, readNpy } from '../src/io';
import { AFFINE_MODULE, sdekit, tempDir } from './commands-helpers';

let dir: string;
let cleanup: () => Promise<void>;
let slow: Float64Array;

/** Tiny posterior settings: seconds, not credibility. */
const TINY = [
  '--fast-samples',
  '8',
  '--elbo-samples',
  '2',
  '--batch-size',
  '64',
  '--draws',
  '20',
  '--grid',
  '11',
  '--check-draws',
  '4',
  '--forecast-draws',
  '4',
  '--horizon',
  '0.2',
];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-posterior-'));
  // dX = (0.7 - X) dt + 0.5 dW at Delta = 0.01: 400 rows (the fit-averaged test's path).
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
  slow = path.data;
  await writeFile(join(dir, 'slow.csv'), formatCsv(path.data, 1, ['x']));
  await writeFile(join(dir, 'coef.mjs'), AFFINE_MODULE);
  const fit = await sdekit(
    [
      'fit-averaged',
      'slow.csv',
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
      '--steps',
      '20',
      '--quiet',
      '--out',
      'model.json',
    ],
    dir,
  );
  expect(fit.stderr).toBe('');
  expect(fit.code).toBe(0);
});
afterAll(async () => {
  await cleanup();
});

/** Reads a CSV written by the command: header and rows. */
async function csv(name: string): Promise<{ header: string[]; rows: number[][] }> {
  const t = parseCsv(await readFile(join(dir, name), 'utf8'));
  const rows = Array.from({ length: t.rows }, (_, i) =>
    Array.from(t.data.subarray(i * t.cols, (i + 1) * t.cols)),
  );
  return { header: t.header ?? [], rows };
}

/** numpy's default (linear) quantile of values. */
function linearQuantile(values: Float64Array, p: number): number {
  const s = Float64Array.from(values).sort();
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

async function loadModel(): Promise<AveragedModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as AveragedModelJSON;
  const coefficients = await loadCoefficientsModule(join(dir, 'coef.mjs'), 'coef.mjs', {
    slowDim: 1,
    fastDim: 1,
  });
  return AveragedModel.fromJSON(json, { coefficients });
}

describe('sdekit posterior', () => {
  it('writes the report folder: exact JSON round trip, nested bands on the data range, forecasts, ELBO', async () => {
    const r = await sdekit(
      [
        'posterior',
        'model.json',
        'slow.csv',
        '--dt',
        '0.01',
        '--steps',
        '40',
        ...TINY,
        '--seed',
        '3',
        '--allow-unconverged',
        '--out',
        'post',
      ],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /posterior subspace of rank \d+, prior N\(theta_hat, 3\^2 I\); 40 steps x 2 samples/,
    );
    expect(r.stdout).toMatch(/ms per step/);
    expect(r.stdout).toMatch(/^ELBO .*change over the last quarter/m);
    expect(r.stdout).toMatch(/^check {5}median log-likelihood gap of 4 draws/m);
    expect(r.stdout).toMatch(/^verdict /m);
    expect((await readdir(join(dir, 'post'))).sort()).toEqual(
      [
        'bbar-x.csv',
        'bbar-x.svg',
        'elbo.csv',
        'elbo.svg',
        'forecast-x.csv',
        'forecast-x.svg',
        'index.html',
        'posterior.json',
        'report.json',
        'sigmabar-x.csv',
        'sigmabar-x.svg',
      ].sort(),
    );

    // posterior.json: AveragedPosterior.toJSON() plus the CLI block; reloading gives it back exactly.
    const json = JSON.parse(await readFile(join(dir, 'post', 'posterior.json'), 'utf8'));
    expect(json.format).toBe('sdekit.vi.averaged-posterior');
    expect(json.sdekitCli.command).toBe('posterior');
    expect(json.sdekitCli.model.sdekitCli.coefficientsModule).toBe('../coef.mjs');
    const model = await loadModel();
    try {
      const { sdekitCli, ...lib } = json;
      const post = AveragedPosterior.fromJSON(lib, model);
      expect(JSON.parse(JSON.stringify(post.toJSON()))).toEqual(lib);
      expect(Array.from(post.fitted)).toEqual(Array.from(model.getParams()));
      expect(sdekitCli.lastPoint).toEqual([slow[slow.length - 1]]);
    } finally {
      model.dispose();
    }

    // bbar / sigmabar: x from the 0.5 % to the 99.5 % quantile; 50 in 90 in 95 % at every point.
    for (const name of ['bbar-x.csv', 'sigmabar-x.csv', 'forecast-x.csv']) {
      const { header, rows } = await csv(`post/${name}`);
      expect(header).toEqual([
        name.startsWith('forecast') ? 't' : 'x',
        'mean',
        'lower_50',
        'upper_50',
        'lower_90',
        'upper_90',
        'lower_95',
        'upper_95',
      ]);
      for (const [, , l50, u50, l90, u90, l95, u95] of rows) {
        expect(l95).toBeLessThanOrEqual(l90);
        expect(l90).toBeLessThanOrEqual(l50);
        expect(l50).toBeLessThanOrEqual(u50);
        expect(u50).toBeLessThanOrEqual(u90);
        expect(u90).toBeLessThanOrEqual(u95);
      }
      if (name.startsWith('forecast')) {
        expect(rows[0][0]).toBe(0);
        expect(rows[rows.length - 1][0]).toBeCloseTo(0.2, 12);
        // Every path starts at the last observed point: the bands are a point at t = 0.
        expect(rows[0][1]).toBeCloseTo(slow[slow.length - 1], 12);
        expect(rows[0].slice(2)).toEqual(new Array(6).fill(slow[slow.length - 1]));
      } else {
        expect(rows).toHaveLength(11);
        expect(rows[0][0]).toBeCloseTo(linearQuantile(slow, 0.005), 12);
        expect(rows[10][0]).toBeCloseTo(linearQuantile(slow, 0.995), 12);
      }
    }
    const report = JSON.parse(await readFile(join(dir, 'post', 'report.json'), 'utf8'));
    expect(report.settings.steps).toBe(40);
    expect(typeof report.convergence.converged).toBe('boolean');
    expect(report.likelihoodCheck.gaps).toHaveLength(4);
    const elbo = await csv('post/elbo.csv');
    expect(elbo.header).toEqual(['step', 'elbo']);
    expect(elbo.rows.length).toBeGreaterThan(30);
    expect(await readFile(join(dir, 'post', 'index.html'), 'utf8')).toMatch(/<img src="bbar-x.svg"/);
    expect(await readFile(join(dir, 'post', 'bbar-x.svg'), 'utf8')).toMatch(/fill-opacity="0.15"/);

    // Nothing replaced without --force; the input never.
    const again = await sdekit(['posterior', 'model.json', 'slow.csv', '--steps', '1', '--out', 'post'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--out 'post' is a folder that is not empty\. Fix: pass --force/);
    const clobber = await sdekit(
      ['posterior', 'model.json', 'slow.csv', '--steps', '1', '--force', '--out', 'slow.csv'],
      dir,
    );
    expect(clobber.code).toBe(1);
    expect(clobber.stderr).toMatch(/is a file; name a folder|would replace your data/);
  });

  it('a posterior of 1 step is unconverged: exit 1 with the report written, 0 with --allow-unconverged', async () => {
    const r = await sdekit(
      ['posterior', 'model.json', 'slow.csv', '--steps', '1', ...TINY, '--out', 'one'],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/NOT converged: 1 step are too few to test/);
    expect(r.stdout).toMatch(/^verdict {3}UNCONVERGED/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^sdekit posterior: posterior: UNCONVERGED .*--allow-unconverged/);
    expect(await readdir(join(dir, 'one'))).toContain('posterior.json');
    const ok = await sdekit(
      [
        'posterior',
        'model.json',
        'slow.csv',
        '--steps',
        '1',
        ...TINY,
        '--allow-unconverged',
        '--force',
        '--out',
        'one',
      ],
      dir,
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^verdict {3}UNCONVERGED/m);
  });

  it('an interrupted run resumes from its checkpoint with the numbers of an uninterrupted one', async () => {
    const run = (out: string, ...extra: string[]) =>
      sdekit(
        [
          'posterior',
          'model.json',
          'slow.csv',
          '--steps',
          '40',
          ...TINY,
          '--seed',
          '3',
          '--allow-unconverged',
          '--checkpoint-every',
          '10',
          ...extra,
          '--out',
          out,
        ],
        dir,
      );
    const full = await run('uninterrupted');
    expect(full.code).toBe(0);
    // The report replaces the folder, checkpoint included.
    expect(await readdir(join(dir, 'uninterrupted'))).not.toContain(POSTERIOR_CHECKPOINT_FILE);

    // The same coefficients, failing once the checkpoint of step 10 is on disk (a crash at step 11).
    const checkpoint = join(dir, 'part', POSTERIOR_CHECKPOINT_FILE);
    await writeFile(
      join(dir, 'coef-crash.mjs'),
      AFFINE_MODULE.replace(
        'driftTf: (x, y) =>',
        "driftTf: (x, y) => (globalThis.sdekitTestCrash?.() && (() => { throw new Error('simulated crash'); })()) ||",
      ),
    );
    (globalThis as { sdekitTestCrash?: () => boolean }).sdekitTestCrash = () => existsSync(checkpoint);
    let crashed: Awaited<ReturnType<typeof sdekit>>;
    try {
      crashed = await run('part', '--coefficients', 'coef-crash.mjs');
    } finally {
      delete (globalThis as { sdekitTestCrash?: () => boolean }).sdekitTestCrash;
    }
    expect(crashed.code).toBe(1);
    expect(crashed.stderr).toMatch(/simulated crash/);
    expect(crashed.stderr).toMatch(
      /state after step 10 is in part\/posterior-checkpoint\.json; rerun with --resume/,
    );
    expect(await readdir(join(dir, 'part'))).toEqual([POSTERIOR_CHECKPOINT_FILE]);
    expect(JSON.parse(await readFile(checkpoint, 'utf8')).training.step).toBe(10);

    // Not overwritten by a fresh run; refused under other settings; then resumed.
    const fresh = await run('part');
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/holds the checkpoint of an interrupted run\. Fix: pass --resume/);
    const other = await sdekit(
      [
        'posterior',
        'model.json',
        'slow.csv',
        '--steps',
        '40',
        ...TINY,
        '--seed',
        '4',
        '--resume',
        '--out',
        'part',
      ],
      dir,
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other settings \(seed: 3, now 4\)/);
    const resumed = await run('part', '--resume');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resumed at step 10/);
    expect(await readdir(join(dir, 'part'))).not.toContain(POSTERIOR_CHECKPOINT_FILE);
    const posteriorOf = async (out: string) =>
      JSON.parse(await readFile(join(dir, out, 'posterior.json'), 'utf8')).posterior;
    expect(await posteriorOf('part')).toEqual(await posteriorOf('uninterrupted'));
    for (const f of ['elbo.csv', 'bbar-x.csv', 'forecast-x.csv'])
      expect(await readFile(join(dir, 'part', f), 'utf8')).toBe(
        await readFile(join(dir, 'uninterrupted', f), 'utf8'),
      );

    const nothing = await run('uninterrupted', '--resume');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/holds no posterior-checkpoint\.json/);
  });

  it('the convergence test and the grid, exactly', () => {
    // A flat ELBO with noise passes; a rising one fails; too few steps never pass.
    const flat = Float64Array.from({ length: 100 }, (_, i) => -10 + (i % 2 === 0 ? 0.1 : -0.1));
    expect(elboConvergence(flat, 3).converged).toBe(true);
    const rising = Float64Array.from({ length: 100 }, (_, i) => i + (i % 2 === 0 ? 0.1 : -0.1));
    const c = elboConvergence(rising, 3);
    expect(c.converged).toBe(false);
    expect(c.drift).toBeCloseTo(25, 10);
    expect(elboConvergence(flat.subarray(0, 19), 3).reason).toMatch(/too few/);
    const g = dataRangeGrid(Float64Array.from([3, 1, 2, 0, 4]), 3);
    expect(Array.from(g)).toEqual([0.02, 2, 3.98]);
  });

  it('a bad posterior file is refused naming the field', async () => {
    const json = JSON.parse(await readFile(join(dir, 'post', 'posterior.json'), 'utf8'));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ ...json, fitted: [1, 'x'] }));
    const r = await sdekit(
      ['simulate', 'bad.json', '--T', '0.1', '--dt', '0.01', '--seed', '1', '--out', 'b.npy'],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/POSTERIOR: fitted must be an array of finite numbers/);
    await writeFile(join(dir, 'bad2.json'), JSON.stringify({ ...json, version: 2 }));
    const v = await sdekit(
      ['simulate', 'bad2.json', '--T', '0.1', '--dt', '0.01', '--seed', '1', '--out', 'b.npy'],
      dir,
    );
    expect(v.stderr).toMatch(/POSTERIOR: version is 2, expected 1/);
  });
});

describe('sdekit simulate with a posterior file', () => {
  it('draws the parameters of every path, reproducibly per seed', async () => {
    const run = (seed: string, out: string) =>
      sdekit(
        [
          'simulate',
          'post/posterior.json',
          '--T',
          '0.5',
          '--dt',
          '0.01',
          '--paths',
          '3',
          '--samples',
          '16',
          '--seed',
          seed,
          '--out',
          out,
        ],
        dir,
      );
    const a = await run('5', 'a.npy');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/parameters drawn from the posterior for each of the 3 paths/);
    await run('5', 'b.npy');
    await run('6', 'c.npy');
    const A = await readNpy(join(dir, 'a.npy'));
    const B = await readNpy(join(dir, 'b.npy'));
    const C = await readNpy(join(dir, 'c.npy'));
    expect(A.shape).toEqual([3, 51, 1]);
    expect(Array.from(B.data)).toEqual(Array.from(A.data));
    expect(Array.from(C.data)).not.toEqual(Array.from(A.data));

    // Path p is the model at posterior draw p (seeds of forecastSeeds), recomputed here.
    const json = JSON.parse(await readFile(join(dir, 'post', 'posterior.json'), 'utf8'));
    const model = await loadModel();
    try {
      const { sdekitCli, ...lib } = json;
      const post = AveragedPosterior.fromJSON(lib, model);
      const r = post.posterior.dim;
      const thetas = post.posterior.sample(3, 5);
      const { fast, noise } = forecastSeeds(5, 3);
      const x0 = Float64Array.of(sdekitCli.lastPoint[0]);
      const params: Float64Array[] = [];
      for (let p = 0; p < 3; p++) {
        params.push(post.parametersOf(thetas.subarray(p * r, (p + 1) * r)));
        model.setParams(params[p]);
        const system = model.system({ fastSamples: 16, seed: fast[p] });
        model.setParams(post.fitted);
        const b = simulate(system, { x0, paths: 1, h: 0.01, steps: 50, seed: noise[p] });
        expect(Array.from(A.data.subarray(p * 51, (p + 1) * 51))).toEqual(Array.from(b.data));
      }
      // The draws differ from each other and from theta_hat.
      expect(Array.from(params[0])).not.toEqual(Array.from(params[1]));
      expect(Array.from(params[0])).not.toEqual(Array.from(post.fitted));
    } finally {
      model.dispose();
    }
    const threads = await run('5', 'd.npy').then(() =>
      sdekit(
        [
          'simulate',
          'post/posterior.json',
          '--T',
          '0.5',
          '--dt',
          '0.01',
          '--threads',
          '2',
          '--seed',
          '1',
          '--out',
          'e.npy',
        ],
        dir,
      ),
    );
    expect(threads.code).toBe(2);
    expect(threads.stderr).toMatch(/--threads/);
  });
});

describe('DATA selection options of compare and simulate --x0 data:FILE', () => {
  it('compare reads HDF5 with --dataset / --rows and its stated dt; simulate --x0 data:FILE takes --rows', async () => {
    await writeSeriesFile(join(dir, 'slow.h5'), slow, [slow.length, 1], { dt: 0.01, names: ['x'] });
    const sim = await sdekit(
      [
        'simulate',
        'model.json',
        '--T',
        '2',
        '--dt',
        '0.01',
        '--paths',
        '2',
        '--samples',
        '16',
        '--seed',
        '1',
        '--x0',
        'data:slow.h5',
        '--rows',
        '0:5',
        '--out',
        'sim.npy',
      ],
      dir,
    );
    expect(sim.stderr).toBe('');
    expect(sim.code).toBe(0);
    const S = await readNpy(join(dir, 'sim.npy'));
    // Burn-in T/10 for starts from the data; the start rows themselves are in the first 5.
    expect(sim.stdout).toMatch(/start {5}2 rows drawn from slow\.h5/);
    const start = Number(/path 0 at (\S+)/.exec(sim.stdout)?.[1]);
    expect(
      Array.from(slow.subarray(0, 5)).some((v) => Math.abs(v - start) < 1e-4 * Math.max(1, Math.abs(v))),
    ).toBe(true);
    expect(S.shape).toEqual([2, 201, 1]);

    const cmp = await sdekit(
      [
        'compare',
        'slow.h5',
        'sim.npy',
        '--dataset',
        '/x',
        '--rows',
        '0:300',
        '--bins',
        '8',
        '--bootstrap',
        '20',
      ],
      dir,
    );
    expect(cmp.stderr).toBe('');
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/data slow\.h5: 300 samples x 1/);
    expect(cmp.stdout).toMatch(/lag \(time\)/);
    const contra = await sdekit(['compare', 'slow.h5', 'sim.npy', '--dt', '0.02', '--bins', '8'], dir);
    expect(contra.code).toBe(1);
    expect(contra.stderr).toMatch(/--dt: 0\.02 contradicts the file/);
    const csvSel = await sdekit(['compare', 'slow.csv', 'sim.npy', '--rows', '0:10'], dir);
    expect(csvSel.code).toBe(2);
    expect(csvSel.stderr).toMatch(/--rows applies to HDF5/);
    const noFile = await sdekit(
      [
        'simulate',
        'model.json',
        '--T',
        '1',
        '--dt',
        '0.01',
        '--seed',
        '1',
        '--rows',
        '0:5',
        '--out',
        'n.npy',
      ],
      dir,
    );
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/--rows selects what --x0 data:FILE reads/);
  });
});

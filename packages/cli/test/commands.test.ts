/**
 * Round trips through the sdekit command line on generated data with known answers:
 * an OU series through fit-langevin -> simulate -> compare, and fit-averaged on a slow path whose
 * averaged drift has a closed-form maximum-likelihood estimate.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AveragedModel, type SlowCoefficients } from '@sdekit/averaging';
import { LangevinModel } from '@sdekit/score';
import { Matrix, Rng, type SdeSystem, simulate } from '@sdekit/sde';
import { ouSystem } from '@sdekit/systems';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv, readCsv, readNpy, writeNpy } from '../src/io';
import { AFFINE_MODULE, sdekit, tempDir } from './commands-helpers';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-'));
});
afterAll(async () => {
  await cleanup();
});

// 2-D OU dx = -Theta x dt + sqrt(2) dW with Theta = I + A, A antisymmetric: the stationary law is
// N(0, I) (Theta C + C Theta^T = 2 I holds with C = I), the score is s(x) = -x, and Phi s = -Theta x
// gives exactly Phi = Theta = [[1, 1], [-1, 1]]: Phi_S = I, Phi_A = [[0, 1], [-1, 0]].
const THETA = [
  [1, 1],
  [-1, 1],
];
const T_DATA = 2000;
const DT = 0.05;

describe('fit-langevin -> simulate -> compare on an OU series', () => {
  it('recovers Phi, simulates reproducibly in both layouts, and matches the data statistics', async () => {
    const bundle = simulate(
      ouSystem(
        Matrix.from(THETA),
        Matrix.from([
          [Math.SQRT2, 0],
          [0, Math.SQRT2],
        ]),
      ),
      {
        x0: new Float64Array(2),
        h: 0.01,
        T: T_DATA,
        saveEvery: 5,
        burnIn: 1000,
        seed: 11,
      },
    );
    // CSV with a header and an extra time column that --columns leaves out.
    const n = bundle.length;
    const rows = new Float64Array(n * 3);
    for (let k = 0; k < n; k++) {
      rows[3 * k] = k * DT;
      rows[3 * k + 1] = bundle.data[2 * k];
      rows[3 * k + 2] = bundle.data[2 * k + 1];
    }
    await writeFile(join(dir, 'ou.csv'), formatCsv(rows, 3, ['t', 'u', 'v']));

    const fit = await sdekit(
      [
        'fit-langevin',
        'ou.csv',
        '--dt',
        String(DT),
        '--columns',
        'u,v',
        '--steps',
        '500',
        '--hidden',
        '32,32',
        '--seed',
        '2',
        '--out',
        'ou-model.json',
      ],
      dir,
    );
    expect(fit.stderr).toBe('');
    expect(fit.code).toBe(0);
    expect(fit.stdout).toMatch(/Phi \(data units/);
    expect(fit.stdout).toMatch(/Sigma \(lower Cholesky/);
    expect(fit.stdout).toMatch(/Stein error/);

    const json = JSON.parse(await readFile(join(dir, 'ou-model.json'), 'utf8'));
    expect(json.format).toBe('sdekit.langevin-model');
    expect(json.sdekitCli.columns).toEqual(['u', 'v']);
    const model = LangevinModel.fromJSON(json); // the library reads CLI-written models directly
    // Tolerance 0.15 per entry. Sampling error: Cdot is in effect (C(dt) - C(0))/dt, whose noise
    // term (1/T) int x dW has standard deviation sqrt(2 Var(x) / T) = sqrt(2 / 2000) = 0.032 per
    // entry; the 500-step DSM score adds a Stein error of about 0.03 (printed; V enters Phi linearly).
    // 0.15 is about 4 standard errors of the two together; measured errors are below 0.06.
    const phi = model.original.phi.toArray();
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) expect(Math.abs(phi[i][j] - THETA[i][j])).toBeLessThan(0.15);
    model.dispose();

    // Simulate: the same seed gives the same paths in .npy [P, N, D] and CSV (P*D columns) layouts.
    const simArgs = [
      'simulate',
      'ou-model.json',
      '--T',
      '400',
      '--dt',
      String(DT),
      '--paths',
      '2',
      '--seed',
      '3',
      '--burn-in',
      '5',
    ];
    const [simNpy, simCsv] = [
      await sdekit([...simArgs, '--out', 'sim.npy'], dir),
      await sdekit([...simArgs, '--out', 'sim.csv'], dir),
    ];
    expect(simNpy.code).toBe(0);
    expect(simCsv.code).toBe(0);
    expect(simNpy.stdout).toMatch(/shape \[2, 8001, 2\]/);
    const npy = await readNpy(join(dir, 'sim.npy'));
    expect(npy.shape).toEqual([2, 8001, 2]);
    const csv = await readCsv(join(dir, 'sim.csv'));
    expect(csv.header).toEqual(['u_path0', 'v_path0', 'u_path1', 'v_path1']);
    expect(csv.rows).toBe(8001);
    for (const k of [0, 1, 4000, 8000])
      for (let p = 0; p < 2; p++)
        for (let j = 0; j < 2; j++)
          expect(csv.data[k * 4 + p * 2 + j]).toBe(npy.data[(p * 8001 + k) * 2 + j]);
    // --threads 2: each worker rebuilds the network score from the file (savedModelSystem, which
    // imports the built sibling packages) and integrates one path with that path's share of the
    // noise block; the paths are bit-identical.
    // The copy of the model that simulateParallel builds in this thread to plan is disposed.
    const tensorsBefore = tf.memory().numTensors;
    const threaded = await sdekit([...simArgs, '--threads', '2', '--out', 'sim-threads.npy'], dir);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(threaded.stderr).toBe('');
    expect(threaded.stdout).toMatch(/Euler-Maruyama, 2 threads/);
    const fromThreads = await readNpy(join(dir, 'sim-threads.npy'));
    expect(fromThreads.data.every((v, i) => v === npy.data[i])).toBe(true);
    // The fitted model stays on the data's range, and the watch says so.
    expect(simNpy.stdout).toMatch(/watch {5}every path stayed within 1\.5 half-widths of the data's range/);

    // Runaway detection: the same model with a data range shrunk to 1/20 of the real one. Its
    // stationary paths (sd 1) then sit far outside: reported with --stop-factor inf, stopped otherwise.
    const narrow = {
      ...json,
      tailBox: null,
      dataRange: {
        lo: json.dataRange.lo.map((v: number) => v / 20),
        hi: json.dataRange.hi.map((v: number) => v / 20),
      },
    };
    await writeFile(join(dir, 'narrow.json'), JSON.stringify(narrow));
    const shortSim = [
      'simulate',
      'narrow.json',
      '--T',
      '20',
      '--dt',
      String(DT),
      '--paths',
      '2',
      '--seed',
      '3',
    ];
    const reported = await sdekit([...shortSim, '--stop-factor', 'inf', '--out', 'narrow-sim.npy'], dir);
    expect(reported.code).toBe(0);
    expect(reported.stdout).toMatch(
      /warning {3}2 of 2 paths left the data's range by more than 1\.5 half-widths \(first: path \d at t = [0-9.]+, [uv] = /,
    );
    const stopped = await sdekit([...shortSim, '--stop-factor', '2', '--out', 'narrow-stop.npy'], dir);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/path \d ran away at t = [0-9.e-]+: coordinate \d = .*stopFactor 2/);

    // Compare: model paths against the data (PDFs and ACFs). The model's stationary law is N(0, I)
    // and its ACF exp(-t) cos t up to the errors above. Effective sample sizes: integrated
    // autocorrelation time ~ 20 samples (dt = 0.05, int rho = 0.5), so about 800 independent
    // simulated points; the plug-in KL bias is ~ (bins - 1) / (2 N_eff) = 0.012 with 20 bins, and the
    // ACF standard error ~ sqrt(20 / 16000) = 0.035. Bounds: KL < 0.05, ACF error < 0.12 (3.5 se).
    const cmp = await sdekit(
      [
        'compare',
        'ou.csv',
        'sim.npy',
        '--columns',
        'u,v',
        '--dt',
        String(DT),
        '--bins',
        '20',
        '--out',
        'report',
      ],
      dir,
    );
    expect(cmp.stderr).toBe('');
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/KL\(data\|\|sim\)/);
    const metrics = JSON.parse(await readFile(join(dir, 'report', 'compare.json'), 'utf8'));
    expect(metrics.samples).toEqual({ data: n, simPaths: 2, simLength: 8001 });
    for (let j = 0; j < 2; j++) {
      expect(metrics.pdf.kl[j]).toBeLessThan(0.05);
      expect(metrics.pdf.hellinger[j]).toBeLessThan(0.12);
      expect(metrics.acf.error[j]).toBeLessThan(0.12);
      expect(Math.abs(metrics.moments.stdSim[j] - 1)).toBeLessThan(0.15);
    }
    // The data ACF is the exact exp(-t) cos t within its standard error (~0.015 for 40000 samples).
    const lag = metrics.acf.lagTimes.findIndex((t: number) => t >= 0.5 - 1e-9);
    const exact = Math.exp(-0.5) * Math.cos(0.5);
    for (let j = 0; j < 2; j++) expect(Math.abs(metrics.acf.data[j][lag] - exact)).toBeLessThan(0.06);
    // The printed table shows the same numbers as compare.json.
    expect(cmp.stdout).toContain(metrics.pdf.kl[0].toPrecision(3).replace(/0+$/, '').replace(/\.$/, ''));
    const files = (await readdir(join(dir, 'report'))).sort();
    expect(files).toEqual(['acf-u.svg', 'acf-v.svg', 'compare.json', 'index.html', 'pdf-u.svg', 'pdf-v.svg']);
    const svg = await readFile(join(dir, 'report', 'pdf-u.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path d="M/g)?.length).toBe(2); // data and simulation
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);

    // One path from an explicit start (a value starting with '-' uses --x0=...) is written as [N, D].
    const one = await sdekit(
      [
        'simulate',
        'ou-model.json',
        '--T',
        '1',
        '--dt',
        String(DT),
        '--seed',
        '1',
        '--x0=-2,0.5',
        '--out',
        'one.npy',
      ],
      dir,
    );
    expect(one.code).toBe(0);
    const start = await readNpy(join(dir, 'one.npy'));
    expect(start.shape).toEqual([21, 2]);
    expect(Array.from(start.data.subarray(0, 2))).toEqual([-2, 0.5]);
  });
});

describe('compare on exactly known inputs', () => {
  it('a series against itself gives zero distances; a 2x subsampled simulation is aligned on the coarse lag grid', async () => {
    // AR(1) x_{k+1} = 0.9 x_k + e_k, two coordinates.
    const n = 4000;
    const x = new Float64Array(2 * n);
    const rng = Rng.fromSeed(31);
    for (let k = 1; k < n; k++)
      for (let j = 0; j < 2; j++) x[2 * k + j] = 0.9 * x[2 * (k - 1) + j] + rng.normal();
    await writeFile(join(dir, 'ar.csv'), formatCsv(x, 2, ['p', 'q']));
    const every2 = new Float64Array(n);
    for (let k = 0; k < n / 2; k++) every2.set(x.subarray(4 * k, 4 * k + 2), 2 * k);
    await writeNpy(join(dir, 'ar-every2.npy'), every2, [n / 2, 2]);

    const self = await sdekit(
      ['compare', 'ar.csv', 'ar.csv', '--dt', '0.5', '--max-lag', '10', '--out', 'self'],
      dir,
    );
    expect(self.code).toBe(0);
    const a = JSON.parse(await readFile(join(dir, 'self', 'compare.json'), 'utf8'));
    for (let j = 0; j < 2; j++) {
      expect(a.pdf.kl[j]).toBeLessThan(1e-12); // zero up to rounding of the sums
      expect(a.pdf.hellinger[j]).toBeLessThan(1e-12);
    }
    // (the data ACF runs to a quarter of the series by FFT, the simulation's to --max-lag directly)
    for (let j = 0; j < 2; j++) expect(a.acf.error[j]).toBeLessThan(1e-12);
    expect(a.acf.lagTimes).toHaveLength(21); // 10 time units at dt = 0.5

    const sub = await sdekit(
      [
        'compare',
        'ar.csv',
        'ar-every2.npy',
        '--dt',
        '0.5',
        '--sim-dt',
        '1',
        '--max-lag',
        '10',
        '--out',
        'sub',
      ],
      dir,
    );
    expect(sub.code).toBe(0);
    const b = JSON.parse(await readFile(join(dir, 'sub', 'compare.json'), 'utf8'));
    expect(b.acf.lagTimes).toEqual(Array.from({ length: 11 }, (_, k) => k));
    // The data ACF on the coarse grid is the fine-grid ACF at even lags, value for value.
    for (let j = 0; j < 2; j++)
      expect(b.acf.data[j]).toEqual(a.acf.data[j].filter((_: number, k: number) => k % 2 === 0));
    // Subsampling keeps the ACF up to estimation noise (AR(1): 0.9^k; sd ~ sqrt(tau_int / N) ~ 0.1).
    for (let j = 0; j < 2; j++) expect(b.acf.error[j]).toBeLessThan(0.15);

    const bad = await sdekit(['compare', 'ar.csv', 'ar-every2.npy', '--dt', '0.5', '--sim-dt', '0.75'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/one must be a whole multiple of the other/);
  });
});

describe('fit-langevin with KGMM on a 1-D float32 .npy series', () => {
  it('recovers Phi = 1 of dx = -x dt + sqrt(2) dW', async () => {
    // Stationary law N(0, 1), score -x, Phi s = -x: Phi = 1, Sigma = 1.
    const b = simulate(ouSystem(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]])), {
      x0: new Float64Array(1),
      h: 0.01,
      T: T_DATA,
      saveEvery: 5,
      burnIn: 1000,
      seed: 21,
    });
    await writeNpy(join(dir, 'ou1.npy'), Float32Array.from(b.data), [b.length]); // shape [N]: one coordinate
    // KGMM fit of ou1.npy with a small MLP and a fixed seed, plus extra options.
    const fitKgmm = (out: string, extra: string[] = []) =>
      sdekit(
        [
          ...['fit-langevin', 'ou1.npy', '--dt', String(DT), '--score', 'kgmm'],
          ...['--steps', '300', '--hidden', '32,32', '--seed', '3', ...extra, '--out', out, '--force'],
        ],
        dir,
      );
    const r = await fitKgmm('k.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/score {5}KGMM/);
    // A diffusion: the regime and the estimator 'auto' took, and Phi with its standard error.
    expect(r.stdout).toMatch(
      /regime {4}diffusive: E\|x\(t \+ k dt\) - x\(t\)\|\^2 grows like k\^(0\.9|1\.0)/,
    );
    expect(r.stdout).toMatch(/Cdot {6}lag estimator \(auto: diffusive data/);
    expect(r.stdout).toMatch(
      /Phi \(data units; drift Phi s\(x\)\) \+- standard error, and 95 % interval:\n +[0-9.]+ \+- 0\.0[0-9]+\n +\[[0-9.]+, [0-9.]+\]/,
    );
    const model = LangevinModel.fromJSON(JSON.parse(await readFile(join(dir, 'k.json'), 'utf8')));
    // The saved standard error agrees with the sampling error sqrt(2 Var(x) / T) / Phi = 0.032 within 30 %.
    const se = model.original.uncertainty!.phi.se.data[0];
    expect(se).toBeGreaterThan(0.032 * 0.7);
    expect(se).toBeLessThan(0.032 * 1.3);
    // Sampling standard error of Phi: sqrt(2 Var(x) / T) / Phi = 0.032 (as above); KGMM's Stein
    // error is < 0.01 here. Bound 0.12, about 3.5 standard errors; measured 0.011.
    expect(Math.abs(model.original.phi.data[0] - 1)).toBeLessThan(0.12);
    expect(Math.abs(model.original.sigma.data[0] - 1)).toBeLessThan(0.06);
    model.dispose();

    // --cdot generator with and without --perturb-series: the same score (same seed), so Phi (z units)
    // moves by exactly the white-noise dissipation sigma^2 / dt = 0.01 / 0.05 = 0.2 up to the noise's
    // cross term, standard deviation sigma / (sqrt(N) dt) = 0.01 for N = 4e4 samples (measured 0.188).
    const phiZ = async (extra: string[]) => {
      const out = await fitKgmm('g.json', ['--sigma', '0.1', '--cdot', 'generator', ...extra]);
      expect(out.code).toBe(0);
      const m = LangevinModel.fromJSON(JSON.parse(await readFile(join(dir, 'g.json'), 'utf8')));
      const phi = m.phi.data[0];
      m.dispose();
      return { phi, stdout: out.stdout };
    };
    const clean = await phiZ([]);
    const perturbed = await phiZ(['--perturb-series']);
    expect(perturbed.stdout).toMatch(
      /Cdot {6}generator estimator \(asked for\), series perturbed at sigma_c = 0\.1\b/,
    );
    expect(Math.abs(perturbed.phi - clean.phi - 0.2)).toBeLessThan(0.04);
    // --perturb-sigma 0.2: dissipation 0.04 / 0.05 = 0.8, cross-term sd 0.02; 0.08 is 4 sd.
    const wider = await phiZ(['--perturb-sigma', '0.2']);
    expect(wider.stdout).toMatch(/perturbed at sigma_c = 0\.2\b/);
    expect(Math.abs(wider.phi - clean.phi - 0.8)).toBeLessThan(0.08);
  });
});

describe('fit-langevin on independent runs ([R, N, D] .npy)', () => {
  it('keeps runs apart: Phi = 1 of dx = -x dt + sqrt(2) dW from 800 runs of 50 samples; fit-averaged pools them', async () => {
    // Stationary starts x0 ~ N(0, 1). Joined as one series, the 799 jumps between independent runs
    // (E dx^2 = 2 each, against 2 Phi dt = 0.1 per step, 4.9 per run) would read as ~40 % more
    // dissipation; kept apart, the sampling error of Phi is ~0.03 as in the KGMM test above
    // (measured values: docs/findings.md, cli).
    const runs = 800;
    const rng = Rng.fromSeed(31);
    const x0 = Float64Array.from({ length: runs }, () => rng.normal());
    const b = simulate(ouSystem(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]])), {
      x0,
      paths: runs,
      h: 0.01,
      T: 49 * DT,
      saveEvery: 5,
      seed: 32,
    });
    expect(b.length).toBe(50);
    await writeNpy(join(dir, 'runs.npy'), b.data, [runs, b.length, 1]);
    await writeNpy(join(dir, 'joined.npy'), b.data, [runs * b.length, 1]);
    const fit = (data: string) =>
      sdekit(
        [
          ...[
            'fit-langevin',
            data,
            '--dt',
            String(DT),
            '--score',
            'kgmm',
            '--steps',
            '300',
            '--hidden',
            '32,32',
          ],
          ...['--seed', '3', '--out', 'r.json', '--force'],
        ],
        dir,
      );
    const phiOf = async () => {
      const m = LangevinModel.fromJSON(JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')));
      const phi = m.original.phi.data[0];
      const segments = m.diagnostics.segments;
      m.dispose();
      return { phi, segments };
    };
    const apart = await fit('runs.npy');
    expect(apart.code).toBe(0);
    expect(apart.stdout).toMatch(/40000 samples x 1 coordinate \(x1\) in 800 runs/);
    const kept = await phiOf();
    expect(kept.segments).toBe(runs);
    expect(Math.abs(kept.phi - 1)).toBeLessThan(0.12);
    expect((await fit('joined.npy')).code).toBe(0);
    const joined = await phiOf();
    expect(joined.segments).toBe(1);
    expect(joined.phi - 1).toBeGreaterThan(0.2);
    // fit-averaged pools the runs' transitions too (the pooled fit is checked against its exact MLE in
    // @sdekit/averaging's tests; here: the command reads the runs and says so).
    await writeFile(join(dir, 'affine.mjs'), AFFINE_MODULE);
    const averaged = await sdekit(
      [
        ...[
          'fit-averaged',
          'runs.npy',
          '--dt',
          String(DT),
          '--coefficients',
          './affine.mjs',
          '--fast-dim',
          '1',
        ],
        ...['--steps', '20', '--out', 'a.json'],
      ],
      dir,
    );
    expect(averaged.code).toBe(0);
    expect(averaged.stdout).toMatch(/40000 samples x 1 slow coordinate \(x1\) in 800 paths/);
  });
});

describe('fit-averaged with a user coefficients module', () => {
  it('learns E[y] of b(x, y) = -x + y: the fitted bbar matches the closed-form MLE, and the model simulates', async () => {
    // Data: the averaged SDE dX = (mu - X) dt + 0.5 dW with mu = 0.7 (the n -> infinity limit of any
    // fast process with E[y] = mu). Under the model bbar(x) = -x + E[y], the Euler-Maruyama
    // likelihood is maximised at E[y] = mean_k (dx_k / Delta + x_k) exactly.
    const mu = 0.7;
    const sys: SdeSystem = {
      dim: 1,
      noiseDim: 1,
      noise: 'scalar',
      additive: true,
      drift: (_t, x, out) => {
        out[0] = mu - x[0];
      },
      diffusion: (_t, _x, out) => {
        out[0] = 0.5;
      },
    };
    const delta = 0.01;
    const path = simulate(sys, { x0: Float64Array.of(mu), h: delta, T: 200, seed: 4 });
    await writeNpy(join(dir, 'slow.npy'), path.data, [path.length, 1]);
    await writeFile(join(dir, 'coef.mjs'), AFFINE_MODULE);
    let mle = 0;
    for (let k = 0; k + 1 < path.length; k++) mle += (path.data[k + 1] - path.data[k]) / delta + path.data[k];
    mle /= path.length - 1;

    const r = await sdekit(
      [
        'fit-averaged',
        'slow.npy',
        '--dt',
        String(delta),
        '--coefficients',
        './coef.mjs',
        '--fast-dim',
        '1',
        '--steps',
        '150',
        '--fast-samples',
        '32',
        '--batch-size',
        '256',
        '--held-out',
        '0',
        '--seed',
        '5',
        '--out',
        'avg.json',
      ],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bbar\(x\) \+- MC error/);
    const json = JSON.parse(await readFile(join(dir, 'avg.json'), 'utf8'));
    expect(json.format).toBe('sdekit.averaged-model');
    expect(json.sdekitCli.coefficientsModule).toBe('coef.mjs');

    const factory = (await import(join(dir, 'coef.mjs'))).default as (c: {
      tf: typeof tf;
    }) => SlowCoefficients;
    const model = AveragedModel.fromJSON(json, { coefficients: factory({ tf }) });
    const { value, stdError } = model.bbar(Float64Array.of(0), { fastSamples: 8192, seed: 1 });
    // bbar(0) = E[y] under the learned flow. It maximises the same likelihood whose maximiser is
    // the MLE; the bound 0.03 is below the MLE's own sampling error 0.5 / sqrt(T) = 0.035, so the test
    // fails if the fit is off by as much as the data's uncertainty; Monte Carlo error is ~0.003.
    expect(stdError[0]).toBeLessThan(0.01);
    expect(Math.abs(value[0] - mle)).toBeLessThan(0.03);
    expect(Math.abs(mle - mu)).toBeLessThan(4 * (0.5 / Math.sqrt(200)));
    model.dispose();

    // simulate finds the module through the path saved relative to the model file.
    const simArgs = [
      'simulate',
      join(dir, 'avg.json'),
      '--T',
      '50',
      '--dt',
      '0.1',
      '--paths',
      '64',
      '--seed',
      '6',
    ];
    const sim = await sdekit([...simArgs, '--out', join(dir, 'avg-sim.npy')], '/');
    expect(sim.stderr).toBe('');
    expect(sim.code).toBe(0);
    expect(sim.stdout).toMatch(/last observed point/);
    const out = await readNpy(join(dir, 'avg-sim.npy'));
    expect(out.shape).toEqual([64, 501, 1]);
    // Paths relax to the stationary mean E[y] (OU with rate 1): average of the last 25 time units
    // over 64 paths; standard error about 0.5 / sqrt(2 * 64 * 25) = 0.009 (rate-1 OU, variance 1/8).
    let s = 0;
    let count = 0;
    for (let p = 0; p < 64; p++)
      for (let k = 250; k < 501; k++) {
        s += out.data[p * 501 + k];
        count++;
      }
    expect(Math.abs(s / count - value[0])).toBeLessThan(0.05);
    // Three worker threads load the user's coefficients module (resolved here to an absolute path)
    // and draw the same fast samples (seed + 1): the paths are bit-identical.
    const simThreads = await sdekit(
      [...simArgs, '--threads', '3', '--out', join(dir, 'avg-sim-threads.npy')],
      '/',
    );
    expect(simThreads.stderr).toBe('');
    const threaded = await readNpy(join(dir, 'avg-sim-threads.npy'));
    expect(threaded.data.every((v, i) => v === out.data[i])).toBe(true);
  });
});

/**
 * `sdekit compare` on samples made of runs and paths, against exact answers: exact OU samples
 * (AR(1) with a = e^{-theta dt}, no discretisation error) compared with the same process (nothing
 * flagged, every difference within its bootstrap noise) and with a wrong timescale (flagged); runs
 * read from a [R, N, D] .npy or a CSV with --run-column give the statistics of the long series they
 * were cut from, and the same file read as one series does not. `simulate --x0 data:FILE` starts
 * every path at a row of the data.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Matrix } from '@sdekit/sde';
import { ouExactPath } from '@sdekit/systems';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv, readNpy, writeNpy } from '../src/io';
import { AFFINE_MODULE, sdekit, tempDir } from './commands-helpers';

let dir: string;
let cleanup: () => Promise<void>;

const DT = 0.05;
/** R exact runs of dx = -theta x dt + sqrt(2 theta) dW (N(0, 1) stationary), stacked. */
function ouRuns(theta: number, runs: number, length: number, seed: number): Float64Array {
  const out = new Float64Array(runs * length);
  for (let r = 0; r < runs; r++) {
    const x = ouExactPath(Matrix.from([[theta]]), Matrix.from([[Math.sqrt(2 * theta)]]), {
      dt: DT,
      length,
      seed,
      stream: r,
    });
    out.set(x, r * length);
  }
  return out;
}

// Pieces of one long path: 400 pieces of 50 samples (2.5 correlation times), 600 samples apart
// (correlation e^{-30}: independent runs).
const PIECE = 50;
const GAP = 600;
const PIECES = 400;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-runs-'));
  await writeNpy(join(dir, 'data.npy'), ouRuns(1, 16, 4000, 1), [16, 4000, 1]);
  await writeNpy(join(dir, 'same.npy'), ouRuns(1, 8, 4000, 2), [8, 4000, 1]);
  await writeNpy(join(dir, 'fast.npy'), ouRuns(2, 8, 4000, 3), [8, 4000, 1]);
  const long = ouRuns(1, 1, PIECES * (PIECE + GAP), 9);
  const pieces = new Float64Array(PIECES * PIECE);
  for (let r = 0; r < PIECES; r++)
    pieces.set(long.subarray(r * (PIECE + GAP), r * (PIECE + GAP) + PIECE), r * PIECE);
  await writeNpy(join(dir, 'long.npy'), long, [long.length, 1]);
  await writeNpy(join(dir, 'pieces.npy'), pieces, [PIECES, PIECE, 1]);
  await writeNpy(join(dir, 'joined.npy'), pieces, [PIECES * PIECE, 1]);
  // The same pieces in two files of 100 and 300 runs.
  await writeNpy(join(dir, 'pieces-a.npy'), pieces.subarray(0, 100 * PIECE), [100, PIECE, 1]);
  await writeNpy(join(dir, 'pieces-b.npy'), pieces.subarray(100 * PIECE), [300, PIECE, 1]);
  // The same pieces as a CSV with a run column (labels 1..400) before the value column.
  const rows = new Float64Array(2 * PIECES * PIECE);
  for (let i = 0; i < PIECES * PIECE; i++) {
    rows[2 * i] = Math.floor(i / PIECE) + 1;
    rows[2 * i + 1] = pieces[i];
  }
  await writeFile(join(dir, 'pieces.csv'), formatCsv(rows, 2, ['run', 'x']));
});
afterAll(async () => {
  await cleanup();
});

async function compareJson(args: string[], out: string) {
  const r = await sdekit(['compare', ...args, '--dt', String(DT), '--bins', '30', '--out', out], dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { stdout: r.stdout, m: JSON.parse(await readFile(join(dir, out, 'compare.json'), 'utf8')) };
}

describe('compare on exact OU runs and paths', () => {
  it('the same process: nothing flagged, every difference within its noise, the data ACF is e^{-t}', async () => {
    const { stdout, m } = await compareJson(['data.npy', 'same.npy', '--max-lag', '3'], 'same');
    expect(stdout).toMatch(/data data\.npy: 16 runs, 64000 samples x 1/);
    expect(stdout).toMatch(/within noise/);
    expect(m.runs).toEqual({ data: 16, sim: 8 });
    expect(m.acf.significant).toEqual([false]);
    expect(m.acf.error[0]).toBeLessThan(m.acf.errorNoise[0]);
    expect(m.pdf.significant).toEqual([false]);
    expect(m.pdf.kl[0] - m.pdf.klNoise[0]).toBeLessThan(2.5 * m.pdf.klSe[0]);
    // Exact: rho(t) = e^{-t}, within 4 standard errors at every lag.
    m.acf.lagTimes.forEach((t: number, k: number) => {
      expect(Math.abs(m.acf.data[0][k] - Math.exp(-t))).toBeLessThan(4 * m.acf.dataSe[0][k] + 1e-12);
      expect(Math.abs(m.acf.sim[0][k] - Math.exp(-t))).toBeLessThan(4 * m.acf.simSe[0][k] + 1e-12);
    });
    // Effective samples = samples / (integrated autocorrelation time (1 + a)/(1 - a) = 40 samples).
    const a = Math.exp(-DT);
    const tau = (1 + a) / (1 - a);
    expect(m.effectiveSamples.data[0] / (64000 / tau)).toBeGreaterThan(0.6);
    expect(m.effectiveSamples.data[0] / (64000 / tau)).toBeLessThan(1.6);
    expect(m.effectiveSamples.sim[0] / (32000 / tau)).toBeGreaterThan(0.6);
    expect(m.effectiveSamples.sim[0] / (32000 / tau)).toBeLessThan(1.6);
    // The band is drawn in the ACF plot.
    const svg = await readFile(join(dir, 'same', 'acf-x1.svg'), 'utf8');
    expect(svg).toMatch(/fill-opacity="0.15"/);
  });

  it('a wrong timescale (theta = 2, same stationary law) is flagged in the ACF and not in the PDF', async () => {
    const { stdout, m } = await compareJson(['data.npy', 'fast.npy', '--max-lag', '3'], 'fast');
    expect(stdout).toMatch(/ACF differs/);
    expect(m.acf.significant).toEqual([true]);
    // max_t (e^{-t} - e^{-2t}) = 1/4 at t = ln 2, up to its noise.
    expect(Math.abs(m.acf.error[0] - 0.25)).toBeLessThan(2 * m.acf.errorNoise[0]);
    expect(m.acf.error[0]).toBeGreaterThan(3 * m.acf.errorNoise[0]);
    expect(m.pdf.significant).toEqual([false]);
  });

  it('a SIM that is one bootstrap block gets no verdict: its noise cannot be estimated', async () => {
    // One path of 400 samples of a slow OU (theta = 0.05): 5 autocorrelation times are ~4000 samples.
    const slow = ouExactPath(Matrix.from([[0.05]]), Matrix.from([[Math.sqrt(0.1)]]), {
      dt: DT,
      length: 400,
      seed: 6,
    });
    await writeNpy(join(dir, 'slow.npy'), slow, [400, 1]);
    const r = await sdekit(['compare', 'data.npy', 'slow.npy', '--dt', String(DT), '--bins', '10'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/noise unknown/);
    expect(r.stdout).toMatch(/warning: SIM is a single block .*no difference is flagged/);
  });

  it('independent pieces of one series read as runs (.npy or --run-column) agree with it; joined they do not', async () => {
    const runs = await compareJson(['pieces.npy', 'long.npy', '--max-lag', '0.6'], 'pieces');
    expect(runs.m.runs).toEqual({ data: PIECES, sim: 1 });
    expect(runs.m.acf.significant).toEqual([false]);
    expect(runs.m.pdf.significant).toEqual([false]);
    runs.m.acf.lagTimes.forEach((t: number, k: number) => {
      expect(Math.abs(runs.m.acf.data[0][k] - Math.exp(-t))).toBeLessThan(
        4 * runs.m.acf.dataSe[0][k] + 1e-12,
      );
    });
    // A CSV with a run column is the same data: the same numbers, bit for bit.
    const csv = await compareJson(
      ['pieces.csv', 'long.npy', '--run-column', 'run', '--max-lag', '0.6'],
      'csv',
    );
    expect(csv.m.columns).toEqual(['x']);
    expect(csv.m.acf.data).toEqual(runs.m.acf.data);
    expect(csv.m.acf.errorNoise).toEqual(runs.m.acf.errorNoise);
    expect(csv.m.pdf.kl).toEqual(runs.m.pdf.kl);
    // So are several files: DATA... SIM, the files' runs one after another.
    const files = await compareJson(
      ['pieces-a.npy', 'pieces-b.npy', 'long.npy', '--max-lag', '0.6'],
      'files',
    );
    expect(files.m.runs).toEqual({ data: PIECES, sim: 1 });
    expect(files.m.acf.data).toEqual(runs.m.acf.data);
    expect(files.m.acf.errorNoise).toEqual(runs.m.acf.errorNoise);
    expect(files.m.pdf.kl).toEqual(runs.m.pdf.kl);
    await writeNpy(
      join(dir, 'wide.npy'),
      new Float64Array(40).map((_, i) => Math.sin(i)),
      [20, 2],
    );
    const mixed = await sdekit(['compare', 'pieces-a.npy', 'wide.npy', 'long.npy'], dir);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(
      /DATA: 'wide\.npy' has columns \(x1, x2\), 'pieces-a\.npy' has \(x1\); runs in several files need the same columns/,
    );
    // As one series, the 399 joins add uncorrelated lag products: rho(k) is pulled down by about
    // k / 50 (0.24 e^{-0.6} = 0.13 at lag 0.6 = 12 samples, a quarter of a run), far beyond the noise.
    const joined = await compareJson(['joined.npy', 'long.npy', '--max-lag', '0.6'], 'joined');
    expect(joined.m.acf.significant).toEqual([true]);
    expect(joined.m.acf.error[0]).toBeGreaterThan(0.1);
    // Run labels that come back after another run are refused, naming the row.
    await writeFile(join(dir, 'unsorted.csv'), 'run,x\n1,0.1\n1,0.2\n2,0.3\n1,0.4\n');
    const bad = await sdekit(['compare', 'unsorted.csv', 'long.npy', '--run-column', 'run'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /run 1 of --run-column run starts again at row 4 after other runs; sort the rows/,
    );
  });

  it('simulate --x0 data:FILE starts each path at a row of the data, with a default burn-in of T/10', async () => {
    // A tiny averaged model (b = -x + y, 2 steps) of the pieces: only the starts are under test here.
    await writeFile(join(dir, 'coef.mjs'), AFFINE_MODULE);
    const tiny = [
      '--dt',
      String(DT),
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
      '2',
    ];
    const fit = await sdekit(
      ['fit-averaged', 'pieces.csv', '--columns', 'x', '--run-column', 'run', ...tiny, '--out', 'avg.json'],
      dir,
    );
    expect(fit.stderr).toBe('');
    // --run-column reads the CSV's runs as fit-averaged's independent paths, and so do several files.
    expect(fit.stdout).toMatch(/20000 samples x 1 slow coordinate \(x\) in 400 paths/);
    const two = await sdekit(
      ['fit-averaged', 'pieces-a.npy', 'pieces-b.npy', ...tiny, '--out', 'avg2.json'],
      dir,
    );
    expect(two.stderr).toBe('');
    expect(two.stdout).toMatch(
      /data {6}pieces-a\.npy, pieces-b\.npy: 20000 samples x 1 slow coordinate \(x1\) in 400 paths/,
    );
    expect(JSON.parse(await readFile(join(dir, 'avg2.json'), 'utf8')).sdekitCli.data).toBe(
      'pieces-a.npy, pieces-b.npy',
    );
    const sim = [
      'simulate',
      'avg.json',
      '--T',
      '1',
      '--dt',
      '0.05',
      '--paths',
      '6',
      '--seed',
      '4',
      '--samples',
      '16',
    ];
    const r = await sdekit([...sim, '--x0', 'data:pieces.csv', '--burn-in', '0', '--out', 'starts.npy'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/start {5}6 rows drawn from pieces\.csv \(one per path\)/);
    const out = await readNpy(join(dir, 'starts.npy'));
    expect(out.shape).toEqual([6, 21, 1]);
    // Column x of pieces.csv (found by the model's column name; the run column is not used).
    const values = new Set((await readNpy(join(dir, 'pieces.npy'))).data);
    const starts = Array.from({ length: 6 }, (_, p) => out.data[p * 21]);
    for (const x0 of starts) expect(values.has(x0)).toBe(true);
    expect(new Set(starts).size).toBe(6);
    // By default a start from the data is burnt in for T/10.
    const burnt = await sdekit([...sim, '--x0', 'data:pieces.csv', '--out', 'burnt.npy'], dir);
    expect(burnt.code).toBe(0);
    expect(burnt.stdout).toMatch(/burn-in 0\.1 \(default T\/10 for a start from the data\)/);
    // A file without the model's columns, and not D columns either, is a usage error.
    await writeFile(join(dir, 'two.csv'), 'a,b\n1,2\n3,4\n');
    const bad = await sdekit([...sim, '--x0', 'data:two.csv', '--out', 'bad.npy'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--x0 data:two\.csv: has 2 columns \(a, b\) and not the model's 1 \(x\)/);
  });
});

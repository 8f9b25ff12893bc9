// HDF5, NetCDF-4 and Parquet through the commands: DATA selection (--dataset, --variable, --rows,
// --columns), dt taken from the file and a contradicting --dt refused, typed one-line errors for the
// fixtures' bad datasets, and simulate's HDF5 / NetCDF output read back by compare and by @sdekit/io.
// The fixtures are @sdekit/io's (written by h5py, netCDF4-python and parquet-wasm).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSeries, writeSeriesFile } from '@sdekit/io';
import { Matrix, simulate } from '@sdekit/sde';
import { ouSystem } from '@sdekit/systems';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdekit, tempDir } from './commands-helpers';

const fixtures = join(import.meta.dirname, '..', '..', 'io', 'test', 'fixtures');
const h5 = join(fixtures, 'series.h5');
const nc = join(fixtures, 'series.nc');
const pq = join(fixtures, 'series.parquet');
const DT = 0.05;
/** A fast KGMM fit (the numbers are not what these tests check). */
const FAST = ['--score', 'kgmm', '--steps', '40', '--hidden', '8,8', '--bootstrap', '0', '--seed', '1'];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-series-'));
  // 2-D OU path (N = 3000, dt = 0.05) as HDF5 with dt and names, through @sdekit/io's writer.
  const b = simulate(
    ouSystem(
      Matrix.from([
        [1, 0],
        [0, 1],
      ]),
      Matrix.from([
        [1.4, 0],
        [0, 1.4],
      ]),
    ),
    {
      x0: new Float64Array(2),
      h: 0.01,
      T: 3000 * DT - DT,
      saveEvery: 5,
      seed: 4,
    },
  );
  await writeSeriesFile(join(dir, 'ou.h5'), b.data, [b.length, 2], { dt: DT, names: ['u', 'v'] });
});
afterAll(async () => {
  await cleanup();
});

describe('fit-langevin and simulate with HDF5 / NetCDF files', () => {
  it('dt from the file; simulate --out .nc with attributes; compare reads both', async () => {
    const fit = await sdekit(['fit-langevin', 'ou.h5', ...FAST, '--rows', '0:2800', '--out', 'm.json'], dir);
    expect(fit.stderr).toBe('');
    expect(fit.code).toBe(0);
    expect(fit.stdout).toMatch(/data {6}ou\.h5: 2800 samples x 2 coordinates \(u, v\), dt = 0\.05/);
    const bad = await sdekit(['fit-langevin', 'ou.h5', ...FAST, '--dt', '0.1', '--out', 'm2.json'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "sdekit fit-langevin: ou.h5: --dt: 0.1 contradicts the file, whose attribute 'dt' of /x says dt = 0.05. Fix: leave --dt out to use the file's 0.05, or pass --dt 0.05\n",
    );
    const sim = await sdekit(
      ['simulate', 'm.json', '--T', '50', '--dt', '0.05', '--paths', '2', '--seed', '3', '--out', 'sim.nc'],
      dir,
    );
    expect(sim.stderr).toBe('');
    expect(sim.stdout).toMatch(/saved {5}sim\.nc: shape \[2, 1001, 2\]/);
    const back = await readSeries(join(dir, 'sim.nc'));
    expect(back.shape).toEqual([2, 1001, 2]);
    expect(back.names).toEqual(['u', 'v']);
    expect(back.dt?.value).toBe(0.05);
    // The safe-writing rules of every output: no replacing without --force.
    const again = await sdekit(
      ['simulate', 'm.json', '--T', '5', '--dt', '0.05', '--seed', '3', '--out', 'sim.nc'],
      dir,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--out 'sim\.nc' exists\. Fix: pass --force/);
    const cmp = await sdekit(['compare', 'ou.h5', 'sim.nc', '--dt', '0.05', '--bins', '16'], dir);
    expect(cmp.stderr).toBe('');
    expect(cmp.code).toBe(0);
  });

  it('NetCDF variables side by side and Parquet columns as DATA', async () => {
    // The fixtures are too short to fit (120 and 200 rows); the read and dt are what is checked.
    const n = await sdekit(['fit-langevin', nc, '--variable', 'u,v', ...FAST, '--out', 'n.json'], dir);
    expect(n.stderr).toMatch(/series: has 120 samples; fitLangevin needs at least 200/);
    const p = await sdekit(
      ['fit-langevin', pq, '--columns', 'u,v', '--dt', '0.03', ...FAST, '--out', 'p.json'],
      dir,
    );
    expect(p.stderr).toMatch(/--dt: 0\.03 contradicts the file, whose time column 'time' says dt = 0\.02/);
  });

  it('bad input: typed one-line errors that name the argument and the fix', async () => {
    const run = async (args: string[]) => {
      const r = await sdekit(['fit-langevin', ...args, ...FAST, '--dt', '0.01', '--out', 'bad.json'], dir);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      return r.stderr;
    };
    expect(await run([h5, '--dataset', '/nope'])).toMatch(
      /--dataset: no dataset '\/nope' in the file\. Fix: pass one of/,
    );
    expect(await run([h5, '--dataset', 'labels'])).toMatch(/--dataset: \/labels holds strings, not numbers/);
    expect(await run([h5, '--dataset', 'field4d'])).toMatch(/--dataset: \/field4d has 4 dimensions/);
    expect(await run([h5, '--dataset', 'with_nan'])).toMatch(
      /\/with_nan holds NaN at row 7, column 1 \(x2\)/,
    );
    expect(await run([h5, '--dataset', 'gappy/x'])).toMatch(
      /time coordinate 'time' \(\/gappy\/time\) is not uniformly spaced/,
    );
    expect(await run([h5, '--dataset', 'ks/u', '--rows', '5:2'])).toMatch(/--rows: window '5:2' is empty/);
    expect(await run([pq, '--columns', 'label'])).toMatch(/--columns: column 'label' holds strings/);
    await writeFile(
      join(dir, 'cut.h5'),
      new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
    );
    expect(await run(['cut.h5'])).toMatch(
      /cut\.h5: HDF5 cannot open it .*Fix: the file is truncated or damaged/,
    );
    await writeFile(join(dir, 'plain.csv'), 'a,b\n1,2\n');
    const usage = await sdekit(
      ['fit-langevin', 'plain.csv', '--dataset', '/x', '--dt', '1', '--out', 'x.json'],
      dir,
    );
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--dataset applies to HDF5 \(\.h5\), NetCDF \(\.nc\) and Parquet/);
    const noDt = await sdekit(['fit-langevin', 'plain.csv', '--out', 'x.json'], dir);
    expect(noDt.code).toBe(2);
    expect(noDt.stderr).toMatch(/missing --dt: plain\.csv does not state its sampling interval/);
  });
});

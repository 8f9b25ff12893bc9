// Round trips of writeSeriesFile through the readers (the files are NetCDF-4 as well as HDF5: the
// layout was checked with netCDF4-python 1.6.2 and h5py 3.7, see the README).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadH5wasm } from '../src/hdf5.js';
import { readHdf5Series, readNetcdfSeries, writeArrayFile, writeSeriesFile } from '../src/index.js';

describe('writeSeriesFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdekit-io-write-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('one path [N, D]: values, dt, names and attributes come back', async () => {
    const data = Float64Array.from({ length: 300 }, (_, i) => Math.cos(i) * 1e-3 + i);
    const path = join(dir, 'one.h5');
    await writeSeriesFile(path, data, [100, 3], {
      dt: 0.05,
      names: ['u', 'v', 'w'],
      attributes: { model: 'model.json', seed: 7, sdekit_version: '0.1.0' },
    });
    const s = await readHdf5Series(path);
    expect(s.shape).toEqual([100, 3]);
    expect(s.names).toEqual(['u', 'v', 'w']);
    expect(s.dt).toEqual({ value: 0.05, source: "attribute 'dt' of /x" });
    expect(s.data).toEqual(data);
    const h5 = await loadH5wasm();
    const f = new h5.File(path, 'r');
    expect(f.get_attribute('model', true)).toBe('model.json');
    expect(f.get_attribute('seed', true)).toBe(7);
    f.close();
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('P paths [P, N, D] as NetCDF: read back as runs, a window of them', async () => {
    const data = Float64Array.from({ length: 4 * 50 * 2 }, (_, i) => i / 7);
    const path = join(dir, 'paths.nc');
    await writeSeriesFile(path, data, [4, 50, 2], { dt: 0.1, t0: 2 });
    const s = await readNetcdfSeries(path, { variable: 'x', rows: { start: 10, stop: 20 } });
    expect(s.shape).toEqual([4, 10, 2]);
    expect(s.names).toEqual(['x1', 'x2']);
    expect(s.dt?.value).toBe(0.1);
    for (let p = 0; p < 4; p++)
      for (let k = 0; k < 10; k++)
        for (let j = 0; j < 2; j++)
          expect(s.data[(p * 10 + k) * 2 + j]).toBe(data[(p * 50 + 10 + k) * 2 + j]);
  });

  it('writeArrayFile: any shape, with attributes', async () => {
    const path = join(dir, 'array.h5');
    const data = Float64Array.from({ length: 24 }, (_, i) => i * 0.5);
    await writeArrayFile(path, data, [2, 3, 4], { attributes: { description: 'a test array' } });
    const s = await readHdf5Series(path, { dataset: 'data' });
    expect(s.shape).toEqual([2, 3, 4]);
    expect(s.data).toEqual(data);
    await writeArrayFile(join(dir, 'one.h5'), data, [24]);
    expect((await readHdf5Series(join(dir, 'one.h5'))).shape).toEqual([24, 1]);
    await expect(writeArrayFile(path, data, [5, 5])).rejects.toThrow(
      /shape: \[5, 5\] does not describe 24 values/,
    );
  });

  it('refuses a bad shape, dt or names with typed errors', async () => {
    const path = join(dir, 'bad.h5');
    await expect(writeSeriesFile(path, new Float64Array(6), [4, 2], { dt: 1 })).rejects.toThrow(
      /shape: \[4, 2\] does not describe 6 values/,
    );
    await expect(writeSeriesFile(path, new Float64Array(6), [3, 2], { dt: 0 })).rejects.toThrow(
      /dt: must be a finite number > 0/,
    );
    await expect(writeSeriesFile(path, new Float64Array(6), [3, 2], { dt: 1, names: ['a'] })).rejects.toThrow(
      /names: has 1 names for 2 variables/,
    );
  });
});

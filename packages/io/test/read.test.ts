// The readers on files written by other libraries: series.h5 (h5py), series.nc (netCDF4-python),
// series.parquet (parquet-wasm); scripts/make-fixtures.py and make-parquet-fixture.mjs wrote them,
// with value(i, j) = sin(0.1 i + j) + j at row i, column j, so every element is checked (to the last
// bits: numpy's sin and Math.sin may differ by an ulp; float32 files to float32 precision).
import { copyFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSdekitError } from '@sdekit/sde';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseRowWindow,
  readHdf5Series,
  readNetcdfSeries,
  readParquetSeries,
  readSeries,
  resolveTimeStep,
  type SeriesData,
} from '../src/index.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const h5 = join(fixtures, 'series.h5');
const nc = join(fixtures, 'series.nc');
const pq = join(fixtures, 'series.parquet');
const value = (i: number, j: number) => Math.sin(0.1 * i + j) + j;

/** Checks every element of an [N, D] result against value(row, column) (float32 files to float32 precision). */
function expectValues(s: SeriesData, firstRow: number, cols: readonly number[], f32 = false, offset = 0) {
  const [n, d] = s.shape.length === 2 ? s.shape : [s.shape[1], s.shape[2]];
  expect(d).toBe(cols.length);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const want = value(firstRow + i + offset, cols[j]);
      expect(Math.abs(s.data[i * d + j] - want)).toBeLessThan(f32 ? 4e-7 * Math.abs(want) + 1e-7 : 1e-14);
    }
}

/** The error `run` rejects with: a sdekit error of class `name`, one line. */
async function failure(run: Promise<unknown>, name: string): Promise<string> {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isSdekitError(err, name), String(err)).toBe(true);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('HDF5 written by h5py', () => {
  it('reads a dataset with its dt attribute and column names', async () => {
    const s = await readHdf5Series(h5, { dataset: '/ks/u' });
    expect(s.shape).toEqual([200, 3]);
    expect(s.names).toEqual(['a', 'b', 'c']);
    expect(s.dt).toEqual({ value: 0.01, source: "attribute 'dt' of /ks/u" });
    expectValues(s, 0, [0, 1, 2]);
  });

  it('reads a window by slices, dt from a uniform dimension scale, float32 to float64', async () => {
    let calls = 0;
    const s = await readSeries(h5, {
      dataset: 'timed/x',
      rows: { start: 5, stop: 40 },
      sliceBytes: 64, // 4 rows of 2 float64 per slice: many slices
      onProgress: () => calls++,
    });
    expect(s.shape).toEqual([35, 2]);
    expect(s.data).toBeInstanceOf(Float64Array);
    expect(s.dt?.value).toBe(0.25);
    expect(s.rows).toEqual({ start: 5, stop: 40, total: 64 });
    expect(calls).toBeGreaterThan(5);
    expectValues(s, 5, [0, 1], true);
  });

  it('reads [R, N, D] runs (chunked, gzip) as runs, and a window of each', async () => {
    const s = await readHdf5Series(h5, { dataset: 'runs', rows: { start: 10, stop: 30 }, sliceBytes: 100 });
    expect(s.shape).toEqual([2, 20, 2]);
    const run = (r: number): SeriesData => ({
      ...s,
      shape: [20, 2],
      data: s.data.subarray(r * 40, (r + 1) * 40),
    });
    expectValues(run(0), 10, [0, 1]);
    expectValues(run(1), 10, [0, 1], false, 1000);
  });

  it('refuses a non-uniform time axis, but reads a window where it is uniform', async () => {
    const m = await failure(readHdf5Series(h5, { dataset: '/gappy/x' }), 'TimeAxisError');
    expect(m).toMatch(
      /time coordinate 'time' \(\/gappy\/time\) is not uniformly spaced: step 3 between rows 9 and 10, 1 before/,
    );
    const s = await readHdf5Series(h5, { dataset: '/gappy/x', rows: { start: 0, stop: 10 } });
    expect(s.dt?.value).toBe(1);
  });

  it('bad selections are one-line typed errors naming the argument and the fix', async () => {
    const flagNames = true;
    expect(await failure(readHdf5Series(h5, { flagNames }), 'SeriesFileError')).toMatch(
      /--dataset: the file holds 6 datasets.*Fix: pass --dataset PATH with one of: \/gappy\/x \[20, 2\]/,
    );
    expect(await failure(readHdf5Series(h5, { dataset: '/missing', flagNames }), 'SeriesFileError')).toMatch(
      /--dataset: no dataset '\/missing' in the file\. Fix: pass one of the file's datasets: .*\/ks\/u \[200, 3\]/,
    );
    expect(await failure(readHdf5Series(h5, { dataset: 'labels', flagNames }), 'SeriesFileError')).toMatch(
      /--dataset: \/labels holds strings, not numbers\. Fix: select a numeric dataset/,
    );
    expect(await failure(readHdf5Series(h5, { dataset: 'field4d' }), 'SeriesFileError')).toMatch(
      /dataset: \/field4d has 4 dimensions \[2, 2, 2, 2\]; a series is \[N\], \[N, D\] or \[R, N, D\]/,
    );
    expect(await failure(readHdf5Series(h5, { dataset: 'with_nan' }), 'SeriesFileError')).toMatch(
      /\/with_nan holds NaN at row 7, column 1 \(x2\) \(0-based\)\. Fix: remove or impute/,
    );
    expect(
      await failure(
        readHdf5Series(h5, { dataset: 'ks/u', rows: { start: 0, stop: 201 }, flagNames }),
        'SeriesFileError',
      ),
    ).toMatch(/--rows: window 0:201 goes past the last row; the time axis has 200 rows/);
    expect(await failure(readSeries(h5, { columns: ['a'] }), 'SeriesFileError')).toMatch(
      /columns: applies to Parquet/,
    );
  });
});

describe('NetCDF-4 written by netCDF4-python', () => {
  it('reads a variable with dt from its time coordinate (unlimited, chunked)', async () => {
    const s = await readNetcdfSeries(nc, {
      variable: 'u',
      rows: { start: 40, stop: 110 },
      sliceBytes: 24 * 7,
    });
    expect(s.shape).toEqual([70, 3]);
    expect(s.names).toEqual(['u[0]', 'u[1]', 'u[2]']);
    expect(s.dt).toEqual({
      value: 0.05,
      source: "time coordinate 'time' (seconds since 2000-01-01 00:00:00)",
    });
    expectValues(s, 40, [0, 1, 2]);
  });

  it('reads variables side by side, and a variable whose time axis is the last', async () => {
    const s = await readSeries(nc, { variable: ['v', 'u'] });
    expect(s.names).toEqual(['v', 'u[0]', 'u[1]', 'u[2]']);
    for (let i = 0; i < 120; i++) expect(Math.abs(s.data[i * 4] - 2 * value(i, 0))).toBeLessThan(1e-14);
    const w = await readNetcdfSeries(nc, { variable: 'w', timeDim: 'time' });
    expect(w.shape).toEqual([120, 3]);
    expectValues(w, 0, [0, 1, 2], true);
  });

  it('a dimension without a coordinate gives no dt; --time-dim must name a dimension', async () => {
    const s = await readNetcdfSeries(nc, { variable: 's' });
    expect(s.dt).toBeNull();
    expect(
      await failure(
        readNetcdfSeries(nc, { variable: 's', timeDim: 'time', flagNames: true }),
        'SeriesFileError',
      ),
    ).toMatch(/--time-dim: \/s has no dimension 'time' \(its dimensions: step, mode\)/);
    expect(await failure(readNetcdfSeries(nc, { flagNames: true }), 'SeriesFileError')).toMatch(
      /--variable: the file holds 4 datasets.*pass --variable NAME/,
    );
  });
});

describe('Parquet written by parquet-wasm', () => {
  it('reads columns over row groups, dt from the time column', async () => {
    let last = 0;
    const s = await readParquetSeries(pq, {
      columns: ['w', 'u'],
      rows: { start: 60, stop: 150 },
      onProgress: (done) => {
        last = done;
      },
    });
    expect(s.shape).toEqual([90, 2]);
    expect(s.names).toEqual(['w', 'u']);
    expect(s.dt).toEqual({ value: 0.02, source: "time column 'time'" });
    expect(last).toBe(90);
    expectValues(s, 60, [2, 0]);
  });

  it('a GZIP-compressed file (decoded through node:zlib)', async () => {
    const s = await readParquetSeries(join(fixtures, 'series-gzip.parquet'));
    expect(s.names).toEqual(['u']);
    expect(s.dt?.value).toBe(0.02);
    expectValues(s, 0, [0]);
  });

  it('default columns: the numeric ones but the time column; strings, NaN and unknown columns refused', async () => {
    const flagNames = true;
    expect(await failure(readSeries(pq, { flagNames }), 'SeriesFileError')).toMatch(
      /column 'with_nan' holds NaN at row 150 \(0-based\)/,
    );
    const s = await readSeries(pq, { rows: { start: 0, stop: 150 } });
    expect(s.names).toEqual(['u', 'v', 'w', 'count', 'with_nan']);
    expect(s.data[4 * 5 + 3]).toBe(4);
    expect(await failure(readSeries(pq, { columns: ['label'], flagNames }), 'SeriesFileError')).toMatch(
      /--columns: column 'label' holds strings or bytes \(BYTE_ARRAY STRING\), not numbers/,
    );
    expect(await failure(readSeries(pq, { columns: ['nope'], flagNames }), 'SeriesFileError')).toMatch(
      /--columns: no column 'nope' in the file\. Fix: pass column names of the file: time \(DOUBLE\)/,
    );
    expect(await failure(readSeries(pq, { dataset: '/x', flagNames }), 'SeriesFileError')).toMatch(
      /--dataset: applies to HDF5 and NetCDF files, not to Parquet/,
    );
  });
});

describe('damaged files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdekit-io-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a truncated HDF5 / NetCDF file, a file of another format', async () => {
    const cut = join(dir, 'cut.h5');
    await copyFile(h5, cut);
    await truncate(cut, 6000);
    expect(await failure(readSeries(cut, { dataset: '/ks/u' }), 'SeriesFileError')).toMatch(
      /HDF5 cannot open it \(truncated file: eof = 6000.*\)\. Fix: the file is truncated or damaged/,
    );
    const cutNc = join(dir, 'cut.nc');
    await copyFile(nc, cutNc);
    await truncate(cutNc, 9000);
    await failure(readSeries(cutNc, { variable: 'u' }), 'SeriesFileError');
    const csv = join(dir, 'table.h5');
    await writeFile(csv, 'a,b\n1,2\n');
    expect(await failure(readSeries(csv), 'SeriesFileError')).toMatch(
      /not an HDF5 file \(no HDF5 signature\)/,
    );
  });

  it('a truncated Parquet file', async () => {
    const cut = join(dir, 'cut.parquet');
    await copyFile(pq, cut);
    await truncate(cut, 5000);
    expect(await failure(readSeries(cut), 'SeriesFileError')).toMatch(/the Parquet footer is missing/);
  });
});

describe('row windows and dt', () => {
  it('parses START:STOP, START: and :STOP', () => {
    expect(parseRowWindow('10:20')).toEqual({ start: 10, stop: 20 });
    expect(parseRowWindow('10:')).toEqual({ start: 10 });
    expect(parseRowWindow(':20')).toEqual({ start: 0, stop: 20 });
    expect(() => parseRowWindow('20:10', '--rows')).toThrow(/--rows: window '20:10' is empty/);
    expect(() => parseRowWindow('a:b', '--rows')).toThrow(/expected START:STOP/);
  });

  it("takes the file's dt, accepts an equal one and refuses a contradicting one", () => {
    const file = { value: 0.01, source: "attribute 'dt' of /ks/u" };
    expect(resolveTimeStep(file, undefined, 'f.h5')).toBe(0.01);
    expect(resolveTimeStep(file, 0.0100000001, 'f.h5')).toBe(0.01);
    expect(resolveTimeStep(null, 0.5, 'f.h5')).toBe(0.5);
    expect(() => resolveTimeStep(file, 0.02, 'f.h5', '--dt')).toThrow(
      "f.h5: --dt: 0.02 contradicts the file, whose attribute 'dt' of /ks/u says dt = 0.01. Fix: leave --dt out to use the file's 0.01, or pass --dt 0.01",
    );
  });
});

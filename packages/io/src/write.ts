/**
 * Writes a series (or P paths of one) as a self-describing HDF5 file that is also a NetCDF-4 file:
 * one float64 variable on the dimensions (time, variable) or (path, time, variable), each dimension
 * an HDF5 dimension scale holding its coordinate (times t0 + k dt, path and variable indices), with
 * `dt`, the variable names and the caller's attributes. netCDF4-python, xarray and h5py read it;
 * `readHdf5Series` / `readNetcdfSeries` read it back with dt and names. The write is atomic: a
 * temporary file in the same folder, renamed over the target when complete.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DimensionError, InvalidArgumentError } from '@sdekit/sde';
import type { File as H5File } from 'h5wasm';
import { SeriesFileError } from './errors.js';
import { hdf5Reason, loadH5wasm } from './hdf5.js';

/** An attribute value: a number, a string, or a list of either. */
export type AttributeValue = number | string | readonly number[] | readonly string[];

/** Options of `writeSeriesFile`. */
export interface WriteSeriesOptions {
  /** Sampling interval (stored as attribute `dt` and as the spacing of the time coordinate). */
  readonly dt: number;
  /** Time of the first row (default 0). */
  readonly t0?: number;
  /** D variable names (attribute `columns`; default x1..xD). */
  readonly names?: readonly string[];
  /** Name of the data variable (default 'x'). */
  readonly variable?: string;
  /** Units of the time coordinate (attribute `units`), e.g. 'seconds'. */
  readonly timeUnits?: string;
  /** Attributes of the file (NetCDF global attributes): model, seed, version, ... */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/** `temporaryPath` of @sdekit/cli: `.NAME.<pid>.<hex>.tmp` next to the target, which the CLI cleans up after a killed run. */
function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.@+-]*$/;

/**
 * Writes `data` (row-major [N, D], or [P, N, D] for P paths) to `path` as HDF5 / NetCDF-4, atomically.
 * Throws InvalidArgumentError or DimensionError for a bad shape, dt or name.
 *
 * @example
 * await writeSeriesFile('sim.nc', bundle.data, [paths, length, dim], {
 *   dt: 0.01, names: ['u', 'v'], attributes: { model: 'model.json', seed: 1 },
 * });
 */
export async function writeSeriesFile(
  path: string,
  data: Float64Array,
  shape: readonly number[],
  options: WriteSeriesOptions,
): Promise<void> {
  if (!(data instanceof Float64Array))
    throw new InvalidArgumentError(
      'data',
      'must be a Float64Array',
      'convert with Float64Array.from(values)',
    );
  if (shape.length !== 2 && shape.length !== 3)
    throw new DimensionError(
      'shape',
      `[${shape.join(', ')}] is neither [N, D] nor [P, N, D]`,
      'pass [N, D] or [P, N, D]',
    );
  if (shape.some((n) => !Number.isInteger(n) || n < 1) || shape.reduce((a, b) => a * b, 1) !== data.length)
    throw new DimensionError(
      'shape',
      `[${shape.join(', ')}] does not describe ${data.length} values`,
      'pass positive sizes whose product is data.length',
    );
  const { dt } = options;
  if (!(Number.isFinite(dt) && dt > 0))
    throw new InvalidArgumentError(
      'dt',
      `must be a finite number > 0, got ${dt}`,
      'pass the sampling interval',
    );
  const t0 = options.t0 ?? 0;
  const P = shape.length === 3 ? shape[0] : 1;
  const N = shape[shape.length - 2];
  const D = shape[shape.length - 1];
  const names = options.names ?? Array.from({ length: D }, (_, j) => `x${j + 1}`);
  if (names.length !== D)
    throw new DimensionError(
      'names',
      `has ${names.length} names for ${D} variables`,
      'pass one name per column',
    );
  const variable = options.variable ?? 'x';
  if (!NAME.test(variable) || ['time', 'path', 'variable'].includes(variable))
    throw new InvalidArgumentError(
      'variable',
      `'${variable}' is not a usable variable name`,
      "pass a name of letters, digits and _ that is not 'time', 'path' or 'variable'",
    );
  await writeHdf5Atomically(path, (f) => {
    const time = f.create_dataset({
      name: 'time',
      data: Float64Array.from({ length: N }, (_, k) => t0 + k * dt),
    });
    time.make_scale('time');
    time.create_attribute('axis', 'T');
    time.create_attribute('long_name', 'time');
    if (options.timeUnits !== undefined) time.create_attribute('units', options.timeUnits);
    if (P > 1) {
      f.create_dataset({ name: 'path', data: Int32Array.from({ length: P }, (_, p) => p) }).make_scale(
        'path',
      );
    }
    const v = f.create_dataset({ name: 'variable', data: Int32Array.from({ length: D }, (_, j) => j) });
    v.make_scale('variable');
    v.create_attribute('long_name', `index of the variable (names in ${variable}:columns)`);
    const x = f.create_dataset({ name: variable, data, shape: [...shape] });
    const dims = P > 1 ? ['path', 'time', 'variable'] : ['time', 'variable'];
    dims.forEach((d, i) => {
      x.attach_scale(i, d);
    });
    x.create_attribute('dt', dt);
    x.create_attribute('columns', [...names]);
    for (const [key, value] of Object.entries(options.attributes ?? {})) {
      f.create_attribute(key, Array.isArray(value) ? [...value] : (value as number | string));
    }
  });
}

/**
 * Writes any float64 array as one HDF5 dataset (`name`, default 'data', of the given shape: [N],
 * [N, D], [P, N, D], ...) with attributes on it, atomically: for arrays that are not a series on a
 * time grid (samples, a histogram), which `writeSeriesFile` would describe wrongly. h5py reads it
 * as `f['data'][...]`; `readHdf5Series` reads the 1- to 3-D ones back.
 *
 * @example
 * await writeArrayFile('samples.h5', samples, [n, 2], { attributes: { description: 'posterior draws' } });
 */
export async function writeArrayFile(
  path: string,
  data: Float64Array,
  shape: readonly number[],
  options: { readonly name?: string; readonly attributes?: Readonly<Record<string, AttributeValue>> } = {},
): Promise<void> {
  if (!(data instanceof Float64Array))
    throw new InvalidArgumentError(
      'data',
      'must be a Float64Array',
      'convert with Float64Array.from(values)',
    );
  if (
    shape.length === 0 ||
    shape.some((n) => !Number.isInteger(n) || n < 1) ||
    shape.reduce((a, b) => a * b, 1) !== data.length
  )
    throw new DimensionError(
      'shape',
      `[${shape.join(', ')}] does not describe ${data.length} values`,
      'pass positive sizes whose product is data.length',
    );
  const name = options.name ?? 'data';
  if (!NAME.test(name))
    throw new InvalidArgumentError(
      'name',
      `'${name}' is not a usable dataset name`,
      'pass a name of letters, digits and _',
    );
  await writeHdf5Atomically(path, (f) => {
    const d = f.create_dataset({ name, data, shape: [...shape] });
    for (const [key, value] of Object.entries(options.attributes ?? {}))
      d.create_attribute(key, Array.isArray(value) ? [...value] : (value as number | string));
  });
}

/**
 * Creates an HDF5 file at a temporary path beside `path`, lets `fill` write into it, and renames it
 * into place, so a reader never sees a partial file; on failure the temporary file goes and HDF5's
 * errors become a one-line SeriesFileError. track_order: netCDF-C lists variables and attributes in
 * creation order, which HDF5 keeps only when asked.
 */
async function writeHdf5Atomically(path: string, fill: (file: H5File) => void): Promise<void> {
  const h5 = await loadH5wasm();
  const tmp = temporaryPath(path);
  try {
    const f = new h5.File(tmp, 'w', { track_order: true });
    try {
      fill(f);
    } finally {
      f.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof Error && /#\d+:/.test(err.message))
      throw new SeriesFileError(
        path,
        '',
        `HDF5 failed to write it (${hdf5Reason(err)})`,
        'check that the folder is writable and has free space',
      );
    throw err;
  }
}

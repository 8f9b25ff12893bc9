/**
 * HDF5 and NetCDF-4 series through h5wasm (the HDF5 C library compiled to WebAssembly; its Node
 * build reads the file on disk through the file system, so a slice costs the memory of the slice,
 * not of the file). NetCDF-4 files are HDF5 files whose dimensions are HDF5 dimension scales: a
 * variable's axes are named by the scales attached to them (`DIMENSION_LIST`), a dimension with a
 * coordinate variable is a scale holding the coordinates, one without is a scale whose NAME
 * attribute starts with "This is a netCDF dimension but not a netCDF variable". h5py's `dims` API
 * writes the same structure, so one reader serves both.
 *
 * Layout: a dataset of 1, 2 or 3 dimensions. The time axis is the dimension named by `timeDim`, else
 * one named time / t (or whose coordinate has axis = 'T'), else axis 0 ([R, N, D]: axis 1, as a
 * .npy of R runs). Of the other axes, the last is the coordinate axis (D) and, in 3-D, the first the
 * run axis (R). The result is row-major [N, D] or [R, N, D] whatever the order in the file.
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Dataset, File as H5File } from 'h5wasm';
import { SeriesFileError, TimeAxisError } from './errors.js';
import {
  argName,
  type FileTimeStep,
  type ReadHdf5Options,
  resolveWindow,
  type SeriesData,
  type SeriesFormat,
  UniformSpacing,
} from './series.js';

type H5Module = typeof import('h5wasm').default;

let loading: Promise<H5Module> | undefined;

/**
 * Loads h5wasm once (about 4 MB of JavaScript with the wasm inlined, so only on first use). Its
 * default error handler prints the HDF5 error stack to stderr and returns a bare 'error - name not
 * defined!'; the throwing handler puts the stack into the Error instead, where `hdf5Reason` reads
 * the cause.
 */
export function loadH5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    const mod = (await import('h5wasm/node')).default;
    const m = await mod.ready;
    m.activate_throwing_error_handler();
    return mod;
  })();
  return loading;
}

/** The innermost cause of an HDF5 error stack ('truncated file: eof = 8000, ...'), or its first line. */
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const causes = [...text.matchAll(/#\d+: .* in [A-Za-z0-9_]+\(\): (.*)$/gm)].map((m) => m[1].trim());
  return causes.length > 0 ? causes[causes.length - 1] : text.split('\n')[0];
}

/** HDF5's format signature, found at offset 0 or 512, 1024, 2048, ... after a user block. */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

async function hasSignature(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const buf = new Uint8Array(8);
    for (let at = 0; at + 8 <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
      await file.read(buf, 0, 8, at);
      if (SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    await file.close();
  }
}

/**
 * Opens an HDF5 file read-only with one-line errors: a file without the HDF5 signature is "not an
 * HDF5 file", one that HDF5 refuses (a truncated download, a damaged header) gets HDF5's own cause.
 */
export async function openHdf5(path: string, source: string, format: SeriesFormat): Promise<H5File> {
  const h5 = await loadH5wasm();
  const kind = format === 'netcdf' ? 'NetCDF-4 (HDF5)' : 'HDF5';
  if (!(await hasSignature(path))) {
    const fix =
      format === 'netcdf'
        ? 'pass a NetCDF-4 file; a classic NetCDF-3 file (signature CDF) must be converted first: nccopy -k nc4 in.nc out.nc'
        : 'pass an HDF5 file (h5py, h5dump -H shows its structure), or a file with the extension of its format (.csv, .npy, .parquet)';
    throw new SeriesFileError(source, '', `not an ${kind} file (no HDF5 signature)`, fix);
  }
  try {
    return new h5.File(path, 'r');
  } catch (err) {
    throw new SeriesFileError(
      source,
      '',
      `HDF5 cannot open it (${hdf5Reason(err)})`,
      'the file is truncated or damaged: copy or download it again',
    );
  }
}

/** A string attribute (or the first string of an array), or undefined. */
function stringAttr(obj: Dataset, name: string): string | undefined {
  if (!(name in obj.attrs)) return undefined;
  try {
    const v = obj.get_attribute(name, true);
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** A list of strings of an attribute (`columns`), or undefined. */
function stringListAttr(obj: Dataset, name: string): string[] | undefined {
  if (!(name in obj.attrs)) return undefined;
  try {
    const v = obj.get_attribute(name, true);
    const list = Array.isArray(v) ? v : [v];
    return list.every((s) => typeof s === 'string') ? (list as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** A positive finite numeric scalar attribute (`dt`), or undefined. */
function numberAttr(obj: { attrs: object; get_attribute(n: string, j: true): unknown }, name: string) {
  if (!(name in obj.attrs)) return undefined;
  try {
    const v = obj.get_attribute(name, true);
    const x = Array.isArray(v) && v.length === 1 ? v[0] : v;
    return typeof x === 'number' ? x : undefined;
  } catch {
    return undefined;
  }
}

const NETCDF_DIMENSION_ONLY = 'This is a netCDF dimension but not a netCDF variable';
const TIME_NAMES = ['time', 't', 'Time', 'TIME', 'T'];

/** H5T classes: 0 integer, 1 float; everything else (strings 3, compounds 6, ...) is not a series. */
const H5T_NAMES: Readonly<Record<number, string>> = {
  2: 'time values',
  3: 'strings',
  4: 'bit fields',
  5: 'opaque bytes',
  6: 'compound records',
  7: 'references',
  8: 'enumerations',
  9: 'variable-length sequences',
  10: 'arrays',
};

function isScale(ds: Dataset): boolean {
  return stringAttr(ds, 'CLASS') === 'DIMENSION_SCALE';
}

/** Every dataset of the file, by path, depth first. */
function allDatasets(file: H5File): Dataset[] {
  const out: Dataset[] = [];
  const walk = (group: H5File | ReturnType<H5File['get']>, prefix: string) => {
    const g = group as H5File;
    for (const key of g.keys()) {
      const child = g.get(key);
      const type = (child as { type?: string } | null)?.type;
      if (child === null) continue;
      if (type === 'Group') walk(child, `${prefix}${key}/`);
      else if (type === 'Dataset') out.push(child as Dataset);
    }
  };
  walk(file, '/');
  return out;
}

/** The data variables of a file: numeric datasets of 1 to 3 dimensions that are not dimension scales. */
function candidates(file: H5File): Dataset[] {
  return allDatasets(file).filter((d) => {
    const m = d.metadata;
    return (
      (m.type === 0 || m.type === 1) &&
      (d.shape?.length ?? 0) >= 1 &&
      (d.shape?.length ?? 0) <= 3 &&
      !isScale(d)
    );
  });
}

function listing(file: H5File): string {
  const names = candidates(file).map((d) => `${d.path} [${d.shape?.join(', ')}]`);
  return names.length > 0 ? names.join(', ') : 'none';
}

/** The name of each axis of a dataset: its attached dimension scale, else its label, else ''. */
function axisNames(file: H5File, ds: Dataset, rank: number): { name: string; scale: Dataset | null }[] {
  let labels: (string | null)[] = [];
  try {
    labels = ds.get_dimension_labels();
  } catch {
    labels = [];
  }
  return Array.from({ length: rank }, (_, i) => {
    let scales: string[] = [];
    try {
      scales = 'DIMENSION_LIST' in ds.attrs ? ds.get_attached_scales(i) : [];
    } catch {
      scales = [];
    }
    const scale = scales.length > 0 ? (file.get(scales[0]) as Dataset | null) : null;
    if (scale !== null) {
      const name = stringAttr(scale, 'NAME');
      const named = name !== undefined && name !== '' && !name.startsWith(NETCDF_DIMENSION_ONLY);
      // A netCDF dimension without a coordinate variable has no values to read.
      const coordinate = !name?.startsWith(NETCDF_DIMENSION_ONLY) ? scale : null;
      return { name: named ? name : posix.basename(scale.path), scale: coordinate };
    }
    return { name: labels[i] ?? '', scale: null };
  });
}

/** How one dataset maps onto the result: axes, sizes, names and its time coordinate. */
interface Plan {
  readonly ds: Dataset;
  readonly shape: number[];
  readonly timeAxis: number;
  readonly runAxis: number;
  readonly colAxis: number;
  readonly runs: number;
  readonly rows: number;
  readonly cols: number;
  readonly names: string[];
  readonly timeName: string;
  readonly coordinate: Dataset | null;
  readonly dtAttr: number | undefined;
}

function plan(
  file: H5File,
  ds: Dataset,
  name: string,
  opts: ReadHdf5Options,
  source: string,
  format: SeriesFormat,
  several: boolean,
): Plan {
  const selArg = argName(opts.variable !== undefined ? 'variable' : 'dataset', opts.flagNames);
  const m = ds.metadata;
  if (m.type !== 0 && m.type !== 1) {
    throw new SeriesFileError(
      source,
      selArg,
      `${ds.path} holds ${H5T_NAMES[m.type] ?? `HDF5 type class ${m.type}`}, not numbers`,
      `select a numeric dataset (numeric datasets: ${listing(file)})`,
    );
  }
  const shape = ds.shape ?? [];
  if (shape.length < 1 || shape.length > 3) {
    throw new SeriesFileError(
      source,
      selArg,
      `${ds.path} has ${shape.length} dimensions [${shape.join(', ')}]; a series is [N], [N, D] or [R, N, D] (R runs)`,
      'select a 1-, 2- or 3-dimensional dataset, or reshape it when writing (h5py: data.reshape(N, -1))',
    );
  }
  const axes = axisNames(file, ds, shape.length);
  let timeAxis: number;
  if (opts.timeDim !== undefined) {
    timeAxis = axes.findIndex((a) => a.name === opts.timeDim);
    if (timeAxis < 0) {
      throw new SeriesFileError(
        source,
        argName('timeDim', opts.flagNames),
        `${ds.path} has no dimension '${opts.timeDim}' (its dimensions: ${axes.map((a, i) => a.name || `axis ${i} (unnamed)`).join(', ')})`,
        'pass one of its dimension names',
      );
    }
  } else {
    timeAxis = axes.findIndex(
      (a) => TIME_NAMES.includes(a.name) || (a.scale !== null && stringAttr(a.scale, 'axis') === 'T'),
    );
    if (timeAxis < 0) timeAxis = shape.length === 3 ? 1 : 0;
  }
  const others = [0, 1, 2].slice(0, shape.length).filter((i) => i !== timeAxis);
  const colAxis = others.length > 0 ? others[others.length - 1] : -1;
  const runAxis = others.length > 1 ? others[0] : -1;
  const cols = colAxis >= 0 ? shape[colAxis] : 1;
  const runs = runAxis >= 0 ? shape[runAxis] : 1;
  if (shape.some((n) => n === 0)) {
    throw new SeriesFileError(
      source,
      selArg,
      `${ds.path} of shape [${shape.join(', ')}] is empty`,
      'select a dataset with data',
    );
  }
  const listed = stringListAttr(ds, 'columns');
  const base = posix.basename(ds.path);
  const names =
    listed && listed.length === cols
      ? listed
      : several || format === 'netcdf'
        ? cols === 1
          ? [name === ds.path ? base : name]
          : Array.from({ length: cols }, (_, j) => `${base}[${j}]`)
        : Array.from({ length: cols }, (_, j) => `x${j + 1}`);
  let coordinate = axes[timeAxis].scale;
  if (coordinate !== null) {
    const cm = coordinate.metadata;
    const ok =
      (cm.type === 0 || cm.type === 1) &&
      coordinate.shape?.length === 1 &&
      coordinate.shape[0] === shape[timeAxis];
    if (!ok) coordinate = null;
  }
  const dtAttr = numberAttr(ds, 'dt') ?? numberAttr(file, 'dt');
  if (dtAttr !== undefined && !(Number.isFinite(dtAttr) && dtAttr > 0)) {
    throw new TimeAxisError(
      source,
      '',
      `attribute 'dt' of ${ds.path} is ${dtAttr}, not a positive number`,
      'set the attribute to the sampling interval, or delete it and pass dt yourself',
    );
  }
  return {
    ds,
    shape,
    timeAxis,
    runAxis,
    colAxis,
    runs,
    rows: shape[timeAxis],
    cols,
    names,
    timeName: axes[timeAxis].name || `axis ${timeAxis}`,
    coordinate,
    dtAttr,
  };
}

/** Slice ranges for h5wasm: rows [a, b) of the time axis, every index of the others. */
function ranges(rank: number, axis: number, a: number, b: number): ([] | [number, number])[] {
  return Array.from({ length: rank }, (_, i) => (i === axis ? ([a, b] as [number, number]) : ([] as [])));
}

type Numeric = ArrayLike<number> | BigInt64Array | BigUint64Array;

function sliceOf(ds: Dataset, r: ([] | [number, number])[], source: string): Numeric {
  try {
    return ds.slice(r) as Numeric;
  } catch (err) {
    throw new SeriesFileError(
      source,
      '',
      `HDF5 cannot read ${ds.path} (${hdf5Reason(err)})`,
      'the file is truncated or damaged: copy or download it again',
    );
  }
}

/** The dt one dataset states: its `dt` attribute and/or its time coordinate over the window, checked against each other. */
function timeStep(p: Plan, start: number, stop: number, sliceRows: number, source: string) {
  let fromCoordinate: FileTimeStep | null = null;
  if (p.coordinate !== null) {
    const c = p.coordinate;
    const eps = c.metadata.type === 1 && c.metadata.size === 4 ? 2 ** -23 : Number.EPSILON;
    const check = new UniformSpacing(`time coordinate '${p.timeName}' (${c.path})`, start, source, '', eps);
    // Slice by slice: the coordinate of the window is checked without being held.
    for (let a = start; a < stop; a += sliceRows) {
      const b = Math.min(stop, a + sliceRows);
      const src = sliceOf(c, [[a, b]], source);
      check.push(
        src instanceof BigInt64Array || src instanceof BigUint64Array ? Array.from(src, Number) : src,
        b - a,
      );
    }
    const step = check.step();
    const units = stringAttr(c, 'units');
    if (step !== null)
      fromCoordinate = {
        value: step,
        source: `time coordinate '${p.timeName}'${units ? ` (${units})` : ''}`,
      };
  }
  const fromAttr: FileTimeStep | null =
    p.dtAttr !== undefined ? { value: p.dtAttr, source: `attribute 'dt' of ${p.ds.path}` } : null;
  if (fromAttr && fromCoordinate && Math.abs(fromAttr.value - fromCoordinate.value) > 1e-6 * fromAttr.value) {
    throw new TimeAxisError(
      source,
      '',
      `its ${fromAttr.source} is ${fromAttr.value} but the ${fromCoordinate.source} is spaced by ${fromCoordinate.value}`,
      'correct the attribute or the coordinate so that they agree',
    );
  }
  return fromAttr ?? fromCoordinate;
}

/** Copies rows [a, b) of one dataset into the result (row-major [R, N, Dtotal], its columns at `col0`), checking finiteness. */
function copySlice(
  p: Plan,
  src: Numeric,
  a: number,
  b: number,
  start: number,
  out: Float64Array,
  window: number,
  totalCols: number,
  col0: number,
  source: string,
): void {
  const sliceShape = p.shape.map((n, i) => (i === p.timeAxis ? b - a : n));
  const stride = sliceShape.map((_, i) => sliceShape.slice(i + 1).reduce((x, y) => x * y, 1));
  const sR = p.runAxis >= 0 ? stride[p.runAxis] : 0;
  const sT = stride[p.timeAxis];
  const sD = p.colAxis >= 0 ? stride[p.colAxis] : 0;
  const big = src instanceof BigInt64Array || src instanceof BigUint64Array;
  for (let r = 0; r < p.runs; r++) {
    for (let k = 0; k < b - a; k++) {
      const o = (r * window + (a - start + k)) * totalCols + col0;
      const s = r * sR + k * sT;
      for (let j = 0; j < p.cols; j++) {
        const v = big ? Number((src as BigInt64Array)[s + j * sD]) : (src as ArrayLike<number>)[s + j * sD];
        if (!Number.isFinite(v)) {
          throw new SeriesFileError(
            source,
            '',
            `${p.ds.path} holds ${v} at row ${a + k}${p.runs > 1 ? ` of run ${r}` : ''}, column ${j} (${p.names[j]}) (0-based)`,
            'remove or impute missing values before fitting, or read a window without them (rows START:STOP)',
          );
        }
        out[o + j] = v;
      }
    }
  }
}

function datasetByName(file: H5File, name: string, source: string, arg: string): Dataset {
  const path = name.startsWith('/') ? name : `/${name}`;
  const obj = file.get(path) as { type?: string } | null;
  if (obj === null || obj.type !== 'Dataset') {
    throw new SeriesFileError(
      source,
      arg,
      obj === null
        ? `no dataset '${path}' in the file`
        : `'${path}' is a ${String(obj.type).toLowerCase()}, not a dataset`,
      `pass one of the file's datasets: ${listing(file)}`,
    );
  }
  return obj as Dataset;
}

/** Bytes per slice by default: 16 MiB, the chunk of the other streaming readers. */
export const DEFAULT_SLICE_BYTES = 1 << 24;

/**
 * Reads a series from an HDF5 file: one dataset (`dataset`) or the columns of several side by side
 * (`variable`), rows [start, stop) of the time axis, by slices of about `sliceBytes` so that a window
 * of a file larger than memory can be read. The sampling interval comes from a `dt` attribute of the
 * dataset (or of the file) or from a uniformly spaced time coordinate (a dimension scale on the time
 * axis); a non-uniform coordinate is a TimeAxisError. Every value must be finite. Integer and
 * float32 datasets are converted to float64.
 *
 * @example
 * const s = await readHdf5Series('ks.h5', { dataset: '/ks/u', rows: { start: 1000, stop: 5000 } });
 * s.shape; // [4000, D]
 * s.dt;    // { value: 0.25, source: "attribute 'dt' of /ks/u" }, or null
 */
export async function readHdf5Series(
  path: string,
  options: ReadHdf5Options = {},
  format: SeriesFormat = 'hdf5',
): Promise<SeriesData> {
  const source = options.source ?? path;
  const flags = options.flagNames;
  if (options.dataset !== undefined && options.variable !== undefined) {
    throw new SeriesFileError(
      source,
      argName('variable', flags),
      'dataset and variable both select what to read',
      `pass one of them: ${argName('dataset', flags)} PATH for one dataset, ${argName('variable', flags)} A,B for variables side by side`,
    );
  }
  const file = await openHdf5(path, source, format);
  try {
    const selArg = argName(
      options.variable !== undefined || (options.dataset === undefined && format === 'netcdf')
        ? 'variable'
        : 'dataset',
      flags,
    );
    const names =
      options.variable !== undefined
        ? typeof options.variable === 'string'
          ? options.variable.split(',').map((s) => s.trim())
          : [...options.variable]
        : options.dataset !== undefined
          ? [options.dataset]
          : [];
    let datasets: Dataset[];
    if (names.length === 0) {
      datasets = candidates(file);
      if (datasets.length !== 1) {
        throw new SeriesFileError(
          source,
          selArg,
          datasets.length === 0
            ? 'the file holds no numeric dataset of 1 to 3 dimensions'
            : `the file holds ${datasets.length} datasets, so which to read must be given`,
          datasets.length === 0
            ? `pass a file with a numeric series (its datasets: ${
                allDatasets(file)
                  .map((d) => d.path)
                  .join(', ') || 'none'
              })`
            : format === 'netcdf'
              ? `pass ${argName('variable', flags)} NAME (or A,B,... side by side) with one of: ${listing(file)}`
              : `pass ${selArg} PATH with one of: ${listing(file)}`,
        );
      }
    } else {
      if (names.some((n) => n === '') || new Set(names).size !== names.length)
        throw new SeriesFileError(
          source,
          selArg,
          `'${names.join(',')}' names an empty or repeated entry`,
          'name each dataset once',
        );
      datasets = names.map((n) => datasetByName(file, n, source, selArg));
    }
    const plans = datasets.map((d, i) =>
      plan(file, d, names[i] ?? d.path, options, source, format, datasets.length > 1),
    );
    const first = plans[0];
    for (const p of plans.slice(1)) {
      if (p.rows !== first.rows || p.runs !== first.runs) {
        throw new SeriesFileError(
          source,
          selArg,
          `${p.ds.path} has ${p.runs > 1 ? `${p.runs} runs of ` : ''}${p.rows} rows along '${p.timeName}' but ${first.ds.path} has ${first.runs > 1 ? `${first.runs} runs of ` : ''}${first.rows}`,
          'read side by side only variables on the same time axis',
        );
      }
    }
    const { start, stop } = resolveWindow(options.rows, first.rows, source, flags);
    const window = stop - start;
    const totalCols = plans.reduce((s, p) => s + p.cols, 0);
    const sliceBytes = options.sliceBytes ?? DEFAULT_SLICE_BYTES;
    const timeArg = argName('rows', flags);
    // dt before the data: a non-uniform axis fails before the long read.
    let dt: FileTimeStep | null = null;
    for (const p of plans) {
      const rowsPerSlice = Math.max(1, Math.floor(sliceBytes / 8));
      const step = timeStep(p, start, stop, rowsPerSlice, source);
      if (step && dt && Math.abs(step.value - dt.value) > 1e-6 * dt.value) {
        throw new TimeAxisError(
          source,
          selArg,
          `${first.ds.path} is sampled every ${dt.value} (${dt.source}) but ${p.ds.path} every ${step.value} (${step.source})`,
          'read side by side only variables with the same sampling interval',
        );
      }
      dt ??= step;
    }
    let data: Float64Array;
    try {
      data = new Float64Array(first.runs * window * totalCols);
    } catch {
      throw new SeriesFileError(
        source,
        timeArg,
        `${first.runs * window * totalCols} values (${((first.runs * window * totalCols * 8) / 2 ** 30).toFixed(2)} GiB) are more than this process can allocate`,
        `read a window of the series (${timeArg} START:STOP)`,
      );
    }
    let col0 = 0;
    for (let pi = 0; pi < plans.length; pi++) {
      const p = plans[pi];
      const rowsPerSlice = Math.max(1, Math.floor(sliceBytes / (8 * p.runs * p.cols)));
      for (let a = start; a < stop; a += rowsPerSlice) {
        const b = Math.min(stop, a + rowsPerSlice);
        const src = sliceOf(p.ds, ranges(p.shape.length, p.timeAxis, a, b), source);
        copySlice(p, src, a, b, start, data, window, totalCols, col0, source);
        options.onProgress?.(pi * window + (b - start), plans.length * window);
      }
      col0 += p.cols;
    }
    return {
      data,
      shape: first.runs > 1 || first.runAxis >= 0 ? [first.runs, window, totalCols] : [window, totalCols],
      names: plans.flatMap((p) => p.names),
      dt,
      rows: { start, stop, total: first.rows },
      format,
      selection: plans.map((p) => p.ds.path).join(', '),
    };
  } finally {
    file.close();
  }
}

/**
 * Reads a series from a NetCDF-4 file: `readHdf5Series` with NetCDF's conventions. Select variables
 * by name (`variable: 'u'` or `['u', 'v']`, read side by side); the time dimension is found by name
 * (`timeDim`, default time / t, or the coordinate with axis = 'T'); dt comes from its coordinate
 * variable when uniformly spaced, or from a `dt` attribute. Classic NetCDF-3 files are not HDF5 and
 * are refused (convert them with `nccopy -k nc4`).
 *
 * @example
 * const s = await readNetcdfSeries('ocean.nc', { variable: ['u', 'v'], timeDim: 'time' });
 * s.names; // ['u', 'v']
 */
export function readNetcdfSeries(path: string, options: ReadHdf5Options = {}): Promise<SeriesData> {
  return readHdf5Series(path, options, 'netcdf');
}

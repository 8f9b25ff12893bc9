/**
 * Files for the `sdekit` commands: reading a time series (CSV or .npy, rows = time) with column
 * selection and validation, reading a simulation written by `sdekit simulate`, reading a model file,
 * and checking an output path before any expensive work starts.
 */
import { mkdir, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { FileTimeStep } from '@sdekit/io';
import { SdekitError } from '@sdekit/sde';
import {
  DataFormatError,
  type NpyArray,
  readCsv,
  readNpy,
  removeStaleTemporaries,
  temporaryPath,
} from '../io.js';
import { commandProgress } from './report.js';
import { type DataSelection, isSeriesFile, readSeriesTable, refuseSelection } from './series-files.js';
import type { CliIo, OptionSpec } from './spec.js';
import { UsageError } from './spec.js';

/** A file could not be read or written (missing, a folder, no permission). */
export class FileError extends SdekitError {
  constructor(message: string) {
    super('FILE', message);
  }
}

/** Resolves a user path against the I/O's working folder. */
export function resolvePath(io: CliIo, path: string): string {
  return resolve(io.cwd ?? process.cwd(), path);
}

function describeFsError(err: unknown, role: string, path: string): never {
  const code = (err as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a folder, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : ((err as Error).message ?? String(err)).split('\n')[0];
  throw new FileError(`${role}: cannot read '${path}' (${why})`);
}

/** Reads a whole file, turning file-system errors into one-line FileErrors that name the role ('DATA', 'MODEL'). */
export async function readInput(io: CliIo, path: string, role: string): Promise<Buffer> {
  try {
    return await readFile(resolvePath(io, path));
  } catch (err) {
    return describeFsError(err, role, path);
  }
}

/** What an output must not clobber: the command's inputs, and (without --force) an existing file. */
export interface OutputGuard {
  /** The command's input files, with their roles ('DATA', 'MODEL', ...). */
  inputs?: readonly { path: string; role: string }[];
  /** Replace an existing output (--force). */
  force?: boolean;
}

/** The real path of `abs`, or of its folder joined with its name when it does not exist yet. */
async function realTarget(abs: string): Promise<string> {
  const full = await realpath(abs).catch(() => null);
  if (full !== null) return full;
  const dir = await realpath(dirname(abs)).catch(() => dirname(abs));
  return join(dir, basename(abs));
}

/** Refuses an output that resolves (through symlinks, '.', '..') to one of the inputs. */
async function refuseInputs(
  io: CliIo,
  path: string,
  option: string,
  abs: string,
  guard: OutputGuard,
): Promise<void> {
  const target = await realTarget(abs);
  for (const input of guard.inputs ?? []) {
    const real = await realpath(resolvePath(io, input.path)).catch(() => null);
    if (real !== null && real === target) {
      throw new FileError(
        `--${option} '${path}' is the ${input.role} file '${input.path}'; writing there would replace your data. Fix: name another output`,
      );
    }
  }
}

/**
 * What output files and folders share: the containing folder exists, and the output is none of the
 * inputs. Returns the output's current stat (null when it does not exist yet).
 */
async function checkOutputPlace(io: CliIo, path: string, option: string, abs: string, guard: OutputGuard) {
  const dir = dirname(abs);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory())
    throw new FileError(`--${option} '${path}': folder '${dir}' does not exist; create it first`);
  await refuseInputs(io, path, option, abs, guard);
  return stat(abs).catch(() => null);
}

/**
 * Checks that an output file can be created: its folder exists and is a folder, (when given) its
 * extension is allowed, it is none of the command's inputs, and it does not exist unless `force`.
 * Removes the command's own stale temporary files next to it (runs killed mid-write). Called before
 * fitting, so a typo does not cost a training run.
 */
export async function checkOutputFile(
  io: CliIo,
  path: string,
  option: string,
  extensions?: readonly string[],
  guard: OutputGuard = {},
): Promise<string> {
  const abs = resolvePath(io, path);
  if (extensions && !extensions.includes(extname(abs).toLowerCase())) {
    throw new UsageError(`--${option} '${path}': expected a file ending in ${extensions.join(' or ')}`);
  }
  const target = await checkOutputPlace(io, path, option, abs, guard);
  if (target?.isDirectory()) throw new FileError(`--${option} '${path}': is a folder; name a file`);
  if (target && !guard.force)
    throw new FileError(
      `--${option} '${path}' exists. Fix: pass --force to replace it, or name another file`,
    );
  await removeStaleTemporaries(abs);
  return abs;
}

/**
 * Checks an output folder: its parent exists, it is not a file, it is not empty unless `force`
 * (then it is replaced whole by `writeFolderAtomically`), and it is none of the inputs.
 */
export async function checkOutputFolder(
  io: CliIo,
  path: string,
  option: string,
  guard: OutputGuard = {},
): Promise<string> {
  const abs = resolvePath(io, path);
  const target = await checkOutputPlace(io, path, option, abs, guard);
  if (target && !target.isDirectory()) throw new FileError(`--${option} '${path}': is a file; name a folder`);
  if (target && !guard.force && (await readdir(abs)).length > 0)
    throw new FileError(
      `--${option} '${path}' is a folder that is not empty. Fix: pass --force to replace it, or name another folder`,
    );
  await removeStaleTemporaries(abs);
  return abs;
}

/**
 * Writes a folder as a whole: `fill` writes into a temporary folder next to `dir`, which then
 * replaces `dir` (an existing one is moved aside first and removed after), so a failed run leaves
 * no partial folder and the old one untouched.
 */
export async function writeFolderAtomically(
  dir: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = temporaryPath(dir);
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = (await stat(dir).catch(() => null)) ? temporaryPath(dir) : null;
  if (old) await rename(dir, old);
  try {
    await rename(tmp, dir);
  } catch (err) {
    if (old) await rename(old, dir);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (old) await rm(old, { recursive: true, force: true });
}

/**
 * Throws a FileError naming the first constant column of a table (by its header name): a constant
 * coordinate has no variance to z-score and no dynamics to learn.
 */
export function checkNoConstantColumn(
  data: Float64Array,
  cols: number,
  names: readonly string[],
  role: string,
): void {
  const rows = data.length / cols;
  for (let j = 0; j < cols; j++) {
    const first = data[j];
    let constant = true;
    for (let i = 1; i < rows && constant; i++) if (data[i * cols + j] !== first) constant = false;
    if (constant && rows > 0) {
      throw new FileError(
        `${role}: column '${names[j]}' is constant (every row is ${first}); leave it out with --columns`,
      );
    }
  }
}

/** A numeric table read from a data file: rows = time samples, cols = coordinates. */
export interface Table {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** Column names: the CSV header, or x1..xD. */
  readonly names: string[];
  /**
   * Row of the first sample of every run after the first, when the file holds R independent runs
   * (a [R, N, D] .npy: rows = R N, runs of N rows each); absent for one run.
   */
  readonly runStarts?: Int32Array;
  /** The sampling interval the file states (HDF5, NetCDF, Parquet: @sdekit/io), null when it states none. */
  readonly dt?: FileTimeStep | null;
}

/** Column names x1..xD, used when a file or model names none. */
export function defaultNames(cols: number): string[] {
  return Array.from({ length: cols }, (_, j) => `x${j + 1}`);
}

/** Checks every value of a decoded .npy array; a NaN or Infinity is reported with its row and column (1-based). */
function checkNpyFinite(arr: NpyArray, path: string, cols: number): void {
  const d = arr.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const row = Math.floor(i / cols) + 1;
      const col = (i % cols) + 1;
      throw new DataFormatError(
        path,
        0,
        0,
        `value at row ${row}, column ${col} is ${d[i]}`,
        'remove or impute missing and non-finite values before fitting',
      );
    }
  }
}

/**
 * Reads a data file by streaming (`readNpy`, `readCsv` of ../io: memory of the values, not of the
 * file's text), with a progress bar 'reading ROLE' on a terminal unless `quiet`. File-system errors
 * become one-line FileErrors naming the role.
 */
async function readDataFile<T>(
  io: CliIo,
  path: string,
  role: string,
  quiet: boolean,
  read: (abs: string, onProgress: (done: number, total: number) => void) => Promise<T>,
): Promise<T> {
  const abs = resolvePath(io, path);
  const info = await stat(abs).catch((err) => describeFsError(err, role, path));
  if (info.isDirectory()) describeFsError({ code: 'EISDIR' }, role, path);
  const bar = commandProgress(io, quiet, `reading ${role}`);
  try {
    return await read(abs, (done, total) => bar.update(done, total));
  } catch (err) {
    if (err instanceof SdekitError) throw err;
    return describeFsError(err, role, path);
  } finally {
    bar.finish();
  }
}

/** Float64 values of a decoded array: the array itself when it is float64 (no copy). */
function asFloat64(data: Float32Array | Float64Array): Float64Array {
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

/**
 * Reads a time series: CSV (header optional, detected; '#' comments and blank lines skipped) or .npy
 * (float32/float64; shape [N] is one coordinate, [N, D] is N samples of D coordinates, [R, N, D] is R
 * independent runs of N samples, stacked as R N rows with `runStarts`). Every value must be finite;
 * ragged rows and non-numeric cells are reported with line and column. Both formats are read by
 * streaming, with a progress bar on a terminal unless `quiet`.
 */
export async function readTable(
  io: CliIo,
  path: string,
  role: string,
  quiet = false,
  selection: DataSelection = {},
): Promise<Table> {
  // HDF5, NetCDF-4 and Parquet: @sdekit/io, the window of rows read by slices (series-files.ts).
  if (isSeriesFile(path))
    return readDataFile(io, path, role, quiet, (abs, onProgress) =>
      readSeriesTable(abs, path, selection, onProgress),
    );
  refuseSelection(selection, path);
  if (extname(path).toLowerCase() === '.npy') {
    const arr = await readDataFile(io, path, role, quiet, (abs, onProgress) =>
      readNpy(abs, { onProgress, source: path }),
    );
    if (arr.shape.length < 1 || arr.shape.length > 3) {
      throw new DataFormatError(
        path,
        0,
        0,
        `array has shape [${arr.shape.join(', ')}]; a time series is [N] or [N, D] (rows = time), R runs are [R, N, D]`,
        'save a 1-D, 2-D or 3-D array',
      );
    }
    const cols = arr.shape.length === 1 ? 1 : arr.shape[arr.shape.length - 1];
    const runs = arr.shape.length === 3 ? arr.shape[0] : 1;
    const rows = arr.shape.length === 3 ? arr.shape[0] * arr.shape[1] : arr.shape[0];
    if (cols === 0 || rows === 0) {
      throw new DataFormatError(
        path,
        0,
        0,
        `array of shape [${arr.shape.join(', ')}] is empty`,
        'save a non-empty array',
      );
    }
    checkNpyFinite(arr, path, cols);
    const table = { data: asFloat64(arr.data), rows, cols, names: defaultNames(cols) };
    if (runs === 1) return table;
    return { ...table, runStarts: Int32Array.from({ length: runs - 1 }, (_, r) => (r + 1) * (rows / runs)) };
  }
  // readCsv reports ragged rows and non-numeric or non-finite cells with line and column.
  const t = await readDataFile(io, path, role, quiet, (abs, onProgress) =>
    readCsv(abs, { onProgress, source: path }),
  );
  return { data: t.data, rows: t.rows, cols: t.cols, names: t.header ?? defaultNames(t.cols) };
}

/**
 * Picks columns of a table by a `--columns` list: names from the CSV header ('u,v') or 0-based
 * indices ('0,2'); each at most once.
 */
export function selectColumns(table: Table, spec: string | undefined, source: string): Table {
  if (spec === undefined) return table;
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.some((p) => p === ''))
    throw new UsageError(`--columns: expected names or 0-based indices separated by commas, got '${spec}'`);
  const idx = parts.map((p) => {
    const byName = table.names.indexOf(p);
    if (byName >= 0) return byName;
    if (/^\d+$/.test(p)) {
      const i = Number(p);
      if (i < table.cols) return i;
      throw new UsageError(
        `--columns: index ${i} is out of range; ${source} has ${table.cols} columns (0..${table.cols - 1})`,
      );
    }
    throw new UsageError(
      `--columns: no column named '${p}' in ${source} (columns: ${table.names.join(', ')})`,
    );
  });
  if (new Set(idx).size !== idx.length) throw new UsageError(`--columns: '${spec}' names a column twice`);
  const cols = idx.length;
  const data = new Float64Array(table.rows * cols);
  for (let r = 0; r < table.rows; r++)
    for (let j = 0; j < cols; j++) data[r * cols + j] = table.data[r * table.cols + idx[j]];
  return { data, rows: table.rows, cols, names: idx.map((i) => table.names[i]), runStarts: table.runStarts };
}

/** `--run-column NAME` of the commands that read DATA (`readColumns`' runColumn). */
export const RUN_COLUMN_OPTION: OptionSpec = {
  type: 'string',
  value: 'NAME',
  help: 'column of run labels: consecutive rows with one label are one independent run (the column is not data)',
};

/**
 * Splits a table into independent runs by a column of run labels (`--run-column`: a header name or a
 * 0-based index, as `--columns`): consecutive rows with one label are one run, and the label column
 * is dropped. Runs already in the table (a [R, N, D] .npy) stay split. The rows of a run must be
 * contiguous: a label seen again after another run is an error naming its row.
 */
export function splitRunColumn(table: Table, spec: string, source: string): Table {
  const label = selectColumns(table, spec, source);
  if (label.cols !== 1) throw new UsageError(`--run-column: name one column, got '${spec}'`);
  if (table.cols < 2)
    throw new UsageError(
      `--run-column ${spec}: ${source} has no column left for the data; name another column`,
    );
  const index = table.names.indexOf(label.names[0]);
  const rest = Array.from({ length: table.cols }, (_, j) => j).filter((j) => j !== index);
  const data = selectColumns(table, rest.join(','), source);
  const starts = new Set(table.runStarts ?? []);
  const seen = new Set<number>([label.data[0]]);
  for (let r = 1; r < table.rows; r++) {
    const v = label.data[r];
    if (v === label.data[r - 1]) continue;
    if (seen.has(v)) {
      throw new FileError(
        `${source}: run ${v} of --run-column ${label.names[0]} starts again at row ${r + 1} after other runs; sort the rows by run (each run's rows together, in time order)`,
      );
    }
    seen.add(v);
    starts.add(r);
  }
  const runStarts = Int32Array.from([...starts].sort((a, b) => a - b));
  return { ...data, runStarts: runStarts.length > 0 ? runStarts : undefined };
}

/**
 * Reads DATA given as one or several files (`readColumns` each, with the same `columns`, selection
 * and `runColumn`): several files are independent runs, stacked in the order given (a file that
 * holds runs itself keeps them). They must have the same columns (names and number) and, when they
 * state one, the same sampling interval. One file is returned as read; several are copied into one
 * table (memory of the values once more).
 */
export async function readDataFiles(
  io: CliIo,
  paths: readonly string[],
  role: string,
  columns: string | undefined,
  quiet = false,
  selection: DataSelection = {},
  runColumn?: string,
): Promise<Table> {
  const tables: Table[] = [];
  for (const path of paths)
    tables.push(await readColumns(io, path, role, columns, quiet, selection, runColumn));
  if (tables.length === 1) return tables[0];
  const first = tables[0];
  tables.forEach((t, i) => {
    if (t.cols !== first.cols || t.names.some((n, j) => n !== first.names[j])) {
      throw new FileError(
        `${role}: '${paths[i]}' has columns (${t.names.join(', ')}), '${paths[0]}' has (${first.names.join(', ')}); runs in several files need the same columns (pick them with --columns)`,
      );
    }
    if ((t.dt?.value ?? null) !== (first.dt?.value ?? null)) {
      throw new FileError(
        `${role}: '${paths[i]}' states a sampling interval ${t.dt ? `${t.dt.value} (${t.dt.source})` : '(none)'}, '${paths[0]}' ${first.dt ? `${first.dt.value} (${first.dt.source})` : '(none)'}; runs in several files need one interval`,
      );
    }
  });
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  const data = new Float64Array(rows * first.cols);
  const starts: number[] = [];
  let row = 0;
  for (const t of tables) {
    if (row > 0) starts.push(row);
    for (const r of t.runStarts ?? []) starts.push(row + r);
    data.set(t.data, row * first.cols);
    row += t.rows;
  }
  return {
    data,
    rows,
    cols: first.cols,
    names: first.names,
    runStarts: Int32Array.from(starts),
    dt: first.dt,
  };
}

/** A simulation read back: `paths` paths of `length` samples of `dim` coordinates, path-major like a PathBundle. */
export interface SimulationData {
  readonly data: Float64Array;
  readonly paths: number;
  readonly length: number;
  readonly dim: number;
  /** The sampling interval an HDF5 / NetCDF / Parquet simulation states (null: none, or CSV / .npy). */
  readonly dt?: FileTimeStep | null;
}

/**
 * Reads an output of `sdekit simulate` (or any series) for comparison with data of dimension `dim`:
 * .npy [N, D], [N] (D = 1) or [P, N, D]; CSV with P*D columns (path-major: all coordinates of path 0,
 * then path 1, ...; rows = time).
 */
export async function readSimulation(
  io: CliIo,
  path: string,
  dim: number,
  quiet = false,
): Promise<SimulationData> {
  if (isSeriesFile(path)) {
    // An HDF5 / NetCDF output of `sdekit simulate`: [N, D] or [P, N, D] runs, path-major already.
    const t = await readTable(io, path, 'SIM', quiet);
    const paths = (t.runStarts?.length ?? 0) + 1;
    if (t.cols !== dim) {
      throw new DataFormatError(
        path,
        0,
        0,
        `holds ${t.cols}-dimensional paths (${t.names.join(', ')})`,
        `pass a simulation of a ${dim}-dimensional model (the layout sdekit simulate writes)`,
      );
    }
    return { data: t.data, paths, length: t.rows / paths, dim, dt: t.dt ?? null };
  }
  if (extname(path).toLowerCase() === '.npy') {
    const arr = await readDataFile(io, path, 'SIM', quiet, (abs, onProgress) =>
      readNpy(abs, { onProgress, source: path }),
    );
    const s = arr.shape;
    const [paths, length, d] =
      s.length === 3 ? s : s.length === 2 ? [1, s[0], s[1]] : s.length === 1 ? [1, s[0], 1] : [0, 0, 0];
    if (paths === 0 || d !== dim) {
      throw new DataFormatError(
        path,
        0,
        0,
        `array of shape [${s.join(', ')}] does not hold ${dim}-dimensional paths`,
        `pass [N, ${dim}] or [paths, N, ${dim}] (the layout sdekit simulate writes)`,
      );
    }
    checkNpyFinite(arr, path, d);
    return { data: asFloat64(arr.data), paths, length, dim };
  }
  const t = await readTable(io, path, 'SIM', quiet);
  if (t.cols % dim !== 0) {
    throw new DataFormatError(
      path,
      0,
      0,
      `has ${t.cols} columns, not a multiple of the data dimension ${dim}`,
      'pass the CSV written by sdekit simulate for a model of this data (P paths x D columns)',
    );
  }
  const paths = t.cols / dim;
  const data = new Float64Array(t.data.length);
  for (let k = 0; k < t.rows; k++)
    for (let p = 0; p < paths; p++)
      for (let j = 0; j < dim; j++) data[(p * t.rows + k) * dim + j] = t.data[k * t.cols + p * dim + j];
  return { data, paths, length: t.rows, dim };
}

/** Reads and parses a JSON file (a model), with one-line errors for missing files and bad JSON. */
export async function readJson(io: CliIo, path: string, role: string): Promise<Record<string, unknown>> {
  const text = (await readInput(io, path, role)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FileError(`${role}: '${path}' is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new FileError(`${role}: '${path}' does not hold a JSON object`);
  }
  return json as Record<string, unknown>;
}

/**
 * Reads a data file (`readTable`) and keeps the columns named by `columns` (`selectColumns`; all when
 * undefined). A Parquet file reads only those columns (by name); `selection` picks what an HDF5,
 * NetCDF or Parquet file gives (--dataset, --variable, --time-dim, --rows). `runColumn` (--run-column)
 * splits the rows into runs by a column of labels first (`splitRunColumn`).
 */
export async function readColumns(
  io: CliIo,
  path: string,
  role: string,
  columns: string | undefined,
  quiet = false,
  selection: DataSelection = {},
  runColumn?: string,
): Promise<Table> {
  const parquetColumns =
    columns !== undefined && /\.(parquet|pq)$/i.test(path)
      ? {
          columns: [
            ...columns.split(',').map((c) => c.trim()),
            ...(runColumn !== undefined ? [runColumn] : []),
          ],
        }
      : {};
  const raw = await readTable(io, path, role, quiet, { ...selection, ...parquetColumns });
  // --run-column: the runs first, so that --columns picks among the remaining columns.
  const table = runColumn === undefined ? raw : splitRunColumn(raw, runColumn, path);
  return { ...selectColumns(table, columns, path), dt: raw.dt };
}

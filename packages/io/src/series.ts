/**
 * What the readers of @sdekit/io return and accept, and what they share: the row window, the time
 * step found in a file (checked for uniform spacing), and the argument names used in messages.
 */
import { extname } from 'node:path';
import { SeriesFileError, TimeAxisError } from './errors.js';

/** The file formats @sdekit/io reads. NetCDF-4 is HDF5 underneath; the name picks the conventions. */
export type SeriesFormat = 'hdf5' | 'netcdf' | 'parquet';

/** Where a file states its sampling interval. */
export interface FileTimeStep {
  /** The interval between consecutive rows, in the file's time unit. */
  readonly value: number;
  /** Where it was read, for messages: "attribute 'dt' of /ks/u", "time coordinate 'time' (uniform)". */
  readonly source: string;
}

/** A series read from a file: float64, row-major, rows = time (docs/methods.md section 0). */
export interface SeriesData {
  /** N D values ([N, D]) or R N D values ([R, N, D], run-major). */
  readonly data: Float64Array;
  /** [N, D], or [R, N, D] for R independent runs of N samples (a 3-D dataset). A 1-D dataset is [N, 1]. */
  readonly shape: readonly [number, number] | readonly [number, number, number];
  /** D column names: a `columns` attribute, the NetCDF variable names, the Parquet column names, or x1..xD. */
  readonly names: string[];
  /** The sampling interval the file states (a `dt` attribute or a uniform time coordinate), or null. */
  readonly dt: FileTimeStep | null;
  /** The rows read, [start, stop) of `total` along the time axis. */
  readonly rows: { readonly start: number; readonly stop: number; readonly total: number };
  readonly format: SeriesFormat;
  /** What was read, for messages: '/ks/u', 'u, v', 'columns u, v, w'. */
  readonly selection: string;
}

/** A window of rows along the time axis: [start, stop), 0-based; `stop` absent = to the end. */
export interface RowWindow {
  readonly start: number;
  readonly stop?: number;
}

/** Options every reader takes. */
export interface ReadCommonOptions {
  /** Read only these rows of the time axis (all rows by default); a window of a file larger than memory. */
  readonly rows?: RowWindow;
  /** Called after each slice with the rows read so far and the rows of the window. */
  readonly onProgress?: (rowsRead: number, rowsTotal: number) => void;
  /** The file's name in messages (default: the path). */
  readonly source?: string;
  /**
   * Name the arguments in messages as the sdekit command line does (`--dataset`, `--time-dim`,
   * `--rows`) instead of as options of this API (`dataset`, `timeDim`, `rows`).
   */
  readonly flagNames?: boolean;
  /** Bytes of one slice read from the file (default 16 MiB): memory beyond the result is about this. */
  readonly sliceBytes?: number;
}

/** Options of `readHdf5Series` and `readNetcdfSeries`. */
export interface ReadHdf5Options extends ReadCommonOptions {
  /** Path of the dataset in the file ('/ks/u'); default: the only numeric dataset that is not a coordinate. */
  readonly dataset?: string;
  /**
   * NetCDF variable names (or dataset paths) whose columns are read side by side; they must share the
   * time axis. Default: the only data variable.
   */
  readonly variable?: string | readonly string[];
  /**
   * Name of the time dimension (its dimension scale, NetCDF: the dimension). Default: a dimension
   * called time, t or Time (or one whose coordinate has axis = 'T'), else the first axis ([R, N, D]:
   * the second).
   */
  readonly timeDim?: string;
}

/** Options of `readParquetSeries`. */
export interface ReadParquetOptions extends ReadCommonOptions {
  /** Columns to read, in this order; default: every numeric column but the time column. */
  readonly columns?: readonly string[];
  /** The time column (its spacing gives dt); default: a column called time or t when there is one. */
  readonly timeColumn?: string;
}

/** Options of `readSeries`: those of the reader of the file's format. */
export type ReadSeriesOptions = ReadHdf5Options & ReadParquetOptions & { readonly format?: SeriesFormat };

const EXTENSIONS: Readonly<Record<string, SeriesFormat>> = {
  '.h5': 'hdf5',
  '.hdf5': 'hdf5',
  '.hdf': 'hdf5',
  '.he5': 'hdf5',
  '.nc': 'netcdf',
  '.nc4': 'netcdf',
  '.cdf': 'netcdf',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/** File name endings @sdekit/io reads, each with its format. */
export const SERIES_EXTENSIONS: readonly string[] = Object.keys(EXTENSIONS);

/** The format of a file from its name ('.h5', '.nc', '.parquet', ...), or null for another file. */
export function seriesFormat(path: string): SeriesFormat | null {
  return EXTENSIONS[extname(path).toLowerCase()] ?? null;
}

/** An argument's name in messages: the API option, or the command-line flag. */
export function argName(name: string, flags: boolean | undefined): string {
  return flags ? `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : name;
}

/**
 * Parses a row window written 'start:stop' (0-based, stop excluded, like a Python slice), 'start:'
 * (to the end) or ':stop'. Throws a SeriesFileError naming `argument` when it is malformed.
 *
 * @example
 * parseRowWindow('1000:5000'); // { start: 1000, stop: 5000 }
 */
export function parseRowWindow(text: string, argument = 'rows'): RowWindow {
  const m = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(text);
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new SeriesFileError(
      'rows',
      argument,
      `expected START:STOP (0-based, STOP excluded), got '${text}'`,
      `write e.g. ${argument} 1000:5000, or 1000: for every row from 1000`,
    );
  }
  const start = m[1] === '' ? 0 : Number(m[1]);
  if (m[2] === '') return { start };
  const stop = Number(m[2]);
  if (stop <= start) {
    throw new SeriesFileError(
      'rows',
      argument,
      `window '${text}' is empty (STOP must exceed START)`,
      'pass START:STOP with START < STOP',
    );
  }
  return { start, stop };
}

/** The window [start, stop) of `total` rows, checked. */
export function resolveWindow(
  window: RowWindow | undefined,
  total: number,
  source: string,
  flags: boolean | undefined,
): { start: number; stop: number } {
  const start = window?.start ?? 0;
  const stop = window?.stop ?? total;
  const arg = argName('rows', flags);
  if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop <= start) {
    throw new SeriesFileError(
      source,
      arg,
      `window ${start}:${stop} is not START:STOP with 0 <= START < STOP`,
      'pass whole row numbers, START < STOP',
    );
  }
  if (stop > total) {
    throw new SeriesFileError(
      source,
      arg,
      `window ${start}:${stop} goes past the last row; the time axis has ${total} rows (0..${total - 1})`,
      `pass STOP <= ${total}, or leave STOP out (${start}:) to read to the end`,
    );
  }
  return { start, stop };
}

/**
 * Checks a time coordinate for uniform spacing as its values arrive (slice by slice, so that the
 * coordinate of a long window is never held whole): each step must equal the first within 1e-6 of
 * it plus the rounding of the coordinate's own precision (`epsilon`, the machine epsilon of the
 * stored type: float32 coordinates carry about 7 digits). A step that differs, or one that is not
 * positive, is a TimeAxisError naming the rows.
 */
export class UniformSpacing {
  private n = 0;
  private t0 = 0;
  private prev = 0;
  private first = 0;

  constructor(
    private readonly what: string,
    private readonly firstRow: number,
    private readonly source: string,
    private readonly argument: string,
    private readonly epsilon = Number.EPSILON,
  ) {}

  /** The next `count` values of the coordinate (default all of `t`). */
  push(t: ArrayLike<number>, count = t.length): void {
    for (let i = 0; i < count; i++) {
      const v = Number(t[i]);
      if (this.n === 0) this.t0 = v;
      else {
        const d = v - this.prev;
        // Each step is compared with the first, so the message points at the first gap or jump.
        if (this.n === 1) this.first = d;
        const tol = 1e-6 * Math.abs(this.first) + 4 * this.epsilon * Math.max(Math.abs(this.t0), Math.abs(v));
        if (!(d > 0) || Math.abs(d - this.first) > tol) this.fail(v, d);
      }
      this.prev = v;
      this.n++;
    }
  }

  private fail(v: number, d: number): never {
    const a = this.firstRow + this.n - 1;
    const problem = !(d > 0)
      ? `${this.what} is not increasing (row ${a}: ${this.prev}, row ${a + 1}: ${v})`
      : `${this.what} is not uniformly spaced: step ${d} between rows ${a} and ${a + 1}, ${this.first} before`;
    throw new TimeAxisError(
      this.source,
      this.argument,
      problem,
      'sdekit needs samples at a constant interval: resample the series onto a uniform grid, or read a window where the spacing is constant (rows START:STOP)',
    );
  }

  /** The step, (last - first) / (n - 1), or null for fewer than two values. */
  step(): number | null {
    if (this.n < 2) return null;
    // (t[n-1] - t[0]) / (n - 1) carries rounding noise (0.020000000000000018 for steps of 0.02); 12
    // digits keep every step the tolerance accepts and give back the dt the writer meant.
    return Number(((this.prev - this.t0) / (this.n - 1)).toPrecision(12));
  }
}

/**
 * `UniformSpacing` over a whole coordinate: the step of `t` (null for fewer than two values), or a
 * TimeAxisError when it is not increasing or not uniformly spaced.
 */
export function uniformStep(
  t: ArrayLike<number>,
  what: string,
  firstRow: number,
  source: string,
  argument: string,
  epsilon = Number.EPSILON,
): number | null {
  const check = new UniformSpacing(what, firstRow, source, argument, epsilon);
  check.push(t);
  return check.step();
}

/** Largest relative difference at which two time steps are the same (rounding of a stored or printed dt). */
export const DT_TOLERANCE = 1e-6;

/**
 * Checks a caller's dt against the file's: returns the file's dt when the caller gave none, the
 * caller's when the file states none, and throws a TimeAxisError naming `argument` when they differ
 * by more than `DT_TOLERANCE` (relative).
 *
 * @example
 * const dt = resolveTimeStep(series.dt, 0.01, 'h5.h5', '--dt'); // 0.01, or a TimeAxisError
 */
export function resolveTimeStep(
  file: FileTimeStep | null,
  given: number | undefined,
  source: string,
  argument = 'dt',
): number | undefined {
  if (file === null) return given;
  if (given === undefined) return file.value;
  if (Math.abs(given - file.value) > DT_TOLERANCE * Math.abs(file.value)) {
    throw new TimeAxisError(
      source,
      argument,
      `${given} contradicts the file, whose ${file.source} says dt = ${file.value}`,
      `leave ${argument} out to use the file's ${file.value}, or pass ${argument} ${file.value}`,
    );
  }
  return file.value;
}

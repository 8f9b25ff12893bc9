/**
 * HDF5, NetCDF-4 and Parquet files of the `sdekit` commands, through @sdekit/io: the options that
 * select what to read (--dataset, --variable, --time-dim, --rows), the table they give, the sampling
 * interval a file states (which a contradicting --dt cannot override), and simulate's self-describing
 * HDF5 / NetCDF output.
 */
import { basename } from 'node:path';
import {
  type FileTimeStep,
  parseRowWindow,
  type RowWindow,
  readSeries,
  resolveTimeStep,
  seriesFormat,
  writeSeriesFile,
} from '@sdekit/io';
import type { Table } from './files.js';
import { type OptionSpec, type ParsedArgs, stringOption, UsageError } from './spec.js';
import { VERSION } from './version.js';

/** What selects the part of an HDF5, NetCDF or Parquet file to read (`dataSelection`). */
export interface DataSelection {
  readonly dataset?: string;
  readonly variable?: string;
  readonly timeDim?: string;
  readonly rows?: RowWindow;
  /** Parquet columns (names), read alone instead of the whole table. */
  readonly columns?: readonly string[];
}

/** The options of the commands that read DATA: spread into a command's option table. */
export const DATA_SELECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  dataset: {
    type: 'string',
    value: 'PATH',
    help: 'HDF5 DATA: the dataset to read, e.g. /ks/u',
    defaultText: 'the only numeric dataset',
  },
  variable: {
    type: 'string',
    value: 'LIST',
    help: 'NetCDF DATA: the variable(s) to read, side by side, e.g. u or u,v',
    defaultText: 'the only data variable',
  },
  'time-dim': {
    type: 'string',
    value: 'NAME',
    help: 'HDF5/NetCDF DATA: the time dimension (Parquet: the time column)',
    defaultText: 'time or t, else the first axis',
  },
  rows: {
    type: 'string',
    value: 'START:STOP',
    help: 'read only rows START..STOP-1 of the time axis (0-based; HDF5, NetCDF, Parquet), read by slices',
    defaultText: 'all',
  },
};

/** The DATA selection of a command line (--dataset, --variable, --time-dim, --rows). */
export function dataSelection(args: ParsedArgs): DataSelection {
  const rows = stringOption(args, 'rows');
  return {
    dataset: stringOption(args, 'dataset'),
    variable: stringOption(args, 'variable'),
    timeDim: stringOption(args, 'time-dim'),
    rows: rows === undefined ? undefined : parseRowWindow(rows, '--rows'),
  };
}

/** True when the file is read by @sdekit/io (HDF5, NetCDF-4, Parquet), by its extension. */
export function isSeriesFile(path: string): boolean {
  return seriesFormat(path) !== null;
}

/** Refuses a selection option for a CSV or .npy file, which has no datasets, variables or slices. */
export function refuseSelection(selection: DataSelection, path: string): void {
  const given = (['dataset', 'variable', 'timeDim', 'rows'] as const).find((k) => selection[k] !== undefined);
  if (given === undefined) return;
  const flag = given === 'timeDim' ? '--time-dim' : `--${given}`;
  throw new UsageError(
    `${flag} applies to HDF5 (.h5), NetCDF (.nc) and Parquet (.parquet) files, not to '${path}'; drop it (select CSV/.npy columns with --columns)`,
  );
}

/**
 * Reads an HDF5, NetCDF-4 or Parquet file as a Table (runs of a 3-D dataset as `runStarts`; the
 * file's dt in `dt`). `onProgress` counts rows.
 */
export async function readSeriesTable(
  abs: string,
  shown: string,
  selection: DataSelection,
  onProgress: (done: number, total: number) => void,
): Promise<Table & { readonly dt: FileTimeStep | null }> {
  const parquet = seriesFormat(abs) === 'parquet';
  const s = await readSeries(abs, {
    source: shown,
    flagNames: true,
    onProgress,
    dataset: selection.dataset,
    variable: selection.variable,
    rows: selection.rows,
    ...(parquet
      ? { columns: selection.columns, timeColumn: selection.timeDim }
      : { timeDim: selection.timeDim }),
  });
  const runs = s.shape.length === 3 ? s.shape[0] : 1;
  const n = s.shape.length === 3 ? s.shape[1] : s.shape[0];
  const cols = s.shape[s.shape.length - 1];
  const table = { data: s.data, rows: runs * n, cols, names: s.names, dt: s.dt };
  if (runs === 1) return table;
  return { ...table, runStarts: Int32Array.from({ length: runs - 1 }, (_, r) => (r + 1) * n) };
}

/**
 * The sampling interval of a command: the file's when it states one (a --dt that contradicts it is an
 * error), else --dt, which a CSV or .npy file needs.
 */
export function commandTimeStep(table: Table, given: number | undefined, dataPath: string): number {
  const dt = resolveTimeStep(table.dt ?? null, given, dataPath, '--dt');
  if (dt === undefined) {
    throw new UsageError(
      `missing --dt: ${dataPath} does not state its sampling interval; pass --dt DT (the time between rows)`,
    );
  }
  return dt;
}

/** Output file endings `sdekit simulate` writes through @sdekit/io (HDF5 that is also NetCDF-4). */
export const SERIES_OUTPUT_EXTENSIONS: readonly string[] = ['.h5', '.hdf5', '.nc', '.nc4'];

/** What `sdekit simulate` records in an HDF5 / NetCDF output besides the paths. */
export interface SimulationRecord {
  readonly dt: number;
  readonly names: readonly string[];
  readonly modelPath: string;
  readonly seed: number;
  readonly T: number;
  readonly h: number;
  readonly burnIn: number;
}

/**
 * Writes simulated paths ([N, D] or [P, N, D]) as HDF5 / NetCDF-4 (`writeSeriesFile`, atomic), with
 * dt, the variable names and, as file attributes, the model file, seed, T, h, burn-in and the sdekit
 * version, so the output says how it was made.
 */
export async function writeSimulationFile(
  out: string,
  data: Float64Array,
  shape: readonly number[],
  r: SimulationRecord,
): Promise<void> {
  await writeSeriesFile(out, data, shape, {
    dt: r.dt,
    names: r.names,
    attributes: {
      title: 'paths simulated by sdekit simulate',
      model: basename(r.modelPath),
      seed: r.seed,
      T: r.T,
      h: r.h,
      burn_in: r.burnIn,
      sdekit_version: VERSION,
      created: new Date().toISOString(),
    },
  });
}

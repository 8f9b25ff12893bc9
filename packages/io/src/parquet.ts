/**
 * Parquet series through hyparquet (pure JavaScript, no native code or wasm). A Parquet file is a
 * table: the selected columns become the coordinates, rows = time. The file is read one row group
 * at a time, and only the row groups of the window, so memory is the result plus one row group of
 * the selected columns.
 */
import { open } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { SeriesFileError, TimeAxisError } from './errors.js';
import {
  argName,
  type FileTimeStep,
  type ReadParquetOptions,
  resolveWindow,
  type SeriesData,
  uniformStep,
} from './series.js';

type Hyparquet = typeof import('hyparquet');

let loading: Promise<Hyparquet> | undefined;

/** Loads hyparquet on first use (it is ESM only; a dynamic import keeps the CJS build loadable). */
function loadHyparquet(): Promise<Hyparquet> {
  loading ??= import('hyparquet');
  return loading;
}

/**
 * Codecs beyond hyparquet's built-in SNAPPY, from node:zlib (ZSTD and LZ4 would need
 * hyparquet-compressors; Node 20's zlib has no zstd).
 */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
};

/** Physical types read as numbers. */
const NUMERIC = new Set(['DOUBLE', 'FLOAT', 'INT32', 'INT64']);
/** Logical / converted types of numeric physical types that are not plain numbers (timestamps are allowed for the time column only). */
const TIME_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP_MILLIS', 'TIMESTAMP_MICROS', 'DATE', 'TIME']);

interface Column {
  readonly name: string;
  readonly type: string;
  /** 'numeric', 'time' (a timestamp: seconds), or why it is not a number. */
  readonly kind: 'numeric' | 'time' | string;
}

function describe(c: { type?: string; converted_type?: string; logical_type?: { type: string } }): string {
  const logical = c.logical_type?.type ?? c.converted_type;
  return `${c.type ?? 'group'}${logical ? ` ${logical}` : ''}`;
}

async function checkMagic(path: string, source: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    if (size >= 4) await file.read(head, 0, 4, 0);
    if (size >= 8) await file.read(tail, 0, 4, size - 4);
    if (head.toString('latin1') !== 'PAR1') {
      throw new SeriesFileError(
        source,
        '',
        'not a Parquet file (no PAR1 signature at its start)',
        'pass a Parquet file, or a file with the extension of its format (.csv, .npy, .h5, .nc)',
      );
    }
    if (size < 12 || tail.toString('latin1') !== 'PAR1') {
      throw new SeriesFileError(
        source,
        '',
        'the Parquet footer is missing (no PAR1 at the end of the file)',
        'the file is truncated or was not closed by its writer: copy or download it again',
      );
    }
  } finally {
    await file.close();
  }
}

/** A value of a Parquet column as a number: bigint and Date (seconds since 1970) converted, null is NaN. */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime() / 1000;
  return Number.NaN;
}

/**
 * Reads a series from a Parquet file: the `columns` (default: every numeric column but the time
 * column) over rows [start, stop), one row group at a time. The sampling interval comes from a
 * uniformly spaced time column (`timeColumn`, default a column called time or t; timestamps count in
 * seconds) or from a `dt` entry of the file's key-value metadata. String, boolean and nested columns
 * are refused, and so is a null or non-finite value.
 *
 * @example
 * const s = await readParquetSeries('run.parquet', { columns: ['u', 'v'], rows: { start: 0, stop: 1e6 } });
 * s.names; // ['u', 'v']
 */
export async function readParquetSeries(path: string, options: ReadParquetOptions = {}): Promise<SeriesData> {
  const source = options.source ?? path;
  const flags = options.flagNames;
  const colArg = argName('columns', flags);
  await checkMagic(path, source);
  const hp = await loadHyparquet();
  const file = await hp.asyncBufferFromFile(path);
  let metadata: Awaited<ReturnType<Hyparquet['parquetMetadataAsync']>>;
  try {
    metadata = await hp.parquetMetadataAsync(file);
  } catch (err) {
    throw new SeriesFileError(
      source,
      '',
      `its metadata cannot be read (${(err as Error).message})`,
      'the file is truncated or damaged: copy or download it again',
    );
  }
  const columns: Column[] = hp.parquetSchema(metadata).children.map((node) => {
    const e = node.element;
    const logical = e.logical_type?.type ?? e.converted_type;
    let kind: string;
    if (node.children.length > 0) kind = 'a nested group';
    else if (!NUMERIC.has(e.type ?? ''))
      kind = e.type === 'BYTE_ARRAY' ? 'strings or bytes' : `${describe(e)} values`;
    else if (logical !== undefined && TIME_TYPES.has(logical)) kind = 'time';
    else if (
      logical !== undefined &&
      !['INTEGER', 'INT_8', 'INT_16', 'INT_32', 'INT_64', 'UINT_8', 'UINT_16', 'UINT_32', 'UINT_64'].includes(
        logical,
      )
    )
      kind = `${describe(e)} values`;
    else kind = 'numeric';
    return { name: e.name, type: describe(e), kind };
  });
  const list = columns.map((c) => `${c.name} (${c.type})`).join(', ');
  const byName = (name: string, arg: string): Column => {
    const c = columns.find((x) => x.name === name);
    if (!c)
      throw new SeriesFileError(
        source,
        arg,
        `no column '${name}' in the file`,
        `pass column names of the file: ${list}`,
      );
    return c;
  };
  const timeArg = argName('timeColumn', flags);
  const timeCol =
    options.timeColumn !== undefined
      ? byName(options.timeColumn, timeArg)
      : (columns.find(
          (c) => ['time', 't'].includes(c.name.toLowerCase()) && (c.kind === 'numeric' || c.kind === 'time'),
        ) ?? null);
  if (timeCol && timeCol.kind !== 'numeric' && timeCol.kind !== 'time')
    throw new SeriesFileError(
      source,
      timeArg,
      `column '${timeCol.name}' holds ${timeCol.kind}, not times`,
      'name a numeric or timestamp column',
    );
  let selected: Column[];
  if (options.columns !== undefined) {
    if (options.columns.length === 0 || new Set(options.columns).size !== options.columns.length)
      throw new SeriesFileError(source, colArg, 'names no column, or one twice', 'name each column once');
    selected = options.columns.map((n) => byName(n, colArg));
  } else {
    selected = columns.filter((c) => c.kind === 'numeric' && c !== timeCol);
    if (selected.length === 0)
      throw new SeriesFileError(
        source,
        colArg,
        'the file has no numeric column besides the time',
        `its columns: ${list}`,
      );
  }
  for (const c of selected) {
    if (c.kind !== 'numeric' && c.kind !== 'time') {
      throw new SeriesFileError(
        source,
        colArg,
        `column '${c.name}' holds ${c.kind} (${c.type}), not numbers`,
        `select numeric columns (numeric: ${
          columns
            .filter((x) => x.kind === 'numeric')
            .map((x) => x.name)
            .join(', ') || 'none'
        })`,
      );
    }
  }
  const total = Number(metadata.num_rows);
  const { start, stop } = resolveWindow(options.rows, total, source, flags);
  const window = stop - start;
  const D = selected.length;
  const data = new Float64Array(window * D);
  const time = timeCol ? new Float64Array(window) : null;
  const want = [...new Set([...selected.map((c) => c.name), ...(timeCol ? [timeCol.name] : [])])];
  const slot = new Map(selected.map((c, j) => [c.name, j]));
  let problem: SeriesFileError | null = null;
  let g0 = 0;
  for (const group of metadata.row_groups) {
    const g1 = g0 + Number(group.num_rows);
    const a = Math.max(start, g0);
    const b = Math.min(stop, g1);
    if (a < b) {
      try {
        await hp.parquetRead({
          file,
          metadata,
          columns: want,
          compressors: COMPRESSORS,
          rowStart: a,
          rowEnd: b,
          onChunk: (chunk) => {
            // hyparquet calls onChunk without awaiting it: an error thrown here would escape as an
            // unhandled rejection, so the first problem is kept and thrown after the read.
            if (problem !== null) return;
            // A chunk may cover more rows than asked (a whole row group or page): keep the overlap.
            const from = Math.max(a, chunk.rowStart);
            const to = Math.min(b, chunk.rowEnd);
            const j = slot.get(chunk.columnName);
            const values = chunk.columnData as ArrayLike<unknown>;
            for (let i = from; i < to; i++) {
              const v = toNumber(values[i - chunk.rowStart]);
              if (j !== undefined) {
                if (!Number.isFinite(v)) {
                  problem = new SeriesFileError(
                    source,
                    '',
                    `column '${chunk.columnName}' holds ${values[i - chunk.rowStart] === null ? 'a missing value (null)' : v} at row ${i} (0-based)`,
                    'remove or impute missing values before fitting, or read a window without them (rows START:STOP)',
                  );
                  return;
                }
                data[(i - start) * D + j] = v;
              }
              if (time && chunk.columnName === timeCol?.name) time[i - start] = v;
            }
          },
        });
      } catch (err) {
        if (err instanceof SeriesFileError) throw err;
        const message = (err as Error).message;
        throw new SeriesFileError(
          source,
          '',
          `rows ${a}:${b} cannot be read (${message})`,
          /compression codec/.test(message)
            ? 'rewrite the file with SNAPPY, GZIP, BROTLI or no compression (pyarrow: compression="snappy")'
            : 'the file is truncated or damaged: copy or download it again',
        );
      }
      if (problem !== null) throw problem;
      options.onProgress?.(b - start, window);
    }
    g0 = g1;
  }
  let dt: FileTimeStep | null = null;
  if (time && timeCol) {
    const step = uniformStep(time, `time column '${timeCol.name}'`, start, source, '');
    if (step !== null)
      dt = {
        value: step,
        source: `time column '${timeCol.name}'${timeCol.kind === 'time' ? ' (seconds)' : ''}`,
      };
  }
  const kv = metadata.key_value_metadata?.find((k) => k.key === 'dt');
  if (kv?.value !== undefined) {
    const v = Number(kv.value);
    if (!(Number.isFinite(v) && v > 0))
      throw new TimeAxisError(
        source,
        '',
        `its metadata entry dt = '${kv.value}' is not a positive number`,
        'write the sampling interval, or leave the entry out',
      );
    if (dt && Math.abs(dt.value - v) > 1e-6 * v)
      throw new TimeAxisError(
        source,
        '',
        `its metadata entry dt = ${v} disagrees with the ${dt.source}, spaced by ${dt.value}`,
        'correct one of them',
      );
    dt ??= { value: v, source: "metadata entry 'dt'" };
  }
  return {
    data,
    shape: [window, D],
    names: selected.map((c) => c.name),
    dt,
    rows: { start, stop, total },
    format: 'parquet',
    selection: `columns ${selected.map((c) => c.name).join(', ')}`,
  };
}

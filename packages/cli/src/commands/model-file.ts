/**
 * The fitting commands' side of a saved model: the input they share (`readFitInput`), what the CLI
 * adds to the model (the `sdekitCli` block: columns, data file, last observed point, the coefficients
 * module of an averaged model), and loading of a user's coefficients module.
 * The rest of the file is exactly the library's `toJSON()` output, so `LangevinModel.fromJSON` and
 * `AveragedModel.fromJSON` read CLI-written models directly.
 */
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SlowCoefficients } from '@sdekit/averaging';
import { FormatError, type TimeSeries, timeSeries } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendSelection, selectCommandBackend } from '../backend.js';
import { atomicWrite } from '../io.js';
import { checkNoConstantColumn, checkOutputFile, FileError, readDataFiles, type Table } from './files.js';
import { commandTimeStep, dataSelection } from './series-files.js';
import {
  backendOption,
  type CliIo,
  forceFlag,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  quietFlag,
  stringOption,
} from './spec.js';

/** Key of the CLI block in a saved model. */
export const CLI_METADATA_KEY = 'sdekitCli';

/** The CLI block of a saved model. */
export interface CliMetadata {
  readonly version: 1;
  /** The command that wrote the model. */
  readonly command: 'fit-langevin' | 'fit-averaged';
  /** Data file name as given on the command line (several: their names joined by ', '). */
  readonly data: string;
  /** Names of the fitted columns (CSV header or x1..xD). */
  readonly columns: string[];
  readonly samples: number;
  /** The last observed point: `simulate`'s default start for an averaged model (a forecast). */
  readonly lastPoint: number[];
  /** fit-averaged: the coefficients module, relative to the model file's folder (POSIX separators). */
  readonly coefficientsModule?: string;
}

/** `--out MODEL.json` of the fitting commands (write with `saveFittedModel`). */
export const MODEL_OUT_OPTION: OptionSpec = {
  type: 'string',
  value: 'MODEL.json',
  help: 'where to save the model (written atomically)',
  required: true,
};

/** What every fitting command reads besides its own options (`readFitInput`). */
export interface FitInput {
  /** --seed (default 0). */
  readonly seed: number;
  readonly quiet: boolean;
  /** --out, resolved and checked. */
  readonly out: string;
  /** The DATA columns chosen by --columns. */
  readonly table: Table;
  /** The sampling interval: the one DATA states (HDF5, NetCDF, Parquet), else --dt. */
  readonly dt: number;
  /** The table as a time series with the command's sampling interval. */
  readonly series: TimeSeries;
  /** The independent runs of the table (one series unless DATA is a [R, N, D] .npy). */
  readonly runs: TimeSeries[];
  /** The TensorFlow.js backend chosen by --backend. */
  readonly selection: BackendSelection;
}

/**
 * Reads the options and input the fitting commands share, after their own options and in this order
 * (the first bad one is the error reported): --seed, --backend, --quiet, the --out path (checked
 * before any training), DATA with --columns (and --dataset, --variable, --time-dim, --rows for HDF5,
 * NetCDF and Parquet) as a series with sampling interval dt (the file's when it states one: a --dt
 * that contradicts it is an error; otherwise --dt, required); then selects the backend.
 */
export async function readFitInput(
  args: ParsedArgs,
  io: CliIo,
  input: {
    /** DATA as shown in messages. */
    dataPath: string;
    /** The DATA files, independent runs (`readDataFiles`); default [dataPath]. */
    dataPaths?: readonly string[];
    outPath: string;
    /** --dt, when given. */
    dt: number | undefined;
    otherInputs?: { path: string; role: string }[];
    /** Fewest rows the command accepts (default: the library's own checks). */
    minRows?: number;
  },
): Promise<FitInput> {
  const seed = numberOption(args, 'seed', 0, { integer: true, min: 0 });
  const backend = backendOption(args);
  const quiet = quietFlag(args);
  const out = await checkOutputFile(io, input.outPath, 'out', undefined, {
    inputs: [
      ...(input.dataPaths ?? [input.dataPath]).map((path) => ({ path, role: 'DATA' })),
      ...(input.otherInputs ?? []),
    ],
    force: forceFlag(args),
  });

  const selection = dataSelection(args);
  const table = await readDataFiles(
    io,
    input.dataPaths ?? [input.dataPath],
    'DATA',
    stringOption(args, 'columns'),
    quiet,
    selection,
    stringOption(args, 'run-column'),
  );
  const dt = commandTimeStep(table, input.dt, input.dataPath);
  checkNoConstantColumn(table.data, table.cols, table.names, 'DATA');
  if (input.minRows !== undefined && table.rows < input.minRows) {
    throw new FileError(`DATA: has ${table.rows} samples; this command needs at least ${input.minRows}`);
  }
  const series = timeSeries(table.data, table.cols, dt);
  // Several runs: views of the table, one per run (no copy); one run is the series itself.
  const bounds = [0, ...(table.runStarts ?? []), table.rows];
  const runs = table.runStarts
    ? bounds
        .slice(1)
        .map((end, r) =>
          timeSeries(table.data.subarray(bounds[r] * table.cols, end * table.cols), table.cols, dt),
        )
    : [series];
  const backendSelection = await selectCommandBackend(backend, quiet);
  return { seed, quiet, out, table, dt, series, runs, selection: backendSelection };
}

/**
 * Writes a fitted model atomically as one line of JSON: the library's `toJSON()` output plus the CLI
 * block (command, data file name, columns, sample count, last observed point, and `extra`).
 */
export async function saveFittedModel(
  out: string,
  modelJson: object,
  command: CliMetadata['command'],
  dataPath: string | readonly string[],
  table: Table,
  extra: { coefficientsModule?: string } = {},
): Promise<void> {
  const meta: CliMetadata = {
    version: 1,
    command,
    data: (typeof dataPath === 'string' ? [dataPath] : dataPath).map((p) => basename(p)).join(', '),
    columns: table.names,
    samples: table.rows,
    lastPoint: Array.from(table.data.subarray((table.rows - 1) * table.cols)),
    ...extra,
  };
  await atomicWrite(out, `${JSON.stringify({ ...modelJson, [CLI_METADATA_KEY]: meta })}\n`);
}

/** Reads the CLI block of a model, or null when the model was written by a program, not the CLI. */
export function cliMetadata(json: Record<string, unknown>): CliMetadata | null {
  const m = json[CLI_METADATA_KEY];
  if (m === null || typeof m !== 'object') return null;
  // What `simulate` uses from the block: a null or non-numeric entry would become a silent 0.
  const meta = m as Record<string, unknown>;
  const bad = (field: string, detail: string) =>
    new FormatError('MODEL', `${CLI_METADATA_KEY}.${field} ${detail}`);
  const lp = meta.lastPoint;
  if (
    lp !== undefined &&
    (!Array.isArray(lp) || lp.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
  )
    throw bad('lastPoint', `must be an array of finite numbers, got ${JSON.stringify(lp)}`);
  const cols = meta.columns;
  if (cols !== undefined && (!Array.isArray(cols) || cols.some((c) => typeof c !== 'string')))
    throw bad('columns', `must be an array of column names, got ${JSON.stringify(cols)}`);
  if (meta.coefficientsModule !== undefined && typeof meta.coefficientsModule !== 'string')
    throw bad('coefficientsModule', `must be a path, got ${JSON.stringify(meta.coefficientsModule)}`);
  return m as CliMetadata;
}

/** Everything a coefficients module's factory receives. */
export interface CoefficientsContext {
  /** The TensorFlow.js core module the CLI (and @sdekit/averaging) uses: build tensors with it. */
  readonly tf: typeof tf;
  /** d: number of data columns (the slow variable's dimension). */
  readonly slowDim: number;
  /** m: --fast-dim. */
  readonly fastDim: number;
}

/**
 * Imports a user's coefficients module and returns its SlowCoefficients. The module's default export
 * or its export named `coefficients` is either a SlowCoefficients object or a function
 * `(context: CoefficientsContext) => SlowCoefficients` (preferred: it receives the CLI's `tf`, so the
 * module needs no TensorFlow.js installation of its own). slowDim and fastDim must match the data and
 * --fast-dim.
 */
export async function loadCoefficientsModule(
  absPath: string,
  shownPath: string,
  dims: { slowDim: number; fastDim: number },
): Promise<SlowCoefficients> {
  const where = `coefficients module '${shownPath}'`;
  try {
    await access(absPath);
  } catch {
    throw new FileError(`--coefficients: cannot read '${shownPath}' (no such file)`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(absPath).href)) as Record<string, unknown>;
  } catch (err) {
    throw new FileError(`${where} failed to load (${String((err as Error).message ?? err).split('\n')[0]})`);
  }
  const exported = mod.coefficients ?? mod.default;
  if (exported === undefined) {
    throw new FileError(`${where} has neither a default export nor an export named 'coefficients'`);
  }
  let coef: unknown = exported;
  if (typeof exported === 'function') {
    try {
      coef = (exported as (c: CoefficientsContext) => unknown)({ tf, ...dims });
    } catch (err) {
      throw new FileError(
        `${where}: its factory threw (${String((err as Error).message ?? err).split('\n')[0]})`,
      );
    }
  }
  const c = coef as Partial<SlowCoefficients> | null;
  const missing = ['driftTf', 'diffusionTf', 'drift', 'diffusion'].filter(
    (k) => typeof (c as Record<string, unknown> | null)?.[k] !== 'function',
  );
  if (c === null || typeof c !== 'object' || missing.length > 0) {
    throw new FileError(
      `${where} must export SlowCoefficients (or a function returning them); missing ${missing.join(', ')}`,
    );
  }
  if (c.slowDim !== dims.slowDim) {
    throw new FileError(
      `${where}: slowDim is ${c.slowDim} but the data have ${dims.slowDim} column(s); select columns with --columns or fix slowDim`,
    );
  }
  if (c.fastDim !== dims.fastDim) {
    throw new FileError(
      `${where}: fastDim is ${c.fastDim} but --fast-dim is ${dims.fastDim}; make them agree`,
    );
  }
  return c as SlowCoefficients;
}

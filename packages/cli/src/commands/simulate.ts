/**
 * `sdekit simulate`: paths of a saved model (a Langevin model from fit-langevin or an averaged model
 * from fit-averaged; the JSON `format` field says which) with @sdekit/sde's `simulate`.
 */
import { dirname, extname, resolve } from 'node:path';
import { AVERAGED_MODEL_FORMAT, type AveragedModelJSON } from '@sdekit/averaging';
import type { LangevinModelJSON } from '@sdekit/score';
import {
  childSeed,
  type Excursion,
  type PathBundle,
  Rng,
  type SimulateOptions,
  simulate,
  simulateParallel,
} from '@sdekit/sde';
import { type AveragedPosterior, forecastSeeds } from '@sdekit/vi';
import { backendPreference, selectCommandBackend } from '../backend.js';
import { writeCsv, writeNpy } from '../io.js';
import {
  LANGEVIN_MODEL_FORMAT,
  loadSavedModel,
  type SavedModel,
  type SavedModelSystemOptions,
  savedModelSystemSpec,
} from '../model-system.js';
import { AVERAGED_POSTERIOR_FORMAT, loadPosteriorFile } from './averaged-file.js';
import {
  checkOutputFile,
  defaultNames,
  FileError,
  readJson,
  readTable,
  resolvePath,
  selectColumns,
} from './files.js';
import { cliMetadata } from './model-file.js';
import { commandProgress, num } from './report.js';
import {
  DATA_SELECTION_OPTIONS,
  type DataSelection,
  dataSelection,
  isSeriesFile,
  SERIES_OUTPUT_EXTENSIONS,
  writeSimulationFile,
} from './series-files.js';
import {
  BACKEND_OPTION,
  backendOption,
  type CliIo,
  type CommandSpec,
  FORCE_OPTION,
  forceFlag,
  numberList,
  numberOption,
  QUIET_OPTION,
  quietFlag,
  requiredString,
  stringOption,
  toNumber,
  UsageError,
} from './spec.js';

/** What the watch found: nothing, or how many paths left the data's range and the first of them. */
function watchLines(excursions: readonly Excursion[] | undefined, paths: number, names: string[]): string[] {
  if (excursions === undefined) return [];
  if (excursions.length === 0)
    return [`watch     every path stayed within 1.5 half-widths of the data's range`];
  const first = excursions.reduce((a, b) => (b.time < a.time ? b : a));
  const worst = excursions.reduce((a, b) => (b.factor > a.factor ? b : a));
  return [
    `warning   ${excursions.length} of ${paths} path${paths > 1 ? 's' : ''} left the data's range by more than 1.5 half-widths ` +
      `(first: path ${first.path} at t = ${num(first.time, 5)}, ${names[first.coordinate]} = ${num(first.value, 5)}; ` +
      `farthest: ${num(worst.factor, 3)} half-widths); check the fit's warnings before trusting these paths`,
  ];
}

/** Prefix of `--x0 data:FILE`. */
const DATA_START = 'data:';
/** RNG stream of the seed for the rows drawn as starts: far from the noise streams (one per block of paths). */
const START_STREAM = 2 ** 52;
/** Default burn-in of a comparison run, as a fraction of T (module comment of `simulateCommand`). */
const COMPARISON_BURN_IN = 0.1;

/**
 * Starts drawn from a data file (`--x0 data:FILE`): for every path a row drawn uniformly, with
 * replacement, from all rows of all runs of FILE (stream 2^52 of the seed), so the starts follow the
 * data's empirical stationary law instead of sitting at one point. FILE's columns are the model's by
 * name when its header has them, otherwise all of them when there are exactly D.
 */
async function dataStarts(
  io: CliIo,
  file: string,
  names: string[],
  dim: number,
  paths: number,
  seed: number,
  quiet: boolean,
  selection: DataSelection,
): Promise<Float64Array> {
  const raw = await readTable(io, file, 'X0 data', quiet, selection);
  let table = raw;
  if (names.every((n) => raw.names.includes(n))) table = selectColumns(raw, names.join(','), file);
  else if (raw.cols !== dim) {
    throw new UsageError(
      `--x0 ${DATA_START}${file}: has ${raw.cols} columns (${raw.names.join(', ')}) and not the model's ${dim} (${names.join(', ')}); pass a file with the fitted columns (the DATA of the fit)`,
    );
  }
  const rng = Rng.fromSeed(seed, START_STREAM);
  const x0 = new Float64Array(paths * dim);
  for (let p = 0; p < paths; p++) {
    const row = rng.integer(table.rows);
    x0.set(table.data.subarray(row * dim, (row + 1) * dim), p * dim);
  }
  return x0;
}

/** Largest relative mismatch accepted when a time is a whole number of steps (T = k h). */
const GRID_TOLERANCE = 1e-9;

function stepsOf(name: string, time: number, h: number, what: string): number {
  const k = Math.round(time / h);
  if (Math.abs(k * h - time) > GRID_TOLERANCE * Math.max(time, h)) {
    throw new UsageError(`--${name} ${num(time)} is not a whole number of ${what} (${num(h)})`);
  }
  return k;
}

/** A loaded model: its system, dimension, column names, default start, and how to rebuild it in a worker. */
interface LoadedModel extends SavedModel {
  names: string[];
  defaultX0: Float64Array | null;
  x0Source: string;
  /** `loadSavedModel`'s options that rebuild the same system (worker threads). */
  rebuild: SavedModelSystemOptions;
  /** A posterior file of `sdekit posterior`: the flow parameters of every path are drawn from it. */
  posterior?: AveragedPosterior;
}

/**
 * Paths of an averaged model with the flow parameters of path p drawn from the posterior: draw p of
 * `posterior.sample(paths, seed)`, its quenched fast samples and Brownian increments from the seeds
 * `forecastSeeds(seed, paths)` gives draw p (as `AveragedPosterior.forecastBands`), so the same seed
 * gives the same paths, and path p does not depend on how many paths are asked for.
 */
function simulatePosterior(
  post: AveragedPosterior,
  options: Omit<SimulateOptions, 'paths'> & { paths: number; x0: Float64Array },
  samples: number,
  onProgress: (done: number, total: number) => void,
): PathBundle {
  const { paths, x0 } = options;
  const d = post.model.slowDim;
  const r = post.posterior.dim;
  const thetas = post.posterior.sample(paths, options.seed);
  const { fast, noise } = forecastSeeds(options.seed, paths);
  let out: Float64Array | null = null;
  let first: PathBundle | null = null;
  for (let p = 0; p < paths; p++) {
    // The system holds its own fast samples of the drawn flow (a quenched estimate).
    const system = post.model.system({
      fastSamples: samples,
      seed: fast[p],
      params: post.parametersOf(thetas.subarray(p * r, (p + 1) * r)),
    });
    const b = simulate(system, {
      ...options,
      x0: x0.length === d ? x0 : x0.subarray(p * d, (p + 1) * d),
      paths: 1,
      seed: noise[p],
      onProgress: (done, total) => onProgress(p * total + done, paths * total),
    });
    if (out === null) {
      out = new Float64Array(paths * b.length * d);
      first = b;
    }
    out.set(b.data, p * b.length * d);
  }
  return { ...(first as PathBundle), data: out as Float64Array, paths, excursions: undefined };
}

async function loadModel(
  io: CliIo,
  modelPath: string,
  json: Record<string, unknown>,
  opts: { coefficients?: string; samples: number; seed: number },
): Promise<LoadedModel> {
  const meta = cliMetadata(json);
  const format = json.format;
  if (format === LANGEVIN_MODEL_FORMAT) {
    if (opts.coefficients !== undefined)
      throw new UsageError('--coefficients applies to averaged models only');
    const saved = json as unknown as LangevinModelJSON;
    if (saved.score?.format === 'external') {
      throw new FileError(
        `MODEL: '${modelPath}' was fitted with a caller-supplied score, which the file does not contain; simulate it from a program with LangevinModel.fromJSON(json, { score })`,
      );
    }
    const model = await loadSavedModel(json);
    return {
      ...model,
      names: meta?.columns ?? defaultNames(model.dim),
      defaultX0: Float64Array.from(saved.zscore.mean),
      x0Source: 'the mean of the data',
      rebuild: {},
    };
  }
  if (format === AVERAGED_POSTERIOR_FORMAT) {
    const { posterior, model, meta } = await loadPosteriorFile(io, modelPath, json, opts.coefficients);
    return {
      kind: 'averaged',
      system: model.system({ fastSamples: opts.samples, seed: childSeed(opts.seed, 'fast-samples') }),
      dim: model.slowDim,
      watch: null,
      dispose: () => model.dispose(),
      names: meta.columns,
      defaultX0: Float64Array.from(meta.lastPoint),
      x0Source: 'the last observed point',
      rebuild: {},
      posterior,
    };
  }
  if (format === AVERAGED_MODEL_FORMAT) {
    const saved = json as unknown as AveragedModelJSON;
    const rebuild: SavedModelSystemOptions = {
      samples: opts.samples,
      // Fast samples of the averaged drift from a child seed: independent of the path noise (seed).
      samplesSeed: childSeed(opts.seed, 'fast-samples'),
    };
    const modulePath = opts.coefficients ?? meta?.coefficientsModule;
    if (saved.coefficients === null) {
      if (modulePath === undefined) {
        throw new UsageError(
          `${modelPath} uses user-defined coefficients and names no module; pass --coefficients MODULE.js`,
        );
      }
      // A module given on the command line is relative to the working folder; a saved one to the model file.
      rebuild.coefficientsModule =
        opts.coefficients !== undefined
          ? resolvePath(io, opts.coefficients)
          : resolve(dirname(resolvePath(io, modelPath)), modulePath);
      rebuild.coefficientsLabel = opts.coefficients ?? modulePath;
    } else if (opts.coefficients !== undefined) {
      throw new UsageError(
        `${modelPath} uses built-in coefficients (${saved.coefficients.kind}); drop --coefficients`,
      );
    }
    const model = await loadSavedModel(json, rebuild);
    const last = meta?.lastPoint;
    return {
      ...model,
      names: meta?.columns ?? defaultNames(model.dim),
      defaultX0: last && last.length === model.dim ? Float64Array.from(last) : null,
      x0Source: 'the last observed point',
      rebuild,
    };
  }
  throw new FileError(
    `MODEL: '${modelPath}' has format '${String(format)}'; expected '${LANGEVIN_MODEL_FORMAT}' (fit-langevin), '${AVERAGED_MODEL_FORMAT}' (fit-averaged) or '${AVERAGED_POSTERIOR_FORMAT}' (sdekit posterior)`,
  );
}

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  brief: 'paths of a saved model (Langevin or averaged) to .npy or CSV',
  summary:
    'Simulates a saved model (fit-langevin or fit-averaged) with Euler-Maruyama and writes the paths.\n' +
    'Output layout (rows = time; without burn-in the first row is the start x0): one path: .npy [N, D] or CSV\n' +
    'with D columns; P paths: .npy [P, N, D] or CSV with P*D columns (path 0 coordinates, then path 1, ...).',
  positionals: [
    {
      name: 'MODEL',
      help: 'model JSON written by sdekit fit-langevin or fit-averaged, or posterior.json of sdekit posterior (parameters drawn per path)',
    },
  ],
  options: {
    T: { type: 'string', value: 'T', help: 'simulated time after burn-in', required: true },
    dt: { type: 'string', value: 'DT', help: 'sampling interval of the output', required: true },
    seed: { type: 'string', value: 'S', help: 'seed of the noise (same seed, same paths)', required: true },
    out: {
      type: 'string',
      value: 'SIM.npy|SIM.csv|SIM.h5|SIM.nc',
      help: 'output file (written atomically); .h5 / .nc: HDF5 that is also NetCDF-4, with dt, names, model, seed and version',
      required: true,
    },
    paths: { type: 'string', value: 'P', help: 'number of independent paths', defaultText: '1' },
    x0: {
      type: 'string',
      value: 'LIST|data:FILE',
      help: "start: D comma-separated values (write --x0=-1,2 when it starts with '-'); data:FILE starts every path at a random row of a data file (stationary starts, for comparisons)",
      defaultText: 'data mean (Langevin) or last observed point (averaged)',
    },
    // --x0 data:FILE reads FILE as the fitting commands read DATA.
    ...Object.fromEntries(
      Object.entries(DATA_SELECTION_OPTIONS).map(([k, o]) => [
        k,
        { ...o, help: `for --x0 data:FILE: ${o.help.replace(/ DATA/g, '')}` },
      ]),
    ),
    h: {
      type: 'string',
      value: 'H',
      help: 'integration step; DT must be a whole number of steps',
      defaultText: 'DT',
    },
    'burn-in': {
      type: 'string',
      value: 'TIME',
      help: 'time integrated and discarded before the first saved row',
      defaultText:
        "T/10 for starts from the data (data:FILE, a Langevin model's data mean); 0 for --x0 values and an averaged model's last point (a forecast)",
    },
    samples: {
      type: 'string',
      value: 'N',
      help: 'averaged models: fast samples in the averaged coefficients',
      defaultText: '512',
    },
    coefficients: {
      type: 'string',
      value: 'MODULE.js',
      help: 'averaged models: coefficients module',
      defaultText: 'the module saved by fit-averaged',
    },
    threads: {
      type: 'string',
      value: 'N',
      help: 'worker threads, each simulating a share of the paths (same output for any N)',
      defaultText: '1',
    },
    'stop-factor': {
      type: 'string',
      value: 'F',
      help: "Langevin models: stop with an error when a path is F half-widths of the data's range from its centre ('inf': never)",
      defaultText: '10',
    },
    backend: BACKEND_OPTION,
    quiet: QUIET_OPTION,
    force: FORCE_OPTION,
  },
  notes:
    'Example:\n  sdekit simulate model.json --T 1000 --dt 0.01 --paths 8 --seed 1 --out sim.npy\n' +
    "Langevin models are watched against the data's range: paths beyond 1.5 half-widths of it are reported,\n" +
    'and the run stops with an error when a path goes beyond --stop-factor half-widths (a runaway model).',
  async run(args, io) {
    const modelPath = args.positionals[0];
    const T = toNumber('T', requiredString(args, 'T'), { positive: true });
    const dt = toNumber('dt', requiredString(args, 'dt'), { positive: true });
    const seed = toNumber('seed', requiredString(args, 'seed'), { integer: true, min: 0 });
    const outPath = requiredString(args, 'out');
    const paths = numberOption(args, 'paths', 1, { integer: true, min: 1 });
    const h = numberOption(args, 'h', dt, { positive: true });
    const burnInGiven = numberOption(args, 'burn-in', undefined, { min: 0 });
    const samples = numberOption(args, 'samples', 512, { integer: true, min: 1 });
    const threads = numberOption(args, 'threads', 1, { integer: true, min: 1 });
    const stopText = stringOption(args, 'stop-factor');
    const stopFactor =
      stopText === undefined
        ? 10
        : stopText === 'inf'
          ? Number.POSITIVE_INFINITY
          : toNumber('stop-factor', stopText, { min: 1.5 });
    const backend = backendOption(args);
    const quiet = quietFlag(args);
    const saveEvery = stepsOf('dt', dt, h, 'integration steps --h');
    const steps = stepsOf('T', T, dt, 'output intervals --dt') * saveEvery;
    if (burnInGiven !== undefined) stepsOf('burn-in', burnInGiven, h, 'integration steps --h');
    const coefficientsPath = stringOption(args, 'coefficients');
    const x0Text = stringOption(args, 'x0');
    const startFile = x0Text?.startsWith(DATA_START) ? x0Text.slice(DATA_START.length) : undefined;
    if (startFile === '')
      throw new UsageError(`--x0 ${DATA_START}: name the data file, e.g. --x0 data:series.csv`);
    const selection = dataSelection(args);
    const selectionFlag = (['dataset', 'variable', 'time-dim', 'rows'] as const).find(
      (k) => args.values[k] !== undefined,
    );
    if (selectionFlag !== undefined && startFile === undefined) {
      throw new UsageError(
        `--${selectionFlag} selects what --x0 ${DATA_START}FILE reads; pass --x0 ${DATA_START}FILE or drop --${selectionFlag}`,
      );
    }
    const out = await checkOutputFile(io, outPath, 'out', ['.npy', '.csv', ...SERIES_OUTPUT_EXTENSIONS], {
      inputs: [
        { path: modelPath, role: 'MODEL' },
        ...(startFile !== undefined ? [{ path: startFile, role: 'X0 data' }] : []),
        ...(coefficientsPath !== undefined ? [{ path: coefficientsPath, role: 'coefficients module' }] : []),
      ],
      force: forceFlag(args),
    });

    const json = await readJson(io, modelPath, 'MODEL');
    const selected = await selectCommandBackend(backend, quiet);
    const model = await loadModel(io, modelPath, json, {
      coefficients: stringOption(args, 'coefficients'),
      samples,
      seed,
    });
    try {
      if (model.posterior !== undefined && threads > 1) {
        throw new UsageError(
          '--threads: a posterior file is simulated on one thread (each path has its own drawn model); drop --threads',
        );
      }
      let x0: Float64Array;
      if (startFile !== undefined) {
        x0 = await dataStarts(io, startFile, model.names, model.dim, paths, seed, quiet, selection);
      } else if (x0Text !== undefined) {
        x0 = Float64Array.from(numberList('x0', x0Text));
        if (x0.length !== model.dim && x0.length !== model.dim * paths) {
          throw new UsageError(
            `--x0: the model has ${model.dim} coordinates; pass ${model.dim} values (or ${model.dim * paths}, one start per path)`,
          );
        }
      } else if (model.defaultX0) {
        x0 = model.defaultX0;
      } else {
        throw new UsageError(`${modelPath} stores no default start; pass --x0 with ${model.dim} values`);
      }
      // Starts from the data (rows drawn from it, or the mean of a Langevin model's data) are for
      // comparisons with the data: a burn-in of T/10 by default lets the model forget the start's
      // law before the saved window. An explicit start, or an averaged model's last observed point
      // (a forecast), keeps its start as the first row.
      const comparison = startFile !== undefined || (x0Text === undefined && model.kind === 'langevin');
      const burnInTime = burnInGiven ?? (comparison ? COMPARISON_BURN_IN * T : 0);
      const burnIn = Math.round(burnInTime / h);
      const bar = commandProgress(io, quiet, 'simulating');
      const started = Date.now();
      const options = {
        x0,
        paths,
        h,
        steps,
        saveEvery,
        burnIn,
        seed,
        // A network drift has a large cost per call: advance all paths in one batch per step.
        chunkPaths: model.kind === 'langevin' ? paths : undefined,
        onProgress: (done: number, total: number) => bar.update(done, total),
        ...(model.watch ? { watch: { ...model.watch, reportFactor: 1.5, stopFactor } } : {}),
      };
      // Workers rebuild the model from its JSON on the backend this process selected.
      const bundle =
        model.posterior !== undefined
          ? simulatePosterior(model.posterior, options, samples, (done, total) => bar.update(done, total))
          : threads > 1
            ? await simulateParallel(
                savedModelSystemSpec(json, { ...model.rebuild, backend: backendPreference(selected.name) }),
                { ...options, threads },
              )
            : simulate(model.system, options);
      bar.finish();
      const { length, dim } = bundle;
      let shape: number[];
      if (isSeriesFile(out)) {
        // Variable x on (time, variable) or (path, time, variable), as .npy's [N, D] / [P, N, D].
        shape = paths === 1 ? [length, dim] : [paths, length, dim];
        const record = { dt, names: model.names, modelPath, seed, T, h, burnIn: burnIn * h };
        await writeSimulationFile(out, bundle.data, shape, record);
      } else if (extname(out).toLowerCase() === '.npy') {
        shape = paths === 1 ? [length, dim] : [paths, length, dim];
        await writeNpy(out, bundle.data, shape);
      } else {
        // CSV rows = time: path-major columns (all coordinates of path 0, then path 1, ...).
        const cols = paths * dim;
        const table = new Float64Array(length * cols);
        for (let p = 0; p < paths; p++)
          for (let k = 0; k < length; k++)
            for (let j = 0; j < dim; j++)
              table[k * cols + p * dim + j] = bundle.data[(p * length + k) * dim + j];
        const header =
          paths === 1
            ? model.names
            : Array.from({ length: cols }, (_, c) => `${model.names[c % dim]}_path${Math.floor(c / dim)}`);
        shape = [length, cols];
        await writeCsv(out, table, cols, header);
      }
      if (!quiet) {
        io.stdout(
          `${[
            `model     ${modelPath} (${model.kind === 'langevin' ? 'score-based Langevin' : 'averaged'}, D = ${dim})`,
            `simulated ${paths} path${paths > 1 ? 's' : ''}, T = ${num(T)}, h = ${num(h)}, saved every ${num(dt)}${burnIn > 0 ? `, burn-in ${num(burnIn * h)}${burnInGiven === undefined ? ' (default T/10 for a start from the data)' : ''}` : ''}, seed ${seed}, Euler-Maruyama${threads > 1 ? `, ${Math.min(threads, paths)} threads` : ''}`,
            startFile !== undefined
              ? `start     ${paths} row${paths > 1 ? 's' : ''} drawn from ${startFile} (one per path); path 0 at ${Array.from(x0.subarray(0, dim), (v) => num(v, 5)).join(', ')}`
              : `start     ${x0Text !== undefined ? 'from --x0' : model.x0Source}: ${Array.from(x0.subarray(0, dim), (v) => num(v, 5)).join(', ')}`,
            ...(model.posterior !== undefined
              ? [
                  `params    flow parameters drawn from the posterior for each of the ${paths} paths (subspace rank ${model.posterior.posterior.dim}; parameter and noise uncertainty)`,
                ]
              : []),
            `saved     ${outPath}: shape [${shape.join(', ')}] (${((Date.now() - started) / 1000).toFixed(1)} s)`,
            ...watchLines(bundle.excursions, paths, model.names),
          ].join('\n')}\n`,
        );
      }
    } finally {
      model.dispose();
    }
  },
};

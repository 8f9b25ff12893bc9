/**
 * `sdekit posterior`: a variational posterior over the flow parameters of an averaged model of
 * fit-averaged (@sdekit/vi `averagedPosterior`, as the benchmark U1 calls it: a subspace posterior
 * over the Gauss-Newton directions at theta_hat, prior N(theta_hat, s0^2 I), doubly stochastic
 * ELBO), with pointwise 50 / 90 / 95 % bands of bbar and sigmabar on a grid over the data's
 * 0.5-99.5 % range, forecast bands from the end of the data, the ELBO trace, a convergence test of
 * the ELBO and the likelihood check of q (`AveragedPosterior.likelihoodCheck`). Everything is written
 * into a report folder that replaces DIR as a whole. An unconverged or displaced posterior is
 * reported as such and makes the exit code 1 unless --allow-unconverged. The fit writes a checkpoint
 * into DIR every --checkpoint-every steps; --resume continues an interrupted run from it, bit for bit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TrainingCheckpoint } from '@sdekit/nn';
import { ConvergenceError, childSeed, quantile, type TimeSeries, timeSeries } from '@sdekit/sde';
import {
  type AveragedPosterior,
  averagedPosterior,
  bandsFromDraws,
  type CredibleBands,
  elboConvergence,
} from '@sdekit/vi';
import { selectCommandBackend } from '../backend.js';
import { atomicWrite, atomicWriteSync, formatCsv } from '../io.js';
import { embeddedModel, loadAveragedModel, type PosteriorCliMetadata } from './averaged-file.js';
import {
  checkNoConstantColumn,
  checkOutputFolder,
  FileError,
  RUN_COLUMN_OPTION,
  readDataFiles,
  readJson,
  resolvePath,
  selectColumns,
  type Table,
  writeFolderAtomically,
} from './files.js';
import { CLI_METADATA_KEY } from './model-file.js';
import { commandProgress, formatTable, num } from './report.js';
import { commandTimeStep, DATA_SELECTION_OPTIONS, dataSelection } from './series-files.js';
import {
  BACKEND_OPTION,
  backendOption,
  type CommandSpec,
  FORCE_OPTION,
  forceFlag,
  numberOption,
  QUIET_OPTION,
  quietFlag,
  requiredString,
  stringOption,
  UsageError,
} from './spec.js';
import { type ChartSeries, renderLineChart } from './svg.js';

/** Credible levels of every band the command writes, innermost first. */
export const POSTERIOR_LEVELS = [0.5, 0.9, 0.95] as const;
/** The checkpoint of a running fit, in the report folder until the report replaces it. */
export const POSTERIOR_CHECKPOINT_FILE = 'posterior-checkpoint.json';
const CHECKPOINT_FORMAT = 'sdekit.cli.posterior-checkpoint';

/** What a `sdekit posterior` checkpoint holds: the settings of the run and the fit's state. */
interface PosteriorCheckpointFile {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** Everything that decides the fit's numbers; a resume must repeat them. */
  settings: Record<string, unknown>;
  training: TrainingCheckpoint;
}

/** Reads the checkpoint in `dir` for `--resume` and checks it belongs to a run with `settings`. */
function readPosteriorCheckpoint(
  dir: string,
  outPath: string,
  settings: Record<string, unknown>,
): TrainingCheckpoint {
  const file = join(dir, POSTERIOR_CHECKPOINT_FILE);
  if (!existsSync(file)) {
    throw new FileError(
      `--resume: '${outPath}' holds no ${POSTERIOR_CHECKPOINT_FILE} (the run finished or wrote none yet). Fix: run without --resume`,
    );
  }
  let json: PosteriorCheckpointFile;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FileError(
      `--resume: ${join(outPath, POSTERIOR_CHECKPOINT_FILE)} is not JSON (${(err as Error).message})`,
    );
  }
  if (json?.format !== CHECKPOINT_FORMAT || json.version !== 1 || typeof json.settings !== 'object') {
    throw new FileError(
      `--resume: ${join(outPath, POSTERIOR_CHECKPOINT_FILE)} is not a checkpoint of sdekit posterior (format ${json?.format} v${json?.version})`,
    );
  }
  const differ = Object.keys({ ...settings, ...json.settings }).filter(
    (k) => JSON.stringify(settings[k]) !== JSON.stringify(json.settings[k]),
  );
  if (differ.length > 0) {
    throw new UsageError(
      `--resume: the checkpoint was written with other settings (${differ
        .map((k) => `${k}: ${JSON.stringify(json.settings[k])}, now ${JSON.stringify(settings[k])}`)
        .join('; ')}); pass the options of the interrupted run, or --force without --resume to start again`,
    );
  }
  return json.training;
}

/** Grid of `n` points from the 0.5 % to the 99.5 % quantile of `values` (any order). */
export function dataRangeGrid(values: Float64Array, n: number): Float64Array {
  const sorted = Float64Array.from(values).sort();
  const lo = quantile(sorted, 0.005);
  const hi = quantile(sorted, 0.995);
  return Float64Array.from({ length: n }, (_, i) => (n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1)));
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Column `j` of a row-major table with `cols` columns. */
function columnOf(data: Float64Array, cols: number, j: number): Float64Array {
  const n = data.length / cols;
  return Float64Array.from({ length: n }, (_, i) => data[i * cols + j]);
}

/** Band CSV: x, mean, then lower_L / upper_L for every level (L in percent). */
function bandCsv(xName: string, x: ArrayLike<number>, b: CredibleBands, pick: (k: number) => number): string {
  const cols = 2 + 2 * b.bands.length;
  const n = x.length;
  const data = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    const k = pick(i);
    data[i * cols] = x[i];
    data[i * cols + 1] = b.mean[k];
    b.bands.forEach((band, l) => {
      data[i * cols + 2 + 2 * l] = band.lower[k];
      data[i * cols + 3 + 2 * l] = band.upper[k];
    });
  }
  const header = [
    xName,
    'mean',
    ...b.bands.flatMap((band) => [
      `lower_${Math.round(band.level * 100)}`,
      `upper_${Math.round(band.level * 100)}`,
    ]),
  ];
  return formatCsv(data, cols, header);
}

const BAND_COLORS = ['#1f77b4', '#1f77b4', '#1f77b4'];

/** Chart series for nested bands (widest first) around the posterior mean. */
function bandSeries(x: ArrayLike<number>, b: CredibleBands, pick: (k: number) => number): ChartSeries[] {
  const n = x.length;
  const take = (a: Float64Array) => Float64Array.from({ length: n }, (_, i) => a[pick(i)]);
  return [...b.bands]
    .sort((a, c) => c.level - a.level)
    .map((band, l) => ({
      name: `${Math.round(band.level * 100)} % band`,
      x,
      y: take(b.mean),
      color: BAND_COLORS[l % BAND_COLORS.length],
      band: { lo: take(band.lower), hi: take(band.upper) },
    }));
}

/** What `sdekit posterior` decided about q. */
interface Verdict {
  readonly ok: boolean;
  readonly text: string;
}

export const posteriorCommand: CommandSpec = {
  name: 'posterior',
  brief: 'credible bands of an averaged model: bbar, sigmabar and forecasts, by variational inference',
  summary:
    'Fits a variational posterior over the flow parameters of an averaged model (sdekit fit-averaged) to the\n' +
    'slow path, as the benchmark U1 does (@sdekit/vi averagedPosterior: subspace posterior, prior N(theta_hat,\n' +
    's0^2 I)), and writes into DIR: posterior.json (reloadable; sdekit simulate draws parameters from it),\n' +
    "bbar and sigmabar with 50 / 90 / 95 % pointwise bands on a grid over the data's 0.5-99.5 % range (CSV, SVG),\n" +
    'forecast bands from the end of the data, the ELBO trace, the convergence test, the likelihood check and\n' +
    'an index.html. An unconverged or displaced posterior is reported as such and exits 1 unless\n' +
    '--allow-unconverged.',
  positionals: [
    { name: 'MODEL', help: 'averaged model JSON written by sdekit fit-averaged' },
    {
      name: 'DATA',
      help: 'the slow path, read as fit-averaged reads it (CSV, .npy, HDF5, NetCDF, Parquet; several files: independent runs)',
      variadic: true,
    },
  ],
  options: {
    out: { type: 'string', value: 'DIR', help: 'report folder (replaced as a whole)', required: true },
    dt: {
      type: 'string',
      value: 'DT',
      help: "sampling interval of DATA; must be the model's; HDF5/NetCDF/Parquet DATA that state it need none",
      defaultText: "the file's, else the model's",
    },
    columns: {
      type: 'string',
      value: 'LIST',
      help: 'columns of the slow variable (names or 0-based indices)',
      defaultText: "the model's fitted columns",
    },
    ...DATA_SELECTION_OPTIONS,
    'run-column': RUN_COLUMN_OPTION,
    coefficients: {
      type: 'string',
      value: 'MODULE.js',
      help: 'coefficients module',
      defaultText: 'the module saved by fit-averaged',
    },
    steps: {
      type: 'string',
      value: 'N',
      help: 'most Adam steps of the ELBO: the fit stops earlier when the convergence test holds (from step 200)',
      defaultText: '800',
    },
    'fixed-steps': {
      type: 'boolean',
      help: 'run all --steps even when the convergence test holds earlier',
    },
    tolerance: {
      type: 'string',
      value: 'Z',
      help: 'convergence test: the ELBO change over the last quarter within Z standard errors of 0',
      defaultText: '3',
    },
    'elbo-samples': {
      type: 'string',
      value: 'K',
      help: 'posterior samples of theta per ELBO step',
      defaultText: '4',
    },
    'fast-samples': {
      type: 'string',
      value: 'L',
      help: 'fast samples per likelihood evaluation',
      defaultText: '32',
    },
    'batch-size': {
      type: 'string',
      value: 'B',
      help: 'transitions per likelihood evaluation (a random subset, rescaled)',
      defaultText: '512',
    },
    'prior-std': {
      type: 'string',
      value: 'S0',
      help: 'prior scale: N(theta_hat, S0^2 I) on the flow weights',
      defaultText: '3',
    },
    rank: {
      type: 'string',
      value: 'R',
      help: 'dimension of the parameter subspace',
      defaultText: 'the Gauss-Newton directions with S0^2 lambda >= 1e-3, at most 16',
    },
    draws: {
      type: 'string',
      value: 'N',
      help: 'posterior draws for the bbar and sigmabar bands',
      defaultText: '100',
    },
    grid: { type: 'string', value: 'N', help: 'grid points per slow coordinate', defaultText: '31' },
    'check-draws': {
      type: 'string',
      value: 'N',
      help: 'posterior draws of the likelihood check (each a full-path likelihood)',
      defaultText: '32',
    },
    horizon: {
      type: 'string',
      value: 'TIME',
      help: 'forecast time after the end of the data',
      defaultText: '100 DT',
    },
    'forecast-draws': {
      type: 'string',
      value: 'N',
      help: 'posterior draws of the forecast (4 paths each)',
      defaultText: '40',
    },
    seed: { type: 'string', value: 'S', help: 'seed of every random step', defaultText: '0' },
    'checkpoint-every': {
      type: 'string',
      value: 'N',
      help: `write the fit's state to DIR/${POSTERIOR_CHECKPOINT_FILE} every N steps (atomically)`,
      defaultText: '100',
    },
    resume: {
      type: 'boolean',
      help: `continue an interrupted run from DIR/${POSTERIOR_CHECKPOINT_FILE} (same options; the same numbers as an uninterrupted run)`,
    },
    'allow-unconverged': {
      type: 'boolean',
      help: 'exit 0 even when the convergence test fails or the likelihood check flags q as displaced',
    },
    backend: BACKEND_OPTION,
    quiet: QUIET_OPTION,
    force: FORCE_OPTION,
  },
  notes:
    'Example:\n  sdekit posterior averaged.json slow.csv --dt 0.01 --out posterior/\n' +
    'then  sdekit simulate posterior/posterior.json --T 10 --dt 0.01 --paths 20 --seed 2 --out forecast.npy\n' +
    'draws the flow parameters of every path from the posterior (parameter uncertainty in the forecast).\n' +
    `The fit writes its state to DIR/${POSTERIOR_CHECKPOINT_FILE} every --checkpoint-every steps; after an interruption\n` +
    '  sdekit posterior averaged.json slow.csv --dt 0.01 --out posterior/ --resume\n' +
    'continues from it with the same options and gives the numbers of an uninterrupted run. The report replaces\n' +
    'DIR (and the checkpoint) only at the end.',
  async run(args, io) {
    const [modelPath, ...dataPaths] = args.positionals;
    const dataPath = dataPaths.join(', ');
    const outPath = requiredString(args, 'out');
    const dtGiven = numberOption(args, 'dt', undefined, { positive: true });
    const steps = numberOption(args, 'steps', 800, { integer: true, min: 1 });
    const tolerance = numberOption(args, 'tolerance', 3, { positive: true });
    const elboSamples = numberOption(args, 'elbo-samples', 4, { integer: true, min: 1 });
    const L = numberOption(args, 'fast-samples', 32, { integer: true, min: 2 });
    const batch = numberOption(args, 'batch-size', 512, { integer: true, min: 1 });
    const priorStd = numberOption(args, 'prior-std', 3, { positive: true });
    const rank = numberOption(args, 'rank', undefined, { integer: true, min: 1 });
    const draws = numberOption(args, 'draws', 100, { integer: true, min: 2 });
    const gridPoints = numberOption(args, 'grid', 31, { integer: true, min: 2 });
    const checkDraws = numberOption(args, 'check-draws', 32, { integer: true, min: 2 });
    const horizonGiven = numberOption(args, 'horizon', undefined, { positive: true });
    const forecastDraws = numberOption(args, 'forecast-draws', 40, { integer: true, min: 1 });
    const seed = numberOption(args, 'seed', 0, { integer: true, min: 0 });
    const checkpointEvery = numberOption(args, 'checkpoint-every', 100, { integer: true, min: 1 });
    const resume = args.values.resume === true;
    const allow = args.values['allow-unconverged'] === true;
    const fixedSteps = args.values['fixed-steps'] === true;
    const backend = backendOption(args);
    const quiet = quietFlag(args);
    const coefficientsPath = stringOption(args, 'coefficients');
    const columnsGiven = stringOption(args, 'columns');
    // The report folder is checked before any work: never an input, never a non-empty folder without
    // --force (or --resume, which continues the run whose checkpoint it holds).
    if (
      !resume &&
      !forceFlag(args) &&
      existsSync(join(resolvePath(io, outPath), POSTERIOR_CHECKPOINT_FILE))
    ) {
      throw new FileError(
        `--out '${outPath}' holds the checkpoint of an interrupted run. Fix: pass --resume to continue it, or --force to start again`,
      );
    }
    const dir = await checkOutputFolder(io, outPath, 'out', {
      inputs: [
        { path: modelPath, role: 'MODEL' },
        ...dataPaths.map((path) => ({ path, role: 'DATA' })),
        ...(coefficientsPath !== undefined ? [{ path: coefficientsPath, role: 'coefficients module' }] : []),
      ],
      force: forceFlag(args) || resume,
    });
    const modelJson = await readJson(io, modelPath, 'MODEL');
    const selection = await selectCommandBackend(backend, quiet);
    const { model, meta, moduleAbs } = await loadAveragedModel(
      io,
      modelPath,
      modelJson,
      dirname(resolvePath(io, modelPath)),
      coefficientsPath,
    );
    try {
      // DATA as fit-averaged reads it; by default the columns the model was fitted on.
      let table: Table = await readDataFiles(
        io,
        dataPaths,
        'DATA',
        columnsGiven,
        quiet,
        dataSelection(args),
        stringOption(args, 'run-column'),
      );
      const fitted = meta?.columns;
      if (
        columnsGiven === undefined &&
        fitted !== undefined &&
        fitted.every((c) => table.names.includes(c)) &&
        fitted.join(',') !== table.names.join(',')
      ) {
        table = { ...selectColumns(table, fitted.join(','), dataPath), dt: table.dt };
      }
      const d = model.slowDim;
      if (table.cols !== d) {
        throw new FileError(
          `DATA: has ${table.cols} column(s) (${table.names.join(', ')}), the model ${d} slow coordinate(s)${fitted ? ` (${fitted.join(', ')})` : ''}; pick them with --columns`,
        );
      }
      checkNoConstantColumn(table.data, d, table.names, 'DATA');
      const dt =
        table.dt !== null && table.dt !== undefined
          ? commandTimeStep(table, dtGiven, dataPath)
          : (dtGiven ?? model.dt);
      if (Math.abs(dt - model.dt) > 1e-9 * model.dt) {
        throw new UsageError(
          `--dt: DATA is sampled at ${num(dt)}, the model was fitted at Delta = ${num(model.dt)}; pass the data the model was fitted on (or at its interval)`,
        );
      }
      const bounds = [0, ...(table.runStarts ?? []), table.rows];
      const runs: TimeSeries[] = bounds
        .slice(1)
        .map((end, r) => timeSeries(table.data.subarray(bounds[r] * d, end * d), d, dt));
      if (runs.some((r) => r.length < 2))
        throw new FileError('DATA: a run has fewer than 2 samples; every run needs at least one transition');
      const path = runs.length > 1 ? runs : runs[0];
      const transitions = table.rows - runs.length;
      const horizon = horizonGiven ?? 100 * dt;

      // --- the posterior fit -------------------------------------------------------------------
      // What decides the fit's numbers: a checkpoint is resumed only under the same settings.
      const fitSettings = {
        model: resolvePath(io, modelPath),
        data: dataPaths.map((p) => resolvePath(io, p)),
        columns: table.names,
        rows: table.rows,
        steps,
        elboSamples,
        fastSamples: L,
        batchSize: Math.min(batch, transitions),
        priorStd,
        rank: rank ?? null,
        seed,
        untilConverged: fixedSteps ? null : tolerance,
      };
      const resumeFrom = resume ? readPosteriorCheckpoint(dir, outPath, fitSettings) : undefined;
      await mkdir(dir, { recursive: true });
      const checkpointPath = join(dir, POSTERIOR_CHECKPOINT_FILE);
      let checkpointStep = resumeFrom?.step ?? 0;
      const bar = commandProgress(io, quiet, 'posterior');
      const started = performance.now();
      let post: AveragedPosterior;
      try {
        post = averagedPosterior(model, path, {
          L,
          batchSize: Math.min(batch, transitions),
          samples: elboSamples,
          steps,
          ...(fixedSteps ? {} : { untilConverged: { tolerance } }),
          subspace: rank === undefined ? {} : { rank },
          prior: { std: priorStd },
          seed,
          resume: resumeFrom,
          checkpoint: {
            every: checkpointEvery,
            // Synchronous (the fit is), atomic: an interruption leaves the previous checkpoint whole.
            save: (training) => {
              const file: PosteriorCheckpointFile = {
                format: CHECKPOINT_FORMAT,
                version: 1,
                settings: fitSettings,
                training,
              };
              atomicWriteSync(checkpointPath, JSON.stringify(file));
              checkpointStep = training.step;
            },
          },
          onProgress: (q) => bar.update(q.step, q.steps, `elbo ${num(q.metrics?.elbo ?? Number.NaN, 5)}`),
        });
      } catch (err) {
        if (checkpointStep > 0) {
          bar.finish();
          io.stderr(
            `sdekit posterior: the fit's state after step ${checkpointStep} is in ${join(outPath, POSTERIOR_CHECKPOINT_FILE)}; rerun with --resume to continue\n`,
          );
        }
        throw err;
      }
      const fitSeconds = (performance.now() - started) / 1000;
      const stepsRun = steps - (resumeFrom?.step ?? 0);
      bar.status('likelihood check');
      const convergence = elboConvergence(post.posterior.elboHistory, tolerance);
      const check = post.likelihoodCheck(path, {
        draws: checkDraws,
        fastSamples: 256,
        seed: childSeed(seed, 'likelihood-check'),
      });

      // --- bands of bbar and sigmabar on slices through the data median ----------------------------
      bar.status('bands');
      const medians = Float64Array.from({ length: d }, (_, j) =>
        quantile(columnOf(table.data, d, j).sort(), 0.5),
      );
      const grids = Array.from({ length: d }, (_, j) =>
        dataRangeGrid(columnOf(table.data, d, j), gridPoints),
      );
      const G = gridPoints * d;
      const points = new Float64Array(G * d);
      for (let j = 0; j < d; j++)
        for (let i = 0; i < gridPoints; i++)
          for (let k = 0; k < d; k++)
            points[(j * gridPoints + i) * d + k] = k === j ? grids[j][i] : medians[k];
      const coefficientBands = coefficientDraws(
        post,
        points,
        d,
        draws,
        1024,
        childSeed(seed, 'coefficient-bands'),
      );
      // Output k of slice j, point i: bbar_j (or sigmabar_j) at grid point i of coordinate j.
      const at = (j: number) => (i: number) => (j * gridPoints + i) * d + j;
      const pointBbar = model.bbar(points, {
        fastSamples: 1024,
        seed: childSeed(seed, 'point-estimate'),
      }).value;
      const pointSigma = sigmaComponents(
        model.sigmabar(points, { fastSamples: 1024, seed: childSeed(seed, 'point-estimate') }).covariance,
        G,
        d,
      );

      bar.status('forecast');
      const lastRun = runs[runs.length - 1];
      const x0 = Float64Array.from(lastRun.data.subarray((lastRun.length - 1) * d));
      const forecast = post.forecastBands(x0, horizon, {
        samples: forecastDraws,
        pathsPerDraw: 4,
        levels: [...POSTERIOR_LEVELS],
        seed: childSeed(seed, 'forecast'),
      });
      bar.finish();

      const verdict: Verdict = (() => {
        const problems = [
          ...(convergence.converged ? [] : [`UNCONVERGED (${convergence.reason})`]),
          ...(check.displaced
            ? [
                `DISPLACED (median draw ${num(check.medianGap, 3)} nats below theta_hat, bound ${num(check.bound, 3)})`,
              ]
            : []),
        ];
        if (problems.length === 0)
          return { ok: true, text: 'converged and not displaced: the bands are credible by both tests' };
        return { ok: false, text: `${problems.join('; ')}: the bands are not credible` };
      })();

      // --- the report folder ---------------------------------------------------------------------
      const names = table.names;
      const files: string[] = [];
      const svgs: string[] = [];
      const cliBlock: PosteriorCliMetadata = {
        version: 1,
        command: 'posterior',
        modelFile: modelPath,
        model: embeddedModel(modelJson, moduleAbs, dir),
        data: dataPath,
        columns: names,
        samples: table.rows,
        lastPoint: Array.from(x0),
      };
      const summaryRows: string[][] = [];
      for (let j = 0; j < d; j++) {
        for (const p of [0, Math.floor((gridPoints - 1) / 2), gridPoints - 1]) {
          const k = at(j)(p);
          const b95 = coefficientBands.bbar.bands[2];
          const s95 = coefficientBands.sigma.bands[2];
          summaryRows.push([
            `${names[j]} = ${num(grids[j][p], 4)}`,
            `${num(coefficientBands.bbar.mean[k], 4)} [${num(b95.lower[k], 4)}, ${num(b95.upper[k], 4)}]`,
            `${num(coefficientBands.sigma.mean[k], 4)} [${num(s95.lower[k], 4)}, ${num(s95.upper[k], 4)}]`,
          ]);
        }
      }
      const last = forecast.times.length - 1;
      const forecastRows = Array.from({ length: d }, (_, j) => {
        const k = last * d + j;
        return [
          names[j],
          num(x0[j], 4),
          num(forecast.median[k], 4),
          `[${num(forecast.bands[1].lower[k], 4)}, ${num(forecast.bands[1].upper[k], 4)}]`,
          `[${num(forecast.bands[2].lower[k], 4)}, ${num(forecast.bands[2].upper[k], 4)}]`,
        ];
      });
      const stepMs = stepsRun > 0 ? (1000 * fitSeconds) / stepsRun : Number.NaN;
      const resumedText = resumeFrom ? `, resumed at step ${resumeFrom.step}` : '';
      const lines = [
        `model     ${modelPath} (averaged, d = ${d}, ${model.numParams} flow parameters), theta_hat from fit-averaged`,
        `data      ${dataPath}: ${table.rows} samples x ${d} (${names.join(', ')})${runs.length > 1 ? ` in ${runs.length} runs` : ''}, Delta = ${num(dt)}`,
        `posterior subspace of rank ${post.posterior.dim}, prior N(theta_hat, ${num(priorStd)}^2 I); ${steps} steps x ${elboSamples} samples, L = ${L}, batch ${Math.min(batch, transitions)}, seed ${seed}, backend ${selection.name}${resumedText}; ${num(fitSeconds, 3)} s (${num(stepMs, 3)} ms per step)`,
        `ELBO      ${num(convergence.finalElbo, 6)} (last 10 % of steps); change over the last quarter ${num(convergence.drift, 3)} +- ${num(convergence.stdError, 2)}: ${convergence.converged ? `converged (within ${num(tolerance)} SE)` : `NOT converged: ${convergence.reason}`}`,
        `check     median log-likelihood gap of ${checkDraws} draws below theta_hat ${num(check.medianGap, 3)} nats, bound ${num(check.bound, 3)}${check.laplaceMeanGap !== null ? ` (linearised posterior: mean ${num(check.laplaceMeanGap, 3)})` : ''}: ${check.displaced ? 'DISPLACED' : 'not displaced'}`,
        '',
        'posterior mean [95 % band] at the grid ends and middle (data 0.5-99.5 % range):',
        formatTable(['point', 'bbar', 'sigmabar'], summaryRows),
        '',
        `forecast  ${forecastDraws} draws x 4 paths from the last observed point, after ${num(forecast.times[last], 4)} time units:`,
        formatTable(['coordinate', 'start', 'median', '90 % band', '95 % band'], forecastRows),
        '',
        ...post.posterior.warnings.map((w) => `warning   ${w}`),
        `verdict   ${verdict.text}`,
      ];
      const summary = lines.join('\n');
      await writeFolderAtomically(dir, async (tmp) => {
        const write = async (name: string, text: string) => {
          await atomicWrite(join(tmp, name), text);
          files.push(name);
        };
        await write(
          'posterior.json',
          `${JSON.stringify({ ...post.toJSON(), [CLI_METADATA_KEY]: cliBlock })}\n`,
        );
        for (let j = 0; j < d; j++) {
          const name = names[j];
          const safe = fileSafe(name);
          const pick = at(j);
          const x = grids[j];
          await write(`bbar-${safe}.csv`, bandCsv(name, x, coefficientBands.bbar, pick));
          await write(`sigmabar-${safe}.csv`, bandCsv(name, x, coefficientBands.sigma, pick));
          const fittedLine = (values: Float64Array): ChartSeries => ({
            name: 'theta_hat',
            x,
            y: Float64Array.from({ length: gridPoints }, (_, i) => values[pick(i)]),
            color: '#d62728',
            dash: '6 3',
          });
          for (const [what, b, values] of [
            ['bbar', coefficientBands.bbar, pointBbar],
            ['sigmabar', coefficientBands.sigma, pointSigma],
          ] as const) {
            const svg = `${what}-${safe}.svg`;
            await write(
              svg,
              renderLineChart({
                title: `${what}${d > 1 ? `_${name}` : ''}(${name}): posterior mean and 50 / 90 / 95 % bands`,
                xLabel: d > 1 ? `${name} (others at the data median)` : name,
                yLabel: what,
                series: [...bandSeries(x, b, pick), fittedLine(values)],
              }),
            );
            svgs.push(svg);
          }
          // Forecast of coordinate j: t, mean, bands.
          const T = forecast.times.length;
          const fsvg = `forecast-${safe}.svg`;
          await write(
            `forecast-${safe}.csv`,
            bandCsv('t', forecast.times, forecast, (t) => t * d + j),
          );
          const past = Math.min(lastRun.length, Math.max(2, T));
          const tPast = Float64Array.from({ length: past }, (_, i) => (i - past + 1) * dt);
          const yPast = Float64Array.from(
            { length: past },
            (_, i) => lastRun.data[(lastRun.length - past + i) * d + j],
          );
          await write(
            fsvg,
            renderLineChart({
              title: `Forecast of ${name} from the end of the data: 50 / 90 / 95 % bands`,
              xLabel: 'time after the last observation',
              yLabel: name,
              series: [
                { name: 'observed', x: tPast, y: yPast, color: '#444' },
                ...bandSeries(forecast.times, forecast, (t) => t * d + j),
              ],
            }),
          );
          svgs.push(fsvg);
        }
        const history = post.posterior.elboHistory;
        const finite = Array.from(history.keys()).filter((k) => Number.isFinite(history[k]));
        await write(
          'elbo.csv',
          formatCsv(Float64Array.from(finite.flatMap((k) => [k, history[k]])), 2, ['step', 'elbo']),
        );
        await write(
          'elbo.svg',
          renderLineChart({
            title: `ELBO per step: ${convergence.converged ? 'converged' : 'not converged'}`,
            xLabel: 'step',
            yLabel: 'ELBO (nats)',
            series: [
              {
                name: 'ELBO',
                x: Float64Array.from(finite),
                y: Float64Array.from(finite, (k) => history[k]),
                color: '#1f77b4',
              },
            ],
          }),
        );
        svgs.push('elbo.svg');
        const report = {
          model: modelPath,
          data: dataPath,
          columns: names,
          samples: table.rows,
          runs: runs.length,
          dt,
          settings: {
            steps,
            elboSamples,
            fastSamples: L,
            batchSize: Math.min(batch, transitions),
            priorStd,
            rank: post.posterior.dim,
            numParams: model.numParams,
            draws,
            grid: gridPoints,
            checkDraws,
            horizon,
            forecastDraws,
            seed,
            backend: selection.name,
            levels: [...POSTERIOR_LEVELS],
          },
          timing: { fitSeconds, msPerStep: stepMs, resumedAtStep: resumeFrom?.step ?? null },
          convergence,
          likelihoodCheck: {
            atFitted: check.atFitted,
            medianGap: check.medianGap,
            bound: check.bound,
            laplaceMeanGap: check.laplaceMeanGap,
            displaced: check.displaced,
            warning: check.warning,
            gaps: Array.from(check.gaps),
          },
          verdict: { credible: verdict.ok, text: verdict.text },
          warnings: post.posterior.warnings,
        };
        await write('report.json', `${JSON.stringify(report, null, 2)}\n`);
        const html = [
          '<!doctype html>',
          '<html><head><meta charset="utf-8"><title>sdekit posterior</title></head><body style="font-family:sans-serif">',
          `<h1>sdekit posterior</h1><p>model <code>${escapeHtml(modelPath)}</code>, data <code>${escapeHtml(dataPath)}</code></p>`,
          `<p><b>${escapeHtml(verdict.text)}</b></p>`,
          `<pre>${escapeHtml(summary)}</pre>`,
          ...svgs.map((f) => `<img src="${f}" alt="${f}">`),
          `<p>Files: ${[...files, 'index.html'].map((f) => `<a href="${f}">${f}</a>`).join(', ')}</p>`,
          '</body></html>',
        ].join('\n');
        await write('index.html', `${html}\n`);
      });
      if (!quiet) io.stdout(`${summary}\nwrote     ${outPath}: ${files.join(', ')}\n`);
      if (!verdict.ok && !allow) {
        throw new ConvergenceError(
          'posterior',
          `${verdict.text} (report written to ${outPath})`,
          'run more --steps, a smaller --prior-std or more --fast-samples; or pass --allow-unconverged to accept it',
        );
      }
    } finally {
      model.dispose();
    }
  },
};

/** sqrt(S_jj(x)) per point and coordinate (n x d) from sigmabar covariances (1, d or d*d per point). */
function sigmaComponents(cov: Float64Array, n: number, d: number): Float64Array {
  const cs = cov.length / n;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++)
      out[i * d + j] = Math.sqrt(cs === 1 ? cov[i] : cs === d ? cov[i * d + j] : cov[i * cs + j * d + j]);
  return out;
}

/**
 * Bands of bbar and of sigmabar_j = sqrt(S_jj) at `points` (n x d) over `draws` posterior draws, the
 * same draws (and the same fast samples) for both; outputs are n x d, row-major.
 */
function coefficientDraws(
  post: AveragedPosterior,
  points: Float64Array,
  d: number,
  draws: number,
  fastSamples: number,
  seed: number,
): { bbar: CredibleBands; sigma: CredibleBands } {
  const n = points.length / d;
  const r = post.posterior.dim;
  const thetas = post.posterior.sample(draws, seed);
  const b = new Float64Array(draws * n * d);
  const s = new Float64Array(draws * n * d);
  for (let k = 0; k < draws; k++) {
    const at = {
      fastSamples,
      seed: childSeed(seed, 'fast-samples'),
      params: post.parametersOf(thetas.subarray(k * r, (k + 1) * r)),
    };
    b.set(post.model.bbar(points, at).value, k * n * d);
    s.set(sigmaComponents(post.model.sigmabar(points, at).covariance, n, d), k * n * d);
  }
  return {
    bbar: bandsFromDraws(b, draws, n * d, POSTERIOR_LEVELS),
    sigma: bandsFromDraws(s, draws, n * d, POSTERIOR_LEVELS),
  };
}

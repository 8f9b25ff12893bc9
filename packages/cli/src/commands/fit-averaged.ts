/**
 * `sdekit fit-averaged`: the averaged SDE dX = bbar(X) dt + sigmabar(X) dW of a slow-fast system with
 * known b(x, y), sigma(x, y) (a user's JavaScript module) and a flow-parameterised invariant law of the
 * fast variable (docs/methods.md §4, [SG]), fitted with @sdekit/averaging's `fitAveraged`.
 */
import { dirname, relative, sep } from 'node:path';
import { AVERAGED_MODEL_VERSION, DEFAULT_HELD_OUT_MAX_TRANSITIONS, fitAveraged } from '@sdekit/averaging';
import { childSeed, mean, quantiles } from '@sdekit/sde';
import { RUN_COLUMN_OPTION, resolvePath } from './files.js';
import { loadCoefficientsModule, MODEL_OUT_OPTION, readFitInput, saveFittedModel } from './model-file.js';
import { commandProgress, formatTable, formatWarnings, num } from './report.js';
import { DATA_SELECTION_OPTIONS } from './series-files.js';
import {
  BACKEND_OPTION,
  type CommandSpec,
  FORCE_OPTION,
  numberOption,
  QUIET_OPTION,
  requiredString,
  toNumber,
} from './spec.js';

export const fitAveragedCommand: CommandSpec = {
  name: 'fit-averaged',
  brief: 'averaged SDE of a slow-fast system with your b(x, y), sigma(x, y) and a learned fast law',
  summary:
    'Fits the averaged SDE dX = bbar(X) dt + sigmabar(X) dW of a slow-fast system from one observed slow path.\n' +
    'b(x, y) and sigma(x, y) come from your module; the law of the unobserved fast variable y (dimension\n' +
    '--fast-dim) is learned as a normalizing flow by penalised Euler-Maruyama likelihood.',
  positionals: [
    {
      name: 'DATA',
      help: 'the slow path: CSV, .npy, HDF5 (.h5), NetCDF-4 (.nc) or Parquet; rows = time, one column per slow coordinate ([R, N, D]: R independent paths; several files: one path each)',
      variadic: true,
    },
  ],
  options: {
    dt: {
      type: 'string',
      value: 'DT',
      help: 'sampling interval Delta of DATA; HDF5/NetCDF/Parquet DATA that state it need none, and a contradicting one is an error',
      defaultText: "the file's (required for CSV and .npy)",
    },
    coefficients: {
      type: 'string',
      value: 'MODULE.js',
      help: 'ES module exporting b and sigma (README: "The coefficients module")',
      required: true,
    },
    'fast-dim': { type: 'string', value: 'M', help: 'dimension m of the fast variable y', required: true },
    out: MODEL_OUT_OPTION,
    columns: {
      type: 'string',
      value: 'LIST',
      help: 'columns of the slow variable: names or 0-based indices (Parquet: names)',
      defaultText: 'all',
    },
    ...DATA_SELECTION_OPTIONS,
    'run-column': RUN_COLUMN_OPTION,
    steps: { type: 'string', value: 'N', help: 'Adam steps', defaultText: '1000' },
    'fast-samples': {
      type: 'string',
      value: 'L',
      help: 'flow samples of y per step',
      defaultText: '64',
    },
    'batch-size': { type: 'string', value: 'B', help: 'transitions per mini-batch', defaultText: '512' },
    'flow-layers': {
      type: 'string',
      value: 'K',
      help: 'coupling layers of the RealNVP flow',
      defaultText: '4',
    },
    'flow-hidden': {
      type: 'string',
      value: 'W',
      help: 'hidden width of each coupling network',
      defaultText: '32',
    },
    'held-out': {
      type: 'string',
      value: 'F',
      help: 'fraction of transitions at the end held out',
      defaultText: '0.1',
    },
    'evaluate-every': {
      type: 'string',
      value: 'N',
      help: 'held-out likelihood every N steps, counted back from the last (floor(steps / N) in all, at least 1)',
      defaultText: 'steps / 20',
    },
    'held-out-max': {
      type: 'string',
      value: 'N',
      help: 'held-out transitions the likelihood is evaluated on: a fixed seeded subsample of N when more are held out',
      defaultText: '100000',
    },
    seed: { type: 'string', value: 'S', help: 'seed of every random step', defaultText: '0' },
    backend: BACKEND_OPTION,
    quiet: QUIET_OPTION,
    force: FORCE_OPTION,
  },
  notes:
    'The module (.mjs, or .js in an ES-module package) default-exports, or exports as `coefficients`,\n' +
    'a function ({ tf, slowDim, fastDim }) => SlowCoefficients, or the object itself. Example:\n' +
    '  sdekit fit-averaged slow.csv --dt 0.01 --coefficients ./coef.mjs --fast-dim 2 --out averaged.json',
  async run(args, io) {
    // Several DATA files: independent runs.
    const dataPaths = args.positionals;
    const dataPath = dataPaths.join(', ');
    const dtGiven = numberOption(args, 'dt', undefined, { positive: true });
    const modulePath = requiredString(args, 'coefficients');
    const fastDim = toNumber('fast-dim', requiredString(args, 'fast-dim'), { integer: true, min: 1 });
    const outPath = requiredString(args, 'out');
    const steps = numberOption(args, 'steps', 1000, { integer: true, min: 1 });
    const L = numberOption(args, 'fast-samples', 64, { integer: true, min: 1 });
    const batchSize = numberOption(args, 'batch-size', 512, { integer: true, min: 1 });
    const layers = numberOption(args, 'flow-layers', 4, { integer: true, min: 1 });
    const hidden = numberOption(args, 'flow-hidden', 32, { integer: true, min: 1 });
    const heldOutFraction = numberOption(args, 'held-out', 0.1, { min: 0, below: 1 });
    const evaluateEvery = numberOption(args, 'evaluate-every', Math.max(1, Math.floor(steps / 20)), {
      integer: true,
      min: 1,
    });
    const heldOutMaxTransitions = numberOption(args, 'held-out-max', DEFAULT_HELD_OUT_MAX_TRANSITIONS, {
      integer: true,
      min: 1,
    });
    // A likelihood over a handful of increments determines nothing: at least 50 samples.
    const input = {
      dataPath,
      dataPaths,
      outPath,
      dt: dtGiven,
      otherInputs: [{ path: modulePath, role: 'coefficients module' }],
      minRows: 50,
    };
    const { seed, quiet, out, table, dt, series, runs, selection } = await readFitInput(args, io, input);
    const moduleAbs = resolvePath(io, modulePath);
    const coefficients = await loadCoefficientsModule(moduleAbs, modulePath, {
      slowDim: table.cols,
      fastDim,
    });

    const bar = commandProgress(io, quiet, 'training flow');
    const model = fitAveraged({
      // Several runs: their transitions are pooled, none from one run into the next.
      path: runs.length > 1 ? runs : series,
      coefficients,
      fastDim,
      flow: { layers, hidden },
      L,
      batchSize,
      steps,
      heldOutFraction,
      evaluateEvery,
      heldOutMaxTransitions,
      seed,
      onProgress: (p) => bar.update(p.step, p.steps, `nll ${num(p.metrics?.nll ?? Number.NaN, 4)}`),
    });
    bar.finish();
    try {
      const moduleRel = relative(dirname(out), moduleAbs).split(sep).join('/');
      await saveFittedModel(out, model.toJSON(), 'fit-averaged', dataPaths, table, {
        coefficientsModule: moduleRel,
      });
      if (quiet) return;
      const t = model.training;
      const last = t.history[t.history.length - 1];
      const evaluations = t.history.filter((r) => r.heldOutLoss !== undefined).length;
      const lastHeldOut = [...t.history].reverse().find((r) => r.heldOutLoss !== undefined)?.heldOutLoss;
      // bbar and sigmabar at data quantiles (one coordinate) or at the data mean (several).
      const d = table.cols;
      let points: Float64Array;
      if (d === 1) points = quantiles(table.data, [0.05, 0.25, 0.5, 0.75, 0.95]);
      else points = mean(table.data, d);
      const bbar = model.bbar(points, { fastSamples: 4096, seed: childSeed(seed, 'coefficient-table') });
      const sbar = model.sigmabar(points, { fastSamples: 4096, seed: childSeed(seed, 'coefficient-table') });
      const n = points.length / d;
      const rows: string[][] = [];
      for (let i = 0; i < n; i++) {
        const x = Array.from(points.subarray(i * d, (i + 1) * d), (v) => num(v, 4)).join(', ');
        const b = Array.from(
          { length: d },
          (_, j) => `${num(bbar.value[i * d + j], 4)} +- ${num(bbar.stdError[i * d + j], 2)}`,
        ).join(', ');
        const sz = sbar.value.length / n;
        const s = Array.from(sbar.value.subarray(i * sz, (i + 1) * sz), (v) => num(v, 4)).join(', ');
        rows.push([x, b, s]);
      }
      const lines = [
        `data      ${dataPath}: ${table.rows} samples x ${d} slow coordinate${d > 1 ? 's' : ''} (${table.names.join(', ')})${runs.length > 1 ? ` in ${runs.length} paths` : ''}, Delta = ${num(dt)}`,
        `model     coefficients ${modulePath} (fast dim ${fastDim}, noise ${coefficients.noise}), RealNVP ${layers} x ${hidden}, L = ${L}`,
        `training  ${steps} steps, ${t.trainTransitions} training / ${t.heldOutTransitions} held-out transitions, seed ${seed}, backend ${selection.name}`,
        ...(t.heldOutTransitions > 0
          ? [
              `          held-out NLL ${evaluations} time${evaluations === 1 ? '' : 's'} on ${t.heldOutSubsample !== undefined ? `a fixed subsample of ${t.heldOutSubsample}` : 'all'} held-out transitions`,
            ]
          : []),
        `          final training NLL per transition ${num(last.metrics?.nll ?? Number.NaN, 5)}${lastHeldOut !== undefined ? `, held-out ${num(lastHeldOut, 5)}` : ''}`,
        '',
        d === 1
          ? 'averaged coefficients at data quantiles 5, 25, 50, 75, 95 %:'
          : 'averaged coefficients at the data mean:',
        formatTable(['x', 'bbar(x) +- MC error', 'sigmabar(x)'], rows),
        '',
        formatWarnings(t.warnings),
        `saved ${outPath} (format sdekit.averaged-model v${AVERAGED_MODEL_VERSION}; coefficients module ${moduleRel}, relative to the model file)`,
      ];
      io.stdout(`${lines.join('\n')}\n`);
    } finally {
      model.dispose();
    }
  },
};

/**
 * `sdekit fit-langevin`: a score-based effective Langevin model dx = Phi s(x) dt + sqrt(2) Sigma dW
 * (docs/methods.md §1, [G]) fitted to one stationary time series with @sdekit/score's `fitLangevin`.
 */
import { fitLangevin, type LangevinOptions, type MatrixUncertainty } from '@sdekit/score';
import { type Matrix, matmul, transpose } from '@sdekit/sde';
import { RUN_COLUMN_OPTION } from './files.js';
import { MODEL_OUT_OPTION, readFitInput, saveFittedModel } from './model-file.js';
import { commandProgress, formatMatrix, formatMatrixWithErrors, formatWarnings, num } from './report.js';
import { DATA_SELECTION_OPTIONS } from './series-files.js';
import {
  BACKEND_OPTION,
  type CommandSpec,
  choiceOption,
  FORCE_OPTION,
  numberList,
  numberOption,
  QUIET_OPTION,
  requiredString,
  stringOption,
  UsageError,
} from './spec.js';

/** What the progress line says during the fit's stages after training (fitLangevin's LangevinProgress). */
const STAGE_TEXT = {
  stein: 'Stein matrix V on the data',
  cdot: 'Cdot (partition and transition counts, or lag correlations)',
  bootstrap: 'block bootstrap of Phi',
} as const;

export const fitLangevinCommand: CommandSpec = {
  name: 'fit-langevin',
  brief: 'score-based Langevin model dx = Phi s(x) dt + sqrt(2) Sigma dW from a time series',
  summary:
    'Fits the score-based Langevin model dx = Phi s(x) dt + sqrt(2) Sigma dW (s = grad log p) to a stationary\n' +
    'time series, prints Phi, Sigma and diagnostics, and saves the model as JSON.',
  positionals: [
    {
      name: 'DATA',
      help: 'CSV (header optional), .npy (float32/float64, [N] or [N, D]; [R, N, D]: R independent runs), HDF5 (.h5), NetCDF-4 (.nc) or Parquet; rows = time; several files: independent runs',
      variadic: true,
    },
  ],
  options: {
    dt: {
      type: 'string',
      value: 'DT',
      help: 'sampling interval of DATA (time between rows); HDF5/NetCDF/Parquet DATA that state it need none, and a contradicting one is an error',
      defaultText: "the file's (required for CSV and .npy)",
    },
    out: MODEL_OUT_OPTION,
    columns: {
      type: 'string',
      value: 'LIST',
      help: "columns to fit: header names 'u,v' or 0-based indices '0,2' (Parquet: names)",
      defaultText: 'all',
    },
    ...DATA_SELECTION_OPTIONS,
    'run-column': RUN_COLUMN_OPTION,
    score: {
      type: 'string',
      value: 'dsm|kgmm',
      help: 'score estimator: denoising score matching (MLP) or KGMM',
      defaultText: 'dsm',
    },
    sigma: {
      type: 'string',
      value: 'S',
      help: 'DSM/KGMM noise level in z-scored units',
      defaultText: '0.05 for diffusive data, 0.1 for smooth data',
    },
    pmin: {
      type: 'string',
      value: 'P',
      help: 'tree-partition threshold of the generator estimator (about 0.74/P cells)',
      defaultText: 'clamp(40/N, 5e-5, 0.05)',
    },
    steps: {
      type: 'string',
      value: 'N',
      help: 'training steps of the score network',
      defaultText: '4000 (dsm), 3000 (kgmm)',
    },
    hidden: {
      type: 'string',
      value: 'LIST',
      help: "hidden widths of the score MLP, e.g. '128,128'",
      defaultText: '128,128 (dsm), 128,64 (kgmm)',
    },
    cdot: {
      type: 'string',
      value: 'auto|lag|generator',
      help: 'Cdot estimator: auto follows the increment scaling of the data (lag: direct two-lag, diffusive data; generator: finite-volume, smooth data)',
      defaultText: 'auto',
    },
    'perturb-series': {
      type: 'boolean',
      help: 'estimate Cdot on the series perturbed at sigma (auto does this for smooth data)',
    },
    bootstrap: {
      type: 'string',
      value: 'N',
      help: 'block-bootstrap replicates for the standard errors of Phi (0: none)',
      defaultText: '200',
    },
    'perturb-sigma': {
      type: 'string',
      value: 'S',
      help: 'perturb at S (z units) instead of sigma: more dissipation in the directions the cells do not resolve (implies --perturb-series)',
    },
    'tail-quantile': {
      type: 'string',
      value: 'Q',
      help: 'beyond the Q and 1-Q data quantiles the simulated score is continued by a restoring term (0: off)',
      defaultText: '1e-3/D',
    },
    seed: {
      type: 'string',
      value: 'S',
      help: 'seed of every random step (same seed, same model)',
      defaultText: '0',
    },
    backend: BACKEND_OPTION,
    quiet: QUIET_OPTION,
    force: FORCE_OPTION,
  },
  notes:
    'Example:\n  sdekit fit-langevin series.csv --dt 0.01 --columns u,v --out model.json\n' +
    'The model is estimated in z-scored coordinates and printed in the units of the data.',
  async run(args, io) {
    // Several DATA files: independent runs.
    const dataPaths = args.positionals;
    const dataPath = dataPaths.join(', ');
    const dtGiven = numberOption(args, 'dt', undefined, { positive: true });
    const outPath = requiredString(args, 'out');
    const score = choiceOption(args, 'score', ['dsm', 'kgmm'] as const, 'dsm');
    const sigma = numberOption(args, 'sigma', undefined, { positive: true });
    const pMin = numberOption(args, 'pmin', undefined, { positive: true, below: 0.5 });
    const steps = numberOption(args, 'steps', undefined, { integer: true, min: 1 });
    const hiddenText = stringOption(args, 'hidden');
    const hiddenDims =
      hiddenText === undefined ? undefined : numberList('hidden', hiddenText, { integer: true, min: 1 });
    const tailQuantile = numberOption(args, 'tail-quantile', undefined, { min: 0, below: 0.5 });
    const cdotEstimator = choiceOption(args, 'cdot', ['auto', 'lag', 'generator'] as const, 'auto');
    const perturbSigma = numberOption(args, 'perturb-sigma', undefined, { positive: true });
    const perturbSeries = perturbSigma ?? (args.values['perturb-series'] === true ? true : undefined);
    const replicates = numberOption(args, 'bootstrap', 200, { integer: true, min: 0 });
    if (replicates > 0 && replicates < 20)
      throw new UsageError('--bootstrap: pass 0 (no error bars) or at least 20 replicates');
    const input = { dataPath, dataPaths, outPath, dt: dtGiven };
    const { seed, quiet, out, table, dt, series, runs, selection } = await readFitInput(args, io, input);

    const bar = commandProgress(io, quiet, 'training score');
    const stages = commandProgress(io, quiet, 'fitting');
    const network = { ...(steps !== undefined ? { steps } : {}), ...(hiddenDims ? { hiddenDims } : {}) };
    const options: LangevinOptions = {
      score: score === 'dsm' ? 'dsm-mlp' : 'kgmm',
      ...(sigma !== undefined ? { sigma } : {}),
      pMin,
      cdotEstimator,
      ...(perturbSeries !== undefined ? { perturbSeries } : {}),
      uncertainty: replicates > 0 ? { replicates } : false,
      ...(tailQuantile !== undefined ? { tailQuantile } : {}),
      seed,
      ...(score === 'dsm' ? { dsm: network } : { kgmm: network }),
      onProgress: (p) => {
        if (p.training) bar.update(p.training.step, p.training.steps, `loss ${num(p.training.loss, 4)}`);
        else if (p.stage !== 'score' && p.stage !== 'done') {
          bar.finish();
          stages.status(STAGE_TEXT[p.stage]);
        }
      },
    };
    // Several runs: pooled, with no transition counted from one run into the next.
    const model = fitLangevin(runs.length > 1 ? runs : series, options);
    bar.finish();
    stages.finish();
    try {
      await saveFittedModel(out, model.toJSON(), 'fit-langevin', dataPaths, table);
      if (quiet) return;
      const d = model.diagnostics;
      const o = model.original;
      const u = o.uncertainty;
      const withSe = (name: string, m: Matrix, e: MatrixUncertainty | undefined) =>
        e
          ? [`${name} +- standard error, and 95 % interval:`, formatMatrixWithErrors(m, e)]
          : [`${name}:`, formatMatrix(m)];
      const regime = d.regime;
      const lines = [
        `data      ${dataPath}: ${table.rows} samples x ${table.cols} coordinate${table.cols > 1 ? 's' : ''} (${table.names.join(', ')})${runs.length > 1 ? ` in ${runs.length} runs` : ''}, dt = ${num(dt)}`,
        `score     ${score === 'dsm' ? 'denoising score matching (MLP)' : 'KGMM'}, sigma = ${num(model.scoreSigma)} (z units), seed ${seed}, backend ${selection.name}`,
        `regime    ${regime ? `${regime.regime}: E|x(t + k dt) - x(t)|^2 grows like k^${num(regime.slope, 3)} (per coordinate ${regime.slopes.map((v) => num(v, 3)).join(', ')}; 1 diffusive, 2 smooth)` : 'unknown'}`,
        `Cdot      ${d.cdotEstimator} estimator (${d.cdotChoice === 'auto' ? `auto: ${d.cdotReason}` : d.cdotReason})${d.perturbedSeries ? `, series perturbed at sigma_c = ${num(d.perturbSigma, 4)}` : ''}`,
        '',
        ...withSe('Phi (data units; drift Phi s(x))', o.phi, u?.phi),
        ...withSe('Phi_S (symmetric part)', o.phiS, u?.phiS),
        ...withSe('Phi_A (antisymmetric part)', o.phiA, u?.phiA),
        ...withSe(
          'Sigma Sigma^T (diffusion; = Phi_S after any shift)',
          matmul(o.sigma, transpose(o.sigma)),
          u?.diffusion,
        ),
        'Sigma (lower Cholesky factor of Phi_S; noise sqrt(2) Sigma dW):',
        formatMatrix(o.sigma),
        '',
        'diagnostics:',
        `  Stein error ||V + I||_F / sqrt(D)   ${num(d.steinError, 4)}`,
        u
          ? `  uncertainty                         block bootstrap, ${u.replicates} replicates of ${u.blocks} ${u.runsAsBlocks ? 'runs' : `blocks of ${u.blockLength} samples`} (autocorrelation time ${num(u.autocorrelationTime, 3)} samples); relative SE of Phi_S ${num(u.phiSRelativeSE, 3)}`
          : '  uncertainty                         none (see warnings)',
        ...(d.cells > 0
          ? [
              `  partition cells                     ${d.cells}`,
              `  leave fraction                      ${d.leaveFraction === null ? '-' : num(d.leaveFraction, 4)}`,
            ]
          : []),
        ...(Number.isFinite(d.cdotDetails.biasEstimate)
          ? [`  Cdot bias estimate (relative)       ${num(d.cdotDetails.biasEstimate, 3)}`]
          : []),
        `  tail continuation                   ${model.tailBox ? `beyond the ${num(model.tailBox.quantile)} / ${num(1 - model.tailBox.quantile)} quantiles` : 'off'}`,
        `  Phi_S shift                         ${d.shifted ? `${num(d.shift, 4)} (lambda_min was ${num(d.lambdaMin, 4)})` : `none (lambda_min ${num(d.lambdaMin, 4)})`}`,
        `  energy shares Phi_S / Phi_A         ${num(d.energyShareS, 3)} / ${num(d.energyShareA, 3)}`,
        ...(d.heldOutLoss !== null ? [`  held-out DSM loss                   ${num(d.heldOutLoss, 4)}`] : []),
        formatWarnings(d.warnings),
        '',
        `saved ${outPath} (format sdekit.langevin-model v2)`,
      ];
      io.stdout(`${lines.join('\n')}\n`);
    } finally {
      model.dispose();
    }
  },
};

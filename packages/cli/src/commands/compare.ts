/**
 * `sdekit compare`: data against a simulation, coordinate by coordinate, with the same estimators on
 * both sides and noise levels from a block bootstrap of each (@sdekit/sde `compareSamples`). DATA
 * may hold independent runs (a [R, N, D] .npy, or a CSV with --run-column) and SIM holds paths; both
 * are treated alike: means and variances pooled over all samples, lag products within a run or path
 * only (`acfPooledCoordinates`). Prints the moments with standard errors and effective samples, KL
 * and Hellinger distances of the marginal PDFs with standard errors and the KL of sampling noise
 * alone, and the ACFs with a noise band; flags every difference larger than its noise. With --out it
 * also writes compare.json, SVG plots and an index.html that shows them.
 */
import { join } from 'node:path';
import { resolveTimeStep } from '@sdekit/io';
import {
  acfPooledCoordinates,
  column,
  compareSamples,
  histogram,
  kde1d,
  type RunSamples,
  runBounds,
  type SampleComparison,
} from '@sdekit/sde';
import { atomicWrite } from '../io.js';
import {
  checkNoConstantColumn,
  checkOutputFolder,
  RUN_COLUMN_OPTION,
  readDataFiles,
  readSimulation,
  type Table,
  writeFolderAtomically,
} from './files.js';
import { formatTable, num } from './report.js';
import { DATA_SELECTION_OPTIONS, dataSelection } from './series-files.js';
import {
  type CommandSpec,
  choiceOption,
  FORCE_OPTION,
  forceFlag,
  numberOption,
  stringOption,
  UsageError,
} from './spec.js';
import { renderLineChart } from './svg.js';

/** Fewest samples per series for which ACFs and histograms are meaningful. */
const MIN_SAMPLES = 10;
const GRID_TOLERANCE = 1e-9;
/** Default bootstrap replicates: the SE of a standard error is about 1 / sqrt(2 R) = 5 %. */
const DEFAULT_REPLICATES = 200;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Row bounds of a table's runs ([0, N] for one run). */
function tableRuns(table: Table): Int32Array {
  return Int32Array.from([0, ...(table.runStarts ?? []), table.rows]);
}

/** Samples of the longest run. */
function longestRun(runs: Int32Array): number {
  let n = 0;
  for (let r = 0; r + 1 < runs.length; r++) n = Math.max(n, runs[r + 1] - runs[r]);
  return n;
}

/** 'value +- se' with the value to `digits` and the error to 2 significant digits. */
function withSe(v: number, se: number, digits: number): string {
  return `${num(v, digits)} +- ${num(se, 2)}`;
}

/** What the flags say about coordinate j: the statistics that differ by more than their noise. */
function verdict(c: SampleComparison, j: number): string {
  // A side that is one block has no noise level (a warning says why): no verdict either.
  if (Number.isNaN(c.acf.errorNoise[j])) return 'noise unknown';
  const differ = [
    c.moments.meanSignificant[j] ? 'mean' : '',
    c.moments.stdSignificant[j] ? 'std' : '',
    c.pdf.significant[j] ? 'PDF' : '',
    c.acf.significant[j] ? 'ACF' : '',
  ].filter((w) => w !== '');
  if (differ.length === 0) return 'within noise';
  return `${differ.join(', ')} differ${differ.length === 1 ? 's' : ''}`;
}

export const compareCommand: CommandSpec = {
  name: 'compare',
  brief:
    'marginal PDFs (KL, Hellinger) and ACFs of data and simulation, with noise levels: tables and SVG plots',
  summary:
    'Compares a simulation with data, per coordinate: mean and std with standard errors, effective samples,\n' +
    'KL(data || sim) and Hellinger distance of the marginal PDFs with standard errors, and the ACFs side by side\n' +
    'with a noise band. Runs of DATA and paths of SIM are treated alike (pooled mean and variance, lag products\n' +
    'within a run); every noise level comes from a block bootstrap of each side, and a difference larger than\n' +
    'its noise is flagged.',
  positionals: [
    {
      name: 'DATA',
      help: 'CSV, .npy, HDF5 (.h5), NetCDF-4 (.nc) or Parquet time series (rows = time; [R, N, D] .npy: R independent runs; CSV runs: --run-column; several files: independent runs)',
      variadic: true,
    },
    { name: 'SIM', help: 'output of sdekit simulate (.npy [N, D] or [P, N, D]; CSV with P*D columns)' },
  ],
  options: {
    out: {
      type: 'string',
      value: 'DIR',
      help: 'write compare.json, pdf-*.svg, acf-*.svg and index.html here',
    },
    columns: {
      type: 'string',
      value: 'LIST',
      help: 'columns of DATA (names or 0-based indices), as used for fitting',
      defaultText: 'all',
    },
    ...DATA_SELECTION_OPTIONS,
    'run-column': RUN_COLUMN_OPTION,
    dt: {
      type: 'string',
      value: 'DT',
      help: 'sampling interval of DATA; HDF5/NetCDF/Parquet DATA that state it need none, and a contradicting one is an error',
      defaultText: "the file's, else 1 (lags in samples)",
    },
    'sim-dt': {
      type: 'string',
      value: 'DT',
      help: 'sampling interval of SIM (DT and SIM-DT must be whole multiples); an HDF5/NetCDF SIM that states it needs none',
      defaultText: "the file's, else DATA's",
    },
    'max-lag': {
      type: 'string',
      value: 'TIME',
      help: 'largest ACF lag (time units)',
      defaultText: '3 x the e-folding time of the data ACF, at most a quarter of the longest run',
    },
    bins: { type: 'string', value: 'N', help: 'bins per coordinate for the PDFs', defaultText: '64' },
    pdf: { type: 'string', value: 'histogram|kde', help: 'PDF estimator', defaultText: 'histogram' },
    bootstrap: {
      type: 'string',
      value: 'N',
      help: 'block-bootstrap replicates of each side for the standard errors and noise levels (at least 20)',
      defaultText: String(DEFAULT_REPLICATES),
    },
    seed: { type: 'string', value: 'S', help: 'seed of the bootstrap', defaultText: '0' },
    force: FORCE_OPTION,
  },
  notes:
    'Example:\n  sdekit compare series.csv sim.npy --columns u,v --dt 0.01 --out compare/\n' +
    'The flags of a coordinate hold 95 % together (mean, std, PDF, ACF, each at 98.75 %): a mean or std differs\n' +
    'when the difference exceeds 2.5 SE, the PDF when KL - (KL noise) > 2.5 SE(KL), the ACF when its error\n' +
    'exceeds the 98.75 % bootstrap quantile of max over lags of |Delta* - Delta| (Delta = ACF data - ACF sim).',
  async run(args, io) {
    // DATA... SIM: every argument but the last is a DATA file (several: independent runs).
    const simPath = args.positionals[args.positionals.length - 1];
    const dataPaths = args.positionals.slice(0, -1);
    const dataPath = dataPaths.join(', ');
    const dtGiven = numberOption(args, 'dt', undefined, { positive: true });
    const simDtGiven = numberOption(args, 'sim-dt', undefined, { positive: true });
    const bins = numberOption(args, 'bins', 64, { integer: true, min: 2 });
    const pdf = choiceOption(args, 'pdf', ['histogram', 'kde'] as const, 'histogram');
    const maxLagTime = numberOption(args, 'max-lag', undefined, { positive: true });
    const replicates = numberOption(args, 'bootstrap', DEFAULT_REPLICATES, { integer: true, min: 20 });
    const seed = numberOption(args, 'seed', 0, { integer: true, min: 0 });
    const runColumn = stringOption(args, 'run-column');
    const outDir = stringOption(args, 'out');
    // The report folder is checked before any work: never an input, never a non-empty folder without --force.
    const dir =
      outDir === undefined
        ? undefined
        : await checkOutputFolder(io, outDir, 'out', {
            inputs: [...dataPaths.map((path) => ({ path, role: 'DATA' })), { path: simPath, role: 'SIM' }],
            force: forceFlag(args),
          });

    // DATA as the fitting commands read it: runs of a [R, N, D] .npy, or by --run-column.
    const table = await readDataFiles(
      io,
      dataPaths,
      'DATA',
      stringOption(args, 'columns'),
      false,
      dataSelection(args),
      runColumn,
    );
    // The interval DATA states (HDF5, NetCDF, Parquet; a contradicting --dt is an error), else --dt, else 1.
    const dtStated = resolveTimeStep(table.dt ?? null, dtGiven, dataPath, '--dt');
    const dtData = dtStated ?? 1;
    const timeUnit = dtStated === undefined ? 'samples' : 'time';
    const D = table.cols;
    const sim = await readSimulation(io, simPath, D);
    // SIM's own stated interval (an HDF5 / NetCDF output of simulate), else --sim-dt, else DATA's.
    const dtSim = resolveTimeStep(sim.dt ?? null, simDtGiven, simPath, '--sim-dt') ?? dtData;
    const dataRuns = tableRuns(table);
    const simRuns = runBounds(new Array<number>(sim.paths).fill(sim.length));
    const dataLongest = longestRun(dataRuns);
    if (dataLongest < MIN_SAMPLES || sim.length < MIN_SAMPLES) {
      throw new UsageError(
        `compare needs at least ${MIN_SAMPLES} samples per run; DATA's longest run has ${dataLongest}, SIM has ${sim.length} per path`,
      );
    }

    checkNoConstantColumn(table.data, D, table.names, 'DATA');
    checkNoConstantColumn(sim.data, D, table.names, 'SIM');
    // A histogram needs several samples per bin to say anything: at most N / 5 bins.
    const fewest = Math.min(table.rows, sim.paths * sim.length);
    if (bins > Math.floor(fewest / 5)) {
      throw new UsageError(
        `--bins ${bins}: more than ${Math.floor(fewest / 5)} bins (a fifth of the ${fewest} samples of the shorter input) leaves most bins empty; pass fewer bins`,
      );
    }

    // Common lag grid: multiples of the coarser sampling interval.
    const coarse = Math.max(dtData, dtSim);
    const rData = Math.round(coarse / dtData);
    const rSim = Math.round(coarse / dtSim);
    if (
      Math.abs(rData * dtData - coarse) > GRID_TOLERANCE * coarse ||
      Math.abs(rSim * dtSim - coarse) > GRID_TOLERANCE * coarse
    ) {
      throw new UsageError(
        `--dt ${num(dtData)} and --sim-dt ${num(dtSim)}: one must be a whole multiple of the other`,
      );
    }
    // Lags within a run only: a quarter of the longest run of either side.
    const limit = Math.max(1, Math.floor(Math.min((dataLongest - 1) / rData, (sim.length - 1) / rSim) / 4));
    let lags: number;
    if (maxLagTime !== undefined) {
      lags = Math.round(maxLagTime / coarse);
      if (lags < 1 || lags > limit) {
        throw new UsageError(
          `--max-lag ${num(maxLagTime)}: must lie between one lag (${num(coarse)}) and a quarter of the longest run (${num(limit * coarse)})`,
        );
      }
    } else {
      // 3 e-folding times of the slowest coordinate of the data (pooled ACF, as compared below). The
      // ACF is computed on a lag window that doubles until every coordinate has decayed below 1/e (or
      // the window is the limit): the cost then follows the data's correlation time, not its length.
      let window = Math.min(limit, 256);
      let fold = -1;
      for (;;) {
        fold = 0;
        for (const rho of acfPooledCoordinates(table.data, D, dataRuns, window, rData)) {
          const k = rho.findIndex((v) => v < Math.exp(-1));
          if (k < 0) {
            fold = -1;
            break;
          }
          fold = Math.max(fold, k);
        }
        if (fold >= 0 || window === limit) break;
        window = Math.min(limit, 2 * window);
      }
      lags = Math.min(limit, Math.max(10, 3 * (fold < 0 ? limit : fold)));
    }
    const count = lags + 1;
    const dataSide: RunSamples = { data: table.data, runs: dataRuns, stride: rData };
    const simSide: RunSamples = { data: sim.data, runs: simRuns, stride: rSim };
    const c = compareSamples(dataSide, simSide, D, { maxLag: lags, bins, method: pdf, replicates, seed });
    const lagTimes = Float64Array.from({ length: count }, (_, k) => k * coarse);

    const moments = formatTable(
      ['coordinate', 'mean data', 'mean sim', 'std data', 'std sim', 'N_eff data', 'N_eff sim'],
      table.names.map((name, j) => [
        name,
        withSe(c.a.mean[j], c.a.meanSe[j], 4),
        withSe(c.b.mean[j], c.b.meanSe[j], 4),
        withSe(c.a.std[j], c.a.stdSe[j], 4),
        withSe(c.b.std[j], c.b.stdSe[j], 4),
        num(Math.round(c.a.effectiveSamples[j])),
        num(Math.round(c.b.effectiveSamples[j])),
      ]),
    );
    const stats = formatTable(
      ['coordinate', 'KL(data||sim)', 'KL noise', 'Hellinger', 'ACF error', 'ACF noise', 'verdict'],
      table.names.map((name, j) => [
        name,
        withSe(c.pdf.kl[j], c.pdf.klSe[j], 3),
        num(c.pdf.klNoise[j], 2),
        withSe(c.pdf.hellinger[j], c.pdf.hellingerSe[j], 3),
        num(c.acf.error[j], 3),
        num(c.acf.errorNoise[j], 2),
        verdict(c, j),
      ]),
    );
    const shown = Array.from(new Set([0, 1, 2, 3, 4, 5].map((i) => Math.round((i * lags) / 5))));
    const acfTable = formatTable(
      [`lag (${timeUnit})`, ...table.names.flatMap((n) => [`${n} data`, `${n} sim`, `${n} band`])],
      shown.map((k) => [
        num(lagTimes[k], 4),
        ...table.names.flatMap((_, j) => [
          num(c.a.acf[j][k], 3),
          num(c.b.acf[j][k], 3),
          `+-${num(c.acf.band[j][k], 2)}`,
        ]),
      ]),
    );
    const layoutText = (l: SampleComparison['a']['layout']) =>
      l.runsAsBlocks
        ? `${l.units} units of whole ${l.units === l.blocks ? 'runs' : 'run groups'}`
        : `${l.blocks} blocks of ${l.blockLength} samples${l.units < l.blocks ? ` in ${l.units} groups` : ''}`;
    io.stdout(
      [
        `data ${dataPath}: ${c.a.runs > 1 ? `${c.a.runs} runs, ` : ''}${table.rows} samples x ${D}`,
        `sim  ${simPath}: ${sim.paths} path${sim.paths > 1 ? 's' : ''} x ${sim.length} samples`,
        `marginal PDFs: ${pdf}, ${bins} bins on the common range of data and sim; ACF: pooled over runs and paths, lag products within a run, lags 0..${num(lags * coarse)}`,
        `noise: block bootstrap, ${replicates} replicates per side (data ${layoutText(c.a.layout)}; sim ${layoutText(c.b.layout)}), seed ${seed}; flags 95 % per coordinate, each of mean, std, PDF, ACF at 98.75 %`,
        '',
        moments,
        '',
        stats,
        '',
        'autocorrelation functions (band: 95 % pointwise noise of the difference):',
        acfTable,
        '',
        ...c.warnings.map((w) => `warning: ${w.replace(/^set A/, 'DATA').replace(/^set B/, 'SIM')}`),
        ...(c.warnings.length > 0 ? [''] : []),
      ].join('\n'),
    );

    if (outDir === undefined || dir === undefined) return;
    // Written into a temporary folder that replaces DIR as a whole: a failure leaves no partial report.
    const files: string[] = [];
    await writeFolderAtomically(dir, async (tmp) => {
      for (let j = 0; j < D; j++) {
        const name = table.names[j];
        const grid = c.pdf.grids[j];
        const density = (v: Float64Array) =>
          pdf === 'histogram' ? histogram(v, grid).density : kde1d(v, grid.centers);
        const pdfSvg = renderLineChart({
          title: `Marginal PDF of ${name}: KL = ${num(c.pdf.kl[j], 3)} +- ${num(c.pdf.klSe[j], 2)}, Hellinger = ${num(c.pdf.hellinger[j], 3)}`,
          xLabel: name,
          yLabel: 'density',
          series: [
            { name: 'data', x: grid.centers, y: density(column(table.data, D, j)), color: '#1f77b4' },
            {
              name: 'simulation',
              x: grid.centers,
              y: density(column(sim.data, D, j)),
              color: '#d62728',
              dash: '6 3',
            },
          ],
        });
        // The band around the data ACF: where the simulation's ACF may lie by noise alone.
        const dataAcf = c.a.acf[j];
        const acfSvg = renderLineChart({
          title: `ACF of ${name}: max difference ${num(c.acf.error[j], 3)} (noise ${num(c.acf.errorNoise[j], 2)})`,
          xLabel: `lag (${timeUnit})`,
          yLabel: 'autocorrelation',
          series: [
            {
              name: 'data, 95 % band',
              x: lagTimes,
              y: dataAcf,
              color: '#1f77b4',
              band: {
                lo: dataAcf.map((v, k) => v - c.acf.band[j][k]),
                hi: dataAcf.map((v, k) => v + c.acf.band[j][k]),
              },
            },
            { name: 'simulation', x: lagTimes, y: c.b.acf[j], color: '#d62728', dash: '6 3' },
          ],
        });
        const pdfFile = `pdf-${fileSafe(name)}.svg`;
        const acfFile = `acf-${fileSafe(name)}.svg`;
        await atomicWrite(join(tmp, pdfFile), pdfSvg);
        await atomicWrite(join(tmp, acfFile), acfSvg);
        files.push(pdfFile, acfFile);
      }
      const arr = (a: Float64Array) => Array.from(a);
      const metrics = {
        data: dataPath,
        sim: simPath,
        columns: table.names,
        samples: { data: table.rows, simPaths: sim.paths, simLength: sim.length },
        runs: { data: c.a.runs, sim: c.b.runs },
        effectiveSamples: { data: arr(c.a.effectiveSamples), sim: arr(c.b.effectiveSamples) },
        bootstrap: {
          replicates,
          seed,
          level: c.level,
          data: c.a.layout,
          sim: c.b.layout,
        },
        pdf: {
          method: pdf,
          bins,
          kl: arr(c.pdf.kl),
          klSe: arr(c.pdf.klSe),
          klNoise: arr(c.pdf.klNoise),
          klMean: c.pdf.kl.reduce((a, b) => a + b, 0) / D,
          hellinger: arr(c.pdf.hellinger),
          hellingerSe: arr(c.pdf.hellingerSe),
          significant: c.pdf.significant,
        },
        moments: {
          meanSignificant: c.moments.meanSignificant,
          stdSignificant: c.moments.stdSignificant,
          meanData: arr(c.a.mean),
          meanSim: arr(c.b.mean),
          meanSeData: arr(c.a.meanSe),
          meanSeSim: arr(c.b.meanSe),
          stdData: arr(c.a.std),
          stdSim: arr(c.b.std),
          stdSeData: arr(c.a.stdSe),
          stdSeSim: arr(c.b.stdSe),
        },
        acf: {
          lagTimes: Array.from(lagTimes),
          data: c.a.acf.map(arr),
          sim: c.b.acf.map(arr),
          dataSe: c.a.acfSe.map(arr),
          simSe: c.b.acfSe.map(arr),
          band: c.acf.band.map(arr),
          error: arr(c.acf.error),
          errorNoise: arr(c.acf.errorNoise),
          significant: c.acf.significant,
        },
        warnings: c.warnings,
      };
      await atomicWrite(join(tmp, 'compare.json'), `${JSON.stringify(metrics, null, 2)}\n`);
      const html = [
        '<!doctype html>',
        '<html><head><meta charset="utf-8"><title>sdekit compare</title></head><body style="font-family:sans-serif">',
        `<h1>sdekit compare</h1><p>data <code>${escapeHtml(dataPath)}</code> against simulation <code>${escapeHtml(simPath)}</code></p>`,
        `<pre>${escapeHtml(moments)}\n\n${escapeHtml(stats)}</pre>`,
        ...files.map((f) => `<img src="${f}" alt="${f}">`),
        '</body></html>',
      ].join('\n');
      await atomicWrite(join(tmp, 'index.html'), `${html}\n`);
    });
    io.stdout(`wrote ${outDir}: compare.json, index.html, ${files.join(', ')}\n`);
  },
};

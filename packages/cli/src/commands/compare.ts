/**
 * `sdekit compare`: data against a simulation, coordinate by coordinate: marginal PDFs (KL divergence
 * and Hellinger distance on a common grid, @sdekit/sde `marginalKL`) and normalised autocorrelation
 * functions (@sdekit/sde `acfCoordinates`, simulation ACFs averaged over paths) on a common lag grid.
 * Prints tables; with --out also writes compare.json, SVG plots and an index.html that shows them.
 */
import { join } from 'node:path';
import { acfCoordinates, column, histogram, kde1d, marginalKL, mean, variance } from '@sdekit/sde';
import { atomicWrite } from '../io.js';
import {
  checkNoConstantColumn,
  checkOutputFolder,
  readColumns,
  readSimulation,
  writeFolderAtomically,
} from './files.js';
import { formatTable, num } from './report.js';
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

/** Every `step`-th entry of `rho` up to `count` entries. */
function strided(rho: Float64Array, step: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = rho[k * step];
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

export const compareCommand: CommandSpec = {
  name: 'compare',
  brief: 'marginal PDFs (KL, Hellinger) and ACFs of data and simulation: tables and SVG plots',
  summary:
    'Compares a simulation with data: per coordinate the mean, std, KL(data || sim) and Hellinger distance of\n' +
    'the marginal PDFs, and the autocorrelation functions side by side (max |ACF difference| over lags).\n' +
    'Simulations with several paths are pooled for the PDFs and averaged over paths for the ACFs.',
  positionals: [
    { name: 'DATA', help: 'CSV or .npy time series (rows = time)' },
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
    dt: {
      type: 'string',
      value: 'DT',
      help: 'sampling interval of DATA',
      defaultText: '1 (lags in samples)',
    },
    'sim-dt': {
      type: 'string',
      value: 'DT',
      help: 'sampling interval of SIM (DT and SIM-DT must be whole multiples)',
      defaultText: '--dt',
    },
    'max-lag': {
      type: 'string',
      value: 'TIME',
      help: 'largest ACF lag (time units)',
      defaultText: '3 x the e-folding time of the data ACF, at most a quarter of the shorter series',
    },
    bins: { type: 'string', value: 'N', help: 'bins per coordinate for the PDFs', defaultText: '64' },
    pdf: { type: 'string', value: 'histogram|kde', help: 'PDF estimator', defaultText: 'histogram' },
    force: FORCE_OPTION,
  },
  notes: 'Example:\n  sdekit compare series.csv sim.npy --columns u,v --dt 0.01 --out compare/',
  async run(args, io) {
    const [dataPath, simPath] = args.positionals;
    const dtData = numberOption(args, 'dt', 1, { positive: true });
    const dtSim = numberOption(args, 'sim-dt', dtData, { positive: true });
    const bins = numberOption(args, 'bins', 64, { integer: true, min: 2 });
    const pdf = choiceOption(args, 'pdf', ['histogram', 'kde'] as const, 'histogram');
    const maxLagTime = numberOption(args, 'max-lag', undefined, { positive: true });
    const outDir = stringOption(args, 'out');
    const timeUnit = args.values.dt === undefined ? 'samples' : 'time';
    // The report folder is checked before any work: never an input, never a non-empty folder without --force.
    const dir =
      outDir === undefined
        ? undefined
        : await checkOutputFolder(io, outDir, 'out', {
            inputs: [
              { path: dataPath, role: 'DATA' },
              { path: simPath, role: 'SIM' },
            ],
            force: forceFlag(args),
          });

    const table = await readColumns(io, dataPath, 'DATA', stringOption(args, 'columns'));
    const D = table.cols;
    const sim = await readSimulation(io, simPath, D);
    if (table.rows < MIN_SAMPLES || sim.length < MIN_SAMPLES) {
      throw new UsageError(
        `compare needs at least ${MIN_SAMPLES} samples per series; DATA has ${table.rows}, SIM has ${sim.length} per path`,
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
    const limit = Math.max(1, Math.floor(Math.min((table.rows - 1) / rData, (sim.length - 1) / rSim) / 4));
    let lags: number;
    if (maxLagTime !== undefined) {
      lags = Math.round(maxLagTime / coarse);
      if (lags < 1 || lags > limit) {
        throw new UsageError(
          `--max-lag ${num(maxLagTime)}: must lie between one lag (${num(coarse)}) and a quarter of the shorter series (${num(limit * coarse)})`,
        );
      }
    } else {
      // 3 e-folding times of the slowest coordinate of the data. The ACF is computed on a lag window
      // that doubles until every coordinate has decayed below 1/e (or the window is the limit): the
      // cost and memory then follow the data's correlation time, not its length (an FFT over all N/4
      // lags of a 1e8-sample series would need tens of GB).
      let window = Math.min(limit, 256);
      let fold = -1;
      for (;;) {
        fold = 0;
        for (const rho of acfCoordinates(table.data, D, window * rData)) {
          const k = strided(rho, rData, window + 1).findIndex((v) => v < Math.exp(-1));
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
    const dataAcf = acfCoordinates(table.data, D, lags * rData);
    const count = lags + 1;

    // ACFs per coordinate on the common grid; the simulation's averaged over its paths.
    const simAcf = Array.from({ length: D }, () => new Float64Array(count));
    for (let p = 0; p < sim.paths; p++) {
      const one = sim.data.subarray(p * sim.length * D, (p + 1) * sim.length * D);
      acfCoordinates(Float64Array.from(one), D, lags * rSim).forEach((rho, j) => {
        const s = strided(rho, rSim, count);
        for (let k = 0; k < count; k++) simAcf[j][k] += s[k] / sim.paths;
      });
    }
    const dataAcfGrid = dataAcf.map((rho) => strided(rho, rData, count));
    const lagTimes = Float64Array.from({ length: count }, (_, k) => k * coarse);

    const kl = marginalKL(table.data, sim.data, D, { bins, method: pdf });
    const mData = mean(table.data, D);
    const mSim = mean(sim.data, D);
    const vData = variance(table.data, D);
    const vSim = variance(sim.data, D);
    const acfErr = dataAcfGrid.map((a, j) =>
      a.reduce((e, v, k) => Math.max(e, Math.abs(v - simAcf[j][k])), 0),
    );

    const stats = formatTable(
      [
        'coordinate',
        'mean data',
        'mean sim',
        'std data',
        'std sim',
        'KL(data||sim)',
        'Hellinger',
        'ACF error',
      ],
      table.names.map((name, j) => [
        name,
        num(mData[j], 4),
        num(mSim[j], 4),
        num(Math.sqrt(vData[j]), 4),
        num(Math.sqrt(vSim[j]), 4),
        num(kl.kl[j], 3),
        num(kl.hellinger[j], 3),
        num(acfErr[j], 3),
      ]),
    );
    const shown = Array.from(new Set([0, 1, 2, 3, 4, 5].map((i) => Math.round((i * lags) / 5))));
    const acfTable = formatTable(
      [`lag (${timeUnit})`, ...table.names.flatMap((n) => [`${n} data`, `${n} sim`])],
      shown.map((k) => [
        num(lagTimes[k], 4),
        ...dataAcfGrid.flatMap((a, j) => [num(a[k], 3), num(simAcf[j][k], 3)]),
      ]),
    );
    io.stdout(
      [
        `data ${dataPath}: ${table.rows} samples x ${D}; sim ${simPath}: ${sim.paths} path${sim.paths > 1 ? 's' : ''} x ${sim.length} samples`,
        `marginal PDFs: ${pdf}, ${bins} bins on the common range of data and sim; ACF error = max over lags 0..${num(lags * coarse)} of |ACF data - ACF sim|`,
        '',
        stats,
        '',
        'autocorrelation functions:',
        acfTable,
        '',
      ].join('\n'),
    );

    if (outDir === undefined || dir === undefined) return;
    // Written into a temporary folder that replaces DIR as a whole: a failure leaves no partial report.
    const files: string[] = [];
    await writeFolderAtomically(dir, async (tmp) => {
      for (let j = 0; j < D; j++) {
        const name = table.names[j];
        const grid = kl.grids[j];
        const density = (v: Float64Array) =>
          pdf === 'histogram' ? histogram(v, grid).density : kde1d(v, grid.centers);
        const pdfSvg = renderLineChart({
          title: `Marginal PDF of ${name}: KL = ${num(kl.kl[j], 3)}, Hellinger = ${num(kl.hellinger[j], 3)}`,
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
        const acfSvg = renderLineChart({
          title: `ACF of ${name}: max difference ${num(acfErr[j], 3)}`,
          xLabel: `lag (${timeUnit})`,
          yLabel: 'autocorrelation',
          series: [
            { name: 'data', x: lagTimes, y: dataAcfGrid[j], color: '#1f77b4' },
            { name: 'simulation', x: lagTimes, y: simAcf[j], color: '#d62728', dash: '6 3' },
          ],
        });
        const pdfFile = `pdf-${fileSafe(name)}.svg`;
        const acfFile = `acf-${fileSafe(name)}.svg`;
        await atomicWrite(join(tmp, pdfFile), pdfSvg);
        await atomicWrite(join(tmp, acfFile), acfSvg);
        files.push(pdfFile, acfFile);
      }
      const metrics = {
        data: dataPath,
        sim: simPath,
        columns: table.names,
        samples: { data: table.rows, simPaths: sim.paths, simLength: sim.length },
        pdf: {
          method: pdf,
          bins,
          kl: Array.from(kl.kl),
          klMean: kl.mean,
          hellinger: Array.from(kl.hellinger),
        },
        moments: {
          meanData: Array.from(mData),
          meanSim: Array.from(mSim),
          stdData: Array.from(vData, Math.sqrt),
          stdSim: Array.from(vSim, Math.sqrt),
        },
        acf: {
          lagTimes: Array.from(lagTimes),
          data: dataAcfGrid.map((a) => Array.from(a)),
          sim: simAcf.map((a) => Array.from(a)),
          error: acfErr,
        },
      };
      await atomicWrite(join(tmp, 'compare.json'), `${JSON.stringify(metrics, null, 2)}\n`);
      const html = [
        '<!doctype html>',
        '<html><head><meta charset="utf-8"><title>sdekit compare</title></head><body style="font-family:sans-serif">',
        `<h1>sdekit compare</h1><p>data <code>${escapeHtml(dataPath)}</code> against simulation <code>${escapeHtml(simPath)}</code></p>`,
        `<pre>${escapeHtml(stats)}</pre>`,
        ...files.map((f) => `<img src="${f}" alt="${f}">`),
        '</body></html>',
      ].join('\n');
      await atomicWrite(join(tmp, 'index.html'), `${html}\n`);
    });
    io.stdout(`wrote ${outDir}: compare.json, index.html, ${files.join(', ')}\n`);
  },
};

#!/usr/bin/env node
/**
 * sdekit-bench: the benchmark suite's command line.
 *
 *   sdekit-bench run [cases...] [--profile quick|full] [--out DIR] [--seed S] [--backend auto|wasm|cpu|node] [--no-fail] [--resume] [--set NAME=VALUE] [--jobs N] [--series-format npy|h5]
 *   sdekit-bench perf [--out FILE] [--packages sde,partition,...]
 *
 * `run` executes the selected cases (default: all), shows progress on stderr, prints a summary
 * table and exits 0 only when every selected case passed (always 0 with --no-fail, except on a
 * usage error). `perf` runs every package's vitest bench files and writes one table.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { BackendPreference } from '@sdekit/cli';
import { CASE_IDS } from './cases/index.js';
import { type RunReport, validateRunReport } from './metrics.js';
import { runPerf } from './perf.js';
import { terminalProgress } from './progress.js';
import { configurationTables, markdownTable, summaryTable } from './report.js';
import { runSuite } from './runner.js';

const USAGE = `usage:
  sdekit-bench run [${CASE_IDS.join('|')} ...] [--profile quick|full] [--out DIR] [--seed S]
                   [--backend auto|wasm|cpu|node] [--no-fail] [--resume] [--set NAME=VALUE ...] [--jobs N]
                   [--series-format npy|h5]
  sdekit-bench perf [--out FILE] [--packages sde,ks-solver,...]
  sdekit-bench table [results/quick/metrics.json]   (Markdown table of a finished run)
Defaults: every case, profile quick, out results/<profile>, seed 20260101, backend auto.
--jobs runs N cases at once, each in its own process (default: the number of cores, at most 2); the
metrics are the same bits for any N.
--set overrides a size of the profile (e.g. --set T=500, or --set T2.T=500 for one case) for exploration.
--series-format h5 saves the series as HDF5 (one dataset 'data' each, through @sdekit/io) instead of .npy.
--resume continues an interrupted run in the same --out folder from its checkpoints (T3's score training
writes one every checkpointEvery steps; the other stages are recomputed, deterministically).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'run') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        profile: { type: 'string', default: 'quick' },
        out: { type: 'string' },
        seed: { type: 'string', default: '20260101' },
        backend: { type: 'string', default: 'auto' },
        'no-fail': { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        set: { type: 'string', multiple: true },
        jobs: { type: 'string' },
        'series-format': { type: 'string', default: 'npy' },
      },
    });
    // Default: one case per core, at most 2 (the quick suite's longest case, U1, is about half of it).
    const jobs = values.jobs === undefined ? Math.min(2, availableParallelism()) : Number(values.jobs);
    const profile = values.profile as 'quick' | 'full';
    const seed = Number(values.seed);
    const out = values.out ?? `results/${profile}`;
    const overrides: Record<string, number> = {};
    for (const kv of values.set ?? []) {
      const [k, v] = kv.split('=');
      if (!k || v === undefined || !Number.isFinite(Number(v)))
        throw new Error(`--set expects NAME=NUMBER, got '${kv}'`);
      overrides[k] = Number(v);
    }
    const progress = terminalProgress();
    process.stderr.write(`sdekit-bench: profile ${profile}, seed ${seed}, out ${out}\n`);
    const report = await runSuite({
      cases: positionals,
      profile,
      seed,
      out,
      backend: values.backend as BackendPreference,
      progress,
      overrides,
      resume: values.resume,
      jobs,
      seriesFormat: values['series-format'] as 'npy' | 'h5',
      onCase: (r) =>
        process.stderr.write(
          `${r.id}: ${r.status} in ${r.seconds.toFixed(1)} s${r.error ? ` (${r.error})` : ''}\n`,
        ),
    });
    process.stdout.write(`${summaryTable(report)}\nreport: ${out}/index.html\n`);
    return report.passed || values['no-fail'] ? 0 : 1;
  }
  if (command === 'table') {
    const file = rest[0] ?? 'results/quick/metrics.json';
    const doc = JSON.parse(await readFile(file, 'utf8'));
    const problems = validateRunReport(doc);
    if (problems.length > 0)
      throw new Error(`${file} does not match the metrics.json schema:\n${problems.join('\n')}`);
    const grids = configurationTables(doc as RunReport);
    process.stdout.write(`${grids ? `${grids}\n` : ''}${markdownTable(doc as RunReport)}\n`);
    return 0;
  }
  if (command === 'perf') {
    const { values } = parseArgs({
      args: rest,
      options: { out: { type: 'string', default: 'results/perf.md' }, packages: { type: 'string' } },
    });
    const table = await runPerf({
      out: values.out,
      packages: values.packages?.split(',').map((s) => s.trim()),
      progress: terminalProgress(),
    });
    process.stdout.write(`${table}\nwritten: ${values.out}\n`);
    return 0;
  }
  process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sdekit-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);

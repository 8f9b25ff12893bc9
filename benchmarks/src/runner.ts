/**
 * Runs a selection of cases into one run folder and writes the report.
 */

import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendPreference, selectBackend } from '@sdekit/cli';
import { InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { CASE_IDS, CASES } from './cases/index.js';
import { CaseContext, type Profile, type SeriesFormat } from './context.js';
import type { CaseResult, RunReport } from './metrics.js';
import { type ProgressSink, silentProgress } from './progress.js';
import { writeReport } from './report.js';

export interface RunOptions {
  /** Case ids (T1, T2, T3, M1, M2, U1), case-insensitive; empty or omitted = every case. */
  readonly cases?: readonly string[];
  readonly profile?: Profile;
  readonly seed?: number;
  /** Run folder; created if missing. */
  readonly out: string;
  readonly backend?: BackendPreference;
  readonly progress?: ProgressSink;
  /** Size overrides applied to every selected case (tests use them for reduced sizes). */
  readonly overrides?: Record<string, number>;
  /** Resume long stages from the checkpoints in `out` (the cases that write them: T3's DSM training). */
  readonly resume?: boolean;
  /** Called after each case with its result (the CLI prints a line). */
  readonly onCase?: (result: CaseResult) => void;
  /**
   * Cases run at once, each in its own Node process (default 1: in this process, one after the
   * other). Every case seeds its own streams, so the metrics are the same bits for any `jobs`.
   */
  readonly jobs?: number;
  /** Format of the saved series: 'npy' (default) or 'h5' (HDF5, through @sdekit/io). */
  readonly seriesFormat?: SeriesFormat;
}

/** What a case needs to run, in this process or in a worker process (`case-worker`). */
export interface CaseJob {
  readonly id: string;
  readonly profile: Profile;
  readonly seed: number;
  readonly out: string;
  readonly backend: BackendPreference;
  readonly overrides?: Record<string, number>;
  readonly resume?: boolean;
  readonly seriesFormat?: SeriesFormat;
}

/** Runs one case in this process (the backend must be selected already) and returns its result. */
export async function runCase(job: CaseJob, progress: ProgressSink): Promise<CaseResult> {
  const entry = CASES.find((c) => c.id === job.id);
  if (!entry)
    throw new InvalidArgumentError('cases', `unknown case '${job.id}'`, `pick from ${CASE_IDS.join(', ')}`);
  const ctx = new CaseContext({
    id: job.id,
    title: entry.title,
    profile: job.profile,
    seed: job.seed,
    runDir: job.out,
    overrides: job.overrides,
    resume: job.resume,
    seriesFormat: job.seriesFormat,
    progress,
  });
  const c0 = performance.now();
  let error: unknown = null;
  try {
    const bench = await entry.load();
    await bench.run(ctx);
  } catch (err) {
    error = err;
  }
  return ctx.result((performance.now() - c0) / 1000, error);
}

/** Expected seconds of each quick case (2026-12-03 run), to start the longest first when jobs > 1. */
const QUICK_SECONDS: Record<string, number> = { U1: 421, T3: 129, M2: 75, M1: 61, T1: 21, T2: 15 };

/**
 * Runs the cases in `jobs` worker processes (longest expected first); results come back in the
 * order of `ids`. Progress: one line per finished stage.
 */
async function runInWorkers(
  ids: readonly string[],
  base: Omit<CaseJob, 'id'>,
  jobs: number,
  progress: ProgressSink,
  onCase: ((r: CaseResult) => void) | undefined,
): Promise<CaseResult[]> {
  const here = fileURLToPath(import.meta.url);
  const worker = resolve(dirname(here), `case-worker${extname(here)}`);
  // From the TypeScript sources the worker needs a TypeScript loader: the parent's own (tsx puts it
  // in execArgv), else tsx (under vitest, whose loader is not in execArgv).
  const tsLoader = process.execArgv.some((a) => a === 'tsx' || /[\\/]tsx[\\/]dist[\\/]/.test(a));
  const execArgv = extname(here) === '.ts' && !tsLoader ? ['--import', 'tsx'] : process.execArgv;
  const queue = [...ids].sort((a, b) => (QUICK_SECONDS[b] ?? 0) - (QUICK_SECONDS[a] ?? 0));
  const results = new Map<string, CaseResult>();
  const runOne = (id: string) =>
    new Promise<CaseResult>((done) => {
      const t0 = performance.now();
      const child = fork(worker, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let result: CaseResult | null = null;
      child.on('message', (m: WorkerMessage) => {
        // Stages of two cases interleave, so each is reported whole when it ends.
        if (m.kind === 'end') {
          progress.start(m.label);
          progress.end(m.seconds, m.detail);
        } else if (m.kind === 'result') result = m.result;
      });
      child.on('exit', (code, signal) => {
        done(
          result ?? {
            id,
            title: CASES.find((c) => c.id === id)?.title ?? id,
            status: 'error',
            error: `worker process ended (${signal ?? `exit code ${code}`}) before the case finished`,
            metrics: [],
            stages: [],
            seconds: (performance.now() - t0) / 1000,
            sizes: {},
            warnings: [],
            plots: [],
            series: [],
            models: [],
          },
        );
      });
      child.send({ ...base, id } satisfies CaseJob);
    });
  const lanes = Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const r = await runOne(id);
      results.set(id, r);
      onCase?.(r);
    }
  });
  await Promise.all(lanes);
  return ids.map((id) => results.get(id) as CaseResult);
}

/** Messages from a case worker to the runner. */
export type WorkerMessage =
  | { kind: 'end'; label: string; seconds: number; detail?: string }
  | { kind: 'result'; result: CaseResult };

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Versions of the workspace packages (read from their package.json) and of TensorFlow.js. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of ['sde', 'ks-solver', 'partition', 'nn', 'flows', 'score', 'averaging', 'vi', 'cli']) {
    try {
      const pkg = JSON.parse(readFileSync(resolve(repoRoot, 'packages', p, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      out[pkg.name] = pkg.version;
    } catch {
      out[`@sdekit/${p}`] = 'unavailable';
    }
  }
  out['@tensorflow/tfjs-core'] = tf.version_core;
  return out;
}

/** Normalises and checks a case selection. */
export function resolveCases(ids: readonly string[] | undefined): string[] {
  if (!ids || ids.length === 0) return [...CASE_IDS];
  return ids.map((raw) => {
    const id = raw.toUpperCase();
    if (!CASE_IDS.includes(id))
      throw new InvalidArgumentError('cases', `unknown case '${raw}'`, `pick from ${CASE_IDS.join(', ')}`);
    return id;
  });
}

/**
 * Runs the selected cases and writes metrics.json, index.html, plots, series and models into `out`.
 *
 * @example
 * const report = await runSuite({ cases: ['T2'], profile: 'quick', seed: 1, out: 'results/quick' });
 * console.log(report.passed);
 */
export async function runSuite(o: RunOptions): Promise<RunReport> {
  const ids = resolveCases(o.cases);
  const profile = o.profile ?? 'quick';
  if (profile !== 'quick' && profile !== 'full')
    throw new InvalidArgumentError(
      'profile',
      `unknown profile '${String(profile)}'`,
      "pass 'quick' or 'full'",
    );
  const seed = o.seed ?? 20260101;
  if (!Number.isInteger(seed) || seed < 0)
    throw new InvalidArgumentError(
      'seed',
      `must be a non-negative integer, got ${seed}`,
      'pass e.g. --seed 1',
    );
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const backend = await selectBackend(o.backend ?? 'auto');
  const date = new Date().toISOString();
  const t0 = performance.now();
  const jobs = o.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new InvalidArgumentError('jobs', `must be a positive integer, got ${jobs}`, 'pass e.g. --jobs 2');
  const progress = o.progress ?? silentProgress;
  const seriesFormat = o.seriesFormat ?? 'npy';
  if (seriesFormat !== 'npy' && seriesFormat !== 'h5')
    throw new InvalidArgumentError(
      'seriesFormat',
      `must be 'npy' or 'h5', got '${seriesFormat}'`,
      'pass --series-format npy or h5',
    );
  const base = {
    profile,
    seed,
    out,
    backend: o.backend ?? 'auto',
    overrides: o.overrides,
    resume: o.resume,
    seriesFormat,
  };
  const results: CaseResult[] = [];
  if (jobs > 1 && ids.length > 1) {
    results.push(...(await runInWorkers(ids, base, jobs, progress, o.onCase)));
  } else {
    for (const id of ids) {
      const result = await runCase({ ...base, id }, progress);
      results.push(result);
      o.onCase?.(result);
    }
  }
  const report: RunReport = {
    schema: 'sdekit-bench-metrics',
    schemaVersion: 1,
    date,
    profile,
    seed,
    backend: { name: backend.name, requested: o.backend ?? 'auto' },
    versions: packageVersions(),
    machine: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    cases: results,
    passed: results.every((r) => r.status === 'passed'),
    seconds: (performance.now() - t0) / 1000,
  };
  await writeReport(out, report);
  return report;
}

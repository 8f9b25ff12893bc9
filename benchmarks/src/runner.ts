/**
 * Runs a selection of cases into one run folder and writes the report.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendPreference, selectBackend } from '@sdekit/cli';
import { InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { CASE_IDS, CASES } from './cases/index.js';
import { CaseContext, type Profile } from './context.js';
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
}

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
  const results: CaseResult[] = [];
  for (const id of ids) {
    const entry = CASES.find((c) => c.id === id);
    if (!entry) continue;
    const ctx = new CaseContext({
      id,
      title: entry.title,
      profile,
      seed,
      runDir: out,
      overrides: o.overrides,
      resume: o.resume,
      progress: o.progress ?? silentProgress,
    });
    const c0 = performance.now();
    let error: unknown = null;
    try {
      const bench = await entry.load();
      await bench.run(ctx);
    } catch (err) {
      error = err;
    }
    const result = ctx.result((performance.now() - c0) / 1000, error);
    results.push(result);
    o.onCase?.(result);
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

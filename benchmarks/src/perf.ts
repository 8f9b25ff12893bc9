/**
 * `sdekit-bench perf`: runs every package's vitest bench files (packages/<name>/bench/*.bench.ts)
 * and collects their throughputs into one Markdown table. Packages that train networks are run once
 * per TensorFlow.js backend available here (wasm and cpu; tfjs-node where installed), chosen by the
 * SDEKIT_TF_BACKEND variable that the shared test setup reads.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atomicWrite } from '@sdekit/cli';
import type { ProgressSink } from './progress.js';
import { silentProgress } from './progress.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['sde', 'ks-solver', 'partition', 'nn', 'flows', 'score', 'averaging', 'vi'];
const TF_PACKAGES = new Set(['nn', 'flows', 'score', 'averaging', 'vi']);

export interface PerfRow {
  readonly pkg: string;
  readonly backend: string;
  readonly group: string;
  readonly name: string;
  /** Operations per second. */
  readonly hz: number;
  /** Mean time per operation in milliseconds. */
  readonly meanMs: number;
  /** Relative margin of error in percent. */
  readonly rme: number;
  readonly samples: number;
}

interface VitestBenchJson {
  files: Array<{
    filepath: string;
    groups: Array<{
      fullName: string;
      benchmarks: Array<{
        name: string;
        hz: number;
        mean: number;
        rme: number;
        sampleCount?: number;
        samples?: unknown[];
      }>;
    }>;
  }>;
}

function runVitestBench(cwd: string, json: string, env: Record<string, string>): Promise<number> {
  return new Promise((res) => {
    const child = spawn('npx', ['vitest', 'bench', '--run', '--outputJson', json], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('close', (code) => res(code ?? 1));
  });
}

/** Parses vitest's bench JSON into rows. */
export function parseBenchJson(pkg: string, backend: string, doc: VitestBenchJson): PerfRow[] {
  const rows: PerfRow[] = [];
  for (const f of doc.files ?? [])
    for (const g of f.groups ?? [])
      for (const b of g.benchmarks ?? [])
        rows.push({
          pkg,
          backend,
          group: g.fullName.replace(/^.*?bench\//, ''),
          name: b.name,
          hz: b.hz,
          meanMs: b.mean,
          rme: b.rme,
          samples: b.sampleCount ?? (Array.isArray(b.samples) ? b.samples.length : 0),
        });
  return rows;
}

/** Formats rows as a Markdown table. */
export function perfTable(rows: readonly PerfRow[], date: string): string {
  const lines = [
    `sdekit perf, ${date}`,
    '',
    '| package | backend | bench | ops/s | mean (ms) | rme (%) |',
    '| --- | --- | --- | ---: | ---: | ---: |',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.pkg} | ${r.backend} | ${r.group} > ${r.name} | ${r.hz.toPrecision(4)} | ${r.meanMs.toPrecision(4)} | ${r.rme.toFixed(1)} |`,
    );
  return lines.join('\n');
}

/**
 * Runs the bench files of the given packages (default: all) and writes the table to `out`.
 *
 * @example
 * const table = await runPerf({ out: 'results/perf.md', packages: ['sde', 'partition'] });
 */
export async function runPerf(o: {
  out: string;
  packages?: string[];
  progress?: ProgressSink;
}): Promise<string> {
  const progress = o.progress ?? silentProgress;
  const rows: PerfRow[] = [];
  const tmp = join(tmpdir(), `sdekit-perf-${process.pid}`);
  await mkdir(tmp, { recursive: true });
  const backends = ['wasm', 'cpu'];
  try {
    await import('@tensorflow/tfjs-node' as string);
    backends.unshift('node');
  } catch {
    // tfjs-node not installed here: wasm and cpu only
  }
  for (const pkg of o.packages ?? PACKAGES) {
    const dir = resolve(repoRoot, 'packages', pkg);
    const benchDir = join(dir, 'bench');
    if (!existsSync(benchDir) || !readdirSync(benchDir).some((f) => f.endsWith('.bench.ts'))) continue;
    for (const backend of TF_PACKAGES.has(pkg) ? backends : ['-']) {
      const json = join(tmp, `${pkg}-${backend}.json`);
      progress.start(`perf ${pkg}${backend === '-' ? '' : ` (${backend})`}`);
      const t0 = performance.now();
      const code = await runVitestBench(
        dir,
        json,
        backend === '-' ? {} : { SDEKIT_TF_BACKEND: backend === 'node' ? 'tensorflow' : backend },
      );
      progress.end((performance.now() - t0) / 1000, code === 0 ? undefined : `exit ${code}`);
      if (existsSync(json))
        rows.push(
          ...parseBenchJson(pkg, backend, JSON.parse(await readFile(json, 'utf8')) as VitestBenchJson),
        );
    }
  }
  await rm(tmp, { recursive: true, force: true });
  const table = perfTable(rows, new Date().toISOString());
  await mkdir(dirname(resolve(o.out)), { recursive: true });
  await atomicWrite(resolve(o.out), `${table}\n`);
  return table;
}

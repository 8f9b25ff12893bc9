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

/** One PyTorch reference rate (tools/torch-parity/perf.py). */
export interface TorchRate {
  readonly work: string;
  readonly threads: number;
  readonly perSecond: number;
  readonly unit: string;
  /** PyTorch's version. */
  readonly torch?: string;
}

/** The works both sides measure: how to find sdekit's bench row and turn its ops/s into the unit. */
const TORCH_WORKS: readonly {
  work: string;
  pkg: string;
  name: string;
  group: RegExp;
  /** Units per bench operation, from the group name (steps per call x batch for DSM). */
  perOp: (group: string) => number;
}[] = [
  {
    work: 'DSM MLP [128, 128], D = 2, batch 256',
    pkg: 'score',
    name: 'MLP [128, 128], D = 2, batch 256',
    group: /DSM training/,
    perOp: (g) => Number(/(\d+) steps per call/.exec(g)?.[1] ?? Number.NaN) * 256,
  },
  {
    work: 'DSM U-Net base 16 [1, 2, 4], D = 32, batch 64',
    pkg: 'score',
    name: 'U-Net base 16 [1, 2, 4], D = 32, batch 64',
    group: /DSM training/,
    perOp: (g) => Number(/(\d+) steps per call/.exec(g)?.[1] ?? Number.NaN) * 64,
  },
  {
    work: 'RealNVP dim 8, 6 couplings, hidden [64, 64], batch 1024',
    pkg: 'flows',
    name: 'realNvp (affine)',
    group: /training step, dim 8,/,
    perOp: () => 1,
  },
];

/**
 * The PyTorch comparison: for each shared work, sdekit's best backend against PyTorch CPU on one and
 * on two threads, as ratios (sdekit / PyTorch; above 1, sdekit is faster). Both sides are measured
 * in the same `perf` run, so the ratios do not depend on how busy the machine was that day.
 */
export function torchComparison(rows: readonly PerfRow[], torch: readonly TorchRate[]): string {
  const lines = [
    '| work | sdekit (backend) | PyTorch, 1 thread | ratio | PyTorch, 2 threads | ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const w of TORCH_WORKS) {
    let best: { rate: number; backend: string } | null = null;
    for (const r of rows)
      if (r.pkg === w.pkg && r.name === w.name && w.group.test(r.group)) {
        const rate = r.hz * w.perOp(r.group);
        if (Number.isFinite(rate) && (best === null || rate > best.rate)) best = { rate, backend: r.backend };
      }
    const t1 = torch.find((t) => t.work === w.work && t.threads === 1);
    const t2 = torch.find((t) => t.work === w.work && t.threads === 2);
    if (!best || !t1) continue;
    const unit = t1.unit;
    const f = (v: number) => v.toPrecision(3);
    lines.push(
      `| ${w.work} | ${f(best.rate)} ${unit} (${best.backend}) | ${f(t1.perSecond)} | ${(best.rate / t1.perSecond).toFixed(2)}x | ${t2 ? f(t2.perSecond) : '-'} | ${t2 ? `${(best.rate / t2.perSecond).toFixed(2)}x` : '-'} |`,
    );
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

/** Runs tools/torch-parity/perf.py with the system python3 when PyTorch is importable there; else null. */
function runTorchPerf(): Promise<TorchRate[] | null> {
  return new Promise((res) => {
    const script = join(repoRoot, 'tools', 'torch-parity', 'perf.py');
    if (!existsSync(script)) return res(null);
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const child = spawn(python, [script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', () => res(null));
    child.on('close', (code) => {
      if (code !== 0) return res(null);
      try {
        res(JSON.parse(out.trim().split('\n').at(-1) ?? '') as TorchRate[]);
      } catch {
        res(null);
      }
    });
  });
}

/**
 * Runs the bench files of the given packages (default: all) and writes the table to `out`; where
 * PyTorch is installed (Debian python3-torch), also the PyTorch comparison of the networks.
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
  let table = perfTable(rows, new Date().toISOString());
  if ((o.packages ?? PACKAGES).some((p) => p === 'score' || p === 'flows')) {
    progress.start('perf PyTorch reference (tools/torch-parity/perf.py)');
    const t0 = performance.now();
    const torch = await runTorchPerf();
    progress.end((performance.now() - t0) / 1000, torch ? undefined : 'PyTorch not found: no comparison');
    const comparison = torch ? torchComparison(rows, torch) : '';
    if (comparison) table += `\n\nPyTorch CPU (${torch?.[0]?.torch ?? ''}), same run:\n\n${comparison}`;
  }
  await mkdir(dirname(resolve(o.out)), { recursive: true });
  await atomicWrite(resolve(o.out), `${table}\n`);
  return table;
}

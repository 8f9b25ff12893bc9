/**
 * `simulateParallel`: the paths of `simulate` spread over worker threads.
 *
 * Functions cannot be sent to a worker, so the system is named by a module and an export:
 * `{ module, exportName, args }`. Each worker imports the module, calls the export with `args` (or
 * uses it as is when it is not a function; an async factory is awaited, e.g. one that first selects
 * a TensorFlow.js backend) and integrates a contiguous range of paths: whole noise blocks when there
 * are at least as many blocks as threads, else an even share of the paths. Noise is drawn per block
 * of NOISE_BLOCK paths from `Rng.fromSeed(seed, block)` (a block split between threads is drawn by
 * each), so the bundle is bit-identical to `simulate` with the same options, for any number of
 * threads, provided the system's drift of a path does not depend on the other paths of its batch.
 *
 * The worker entry `simulate-worker.mjs` ships next to the built bundle (dist/) and next to this
 * source file; when running from TypeScript sources (tests), workers load the sources through tsx.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BlowUpError, InvalidArgumentError, RunawayError, SdekitError } from './errors.js';
import { NOISE_BLOCK } from './noise-stream.js';
import { planSimulation, type SimulateOptions, type SimulationPlan } from './simulate.js';
import { asSdeSystem, type SlowFastSystem } from './slowfast.js';
import { solverLocation } from './solver-registry.js';
import { eulerMaruyama } from './solvers.js';
import type { PathBundle, SdeSystem } from './types.js';
import { checkInteger } from './validate.js';
import { findExcursions } from './watch.js';

/** A system a worker can build: `(await import(module))[exportName](...args)`. */
export interface SystemSpec {
  /**
   * Module specifier: a file URL (e.g. `new URL('./my-system.js', import.meta.url).href`, or
   * `import.meta.resolve('@sdekit/systems')` for the benchmark models), an absolute path, or an
   * installed package name that the worker can resolve from @sdekit/sde's folder.
   */
  module: string;
  /**
   * Export to use: a factory function (sync or async) called with `args`, or an SdeSystem object.
   * A built system with a `dispose()` method (one that holds tensors) is disposed when done with.
   * A `SlowFastSystem` (e.g. `multiscaleDoubleWellSystem` of @sdekit/systems) is stacked by
   * `slowFastSde`, in the caller and in every worker alike.
   */
  exportName: string;
  /** Arguments of the factory; must be structured-cloneable (numbers, arrays, plain objects). */
  args?: unknown[];
}

/** Options of `simulateParallel`: those of `simulate`, plus the number of threads. */
export interface ParallelSimulateOptions extends SimulateOptions {
  /** Worker threads (default: min(available cores, paths)). */
  threads?: number;
}

/** URL of the module that holds this code: src/parallel.ts under tests, dist/index.(c)js when built. */
function selfUrl(): string {
  return import.meta.url;
}

function locateCore(): { coreUrl: string; workerUrl: URL; useTsx: boolean } {
  const self = selfUrl();
  const fromSources = /\.[cm]?ts$/.test(new URL(self).pathname);
  return {
    coreUrl: new URL(fromSources ? './index.ts' : './index.js', self).href,
    workerUrl: new URL('./simulate-worker.mjs', self),
    useTsx: fromSources,
  };
}

function resolveModule(spec: string, coreUrl: string): string {
  if (spec === '@sdekit/sde') return coreUrl;
  if (spec.startsWith('file:')) return spec;
  if (isAbsolute(spec)) return pathToFileURL(spec).href;
  return spec;
}

async function loadSystem(spec: SystemSpec, url: string): Promise<SdeSystem> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError(
      'spec.module',
      `cannot import ${spec.module}: ${(e as Error).message}`,
      'pass a file URL, an absolute path or an installed package name',
    );
  }
  const exp = mod[spec.exportName];
  if (exp === undefined) {
    throw new InvalidArgumentError(
      'spec.exportName',
      `module ${spec.module} has no export ${spec.exportName}`,
      'name an exported factory or system',
    );
  }
  const built = (
    typeof exp === 'function'
      ? await (exp as (...a: unknown[]) => SdeSystem | SlowFastSystem | Promise<SdeSystem | SlowFastSystem>)(
          ...(spec.args ?? []),
        )
      : exp
  ) as SdeSystem | SlowFastSystem;
  return asSdeSystem(built);
}

interface WorkerFailure {
  name?: string;
  message: string;
  time?: number;
  path?: number;
  argument?: string;
  coordinate?: number;
  value?: number;
}

function rebuildError(f: WorkerFailure): Error {
  if (f.name === 'BlowUpError' && typeof f.time === 'number' && typeof f.path === 'number')
    return new BlowUpError(f.time, f.path, 'in a worker thread');
  if (f.name === 'RunawayError' && typeof f.time === 'number' && typeof f.path === 'number')
    return new RunawayError(f.time, f.path, f.coordinate ?? 0, f.value ?? Number.NaN, 'in a worker thread');
  const e = new SdekitError('WORKER', `simulateParallel worker failed: ${f.message}`);
  return e;
}

/**
 * Like `simulate`, with the paths split over worker threads; returns the same PathBundle,
 * bit-identical to `simulate` and independent of the thread count.
 *
 * @example
 * import { simulateParallel } from '@sdekit/sde';
 * const bundle = await simulateParallel(
 *   { module: import.meta.resolve('@sdekit/systems'), exportName: 'fourWellSystem' },
 *   { x0: new Float64Array(2), paths: 100000, h: 1e-3, steps: 1000, saveEvery: 100, seed: 1, threads: 2 },
 * );
 */
export async function simulateParallel(spec: SystemSpec, opts: ParallelSimulateOptions): Promise<PathBundle> {
  if (!spec || typeof spec.module !== 'string' || typeof spec.exportName !== 'string') {
    throw new InvalidArgumentError(
      'spec',
      'must be { module: string, exportName: string, args?: unknown[] }',
      'name the module and export that build the system',
    );
  }
  if (spec.args !== undefined && !Array.isArray(spec.args)) {
    throw new InvalidArgumentError('spec.args', 'must be an array', 'pass the factory arguments as an array');
  }
  const { coreUrl, workerUrl, useTsx } = locateCore();
  const systemUrl = resolveModule(spec.module, coreUrl);
  // The caller's own copy of the system serves only to validate and plan.
  const system = await loadSystem(spec, systemUrl);
  let plan: SimulationPlan;
  try {
    plan = planSimulation(system, opts);
  } finally {
    (system as { dispose?: () => void }).dispose?.();
  }
  const solver = opts.solver ?? eulerMaruyama;
  const location = solverLocation(solver);
  if (!location) {
    throw new InvalidArgumentError(
      'solver',
      `solver '${solver.name}' is not registered with a module, so worker threads cannot load it`,
      "registerSolver(solver, { module: import.meta.resolve('./its-file.js'), exportName: '...' }), or call simulate",
    );
  }
  const solverUrl = resolveModule(location.module, coreUrl);
  const blocks = Math.ceil(plan.paths / NOISE_BLOCK);
  const threads = opts.threads ?? Math.max(1, Math.min(availableParallelism(), plan.paths));
  checkInteger('threads', threads, 1);
  const used = Math.min(threads, plan.paths);
  // Worker w's first path: whole blocks while there are enough of them (no block drawn twice).
  const firstPath = (w: number) =>
    blocks >= used
      ? Math.min(plan.paths, Math.floor((w * blocks) / used) * NOISE_BLOCK)
      : Math.floor((w * plan.paths) / used);
  const d = system.dim;
  const L = plan.length;
  const data = new Float64Array(plan.paths * L * plan.savedDim);
  const total = plan.burnIn + plan.steps;
  const doneByWorker = new Float64Array(used);
  const pathsByWorker = new Float64Array(used);
  const jobs: Promise<void>[] = [];
  const workers: Worker[] = [];
  // One start, or one per path (each worker reads its share).
  const x0 = opts.x0.length === d ? opts.x0 : opts.x0.slice(0, plan.paths * d);
  for (let w = 0; w < used; w++) {
    const pathStart = firstPath(w);
    const pathCount = firstPath(w + 1) - pathStart;
    pathsByWorker[w] = pathCount;
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(workerUrl, {
          // Workers inherit the parent's Node flags; --input-type (node -e with ESM) is invalid there.
          execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
          workerData: {
            coreUrl,
            systemUrl,
            exportName: spec.exportName,
            args: spec.args ?? [],
            useTsx,
            plan,
            solverUrl,
            solverExport: location.exportName,
            solverName: solver.name,
            x0,
            pathStart,
            pathCount,
            dim: plan.savedDim,
          },
        });
        workers.push(worker);
        let settled = false;
        worker.on('message', (msg: { type: string; done?: number; data?: Float64Array } & WorkerFailure) => {
          if (msg.type === 'progress' && opts.onProgress) {
            doneByWorker[w] = msg.done ?? 0;
            let s = 0;
            for (let k = 0; k < used; k++) s += doneByWorker[k] * pathsByWorker[k];
            opts.onProgress(Math.floor(s / plan.paths), total);
          } else if (msg.type === 'done' && msg.data) {
            data.set(msg.data, pathStart * L * plan.savedDim);
            settled = true;
            resolve();
            void worker.terminate();
          } else if (msg.type === 'error') {
            settled = true;
            reject(rebuildError(msg));
            void worker.terminate();
          }
        });
        worker.on('error', (e) => {
          if (!settled) {
            settled = true;
            reject(rebuildError({ name: e.name, message: e.message }));
          }
        });
        worker.on('exit', (code) => {
          if (!settled) {
            settled = true;
            reject(rebuildError({ message: `worker exited with code ${code} before finishing` }));
          }
        });
      }),
    );
  }
  try {
    await Promise.all(jobs);
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  }
  return {
    data,
    dim: plan.savedDim,
    length: L,
    paths: plan.paths,
    dt: plan.h * plan.saveEvery,
    t0: plan.t0 + plan.burnIn * plan.h,
    ...(plan.watch ? { excursions: findExcursions(plan, data, d) } : {}),
  };
}

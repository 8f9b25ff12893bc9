/**
 * The driver: `simulate` runs any solver over many paths at once. Every step advances a chunk of paths
 * together on flat Float64Arrays (point p, coordinate j at p * dim + j) and allocates nothing per
 * step; `planSimulation` validates the options once and `integrateRange` integrates any range of the
 * paths (the worker threads of `simulateParallel` call it with their share).
 *
 * Reproducibility: noise is drawn per fixed block of NOISE_BLOCK = 256 paths from the stream
 * `Rng.fromSeed(seed, blockIndex)`, so the output does not depend on how the paths are split over
 * worker threads, even inside a block (`simulateParallel` gives bit-identical bundles for any thread
 * count).
 */
import { constants as bufferConstants } from 'node:buffer';
import { totalmem } from 'node:os';
import { BlowUpError, DimensionError, InvalidArgumentError } from './errors.js';
import { BlockNoise, NOISE_BLOCK } from './noise-stream.js';
import { Rng } from './rng.js';
import { checkSystem, type Solver } from './solver.js';
import { eulerMaruyama } from './solvers.js';
import type { PathBundle, SdeSystem } from './types.js';
import { checkFinite, checkInteger, checkPositive, wholeMultiple } from './validate.js';
import { checkRunaway, findExcursions, planWatch, type WatchBox, type WatchPlan } from './watch.js';

/** Options of `simulate`. */
export interface SimulateOptions {
  /** Initial state: dim values (shared by all paths) or paths * dim values (row-major). */
  x0: Float64Array;
  /** Number of independent paths (default 1). */
  paths?: number;
  /** Step size h > 0. */
  h: number;
  /** Number of steps after burn-in (give steps or T). Must be a multiple of saveEvery. */
  steps?: number;
  /** Integration time after burn-in; steps = T / h must be an integer (to 1e-9 relative). */
  T?: number;
  /** Save every k-th step (default 1): the bundle's dt = h * saveEvery. */
  saveEvery?: number;
  /** Steps integrated and discarded before the first saved state (default 0). */
  burnIn?: number;
  /** Seed: block b of NOISE_BLOCK paths uses Rng.fromSeed(seed, b). */
  seed: number;
  /** Default eulerMaruyama. */
  solver?: Solver;
  /** Start time of the integration (default 0); the bundle starts at t0 + burnIn * h. */
  t0?: number;
  /** Called with (steps done, total steps) about every 1 % of the work. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Paths advanced together per solver call, rounded up to a multiple of NOISE_BLOCK (default 1024,
   * which keeps a chunk's state, noise and drift in cache). The output does not depend on it. Systems
   * whose batched drift has a large fixed cost per call (a neural network) may prefer all paths.
   */
  chunkPaths?: number;
  /**
   * Watch the paths against a box [lo, hi] (for a learned model, the data's range: see
   * LangevinModel.watchBox). With centre c = (lo + hi) / 2 and half-width r = (hi - lo) / 2 per
   * coordinate, a saved state with |x_j - c_j| > reportFactor r_j (default 1.5) is reported in
   * `bundle.excursions` (first time per path), and one with |x_j - c_j| > stopFactor r_j (default 10)
   * stops the simulation with a RunawayError naming the path, time and coordinate.
   */
  watch?: WatchBox;
  /**
   * Coordinates of the state to save (default all, in order): e.g. the slow coordinates of a stacked
   * slow-fast system (`slowFastSde(...).slowCoordinates`), so that the fast ones, integrated at every
   * step, take no memory. The bundle's `dim` is their number. Not with `watch`.
   */
  observe?: readonly number[];
}

/** Validated, normalised simulation parameters (shared with the worker entry). */
export interface SimulationPlan {
  paths: number;
  h: number;
  steps: number;
  saveEvery: number;
  burnIn: number;
  seed: number;
  t0: number;
  /** Saved states per path: steps / saveEvery + 1. */
  length: number;
  /** Paths advanced together per solver call (a multiple of NOISE_BLOCK). */
  chunkPaths: number;
  /** The watch box, or null. */
  watch: WatchPlan | null;
  /** The saved coordinates (`SimulateOptions.observe`), or null for all. */
  observe: number[] | null;
  /** Coordinates per saved state: observe.length, or the system's dim. */
  savedDim: number;
}

/** Validates simulate options against a system; throws typed errors naming the argument. */
export function planSimulation(system: SdeSystem, opts: SimulateOptions): SimulationPlan {
  checkSystem(system);
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidArgumentError('options', 'must be an object', 'pass { x0, paths, h, steps | T, seed }');
  }
  const paths = opts.paths ?? 1;
  checkInteger('paths', paths, 1);
  checkPositive('h', opts.h);
  const h = opts.h;
  let steps: number;
  if (opts.steps !== undefined && opts.T !== undefined) {
    throw new InvalidArgumentError('steps/T', 'both were given', 'pass either steps or T, not both');
  }
  if (opts.steps !== undefined) {
    checkInteger('steps', opts.steps, 1);
    steps = opts.steps;
  } else if (opts.T !== undefined) {
    checkPositive('T', opts.T);
    steps = wholeMultiple('T', opts.T, h, 'steps h', {
      fix: 'pass T that is a multiple of h, or pass steps',
    });
  } else {
    throw new InvalidArgumentError('steps/T', 'neither was given', 'pass steps (an integer) or T (a time)');
  }
  const saveEvery = opts.saveEvery ?? 1;
  checkInteger('saveEvery', saveEvery, 1);
  if (steps % saveEvery !== 0) {
    throw new InvalidArgumentError(
      'saveEvery',
      `steps = ${steps} is not a multiple of saveEvery = ${saveEvery}`,
      'choose steps (or T / h) divisible by saveEvery',
    );
  }
  const burnIn = opts.burnIn ?? 0;
  checkInteger('burnIn', burnIn, 0);
  const seed = opts.seed;
  if (!Number.isInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(
      'seed',
      `must be a non-negative integer, got ${seed}`,
      'pass an explicit integer seed',
    );
  }
  const t0 = opts.t0 ?? 0;
  if (!Number.isFinite(t0))
    throw new InvalidArgumentError('t0', `must be finite, got ${t0}`, 'pass a finite start time');
  if (!(opts.x0 instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'x0',
      'must be a Float64Array',
      'pass Float64Array.of(...) with dim or paths * dim values',
    );
  }
  const d = system.dim;
  if (opts.x0.length !== d && opts.x0.length !== paths * d) {
    throw new DimensionError(
      'x0',
      `has length ${opts.x0.length}, expected dim = ${d} or paths * dim = ${paths * d}`,
      'pass one initial state or one per path',
    );
  }
  checkFinite('x0', opts.x0);
  const solver = opts.solver ?? eulerMaruyama;
  checkSolver(solver, system);
  const chunkRequest = opts.chunkPaths ?? 4 * NOISE_BLOCK;
  checkInteger('chunkPaths', chunkRequest, 1);
  const chunkPaths = Math.ceil(chunkRequest / NOISE_BLOCK) * NOISE_BLOCK;
  const watch = planWatch(opts.watch, d);
  const observe = planObserve(opts.observe, d, watch !== null);
  const savedDim = observe ? observe.length : d;
  checkOutputSize(paths, steps / saveEvery + 1, savedDim);
  return {
    paths,
    h,
    steps,
    saveEvery,
    burnIn,
    seed,
    t0,
    length: steps / saveEvery + 1,
    chunkPaths,
    watch,
    observe,
    savedDim,
  };
}

function planObserve(observe: readonly number[] | undefined, d: number, watched: boolean): number[] | null {
  if (observe === undefined) return null;
  if (!Array.isArray(observe) || observe.length === 0)
    throw new InvalidArgumentError(
      'observe',
      'must be a non-empty array of coordinate indices',
      'pass e.g. [0] to save coordinate 0, or leave observe out to save all',
    );
  for (const j of observe)
    if (!Number.isInteger(j) || j < 0 || j >= d)
      throw new InvalidArgumentError(
        'observe',
        `holds ${String(j)}, not a coordinate of the ${d}-dimensional state`,
        `pass indices in [0, ${d - 1}]`,
      );
  if (watched)
    throw new InvalidArgumentError(
      'observe',
      'cannot be combined with watch (the box is in the saved coordinates of a full state)',
      'watch the full state, or observe without a watch box',
    );
  return [...observe];
}

/**
 * Refuses a simulation whose saved states would not fit in memory (a typo such as T = 1e12), before
 * anything is allocated, saying how much it would need.
 */
function checkOutputSize(paths: number, length: number, d: number): void {
  const values = paths * length * d;
  const bytes = 8 * values;
  const limit = Math.min(totalmem() / 2, bufferConstants.MAX_LENGTH);
  if (bytes > limit) {
    const gb = (b: number) => `${(b / 2 ** 30).toPrecision(3)} GiB`;
    throw new InvalidArgumentError(
      'T/steps',
      `the run would save ${paths} paths x ${length} states x ${d} coordinates = ${values.toExponential(3)} values (${gb(bytes)}), more than the ${gb(limit)} one simulation may hold here`,
      'simulate a shorter time, fewer paths, or save less often (saveEvery)',
    );
  }
}

function checkSolver(solver: Solver, system: SdeSystem): void {
  if (!solver || typeof solver.step !== 'function' || typeof solver.init !== 'function') {
    throw new InvalidArgumentError(
      'solver',
      'is not a Solver (it needs name, step, init, order, requires and normalsPerStep)',
      'pass eulerMaruyama, milstein or sra1, or a Solver object (init may be createWorkspace)',
    );
  }
  if (!solver.requires.noise.includes(system.noise)) {
    throw new InvalidArgumentError(
      'solver',
      `${solver.name} does not support ${system.noise} noise`,
      `use a solver for ${system.noise} noise, e.g. eulerMaruyama`,
    );
  }
  if (solver.requires.additive && system.additive !== true) {
    throw new InvalidArgumentError(
      'solver',
      `${solver.name} needs additive noise (system.additive = true)`,
      'use eulerMaruyama or milstein for state-dependent noise',
    );
  }
  if (solver.name === 'milstein' && system.noise === 'scalar' && system.dim > 1 && system.additive !== true) {
    throw new InvalidArgumentError(
      'solver',
      'milstein with state-dependent scalar noise in dim > 1 needs Levy areas',
      "use noise: 'diagonal' with g_i depending on x_i only, or eulerMaruyama",
    );
  }
}

/**
 * Integrates paths [pathStart, pathStart + pathCount) of a plan and writes them to `out` (laid out as
 * a PathBundle of pathCount paths). The range may start or end inside a noise block: such a block's
 * stream is drawn whole and the range's share of it used, so any split of the paths gives the same
 * output. Used by `simulate` and by the worker threads of `simulateParallel`.
 */
export function integrateRange(
  system: SdeSystem,
  plan: SimulationPlan,
  solver: Solver,
  x0: Float64Array,
  pathStart: number,
  pathCount: number,
  out: Float64Array,
  onSteps?: (done: number) => void,
): void {
  const d = system.dim;
  const n = pathCount;
  const m = system.noiseDim;
  const L = plan.length;
  const observe = plan.observe;
  const savedDim = plan.savedDim;
  const state = new Float64Array(n * d);
  if (x0.length === d) {
    for (let p = 0; p < n; p++) state.set(x0, p * d);
  } else {
    state.set(x0.subarray(pathStart * d, (pathStart + n) * d));
  }
  // Paths are advanced in chunks (global paths [k * chunkPaths, (k + 1) * chunkPaths) cut to the
  // range), so that state, noise and drift of a chunk stay in cache; block b (global paths
  // [b * NOISE_BLOCK, ...)) draws set 0, then set 1, ... of its paths from its own stream, so neither
  // the chunking nor the thread split changes the output.
  const ws = solver.init(system, Math.min(n, plan.chunkPaths));
  const sets = solver.normalsPerStep;
  const end = pathStart + n;
  const chunks: { n: number; x: Float64Array; z: Float64Array; blocks: BlockNoise[] }[] = [];
  for (let g0 = pathStart; g0 < end; ) {
    const g1 = Math.min(end, (Math.floor(g0 / plan.chunkPaths) + 1) * plan.chunkPaths);
    const cn = g1 - g0;
    const z = new Float64Array(sets * cn * m);
    const blocks: BlockNoise[] = [];
    for (let lo = g0; lo < g1; ) {
      const b = Math.floor(lo / NOISE_BLOCK);
      const blockStart = b * NOISE_BLOCK;
      const hi = Math.min(g1, blockStart + NOISE_BLOCK);
      const views: Float64Array[] = [];
      for (let s = 0; s < sets; s++) {
        views.push(z.subarray((s * cn + lo - g0) * m, (s * cn + hi - g0) * m));
      }
      const blockPaths = Math.min(NOISE_BLOCK, plan.paths - blockStart);
      blocks.push(new BlockNoise(Rng.fromSeed(plan.seed, b), views, blockPaths * m, (lo - blockStart) * m));
      lo = hi;
    }
    chunks.push({ n: cn, x: state.subarray((g0 - pathStart) * d, (g1 - pathStart) * d), z, blocks });
    g0 = g1;
  }
  const h = plan.h;
  const total = plan.burnIn + plan.steps;
  const progressEvery = Math.max(1, Math.ceil(total / 100));
  let saved = 0;
  for (let k = 0; ; k++) {
    const t = plan.t0 + k * h;
    const sinceBurn = k - plan.burnIn;
    const isSave = sinceBurn >= 0 && sinceBurn % plan.saveEvery === 0;
    if (isSave || (sinceBurn < 0 && k % plan.saveEvery === 0)) {
      checkState(state, n, d, t, pathStart);
      if (plan.watch) checkRunaway(plan.watch, state, n, d, t, pathStart);
    }
    if (isSave) {
      if (observe) {
        for (let p = 0; p < n; p++) {
          const o = (p * L + saved) * savedDim;
          for (let j = 0; j < savedDim; j++) out[o + j] = state[p * d + observe[j]];
        }
      } else {
        for (let p = 0; p < n; p++) {
          const o = (p * L + saved) * d;
          for (let j = 0; j < d; j++) out[o + j] = state[p * d + j];
        }
      }
      saved++;
      if (saved === L) break;
    }
    for (let c = 0; c < chunks.length; c++) {
      const ch = chunks[c];
      for (let b = 0; b < ch.blocks.length; b++) ch.blocks[b].next();
      solver.step(system, t, h, ch.x, ch.n, ch.z, ws);
    }
    if (onSteps && (k + 1) % progressEvery === 0) onSteps(k + 1);
  }
  if (onSteps) onSteps(total);
}

/** Throws BlowUpError (time, first bad path) when the state holds a non-finite value. */
function checkState(state: Float64Array, n: number, d: number, t: number, pathStart: number): void {
  // A sum is finite when every term is (an overflowing sum falls through to the exact scan).
  let s = 0;
  for (let i = 0; i < state.length; i++) s += state[i];
  if (Number.isFinite(s)) return;
  for (let i = 0; i < n * d; i++) {
    if (!Number.isFinite(state[i])) {
      const p = Math.floor(i / d);
      throw new BlowUpError(t, pathStart + p, `coordinate ${i % d} = ${state[i]}`);
    }
  }
}

/**
 * Simulates `paths` independent paths of dX = f dt + G dW with a fixed step and returns the saved
 * states as a PathBundle: coordinate j of path p at save k is data[(p * length + k) * dim + j], at time
 * t0 + (burnIn + k * saveEvery) h. Throws BlowUpError naming the time and path when a state stops
 * being finite (checked at every save, and every saveEvery steps during burn-in).
 *
 * @example
 * import { simulate, sra1 } from '@sdekit/sde';
 * import { fourWellSystem } from '@sdekit/systems';
 * const bundle = simulate(fourWellSystem(), {
 *   x0: Float64Array.of(0, 0), paths: 1000, h: 1e-3, T: 10, saveEvery: 10, burnIn: 1000, seed: 7,
 * });
 * bundle.length; // 1001 saved states per path, dt = 0.01
 */
export function simulate(system: SdeSystem, opts: SimulateOptions): PathBundle {
  const plan = planSimulation(system, opts);
  const solver = opts.solver ?? eulerMaruyama;
  const data = new Float64Array(plan.paths * plan.length * plan.savedDim);
  const total = plan.burnIn + plan.steps;
  const progress = opts.onProgress;
  integrateRange(
    system,
    plan,
    solver,
    opts.x0,
    0,
    plan.paths,
    data,
    progress ? (done) => progress(done, total) : undefined,
  );
  return {
    data,
    dim: plan.savedDim,
    length: plan.length,
    paths: plan.paths,
    dt: plan.h * plan.saveEvery,
    t0: plan.t0 + plan.burnIn * plan.h,
    ...(plan.watch ? { excursions: findExcursions(plan, data, system.dim) } : {}),
  };
}

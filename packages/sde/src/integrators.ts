/**
 * Fixed-step SDE integrators (docs/methods.md section 0): dX = f(X, t) dt + G(X, t) dW.
 *
 * In the style of Diffrax, a solver is a small object that documents its order and what it needs
 * from the system; `simulate` drives any solver over many paths at once. Every step advances all
 * paths together on flat Float64Arrays (point p, coordinate j at p * dim + j), calling the system's
 * batched `driftBatch` / `diffusionBatch` when present, and allocates nothing per step.
 *
 * Orders (h the step; strong = E|X_N - X(T)| = O(h^strong), weak = |E g(X_N) - E g(X(T))| = O(h^weak)):
 * - `eulerMaruyama`: strong 0.5 (1.0 when the noise is additive), weak 1. Any noise.
 * - `milstein`: strong 1.0, weak 1, for diagonal noise (G = diag(g_i(x_i))) or scalar 1-D noise.
 * - `sra1`: strong 1.5, weak 2, for additive noise (Roessler 2010, SRA1 tableau).
 *
 * Reproducibility: noise is drawn per fixed block of NOISE_BLOCK = 256 paths from the stream
 * `Rng.fromSeed(seed, blockIndex)`, so the output does not depend on how the paths are split over
 * worker threads, even inside a block (`simulateParallel` gives bit-identical bundles for any thread
 * count).
 *
 * References: P. E. Kloeden & E. Platen, "Numerical Solution of Stochastic Differential Equations"
 * (Springer 1992), sections 10.2 (Euler-Maruyama), 10.3 (Milstein); A. Roessler, "Runge-Kutta methods
 * for the strong approximation of solutions of stochastic differential equations", SIAM J. Numer.
 * Anal. 48 (2010) 922-952 (SRA1).
 */
import { constants as bufferConstants } from 'node:buffer';
import { totalmem } from 'node:os';
import { BlowUpError, DimensionError, InvalidArgumentError, RunawayError } from './errors.js';
import { Rng } from './rng.js';
import type { Excursion, NoiseKind, PathBundle, SdeSystem, TimeSeries } from './types.js';
import { checkFinite, checkInteger, checkPositive, wholeMultiple } from './validate.js';

/** Paths per noise stream: block b of paths draws from `Rng.fromSeed(seed, b)`. */
export const NOISE_BLOCK = 256;

/** Scratch buffers of one solver for n points (allocated once per simulation). */
export interface StepWorkspace {
  readonly n: number;
  /** Drift values, n * dim. */
  readonly f: Float64Array;
  /** Second drift stage, n * dim (SRA1). */
  readonly f2: Float64Array;
  /** Stage state, n * dim. */
  readonly stage: Float64Array;
  /** Diffusion values, n * diffusionSize (or diffusionSize when the noise is additive). */
  readonly g: Float64Array;
  /** Diagonal diffusion derivatives dg_i/dx_i, n * dim (Milstein). */
  readonly gPrime: Float64Array;
  /** True when g holds the single constant G of an additive system. */
  readonly constantG: boolean;
  /** Per-point scratch for systems without batched functions. */
  readonly pointX: Float64Array;
  readonly pointOut: Float64Array;
  readonly pointG: Float64Array;
}

/**
 * A one-step method. `step` advances the n points in x (length n * dim) from time t to t + h, given
 * `normalsPerStep * n * noiseDim` independent standard normals in z (set s of the normals occupies
 * z[s * n * noiseDim, (s + 1) * n * noiseDim)).
 */
export interface Solver {
  readonly name: string;
  /** Strong order for the noise class the solver is meant for (see `requires`). */
  readonly strongOrder: number;
  readonly weakOrder: number;
  /** Noise kinds accepted, and whether G must be constant (additive). */
  readonly requires: { readonly noise: readonly NoiseKind[]; readonly additive: boolean };
  /** Standard normals needed per noise component per step. */
  readonly normalsPerStep: number;
  step(
    system: SdeSystem,
    t: number,
    h: number,
    x: Float64Array,
    n: number,
    z: Float64Array,
    ws: StepWorkspace,
  ): void;
}

/** Values `diffusion` writes per point: 1 (scalar), dim (diagonal) or dim * noiseDim (general). */
export function diffusionSize(system: SdeSystem): number {
  if (system.noise === 'scalar') return 1;
  if (system.noise === 'diagonal') return system.dim;
  return system.dim * system.noiseDim;
}

/** Checks the shape fields of an SdeSystem; throws InvalidArgumentError naming the field. */
export function checkSystem(system: SdeSystem): void {
  if (system === null || typeof system !== 'object') {
    throw new InvalidArgumentError(
      'system',
      'must be an SdeSystem object',
      'pass { dim, noiseDim, noise, drift, diffusion }',
    );
  }
  checkInteger('system.dim', system.dim, 1);
  checkInteger('system.noiseDim', system.noiseDim, 1);
  if (system.noise !== 'scalar' && system.noise !== 'diagonal' && system.noise !== 'general') {
    throw new InvalidArgumentError(
      'system.noise',
      `unknown noise kind ${String(system.noise)}`,
      "use 'scalar', 'diagonal' or 'general'",
    );
  }
  if (system.noise !== 'general' && system.noiseDim !== system.dim) {
    throw new InvalidArgumentError(
      'system.noiseDim',
      `is ${system.noiseDim} but ${system.noise} noise needs noiseDim = dim = ${system.dim}`,
      "set noiseDim = dim, or use noise: 'general' with a dim x noiseDim matrix",
    );
  }
  if (typeof system.drift !== 'function' || typeof system.diffusion !== 'function') {
    throw new InvalidArgumentError(
      'system',
      'needs drift and diffusion functions',
      'implement drift(t, x, out) and diffusion(t, x, out)',
    );
  }
}

/** Allocates the scratch buffers `solver.step` needs for n points of `system`. */
export function createWorkspace(system: SdeSystem, n: number): StepWorkspace {
  const d = system.dim;
  const gs = diffusionSize(system);
  const constantG = system.additive === true;
  const g = new Float64Array(constantG ? gs : n * gs);
  const pointX = new Float64Array(d);
  if (constantG) system.diffusion(0, pointX, g);
  return {
    n,
    f: new Float64Array(n * d),
    f2: new Float64Array(n * d),
    stage: new Float64Array(n * d),
    g,
    gPrime: new Float64Array(n * d),
    constantG,
    pointX,
    pointOut: new Float64Array(d),
    pointG: new Float64Array(gs),
  };
}

/** f(x, t) for n points into out (batched when the system provides driftBatch). */
export function evaluateDrift(
  system: SdeSystem,
  t: number,
  x: Float64Array,
  n: number,
  out: Float64Array,
  ws: StepWorkspace,
): void {
  if (system.driftBatch) {
    system.driftBatch(t, x, n, out);
    return;
  }
  const d = system.dim;
  const xi = ws.pointX;
  const fi = ws.pointOut;
  for (let p = 0; p < n; p++) {
    const o = p * d;
    for (let j = 0; j < d; j++) xi[j] = x[o + j];
    system.drift(t, xi, fi);
    for (let j = 0; j < d; j++) out[o + j] = fi[j];
  }
}

/** G(x, t) for n points into out, in the layout of system.noise. */
export function evaluateDiffusion(
  system: SdeSystem,
  t: number,
  x: Float64Array,
  n: number,
  out: Float64Array,
  ws: StepWorkspace,
): void {
  if (system.diffusionBatch) {
    system.diffusionBatch(t, x, n, out);
    return;
  }
  const d = system.dim;
  const gs = diffusionSize(system);
  const xi = ws.pointX;
  const gi = ws.pointG;
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < d; j++) xi[j] = x[p * d + j];
    system.diffusion(t, xi, gi);
    for (let j = 0; j < gs; j++) out[p * gs + j] = gi[j];
  }
}

/** x += scale * G w for n points; w holds n * noiseDim values; G per point or constant. */
function addNoise(
  system: SdeSystem,
  x: Float64Array,
  n: number,
  g: Float64Array,
  constantG: boolean,
  w: Float64Array,
  scale: number,
): void {
  const d = system.dim;
  const m = system.noiseDim;
  if (system.noise === 'scalar') {
    if (constantG) {
      const c = g[0] * scale;
      for (let i = 0; i < n * d; i++) x[i] += c * w[i];
    } else {
      for (let p = 0; p < n; p++) {
        const c = g[p] * scale;
        for (let j = 0; j < d; j++) x[p * d + j] += c * w[p * d + j];
      }
    }
  } else if (system.noise === 'diagonal') {
    if (constantG) {
      for (let p = 0; p < n; p++) for (let j = 0; j < d; j++) x[p * d + j] += scale * g[j] * w[p * d + j];
    } else {
      for (let i = 0; i < n * d; i++) x[i] += scale * g[i] * w[i];
    }
  } else {
    const gs = d * m;
    for (let p = 0; p < n; p++) {
      const go = constantG ? 0 : p * gs;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += g[go + i * m + k] * w[p * m + k];
        x[p * d + i] += scale * s;
      }
    }
  }
}

/**
 * Euler-Maruyama: X_{k+1} = X_k + f(X_k, t_k) h + G(X_k, t_k) sqrt(h) Z_k.
 * Strong order 0.5 (1.0 for additive noise), weak order 1 [Kloeden & Platen 1992, 10.2 and 14.1].
 *
 * @example
 * const bundle = simulate(system, { x0, paths: 1000, h: 1e-3, steps: 1000, seed: 1, solver: eulerMaruyama });
 */
export const eulerMaruyama: Solver = {
  name: 'euler-maruyama',
  strongOrder: 0.5,
  weakOrder: 1,
  requires: { noise: ['scalar', 'diagonal', 'general'], additive: false },
  normalsPerStep: 1,
  step(system, t, h, x, n, z, ws) {
    evaluateDrift(system, t, x, n, ws.f, ws);
    const f = ws.f;
    const nd = n * system.dim;
    if (ws.constantG && system.noise === 'scalar') {
      // Additive scalar noise (e.g. Langevin models): one fused pass.
      const c = ws.g[0] * Math.sqrt(h);
      for (let i = 0; i < nd; i++) x[i] += h * f[i] + c * z[i];
      return;
    }
    if (!ws.constantG) evaluateDiffusion(system, t, x, n, ws.g, ws);
    for (let i = 0; i < nd; i++) x[i] += h * f[i];
    addNoise(system, x, n, ws.g, ws.constantG, z, Math.sqrt(h));
  },
};

/**
 * Milstein for diagonal noise: X_i += f_i h + g_i dW_i + (1/2) g_i (dg_i/dx_i) (dW_i^2 - h).
 * Strong order 1.0, weak order 1 [Kloeden & Platen 1992, eq. 10.3.3]. Valid when g_i depends on x_i
 * only (diagonal noise, so no Levy areas are needed), or for scalar noise in one dimension. Uses
 * system.diffusionDerivative when present, otherwise a central difference with step
 * 6e-6 * max(1, |x_i|) (eps^(1/3) scaling; truncation error ~1e-11 relative).
 *
 * @example
 * const gbm = { dim: 1, noiseDim: 1, noise: 'diagonal', drift: (t, x, o) => { o[0] = 0.5 * x[0]; },
 *   diffusion: (t, x, o) => { o[0] = 0.3 * x[0]; } };
 * simulate(gbm, { x0: Float64Array.of(1), paths: 100, h: 0.01, steps: 100, seed: 3, solver: milstein });
 */
export const milstein: Solver = {
  name: 'milstein',
  strongOrder: 1,
  weakOrder: 1,
  requires: { noise: ['scalar', 'diagonal'], additive: false },
  normalsPerStep: 1,
  step(system, t, h, x, n, z, ws) {
    const d = system.dim;
    const nd = n * d;
    evaluateDrift(system, t, x, n, ws.f, ws);
    const f = ws.f;
    if (ws.constantG) {
      // Additive noise: the Milstein correction vanishes.
      for (let i = 0; i < nd; i++) x[i] += h * f[i];
      addNoise(system, x, n, ws.g, true, z, Math.sqrt(h));
      return;
    }
    const g = ws.g;
    const gp = ws.gPrime;
    evaluateDiffusion(system, t, x, n, g, ws);
    if (system.diffusionDerivative) {
      const xi = ws.pointX;
      const oi = ws.pointOut;
      for (let p = 0; p < n; p++) {
        for (let j = 0; j < d; j++) xi[j] = x[p * d + j];
        system.diffusionDerivative(t, xi, oi);
        for (let j = 0; j < d; j++) gp[p * d + j] = oi[j];
      }
    } else {
      // Central difference; perturbing all coordinates at once is exact for diagonal noise.
      const xs = ws.stage;
      const gTmp = ws.f2;
      for (let i = 0; i < nd; i++) xs[i] = x[i] + 6e-6 * Math.max(1, Math.abs(x[i]));
      evaluateDiffusion(system, t, xs, n, gp, ws);
      for (let i = 0; i < nd; i++) xs[i] = x[i] - 6e-6 * Math.max(1, Math.abs(x[i]));
      evaluateDiffusion(system, t, xs, n, gTmp, ws);
      for (let i = 0; i < nd; i++) gp[i] = (gp[i] - gTmp[i]) / (12e-6 * Math.max(1, Math.abs(x[i])));
    }
    const sq = Math.sqrt(h);
    const scalar = system.noise === 'scalar';
    for (let i = 0; i < nd; i++) {
      const gi = scalar ? g[(i / d) | 0] : g[i];
      const dw = sq * z[i];
      x[i] += h * f[i] + gi * dw + 0.5 * gi * gp[i] * (dw * dw - h);
    }
  },
};

/**
 * SRA1 (Roessler 2010, Table 5.1 / DifferentialEquations.jl SRA1) for additive noise:
 *   H = X + (3/4) h f(X, t) + (3/2) G I10/h,
 *   X_{k+1} = X + h (f(X, t)/3 + 2 f(H, t + 3h/4)/3) + G dW,
 * with dW = sqrt(h) Z1 and I10/h = (dW + sqrt(h) Z2 / sqrt(3)) / 2 (I10 = int int dW ds, exact joint
 * law with dW). Strong order 1.5, weak order 2 for additive noise (G independent of x and t).
 *
 * @example
 * // fourWellSystem: the T2 model of @sdekit/systems
 * const bundle = simulate(fourWellSystem(), { x0: new Float64Array(2), paths: 64, h: 0.01, steps: 1000, seed: 2, solver: sra1 });
 */
export const sra1: Solver = {
  name: 'sra1',
  strongOrder: 1.5,
  weakOrder: 2,
  requires: { noise: ['scalar', 'diagonal', 'general'], additive: true },
  normalsPerStep: 2,
  step(system, t, h, x, n, z, ws) {
    const d = system.dim;
    const nd = n * d;
    const nm = n * system.noiseDim;
    const f1 = ws.f;
    const f2 = ws.f2;
    const stage = ws.stage;
    evaluateDrift(system, t, x, n, f1, ws);
    for (let i = 0; i < nd; i++) stage[i] = x[i] + 0.75 * h * f1[i];
    // (3/2) G I10/h with I10/h = sqrt(h) (Z1 + Z2/sqrt(3)) / 2: build the combined normals in place
    // of Z2, which is not needed afterwards.
    const sq = Math.sqrt(h);
    const inv3 = 1 / Math.sqrt(3);
    for (let i = 0; i < nm; i++) z[nm + i] = z[i] + inv3 * z[nm + i];
    addNoiseFrom(system, stage, n, ws.g, z, nm, 0.75 * sq);
    evaluateDrift(system, t + 0.75 * h, stage, n, f2, ws);
    for (let i = 0; i < nd; i++) x[i] += h * (f1[i] / 3 + (2 * f2[i]) / 3);
    addNoise(system, x, n, ws.g, true, z, sq);
  },
};

/** addNoise with the noise vector read from w starting at offset (constant G). */
function addNoiseFrom(
  system: SdeSystem,
  x: Float64Array,
  n: number,
  g: Float64Array,
  w: Float64Array,
  offset: number,
  scale: number,
): void {
  const d = system.dim;
  const m = system.noiseDim;
  if (system.noise === 'scalar') {
    const c = g[0] * scale;
    for (let i = 0; i < n * d; i++) x[i] += c * w[offset + i];
  } else if (system.noise === 'diagonal') {
    for (let p = 0; p < n; p++)
      for (let j = 0; j < d; j++) x[p * d + j] += scale * g[j] * w[offset + p * d + j];
  } else {
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += g[i * m + k] * w[offset + p * m + k];
        x[p * d + i] += scale * s;
      }
    }
  }
}

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
}

/** A box the paths are watched against (see `SimulateOptions.watch`). */
export interface WatchBox {
  lo: Float64Array;
  hi: Float64Array;
  /** Report paths beyond this many half-widths from the centre. Default 1.5. */
  reportFactor?: number;
  /** Stop beyond this many half-widths. Default 10; Infinity never stops. */
  stopFactor?: number;
}

/** Validated watch box: centre and half-width per coordinate. */
interface WatchPlan {
  center: Float64Array;
  halfWidth: Float64Array;
  reportFactor: number;
  stopFactor: number;
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
}

function planWatch(watch: WatchBox | undefined, d: number): WatchPlan | null {
  if (watch === undefined) return null;
  if (!watch || !(watch.lo instanceof Float64Array) || !(watch.hi instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'watch',
      'must be { lo: Float64Array, hi: Float64Array, reportFactor?, stopFactor? }',
      'pass the box of the data, e.g. model.watchBox()',
    );
  }
  if (watch.lo.length !== d || watch.hi.length !== d) {
    throw new DimensionError(
      'watch',
      `lo and hi have lengths ${watch.lo.length} and ${watch.hi.length}, the system has dim ${d}`,
      'pass one bound per coordinate',
    );
  }
  checkFinite('watch.lo', watch.lo);
  checkFinite('watch.hi', watch.hi);
  const reportFactor = watch.reportFactor ?? 1.5;
  const stopFactor = watch.stopFactor ?? 10;
  if (!(reportFactor >= 1) || Number.isNaN(reportFactor)) {
    throw new InvalidArgumentError(
      'watch.reportFactor',
      `must be >= 1, got ${reportFactor}`,
      'pass a factor such as 1.5',
    );
  }
  if (!(stopFactor >= reportFactor)) {
    throw new InvalidArgumentError(
      'watch.stopFactor',
      `must be >= reportFactor (${reportFactor}), got ${stopFactor}`,
      'pass a factor such as 10, or Infinity to never stop',
    );
  }
  const center = new Float64Array(d);
  const halfWidth = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    if (!(watch.hi[j] >= watch.lo[j])) {
      throw new InvalidArgumentError('watch', `hi[${j}] < lo[${j}]`, 'pass lo <= hi in every coordinate');
    }
    center[j] = 0.5 * (watch.lo[j] + watch.hi[j]);
    // A degenerate coordinate gets a tiny width rather than none (any move is then an excursion).
    halfWidth[j] = Math.max(0.5 * (watch.hi[j] - watch.lo[j]), 1e-12 * Math.max(1, Math.abs(center[j])));
  }
  return { center, halfWidth, reportFactor, stopFactor };
}

/** Largest |x_j - c_j| / r_j of a state and its coordinate. */
function watchFactor(
  w: WatchPlan,
  x: Float64Array,
  o: number,
  d: number,
): { factor: number; coordinate: number } {
  let factor = 0;
  let coordinate = 0;
  for (let j = 0; j < d; j++) {
    const f = Math.abs(x[o + j] - w.center[j]) / w.halfWidth[j];
    if (f > factor) {
      factor = f;
      coordinate = j;
    }
  }
  return { factor, coordinate };
}

/**
 * The first saved state of each path outside the watch box widened by its reportFactor (see
 * `SimulateOptions.watch`), from the saved data of a bundle.
 */
export function findExcursions(plan: SimulationPlan, data: Float64Array, d: number): Excursion[] {
  const w = plan.watch;
  if (!w) return [];
  const out: Excursion[] = [];
  const L = plan.length;
  for (let p = 0; p < plan.paths; p++) {
    for (let k = 0; k < L; k++) {
      const o = (p * L + k) * d;
      const { factor, coordinate } = watchFactor(w, data, o, d);
      if (factor > w.reportFactor) {
        out.push({
          path: p,
          time: plan.t0 + (plan.burnIn + k * plan.saveEvery) * plan.h,
          coordinate,
          value: data[o + coordinate],
          factor,
        });
        break;
      }
    }
  }
  return out;
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
  checkOutputSize(paths, steps / saveEvery + 1, d);
  return { paths, h, steps, saveEvery, burnIn, seed, t0, length: steps / saveEvery + 1, chunkPaths, watch };
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
  if (!solver || typeof solver.step !== 'function') {
    throw new InvalidArgumentError('solver', 'is not a Solver', 'pass eulerMaruyama, milstein or sra1');
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
  const ws = createWorkspace(system, Math.min(n, plan.chunkPaths));
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
      for (let p = 0; p < n; p++) {
        const o = (p * L + saved) * d;
        for (let j = 0; j < d; j++) out[o + j] = state[p * d + j];
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

/**
 * The standard normals of one noise block, step after step: set 0 of its paths, then set 1, ...
 * from the block's own stream, written to `views` (one per set: the share [offset, offset +
 * view length) of the set's `perSet` normals that this range of paths uses). A whole block of more
 * than 64 normals per step fills its views directly. Small blocks (e.g. one long path) draw many
 * steps ahead in one `fillNormal` call, and a block shared with another range draws whole steps, to
 * copy out their share; as the stream is sequential, the values are exactly those of one fill per
 * set and step.
 */
class BlockNoise {
  private readonly rng: Rng;
  private readonly views: Float64Array[];
  private readonly perSet: number;
  private readonly offset: number;
  private readonly ahead: Float64Array | undefined;
  private pos: number;

  constructor(rng: Rng, views: Float64Array[], perSet: number, offset: number) {
    this.rng = rng;
    this.views = views;
    this.perSet = perSet;
    this.offset = offset;
    const perStep = perSet * views.length;
    const whole = offset === 0 && views[0].length === perSet;
    this.ahead =
      perStep <= 64
        ? new Float64Array(perStep * Math.ceil(4096 / perStep))
        : whole
          ? undefined
          : new Float64Array(perStep);
    this.pos = this.ahead ? this.ahead.length : 0;
  }

  /** Writes the next step's normals into the views. */
  next(): void {
    const ahead = this.ahead;
    if (!ahead) {
      for (let s = 0; s < this.views.length; s++) this.rng.fillNormal(this.views[s]);
      return;
    }
    if (this.pos === ahead.length) {
      this.rng.fillNormal(ahead);
      this.pos = 0;
    }
    for (let s = 0; s < this.views.length; s++) {
      const v = this.views[s];
      const from = this.pos + this.offset;
      for (let i = 0; i < v.length; i++) v[i] = ahead[from + i];
      this.pos += this.perSet;
    }
  }
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

/** Throws RunawayError when a state is beyond the watch box's stopFactor. */
function checkRunaway(
  w: WatchPlan,
  state: Float64Array,
  n: number,
  d: number,
  t: number,
  pathStart: number,
): void {
  if (!Number.isFinite(w.stopFactor)) return;
  for (let p = 0; p < n; p++) {
    const { factor, coordinate } = watchFactor(w, state, p * d, d);
    if (factor > w.stopFactor) {
      throw new RunawayError(
        t,
        pathStart + p,
        coordinate,
        state[p * d + coordinate],
        `${factor.toPrecision(3)} half-widths from the centre of the watched box (stopFactor ${w.stopFactor})`,
      );
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
  const data = new Float64Array(plan.paths * plan.length * system.dim);
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
    dim: system.dim,
    length: plan.length,
    paths: plan.paths,
    dt: plan.h * plan.saveEvery,
    t0: plan.t0 + plan.burnIn * plan.h,
    ...(plan.watch ? { excursions: findExcursions(plan, data, system.dim) } : {}),
  };
}

/**
 * A validated TimeSeries: data of length (a multiple of) dim, finite values, dt > 0.
 *
 * @example
 * const ts = timeSeries(Float64Array.of(0, 0.1, 0.3), 1, 0.01); // 3 samples of a 1-D series
 */
export function timeSeries(data: Float64Array, dim: number, dt: number, t0 = 0): TimeSeries {
  checkInteger('dim', dim, 1);
  if (!(data instanceof Float64Array)) {
    throw new InvalidArgumentError(
      'data',
      'must be a Float64Array',
      'convert with Float64Array.from(values)',
    );
  }
  if (data.length === 0 || data.length % dim !== 0) {
    throw new DimensionError(
      'data',
      `length ${data.length} is not a positive multiple of dim = ${dim}`,
      'pass length * dim values (time k, coordinate j at k * dim + j)',
    );
  }
  checkPositive('dt', dt);
  if (!Number.isFinite(t0))
    throw new InvalidArgumentError('t0', `must be finite, got ${t0}`, 'pass a finite start time');
  checkFinite('data', data);
  return { data, dim, length: data.length / dim, dt, t0 };
}

/** Several independent series of one process joined into one, with the index where each begins. */
export interface SegmentedSeries {
  /** The samples of every segment, one after the other (t0 of the first segment). */
  series: TimeSeries;
  /** Index of the first sample of every segment after the first (increasing, in (0, length)). */
  segmentStarts: Int32Array;
}

/**
 * Joins independent series of the same process (same dim and sampling interval) into one, keeping
 * where each begins, so that estimators of transitions (the generator of @sdekit/partition, the Cdot
 * of @sdekit/score) never pair the last sample of one series with the first of the next.
 * Throws DimensionError / InvalidArgumentError naming the offending series.
 *
 * @example
 * const { series, segmentStarts } = concatSeries([pathOf(bundle, 0), pathOf(bundle, 1)]);
 * // segmentStarts = [bundle.length]
 */
export function concatSeries(list: readonly TimeSeries[]): SegmentedSeries {
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError(
      'series',
      'must be a non-empty array of TimeSeries',
      'pass [series1, series2, ...]',
    );
  }
  const { dim, dt } = list[0];
  let length = 0;
  for (const [k, s] of list.entries()) {
    if (!(s?.data instanceof Float64Array)) {
      throw new InvalidArgumentError(
        `series[${k}]`,
        'must be a TimeSeries with a Float64Array `data`',
        'build it with timeSeries(data, dim, dt)',
      );
    }
    if (s.dim !== dim) {
      throw new DimensionError(
        `series[${k}]`,
        `has dim ${s.dim}, series[0] has ${dim}`,
        'join series of one process only',
      );
    }
    if (Math.abs(s.dt - dt) > 1e-12 * dt) {
      throw new InvalidArgumentError(
        `series[${k}]`,
        `has dt ${s.dt}, series[0] has ${dt}`,
        'resample to a common sampling interval first',
      );
    }
    if (s.data.length === 0 || s.data.length % dim !== 0) {
      throw new DimensionError(
        `series[${k}].data`,
        `length ${s.data.length} is not a positive multiple of dim = ${dim}`,
        'pass non-empty series',
      );
    }
    length += s.data.length / dim;
  }
  const data = new Float64Array(length * dim);
  const segmentStarts = new Int32Array(list.length - 1);
  let at = 0;
  for (const [k, s] of list.entries()) {
    if (k > 0) segmentStarts[k - 1] = at;
    data.set(s.data, at * dim);
    at += s.data.length / dim;
  }
  return { series: { data, dim, length, dt, t0: list[0].t0 ?? 0 }, segmentStarts };
}

/**
 * Path p of a bundle as a TimeSeries (a view: no copy).
 *
 * @example
 * const ts = pathOf(simulate(system, opts), 0);
 */
export function pathOf(bundle: PathBundle, p: number): TimeSeries {
  checkInteger('p', p, 0);
  if (p >= bundle.paths) {
    throw new InvalidArgumentError(
      'p',
      `path ${p} does not exist (bundle has ${bundle.paths} paths)`,
      `pass 0 <= p < ${bundle.paths}`,
    );
  }
  const size = bundle.length * bundle.dim;
  if (bundle.data.length !== bundle.paths * size) {
    throw new DimensionError(
      'bundle.data',
      `length ${bundle.data.length} != paths * length * dim = ${bundle.paths * size}`,
      'pass a bundle returned by simulate',
    );
  }
  checkPositive('bundle.dt', bundle.dt);
  return {
    data: bundle.data.subarray(p * size, (p + 1) * size),
    dim: bundle.dim,
    length: bundle.length,
    dt: bundle.dt,
    t0: bundle.t0,
  };
}

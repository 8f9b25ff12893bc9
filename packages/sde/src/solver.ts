import { InvalidArgumentError } from './errors.js';
import { diffusionSize } from './noise-layout.js';
import type { NoiseKind, SdeSystem } from './types.js';
import { checkInteger } from './validate.js';

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
  /** The solver's name, unique in the registry (`registerSolver`). */
  readonly name: string;
  /** Strong order for the noise class the solver is meant for (see `requires`). */
  readonly strongOrder: number;
  readonly weakOrder: number;
  /**
   * The orders this solver reaches on `system` (e.g. Euler-Maruyama is strong order 1 on additive
   * noise, 1/2 otherwise), as convergence tests and step-size choices need them.
   */
  order(system: SdeSystem): SolverOrder;
  /** Allocates the solver's own state for n points of `system` (its scratch buffers), once per run. */
  init(system: SdeSystem, n: number): StepWorkspace;
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

/** Strong and weak order of a solver on one system (`Solver.order`). */
export interface SolverOrder {
  readonly strong: number;
  readonly weak: number;
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

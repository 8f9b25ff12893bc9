/**
 * The open registry of solvers: every solver has a unique name, and a solver registered with the
 * module that exports it can be used on worker threads (`simulateParallel`), which cannot receive
 * functions and import the solver themselves, as they import the system. The built-in solvers are
 * registered here; `solverByName` is what a command line or a config file needs to turn a name
 * into a solver.
 */
import { InvalidArgumentError } from './errors.js';
import type { Solver } from './solver.js';
import { eulerMaruyama, milstein, sra1 } from './solvers.js';

/** Where a worker thread finds a solver: `(await import(module))[exportName]`. */
export interface SolverLocation {
  /** A package name, a file URL or an absolute path. */
  readonly module: string;
  readonly exportName: string;
}

interface Entry {
  solver: Solver;
  location: SolverLocation | null;
}

const registry = new Map<string, Entry>();

/**
 * Registers a solver under its name, with the module that exports it when it should run on worker
 * threads. A name is taken once: registering another solver under a taken name throws; registering
 * the same solver again updates its location.
 *
 * @example
 * // my-solver.ts exports `heun`, a Solver named 'heun'
 * registerSolver(heun, { module: import.meta.resolve('./my-solver.js'), exportName: 'heun' });
 * await simulateParallel(spec, { ...options, solver: heun });
 */
export function registerSolver(solver: Solver, location?: SolverLocation): void {
  if (!solver || typeof solver.name !== 'string' || solver.name === '' || typeof solver.step !== 'function')
    throw new InvalidArgumentError('solver', 'is not a Solver with a name', 'pass a Solver object');
  if (
    location !== undefined &&
    (typeof location?.module !== 'string' || typeof location?.exportName !== 'string')
  )
    throw new InvalidArgumentError(
      'location',
      'must be { module: string, exportName: string }',
      "pass { module: import.meta.resolve('./file.js'), exportName: 'mySolver' }",
    );
  const taken = registry.get(solver.name);
  if (taken && taken.solver !== solver)
    throw new InvalidArgumentError(
      'solver.name',
      `'${solver.name}' is the name of another registered solver`,
      'give the solver a name of its own',
    );
  registry.set(solver.name, { solver, location: location ?? taken?.location ?? null });
}

/** The registered solver of this name; throws naming the registered ones when there is none. */
export function solverByName(name: string): Solver {
  const entry = registry.get(name);
  if (!entry)
    throw new InvalidArgumentError(
      'solver',
      `no solver is registered as '${name}'`,
      `use one of ${registeredSolvers().join(', ')}, or registerSolver your own`,
    );
  return entry.solver;
}

/** Names of the registered solvers. */
export function registeredSolvers(): string[] {
  return [...registry.keys()];
}

/** Where worker threads find `solver`, or null when it is unregistered or registered without a module. */
export function solverLocation(solver: Solver): SolverLocation | null {
  const entry = registry.get(solver?.name);
  return entry && entry.solver === solver ? entry.location : null;
}

for (const [solver, exportName] of [
  [eulerMaruyama, 'eulerMaruyama'],
  [milstein, 'milstein'],
  [sra1, 'sra1'],
] as const)
  registerSolver(solver, { module: '@sdekit/sde', exportName });

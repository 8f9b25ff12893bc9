/**
 * @sdekit/systems: the models of the sdekit benchmarks (docs/benchmarks.md), one file each, with
 * everything known about them exactly (drifts, diffusions, scores, stationary densities and
 * statistics, exact samplers of fast invariant laws, true averaged drifts). The machinery that
 * simulates them (SdeSystem, simulate, the solvers) is @sdekit/sde's.
 */
export * from './four-well.js';
export * from './multiscale-double-well.js';
export * from './ou.js';
export type { ExactStatistics1d } from './quadrature.js';
export * from './reduced-triad.js';
export * from './tagged-particle.js';

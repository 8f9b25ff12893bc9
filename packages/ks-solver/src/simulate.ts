/**
 * Data generation for the Kuramoto-Sivashinsky benchmark (docs/benchmarks.md T3): spin up from a random
 * smooth initial condition, then observe every dt time units at every stride-th grid point.
 */
import {
  checkInteger,
  checkNonNegative,
  checkPositive,
  InvalidArgumentError,
  RealFft,
  Rng,
  type TimeSeries,
  timeSeries,
  wholeMultiple,
} from '@sdekit/sde';
import { checkKsGrid, KsSolver } from './solver.js';

/** Options of {@link randomSmoothField}. */
export interface RandomSmoothFieldOptions {
  /** Number of grid points (power of two >= 16). */
  readonly N: number;
  /** Seed of the Rng (stream 0 unless `stream` is given). */
  readonly seed: number;
  readonly stream?: number;
  /** Highest Fourier mode index with a random coefficient (default min(8, N/4)). */
  readonly modes?: number;
  /** Root mean square of the field (default 1). */
  readonly rms?: number;
}

/**
 * A random smooth periodic field on N points: a zero-mean trigonometric polynomial
 * sum_{m=1}^{modes} (a_m cos(2 pi m j / N) + b_m sin(2 pi m j / N)) with a_m, b_m ~ N(0, 1) i.i.d.,
 * scaled to the given root mean square. Same seed, same field, bit for bit.
 *
 * @example
 * const u0 = randomSmoothField({ N: 64, seed: 7 }); // mean 0, rms 1
 */
export function randomSmoothField(options: RandomSmoothFieldOptions): Float64Array {
  const { N, seed, stream = 0, rms = 1 } = options;
  checkKsGrid(1, N, 1);
  const modes = options.modes ?? Math.min(8, N / 4);
  checkInteger('modes', modes, 1);
  if (modes > N / 2 - 1) {
    throw new InvalidArgumentError(
      'modes',
      `must be <= N/2 - 1 = ${N / 2 - 1}, got ${modes}`,
      'use fewer modes or a finer grid',
    );
  }
  checkPositive('rms', rms);
  const rng = Rng.fromSeed(seed, stream);
  const re = new Float64Array(N / 2 + 1);
  const im = new Float64Array(N / 2 + 1);
  for (let m = 1; m <= modes; m++) {
    re[m] = rng.normal();
    im[m] = rng.normal();
  }
  const u = new Float64Array(N);
  new RealFft(N).inverse(re, im, u);
  let ss = 0;
  for (let j = 0; j < N; j++) ss += u[j] * u[j];
  const scale = rms / Math.sqrt(ss / N);
  for (let j = 0; j < N; j++) u[j] *= scale;
  return u;
}

/** Progress of a long KS run, in solver steps (spin-up included). */
export interface KsProgress {
  readonly done: number;
  readonly total: number;
  /** Solver time reached. */
  readonly time: number;
}

/** Options of {@link simulateKs}. */
export interface SimulateKsOptions {
  readonly L: number;
  readonly N: number;
  readonly h: number;
  readonly dealias?: boolean;
  /** Initial condition on the N grid points; otherwise `randomSmoothField({ N, seed })`. */
  readonly u0?: Float64Array;
  /** Seed of the random initial condition (required when u0 is not given). */
  readonly seed?: number;
  /** Time discarded before the first observation (default 0); a multiple of h. */
  readonly spinUp?: number;
  /** Observation interval; a multiple of h. */
  readonly dt: number;
  /** Observed duration: the series has round(T / dt) samples at spinUp, spinUp + dt, ... */
  readonly T: number;
  /** Observe every stride-th grid point (a divisor of N; default 1). */
  readonly stride?: number;
  /** Called about 100 times over the run. */
  readonly onProgress?: (progress: KsProgress) => void;
}

/** Result of {@link simulateKs}. */
export interface KsSimulation {
  /** Observations: sample k, coordinate i is u(x_{i * stride}, spinUp + k dt); dim = N / stride. */
  readonly series: TimeSeries;
  /** Positions x_{i * stride} = i * stride * L / N of the observed coordinates. */
  readonly grid: Float64Array;
  /** The full state u(x_j), j < N, at the last observation (to continue a run). */
  readonly finalState: Float64Array;
  /** The initial condition actually used (u0 or the seeded random field). */
  readonly initialState: Float64Array;
}

/**
 * round(a / h) when a is a multiple of h up to 1e-9 relative and at least `min` steps; a typed
 * error otherwise.
 */
function stepsFor(name: string, a: number, h: number, min: number): number {
  return wholeMultiple(name, a, h, 'the step h', {
    min,
    fix: `pass ${name} = m * h for an integer m >= ${min}`,
  });
}

/**
 * Simulates KS (ETDRK4) and returns the partially observed series as a TimeSeries
 * (docs/benchmarks.md T3: L = 34, N = 64, h = 0.05, spinUp = 1000, dt = 0.1, stride = 2 -> dim 32).
 *
 * @example
 * const { series, grid } = simulateKs({ L: 34, N: 64, h: 0.05, seed: 1, spinUp: 1000, dt: 0.1, T: 2000, stride: 2 });
 * // series.dim === 32, series.length === 20000, series.dt === 0.1
 */
export function simulateKs(options: SimulateKsOptions): KsSimulation {
  const { L, N, h, dealias = false, spinUp = 0, dt, T, stride = 1, onProgress } = options;
  checkKsGrid(L, N, h);
  checkPositive('dt', dt);
  checkPositive('T', T);
  checkNonNegative('spinUp', spinUp, 'pass spinUp >= 0');
  checkInteger('stride', stride, 1);
  if (N % stride !== 0) {
    throw new InvalidArgumentError(
      'stride',
      `must divide N = ${N}, got ${stride}`,
      'pass a power of two <= N',
    );
  }
  const stepsPerSample = stepsFor('dt', dt, h, 1);
  const spinUpSteps = spinUp === 0 ? 0 : stepsFor('spinUp', spinUp, h, 0);
  const length = Math.round(T / dt);
  if (length < 1)
    throw new InvalidArgumentError('T', `gives ${length} samples with dt = ${dt}`, 'pass T >= dt');
  let u0: Float64Array;
  if (options.u0 !== undefined) {
    u0 = options.u0.slice();
  } else {
    if (options.seed === undefined) {
      throw new InvalidArgumentError(
        'seed',
        'neither u0 nor seed given',
        'pass an initial condition u0 or a seed for a random one',
      );
    }
    u0 = randomSmoothField({ N, seed: options.seed });
  }
  const solver = new KsSolver({ L, N, h, dealias });
  solver.setState(u0);

  const dim = N / stride;
  const data = new Float64Array(length * dim);
  const u = new Float64Array(N);
  const total = spinUpSteps + (length - 1) * stepsPerSample;
  const report = onProgress ? Math.max(1, Math.floor(total / 100)) : Number.POSITIVE_INFINITY;
  let done = 0;
  let nextReport = report;
  let lastReported = -1;
  const advance = (steps: number) => {
    // Step in chunks so progress is reported about every 1 % of the run.
    let left = steps;
    while (left > 0) {
      const chunk = Math.min(left, Math.max(1, nextReport - done));
      solver.step(chunk);
      left -= chunk;
      done += chunk;
      if (done >= nextReport) {
        onProgress?.({ done, total, time: solver.time });
        lastReported = done;
        nextReport += report;
      }
    }
  };
  advance(spinUpSteps);
  for (let k = 0; k < length; k++) {
    if (k > 0) advance(stepsPerSample);
    solver.state(u);
    const row = k * dim;
    for (let i = 0; i < dim; i++) data[row + i] = u[i * stride];
  }
  if (onProgress && lastReported !== done) onProgress({ done, total, time: solver.time });
  const grid = new Float64Array(dim);
  for (let i = 0; i < dim; i++) grid[i] = (i * stride * L) / N;
  const series = timeSeries(data, dim, dt, spinUpSteps * h);
  return { series, grid, finalState: u.slice(), initialState: u0 };
}

/**
 * Argument checks used at every public entry point of sdekit. Each throws a typed error from
 * ./errors that names the argument and the fix; none clamps or alters data.
 */
import { DimensionError, InvalidArgumentError, NonFiniteError } from './errors.js';

/** Throws NonFiniteError at the first NaN or +-Infinity. */
export function checkFinite(name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new NonFiniteError(name, i, v);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      name,
      `must be a finite number > 0, got ${value}`,
      `pass a positive ${name}`,
    );
  }
}

/**
 * Throws unless `value` is a finite number >= 0 (a time, a penalty weight). `fix` replaces the
 * default hint of the error.
 */
export function checkNonNegative(name: string, value: number, fix = `pass a finite ${name} >= 0`): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new InvalidArgumentError(name, `must be a finite number >= 0, got ${value}`, fix);
  }
}

/**
 * k = round(value / unit) when `value` is a whole number k >= `min` (default 1) of `unit`, up to a
 * relative 1e-9 of max(value, unit) (the round-off of times such as T = 0.3 with h = 0.1). Throws
 * InvalidArgumentError naming `name` otherwise; `fix` replaces the default hint.
 *
 * @example
 * wholeMultiple('T', 0.3, 0.1, 'h'); // 3
 */
export function wholeMultiple(
  name: string,
  value: number,
  unit: number,
  unitName: string,
  options: { min?: number; fix?: string } = {},
): number {
  const min = options.min ?? 1;
  const k = Math.round(value / unit);
  if (!(k >= min) || !(Math.abs(k * unit - value) <= 1e-9 * Math.max(value, unit))) {
    throw new InvalidArgumentError(
      name,
      `${name} = ${value} is not a whole number of ${unitName} = ${unit}`,
      options.fix ?? `pass ${name} as a multiple of ${unitName}`,
    );
  }
  return k;
}

/** Throws unless `value` is an integer >= `min`. */
export function checkInteger(name: string, value: number, min = 0): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(
      name,
      `must be an integer >= ${min}, got ${value}`,
      `pass an integer >= ${min}`,
    );
  }
}

/** Throws unless lo < value < hi (open interval). */
export function checkOpenInterval(name: string, value: number, lo: number, hi: number): void {
  if (!(value > lo && value < hi)) {
    throw new InvalidArgumentError(
      name,
      `must lie in (${lo}, ${hi}), got ${value}`,
      `pass a value strictly between ${lo} and ${hi}`,
    );
  }
}

/**
 * Checks a row-major batch of points: integer dim >= 1, length a multiple of dim, at least
 * `minPoints` points, all finite. Returns the number of points.
 */
export function checkBatch(name: string, data: Float64Array, dim: number, minPoints = 1): number {
  checkInteger('dim', dim, 1);
  if (!(data instanceof Float64Array)) {
    throw new InvalidArgumentError(name, 'must be a Float64Array', 'convert with Float64Array.from(values)');
  }
  if (data.length % dim !== 0) {
    throw new DimensionError(
      name,
      `length ${data.length} is not a multiple of dim = ${dim}`,
      'pass a row-major array of N*dim values (point i, coordinate j at i*dim + j)',
    );
  }
  const n = data.length / dim;
  if (n < minPoints) {
    throw new InvalidArgumentError(
      name,
      `has ${n} points, at least ${minPoints} needed`,
      'pass a longer series or more points',
    );
  }
  checkFinite(name, data);
  return n;
}

/**
 * Keys of `expected` whose value in `saved` differs (strict equality; a missing `saved` differs in
 * every key). Resuming from a checkpoint needs the same settings: an empty list means it is this run's.
 *
 * @example
 * differingSettings({ steps: 10, seed: 1 }, { steps: 10, seed: 2 }); // ['seed']
 */
export function differingSettings<T extends Record<string, unknown>>(
  expected: T,
  saved: Partial<T> | null | undefined,
): (keyof T & string)[] {
  return (Object.keys(expected) as (keyof T & string)[]).filter((k) => saved?.[k] !== expected[k]);
}

/** Edit distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/**
 * Throws InvalidArgumentError for a key of `options` that is not in `known`, naming the closest known
 * key (a misspelt option would otherwise be ignored silently).
 *
 * @example
 * checkKnownOptions('fitLangevin options', { sigmaa: 0.1 }, ['sigma', 'seed']);
 * // throws: fitLangevin options: unknown option 'sigmaa'. Fix: did you mean 'sigma'?
 */
export function checkKnownOptions(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    let best = known[0];
    for (const k of known) if (editDistance(key, k) < editDistance(key, best)) best = k;
    throw new InvalidArgumentError(
      name,
      `unknown option '${key}'`,
      best !== undefined && editDistance(key, best) <= Math.max(2, Math.floor(key.length / 3))
        ? `did you mean '${best}'? (known: ${known.join(', ')})`
        : `pass only the known options: ${known.join(', ')}`,
    );
  }
}

/**
 * Typed errors shared by every sdekit package. Each names the offending argument and the fix, so a
 * user reading only the message knows what to change.
 *
 * Recognise them with `isSdekitError`, not `instanceof`: a program can hold two copies of
 * @sdekit/sde (its ESM and its CJS build, or two installed versions), and an error of one copy is
 * not an `instanceof` the classes of the other. Every sdekit error carries the brand
 * `Symbol.for('sdekit.error')` (one symbol for every copy), whose value lists the names of its class
 * and of the classes above it up to SdekitError.
 *
 * @example
 * try { checkPositive('dt', 0); } catch (e) { if (isSdekitError(e, 'InvalidArgumentError')) console.log(e.message); }
 */

/** The brand of every sdekit error: `Symbol.for('sdekit.error')`, the same symbol in every copy. */
export const SDEKIT_ERROR: unique symbol = Symbol.for('sdekit.error');

/** Base class of every sdekit error (all packages). */
export class SdekitError extends Error {
  /** Stable machine-readable code, e.g. 'INVALID_ARGUMENT'. */
  readonly code: string;
  /**
   * The brand: the class names from this error's class up to 'SdekitError', e.g.
   * ['InvalidArgumentError', 'SdekitError']. Non-enumerable; read it through `isSdekitError`.
   */
  declare readonly [SDEKIT_ERROR]: readonly string[];
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
    const names: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      names.push((c as { name: string }).name);
      if (c === SdekitError) break;
    }
    Object.defineProperty(this, SDEKIT_ERROR, { value: Object.freeze(names), enumerable: false });
  }
}

/**
 * True when `e` is an sdekit error of any copy of any sdekit package (ESM or CJS build, another
 * installed version), and, when `name` is given, of the class of that name or a subclass of it:
 * `isSdekitError(e, 'InvalidArgumentError')`, `isSdekitError(e, 'UsageError')` (@sdekit/cli),
 * `isSdekitError(e, 'SdekitError')` (any). Compares the brand `Symbol.for('sdekit.error')`, never
 * `instanceof`, so it works across copies where `instanceof` fails.
 *
 * @example
 * try { simulate(system, options); } catch (e) {
 *   if (isSdekitError(e, 'BlowUpError')) console.log('reduce h:', e.message);
 *   else throw e;
 * }
 */
export function isSdekitError(e: unknown, name?: string): e is SdekitError {
  if (typeof e !== 'object' || e === null) return false;
  const brand = (e as { [SDEKIT_ERROR]?: unknown })[SDEKIT_ERROR];
  if (!Array.isArray(brand)) return false;
  return name === undefined || brand.includes(name);
}

/** An argument has a wrong value (range, type, size). */
export class InvalidArgumentError extends SdekitError {
  readonly argument: string;
  readonly fix: string;
  constructor(argument: string, problem: string, fix: string) {
    super('INVALID_ARGUMENT', `${argument}: ${problem}. Fix: ${fix}`);
    this.argument = argument;
    this.fix = fix;
  }
}

/** Data contains NaN or +-Infinity. */
export class NonFiniteError extends SdekitError {
  readonly argument: string;
  readonly index: number;
  constructor(argument: string, index: number, value: number) {
    super(
      'NON_FINITE',
      `${argument}: element ${index} is ${value}. Fix: remove or impute non-finite values before calling.`,
    );
    this.argument = argument;
    this.index = index;
  }
}

/** Array length does not match the stated dimension(s). */
export class DimensionError extends SdekitError {
  readonly argument: string;
  constructor(argument: string, problem: string, fix: string) {
    super('DIMENSION', `${argument}: ${problem}. Fix: ${fix}`);
    this.argument = argument;
  }
}

/** A matrix that must be symmetric positive definite is not. */
export class NotPositiveDefiniteError extends SdekitError {
  readonly argument: string;
  /** Index of the pivot that failed in the Cholesky factorisation. */
  readonly pivot: number;
  constructor(argument: string, pivot: number, value: number) {
    super(
      'NOT_POSITIVE_DEFINITE',
      `${argument}: not positive definite (Cholesky pivot ${pivot} = ${value}). Fix: pass a symmetric positive-definite matrix, e.g. add a diagonal shift.`,
    );
    this.argument = argument;
    this.pivot = pivot;
  }
}

/** A matrix that must be invertible is (numerically) singular. */
export class SingularMatrixError extends SdekitError {
  readonly argument: string;
  constructor(argument: string, detail: string) {
    super(
      'SINGULAR_MATRIX',
      `${argument}: singular to working precision (${detail}). Fix: check for constant or collinear coordinates, or regularise.`,
    );
    this.argument = argument;
  }
}

/** A simulation left the finite numbers. */
export class BlowUpError extends SdekitError {
  readonly time: number;
  readonly path: number;
  constructor(time: number, path: number, detail = '') {
    super(
      'BLOW_UP',
      `simulation: state of path ${path} is not finite at t = ${time}${detail ? ` (${detail})` : ''}. Fix: reduce the step h, or check the drift and diffusion for growth.`,
    );
    this.time = time;
    this.path = path;
  }
}

/**
 * A simulated path went far outside the box it was watched against (`simulate`'s `watch`): a model
 * that runs away from the region of its data.
 */
export class RunawayError extends SdekitError {
  readonly time: number;
  readonly path: number;
  readonly coordinate: number;
  readonly value: number;
  constructor(time: number, path: number, coordinate: number, value: number, detail: string) {
    super(
      'RUNAWAY',
      `simulation: path ${path} ran away at t = ${time}: coordinate ${coordinate} = ${value.toPrecision(4)}, ${detail}. ` +
        "Fix: the model leaves the region of its data (check the fit's warnings and diagnostics); raise watch.stopFactor to let it run",
    );
    this.time = time;
    this.path = path;
    this.coordinate = coordinate;
    this.value = value;
  }
}

/** An iterative algorithm did not converge. */
export class ConvergenceError extends SdekitError {
  readonly argument: string;
  constructor(argument: string, detail: string, fix: string) {
    super('NO_CONVERGENCE', `${argument}: ${detail}. Fix: ${fix}`);
    this.argument = argument;
  }
}

/** Serialised model of an unknown kind or format version. */
export class FormatError extends SdekitError {
  constructor(what: string, detail: string) {
    super('FORMAT', `${what}: ${detail}. Fix: load a file written by a compatible sdekit version.`);
  }
}

/**
 * Typed errors of @sdekit/io. Each is one line that names the file, the argument that selects what
 * is read (`dataset`, `variable`, `rows`, ...) and the fix. Recognise them with `isSdekitError` of
 * @sdekit/sde (`isSdekitError(e, 'SeriesFileError')` matches both classes).
 */
import { SdekitError } from '@sdekit/sde';

/**
 * A series file cannot give the series asked for: the file is not of its format or is truncated, the
 * selected dataset, variable or column is missing, holds strings, has too many dimensions, holds a
 * NaN, or the row window is out of range.
 */
export class SeriesFileError extends SdekitError {
  /** The file as named by the caller. */
  readonly source: string;
  /** The argument to change ('dataset', '--dataset', 'rows', ...), or '' when it is the file itself. */
  readonly argument: string;
  readonly fix: string;
  constructor(source: string, argument: string, problem: string, fix: string, code = 'SERIES_FILE') {
    super(code, `${source}: ${argument === '' ? '' : `${argument}: `}${problem}. Fix: ${fix}`);
    this.source = source;
    this.argument = argument;
    this.fix = fix;
  }
}

/**
 * The time axis of a file cannot be used: its coordinate is not uniformly spaced or not increasing,
 * its `dt` attribute and its coordinate disagree, or a `dt` given by the caller contradicts the file.
 */
export class TimeAxisError extends SeriesFileError {
  constructor(source: string, argument: string, problem: string, fix: string) {
    super(source, argument, problem, fix, 'TIME_AXIS');
  }
}

/**
 * @sdekit/io: time series from the files scientists keep them in, for sdekit. HDF5 and NetCDF-4
 * through h5wasm (the HDF5 library compiled to WebAssembly), Parquet through hyparquet (pure
 * JavaScript). Every reader returns float64 row-major [N, D] (or [R, N, D] runs), reads a window of
 * rows by slices (a window of a file larger than memory), takes dt from the file when it states it,
 * and reports bad input as one-line typed errors. `writeSeriesFile` writes paths as a
 * self-describing HDF5 file that is also NetCDF-4.
 *
 * The packages that do not read files (@sdekit/sde, @sdekit/partition, ...) do not depend on this one.
 *
 * @example
 * import { readSeries } from '@sdekit/io';
 * const s = await readSeries('ks.h5', { dataset: '/ks/u' });
 * console.log(s.shape, s.names, s.dt); // [N, D], ['x1', ...], { value: 0.25, source: "attribute 'dt' of /ks/u" }
 */
import { SeriesFileError } from './errors.js';
import { readHdf5Series } from './hdf5.js';
import { readParquetSeries } from './parquet.js';
import { type ReadSeriesOptions, type SeriesData, seriesFormat } from './series.js';

export { SeriesFileError, TimeAxisError } from './errors.js';
export { readHdf5Series, readNetcdfSeries } from './hdf5.js';
export { readParquetSeries } from './parquet.js';
export {
  DT_TOLERANCE,
  type FileTimeStep,
  parseRowWindow,
  type ReadCommonOptions,
  type ReadHdf5Options,
  type ReadParquetOptions,
  type ReadSeriesOptions,
  type RowWindow,
  resolveTimeStep,
  SERIES_EXTENSIONS,
  type SeriesData,
  type SeriesFormat,
  seriesFormat,
} from './series.js';
export { type AttributeValue, type WriteSeriesOptions, writeArrayFile, writeSeriesFile } from './write.js';

/**
 * Reads a series from an HDF5 (.h5, .hdf5), NetCDF-4 (.nc) or Parquet (.parquet) file, the format
 * chosen by `options.format` or the file's extension: `readHdf5Series`, `readNetcdfSeries` or
 * `readParquetSeries` with the options that apply to it. An option of another format (`columns` for
 * an HDF5 file, `dataset` for Parquet) is a SeriesFileError rather than silently ignored.
 *
 * @example
 * const s = await readSeries('run.parquet', { columns: ['u', 'v'], rows: { start: 0, stop: 100000 } });
 */
export async function readSeries(path: string, options: ReadSeriesOptions = {}): Promise<SeriesData> {
  const source = options.source ?? path;
  const format = options.format ?? seriesFormat(path);
  const flag = (n: string) =>
    options.flagNames ? `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : n;
  if (format === null) {
    throw new SeriesFileError(
      source,
      '',
      'the file name does not say its format',
      'name it .h5 / .hdf5 (HDF5), .nc (NetCDF-4) or .parquet, or pass options.format',
    );
  }
  if (format === 'parquet') {
    for (const key of ['dataset', 'variable', 'timeDim'] as const) {
      if (options[key] !== undefined)
        throw new SeriesFileError(
          source,
          flag(key),
          'applies to HDF5 and NetCDF files, not to Parquet',
          `select Parquet columns with ${flag('columns')} (and the time column with ${flag('timeColumn')})`,
        );
    }
    return readParquetSeries(path, options);
  }
  for (const key of ['columns', 'timeColumn'] as const) {
    if (options[key] !== undefined)
      throw new SeriesFileError(
        source,
        flag(key),
        'applies to Parquet files, not to HDF5 or NetCDF',
        `select an HDF5 dataset with ${flag('dataset')} or NetCDF variables with ${flag('variable')}`,
      );
  }
  return readHdf5Series(path, options, format);
}

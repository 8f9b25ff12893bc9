/**
 * The version of @sdekit/cli, printed by `sdekit --version` and written into simulate's HDF5 / NetCDF
 * outputs. Its own module, so that a command can import it without importing main.ts (which imports
 * every command). Kept equal to package.json's (tested).
 */
export const VERSION = '0.1.0';

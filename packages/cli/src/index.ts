export { selectBackend, type BackendPreference, type BackendSelection } from './backend.js';
export {
  atomicWrite,
  DataFormatError,
  decodeNpy,
  encodeNpy,
  formatCsv,
  parseCsv,
  readCsv,
  readNpy,
  writeCsv,
  writeNpy,
  type CsvReadOptions,
  type CsvTable,
  type NpyArray,
  type NpyDtype,
} from './io.js';
export {
  main,
  VERSION,
  EXIT,
  UsageError,
  FileError,
  type CliIo,
  type CliMetadata,
  type CoefficientsContext,
} from './commands/main.js';

export {
  type BackendPreference,
  type BackendSelection,
  backendPreference,
  selectBackend,
} from './backend.js';
export {
  type CliIo,
  type CliMetadata,
  type CoefficientsContext,
  EXIT,
  FileError,
  main,
  UsageError,
  VERSION,
} from './commands/main.js';
export {
  atomicWrite,
  atomicWriteSync,
  type CsvReadOptions,
  type CsvTable,
  DataFormatError,
  decodeNpy,
  encodeNpy,
  formatCsv,
  type NpyArray,
  type NpyDtype,
  parseCsv,
  readCsv,
  readNpy,
  writeCsv,
  writeNpy,
} from './io.js';
export {
  LANGEVIN_MODEL_FORMAT,
  loadSavedModel,
  type SavedModel,
  type SavedModelSystemOptions,
  savedModelSystem,
  savedModelSystemSpec,
} from './model-system.js';

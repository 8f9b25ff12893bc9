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

/**
 * Data files for sdekit applications: NumPy `.npy` arrays (float32 / float64, either byte order,
 * C or Fortran order, header versions 1, 2 and 3) and numeric CSV tables, plus atomic writes
 * (write a temporary file in the same folder, then rename it over the target, so a reader never
 * sees a half-written file).
 *
 * A time series of N samples in R^D is stored as an N x D array (row-major, docs/methods.md section 0),
 * which is what numpy's `np.load` returns for a C-order file.
 *
 * Format reference: numpy/lib/format.py ("NEP 1 - A Simple File Format for NumPy Arrays").
 *
 * @example
 * import { writeNpy, readNpy } from '@sdekit/cli';
 * await writeNpy('x.npy', new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]);
 * const { data, shape } = await readNpy('x.npy'); // Float64Array [1..6], [3, 2]
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { checkFinite, checkInteger, DimensionError, InvalidArgumentError, SdekitError } from '@sdekit/sde';

/** A data file could not be parsed; names the file (or 'input'), and where known the line and column (1-based). */
export class DataFormatError extends SdekitError {
  readonly source: string;
  /** 1-based line of the problem, or 0 when not line-oriented (a .npy header). */
  readonly line: number;
  /** 1-based column (CSV field index) of the problem, or 0 when not applicable. */
  readonly column: number;
  constructor(source: string, line: number, column: number, problem: string, fix: string) {
    const where = line > 0 ? ` line ${line}${column > 0 ? `, column ${column}` : ''}` : '';
    super('DATA_FORMAT', `${source}${where}: ${problem}. Fix: ${fix}`);
    this.source = source;
    this.line = line;
    this.column = column;
  }
}

/** Element types sdekit reads and writes. */
export type NpyDtype = 'float32' | 'float64';

/** A decoded .npy array: data in C (row-major) order whatever the file's order. */
export interface NpyArray {
  readonly data: Float32Array | Float64Array;
  readonly shape: number[];
  readonly dtype: NpyDtype;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function product(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

function checkShape(shape: readonly number[], length: number): void {
  if (!Array.isArray(shape))
    throw new InvalidArgumentError('shape', 'must be an array of integers', 'pass e.g. [rows, cols]');
  for (let i = 0; i < shape.length; i++) checkInteger(`shape[${i}]`, shape[i], 0);
  if (product(shape) !== length) {
    throw new DimensionError(
      'shape',
      `[${shape.join(', ')}] holds ${product(shape)} values but data has ${length}`,
      'pass a shape whose product is data.length',
    );
  }
}

/**
 * Encodes an array as .npy bytes (version 1.0 header, or 2.0 when the header exceeds 65535 bytes),
 * little-endian, C order. The dtype follows the array type: Float64Array -> '<f8', Float32Array -> '<f4'.
 *
 * @example
 * const bytes = encodeNpy(new Float64Array([1, 2]), [2]); // np.load reads array([1., 2.])
 */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  if (!(data instanceof Float64Array) && !(data instanceof Float32Array)) {
    throw new InvalidArgumentError(
      'data',
      'must be a Float64Array or Float32Array',
      'convert with Float64Array.from(values)',
    );
  }
  checkShape(shape, data.length);
  const descr = data instanceof Float64Array ? '<f8' : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Total header (magic + version + length field + dict + padding + '\n') is a multiple of 64.
  let version = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 65535 + 10) {
    version = 2;
    prefix = 12;
  }
  const padded = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const headerLen = padded - prefix;
  const header = `${dict + ' '.repeat(headerLen - dict.length - 1)}\n`;
  const out = new Uint8Array(padded + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  // Values are written explicitly little-endian (portable whatever the host byte order).
  const bytes = data instanceof Float64Array ? 8 : 4;
  for (let i = 0; i < data.length; i++) {
    if (bytes === 8) view.setFloat64(padded + 8 * i, data[i], true);
    else view.setFloat32(padded + 4 * i, data[i], true);
  }
  return out;
}

/** Parses the Python-literal header dict of a .npy file. */
function parseNpyHeader(text: string, source: string): { descr: string; fortran: boolean; shape: number[] } {
  const bad = (what: string): never => {
    throw new DataFormatError(
      source,
      0,
      0,
      `.npy header ${what} (header: ${JSON.stringify(text.trim())})`,
      'save the array with numpy.save or sdekit',
    );
  };
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1] ?? bad("has no 'descr'");
  const fortranText = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1] ?? bad("has no 'fortran_order'");
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1] ?? bad("has no 'shape'");
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) bad(`has a bad shape entry '${s}'`);
      return v;
    });
  return { descr, fortran: fortranText === 'True', shape };
}

/** What the header of a .npy file says: element type, order, shape, and where the data start. */
interface NpyLayout {
  readonly shape: number[];
  readonly fortran: boolean;
  /** Bytes per element (4 or 8). */
  readonly size: 4 | 8;
  readonly little: boolean;
  /** Byte offset of the data section. */
  readonly dataOffset: number;
}

/**
 * Parses the preamble of a .npy file. `bytes` starts at the beginning of the file; when it is shorter
 * than the header, the result says how many bytes the header needs (the streaming reader reads that
 * much and calls again).
 */
function parseNpyLayout(bytes: Uint8Array, source: string): NpyLayout | { needBytes: number } {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new DataFormatError(
      source,
      0,
      0,
      'not a .npy file (magic string \\x93NUMPY missing)',
      'pass a file written by numpy.save',
    );
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let prefix: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    prefix = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12)
      throw new DataFormatError(source, 0, 0, 'truncated .npy header', 'pass a complete file');
    headerLen = view.getUint32(8, true);
    prefix = 12;
  } else {
    throw new DataFormatError(
      source,
      0,
      0,
      `unsupported .npy format version ${major}.${bytes[7]}`,
      'save with numpy.save (versions 1.0-3.0)',
    );
  }
  if (prefix + headerLen > bytes.length) return { needBytes: prefix + headerLen };
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(prefix, prefix + headerLen),
  );
  const { descr, fortran, shape } = parseNpyHeader(header, source);
  const m = /^([<>=|])?f([48])$/.exec(descr);
  if (!m) {
    throw new DataFormatError(
      source,
      0,
      0,
      `dtype '${descr}' is not supported (float32 or float64 only)`,
      'convert with array.astype(numpy.float64) before saving',
    );
  }
  // '=' and '|' mean native; every platform Node runs on is little-endian.
  return { shape, fortran, size: m[2] === '8' ? 8 : 4, little: m[1] !== '>', dataOffset: prefix + headerLen };
}

function dataSizeError(source: string, have: number, layout: NpyLayout): DataFormatError {
  return new DataFormatError(
    source,
    0,
    0,
    `data section has ${have} bytes, shape [${layout.shape.join(', ')}] needs ${product(layout.shape) * layout.size}`,
    'pass a complete, uncorrupted file',
  );
}

/** Allocates the array a .npy layout needs, with a typed error (naming the size) when it cannot be had. */
function allocateNpy(layout: NpyLayout, source: string): Float32Array | Float64Array {
  const n = product(layout.shape);
  try {
    return layout.size === 8 ? new Float64Array(n) : new Float32Array(n);
  } catch {
    throw new DataFormatError(
      source,
      0,
      0,
      `shape [${layout.shape.join(', ')}] needs ${((n * layout.size) / 2 ** 30).toFixed(2)} GiB, more than this process can allocate`,
      'read a window of the series (numpy: np.load(path, mmap_mode="r")[a:b]) or run with more memory (node --max-old-space-size does not limit typed arrays; free RAM does)',
    );
  }
}

/** Swaps the bytes of each element in place (big-endian file on a little-endian host). */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** C-order result of a filled array: Fortran-order data are transposed. */
function toCOrder(raw: Float32Array | Float64Array, layout: NpyLayout): NpyArray {
  const data = layout.fortran && layout.shape.length > 1 ? fortranToC(raw, layout.shape) : raw;
  return { data, shape: layout.shape, dtype: layout.size === 8 ? 'float64' : 'float32' };
}

/**
 * Decodes .npy bytes. Accepts header versions 1.0, 2.0 and 3.0, dtypes float32/float64 in either
 * byte order ('<f8', '>f8', '<f4', '>f4', '=f8' ...), and C or Fortran order (Fortran data are
 * transposed to C order). Anything else (ints, objects, structured dtypes) is a DataFormatError.
 *
 * @example
 * const { data, shape, dtype } = decodeNpy(bytes, 'x.npy');
 */
export function decodeNpy(bytes: Uint8Array, source = 'input'): NpyArray {
  const layout = parseNpyLayout(bytes, source);
  if ('needBytes' in layout)
    throw new DataFormatError(source, 0, 0, 'truncated .npy header', 'pass a complete file');
  const have = bytes.length - layout.dataOffset;
  if (have !== product(layout.shape) * layout.size) throw dataSizeError(source, have, layout);
  const raw = allocateNpy(layout, source);
  const target = new Uint8Array(raw.buffer);
  target.set(bytes.subarray(layout.dataOffset));
  if (!layout.little) swapBytes(target, layout.size);
  return toCOrder(raw, layout);
}

/** Reorders a column-major (Fortran) array of the given shape into row-major (C) order. */
function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: readonly number[]): T {
  const k = shape.length;
  const out = new (src.constructor as { new (n: number): T })(src.length);
  const fStride = new Array<number>(k);
  fStride[0] = 1;
  for (let j = 1; j < k; j++) fStride[j] = fStride[j - 1] * shape[j - 1];
  const idx = new Array<number>(k).fill(0);
  for (let c = 0; c < src.length; c++) {
    let f = 0;
    for (let j = 0; j < k; j++) f += idx[j] * fStride[j];
    out[c] = src[f];
    for (let j = k - 1; j >= 0; j--) {
      if (++idx[j] < shape[j]) break;
      idx[j] = 0;
    }
  }
  return out;
}

/**
 * Writes `content` to `path` atomically: a temporary file in the same folder, then a rename over
 * the target (rename is atomic on POSIX file systems), so readers see the old or the new file,
 * never a partial one. The temporary file is removed if writing fails.
 *
 * @example
 * await atomicWrite('metrics.json', JSON.stringify(metrics, null, 2));
 */
export async function atomicWrite(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = temporaryPath(path);
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * `atomicWrite` for callers inside a synchronous loop (checkpoints of a long training run, where an
 * asynchronous write would not run until the loop ends).
 *
 * @example
 * trainDsm(data, dim, { ..., checkpoint: { every: 1000, save: (c) => atomicWriteSync('dsm.json', JSON.stringify(c)) } });
 */
export function atomicWriteSync(path: string, content: string | Uint8Array): void {
  const tmp = temporaryPath(path);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** A unique temporary file next to `path` (same folder, so the final rename stays atomic). */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** True when a process with this id is running (signal 0 probes without sending anything). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes the temporary files (or folders) that `temporaryPath` made for `path` in runs that no
 * longer exist (a run killed mid-write): `.NAME.<pid>.<hex>.tmp` whose pid is not running. Returns
 * the names removed.
 */
export async function removeStaleTemporaries(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Writes an array as a .npy file (atomically). Float64Array gives float64 ('<f8'), Float32Array float32.
 *
 * @example
 * await writeNpy('series.npy', series.data, [series.length, series.dim]);
 */
export async function writeNpy(
  path: string,
  data: Float32Array | Float64Array,
  shape: readonly number[],
): Promise<void> {
  await atomicWrite(path, encodeNpy(data, shape));
}

/** Options of the streaming readers `readNpy` and `readCsv`. */
export interface ReadProgressOptions {
  /** Called after each chunk with the bytes read so far and the file size. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Name used in error messages (default: the path). */
  readonly source?: string;
  /** Bytes per read (default 16 MiB). */
  readonly chunkBytes?: number;
}

/** Bytes read per system call by the streaming readers. */
const READ_CHUNK_BYTES = 1 << 24;

function checkChunkBytes(chunkBytes: number | undefined): number {
  if (chunkBytes === undefined) return READ_CHUNK_BYTES;
  checkInteger('chunkBytes', chunkBytes, 1);
  return chunkBytes;
}

/**
 * Reads a .npy file (see `decodeNpy` for what is accepted) by streaming: the data are read in 16 MiB
 * chunks straight into the result array, so reading needs the memory of the array and no more (a
 * float64 C-order file; float32 arrays are returned as float32, Fortran order needs a second array
 * for the transpose).
 *
 * @example
 * const { data, shape } = await readNpy('series.npy'); // shape [N, D] for a time series
 */
export async function readNpy(path: string, options: ReadProgressOptions = {}): Promise<NpyArray> {
  const source = options.source ?? path;
  const chunkBytes = checkChunkBytes(options.chunkBytes);
  const file = await open(path, 'r');
  try {
    const total = (await file.stat()).size;
    let head = new Uint8Array(Math.min(total, 4096));
    await file.read(head, 0, head.length, 0);
    let layout = parseNpyLayout(head, source);
    if ('needBytes' in layout) {
      if (layout.needBytes > total)
        throw new DataFormatError(source, 0, 0, 'truncated .npy header', 'pass a complete file');
      head = new Uint8Array(layout.needBytes);
      await file.read(head, 0, head.length, 0);
      layout = parseNpyLayout(head, source);
      if ('needBytes' in layout)
        throw new DataFormatError(source, 0, 0, 'truncated .npy header', 'pass a complete file');
    }
    const have = total - layout.dataOffset;
    if (have !== product(layout.shape) * layout.size) throw dataSizeError(source, have, layout);
    const raw = allocateNpy(layout, source);
    const target = new Uint8Array(raw.buffer);
    for (let done = 0; done < target.length; ) {
      const want = Math.min(chunkBytes, target.length - done);
      const { bytesRead } = await file.read(target, done, want, layout.dataOffset + done);
      if (bytesRead === 0) throw dataSizeError(source, done, layout);
      done += bytesRead;
      options.onProgress?.(layout.dataOffset + done, total);
    }
    if (target.length === 0) options.onProgress?.(total, total);
    if (!layout.little) swapBytes(target, layout.size);
    return toCOrder(raw, layout);
  } finally {
    await file.close();
  }
}

/** A numeric table read from CSV: `rows` x `cols` values, row-major. */
export interface CsvTable {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** Column names when the file has a header row, else null. */
  readonly header: string[] | null;
}

/** Options of `parseCsv` / `readCsv`. */
export interface CsvReadOptions {
  /** true: the first row is a header; false: it is data; 'auto' (default): a header iff some cell of the first row is not a number. */
  readonly header?: boolean | 'auto';
  /** Field separator (default ','). */
  readonly delimiter?: string;
  /** Name used in error messages (default 'input'; readCsv passes the path). */
  readonly source?: string;
}

function parseNumber(cell: string): number {
  const t = cell.trim();
  // Number('') is 0 and Number('0x10') is 16: accept decimal/scientific notation only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

function isWord(cell: string): boolean {
  const t = cell.trim();
  return t !== '' && Number.isNaN(parseNumber(t)) && !/^[+-]?(nan|inf|infinity)$/i.test(t);
}

/** A growable float64 buffer: amortised O(1) appends, the result a view without a copy. */
class ValueBuffer {
  private data: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }
  /** Makes room for at least `capacity` values (e.g. an estimate from the file size). */
  reserve(capacity: number): void {
    if (capacity <= this.data.length) return;
    const next = new Float64Array(capacity);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(v: number): void {
    // Growth by 1.25x: a reserve from the file size is usually right, so slack stays small.
    if (this.length === this.data.length) this.reserve(Math.ceil(this.data.length * 1.25) + 16);
    this.data[this.length++] = v;
  }
  /** The values, as a view of the buffer (no copy). */
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * The numeric CSV parser behind `parseCsv` and `readCsv`: text goes in by chunks of any size (a line
 * may be split across chunks), values are stored in one float64 buffer, and every error names the line
 * and column. Memory is that of the values, never a string of the whole file.
 */
export class CsvParser {
  private readonly delimiter: string;
  private readonly source: string;
  private readonly headerOpt: boolean | 'auto';
  private readonly values = new ValueBuffer(1024);
  private header: string[] | null = null;
  private cols = -1;
  private rows = 0;
  private first = true;
  private lineNo = 0;
  private rest = '';

  constructor(options: CsvReadOptions = {}) {
    this.delimiter = options.delimiter ?? ',';
    this.source = options.source ?? 'input';
    this.headerOpt = options.header ?? 'auto';
    if (this.delimiter.length === 0)
      throw new InvalidArgumentError('delimiter', 'must not be empty', "pass ',' or '\\t'");
  }

  /** Values parsed so far (for sizing: `reserve` after the first chunk). */
  get count(): number {
    return this.values.length;
  }

  /** Reserves room for about `values` values in total (an estimate; the buffer still grows if needed). */
  reserve(values: number): void {
    this.values.reserve(Math.ceil(values));
  }

  /** Parses the complete lines of `chunk`; an incomplete last line waits for the next chunk. */
  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  /** Parses what is left and returns the table. */
  finish(): CsvTable {
    if (this.rest.length > 0) {
      const last = this.rest.endsWith('\r') ? this.rest.slice(0, -1) : this.rest;
      this.rest = '';
      this.line(last);
    }
    if (this.rows === 0)
      throw new DataFormatError(
        this.source,
        0,
        0,
        'no data rows',
        'pass a CSV file with at least one row of numbers',
      );
    return { data: this.values.values(), rows: this.rows, cols: this.cols, header: this.header };
  }

  private line(line: string): void {
    const li = ++this.lineNo;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const cells = line.split(this.delimiter);
    if (this.first) {
      this.first = false;
      // A header row has a word in it; empty cells and nan/inf spellings are data (and fail below).
      const isHeader = this.headerOpt === 'auto' ? cells.some((c) => isWord(c)) : this.headerOpt;
      if (isHeader) {
        this.header = cells.map((c) => c.trim());
        this.cols = cells.length;
        return;
      }
    }
    if (this.cols < 0) this.cols = cells.length;
    if (cells.length !== this.cols) {
      throw new DataFormatError(
        this.source,
        li,
        Math.min(cells.length, this.cols) + 1,
        `row has ${cells.length} fields, expected ${this.cols}${this.header ? ' (as in the header)' : ' (as in the first row)'}`,
        'give every row the same number of comma-separated values',
      );
    }
    for (let j = 0; j < cells.length; j++) {
      const v = parseNumber(cells[j]);
      if (!Number.isFinite(v)) {
        throw new DataFormatError(
          this.source,
          li,
          j + 1,
          `field '${cells[j].trim()}' is not a finite number`,
          'write plain decimal numbers (e.g. -1.5e-3); remove or impute missing values',
        );
      }
      this.values.push(v);
    }
    this.rows++;
  }
}

/**
 * Parses a numeric CSV table. Blank lines and lines starting with '#' are skipped; every data row
 * must have the same number of fields and every field must be a finite decimal number, otherwise a
 * DataFormatError names the line and column (1-based) and the fix. Quoted fields are not
 * interpreted (numeric data need none).
 *
 * @example
 * const t = parseCsv('x,y\n1,2\n3,4\n'); // { rows: 2, cols: 2, header: ['x', 'y'], data: [1, 2, 3, 4] }
 */
export function parseCsv(text: string, options: CsvReadOptions = {}): CsvTable {
  const parser = new CsvParser(options);
  parser.push(text);
  return parser.finish();
}

/**
 * Reads a numeric CSV file (see `parseCsv`) by streaming: 16 MiB at a time, so a file of any size
 * needs the memory of its values (8 bytes each, sized from the file after the first chunk), not of
 * its text.
 *
 * @example
 * const { data, rows, cols } = await readCsv('series.csv'); // time series: rows = N samples, cols = D
 */
export async function readCsv(
  path: string,
  options: CsvReadOptions & ReadProgressOptions = {},
): Promise<CsvTable> {
  const parser = new CsvParser({ ...options, source: options.source ?? path });
  const file = await open(path, 'r');
  try {
    const total = (await file.stat()).size;
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.allocUnsafe(Math.min(checkChunkBytes(options.chunkBytes), Math.max(1, total)));
    let done = 0;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      parser.push(decoder.write(chunk.subarray(0, bytesRead)));
      // Size the value buffer once from the first chunk's density of values per byte (+5 %).
      if (done === 0 && bytesRead < total && parser.count > 0)
        parser.reserve((1.05 * parser.count * total) / bytesRead);
      done += bytesRead;
      options.onProgress?.(done, total);
    }
    parser.push(decoder.end());
    return parser.finish();
  } finally {
    await file.close();
  }
}

/**
 * Formats a row-major table as CSV text. Numbers use JavaScript's shortest round-trip form, so
 * `parseCsv(formatCsv(x))` reproduces float64 values exactly.
 *
 * @example
 * formatCsv(new Float64Array([1, 2, 3, 4]), 2, ['x', 'y']); // 'x,y\n1,2\n3,4\n'
 */
export function formatCsv(data: Float64Array, cols: number, header?: readonly string[]): string {
  checkInteger('cols', cols, 1);
  if (data.length % cols !== 0)
    throw new DimensionError(
      'data',
      `length ${data.length} is not a multiple of cols = ${cols}`,
      'pass rows*cols values',
    );
  checkFinite('data', data);
  if (header && header.length !== cols)
    throw new DimensionError(
      'header',
      `has ${header.length} names for ${cols} columns`,
      'pass one name per column',
    );
  const parts: string[] = [];
  if (header) parts.push(`${header.join(',')}\n`);
  const row = new Array<string>(cols);
  for (let i = 0; i < data.length; i += cols) {
    for (let j = 0; j < cols; j++) row[j] = String(data[i + j]);
    parts.push(`${row.join(',')}\n`);
  }
  return parts.join('');
}

/**
 * Writes a row-major table as a CSV file (atomically).
 *
 * @example
 * await writeCsv('series.csv', series.data, series.dim, ['x1', 'x2']);
 */
export async function writeCsv(
  path: string,
  data: Float64Array,
  cols: number,
  header?: readonly string[],
): Promise<void> {
  await atomicWrite(path, formatCsv(data, cols, header));
}

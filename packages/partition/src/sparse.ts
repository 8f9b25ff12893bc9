/**
 * Compressed sparse column (CSC) storage for the K x K matrices of Markov-state models: generators
 * (column convention, docs/methods.md §3: entry (j, i) is the rate i -> j) and lag-k transition matrices
 * (entry (j, i) is the probability i -> j). With K ~ 1e4 cells a dense matrix would take ~800 MB,
 * while a data-estimated generator has only as many non-zeros as distinct observed transitions.
 *
 * @example
 * const P = SparseColumnMatrix.fromDense(Matrix.from([[0.9, 0.2], [0.1, 0.8]]));
 * P.get(1, 0); // 0.1: probability 0 -> 1
 * P.apply(Float64Array.of(1, 0)); // first column
 */
import {
  checkFinite,
  checkInteger,
  DimensionError,
  FormatError,
  InvalidArgumentError,
  Matrix,
} from '@sdekit/sde';

/** Serialised form shared by SparseColumnMatrix and Generator. */
export interface SparseColumnJSON {
  format: string;
  version: number;
  size: number;
  colPtr: number[];
  rowIndex: number[];
  values: number[];
}

/**
 * A square sparse matrix in CSC form: the entries of column i are rows rowIndex[colPtr[i]..colPtr[i+1])
 * (strictly increasing) with values values[...] at the same positions.
 */
export class SparseColumnMatrix {
  /** Number of rows = number of columns (K). */
  readonly size: number;
  /** Column pointers, length size + 1. */
  readonly colPtr: Int32Array;
  /** Row index of each stored entry, sorted within each column. */
  readonly rowIndex: Int32Array;
  /** Value of each stored entry. */
  readonly values: Float64Array;

  constructor(size: number, colPtr: Int32Array, rowIndex: Int32Array, values: Float64Array) {
    checkInteger('size', size, 0);
    if (colPtr.length !== size + 1) {
      throw new DimensionError(
        'colPtr',
        `length ${colPtr.length} != size + 1 = ${size + 1}`,
        'pass size + 1 column pointers',
      );
    }
    const nnz = colPtr[size];
    if (colPtr[0] !== 0 || rowIndex.length !== nnz || values.length !== nnz) {
      throw new DimensionError(
        'rowIndex/values',
        `colPtr[0] = ${colPtr[0]}, colPtr[size] = ${nnz}, rowIndex.length = ${rowIndex.length}, values.length = ${values.length}`,
        'pass colPtr starting at 0 and ending at the number of stored entries',
      );
    }
    for (let i = 0; i < size; i++) {
      if (colPtr[i + 1] < colPtr[i]) {
        throw new InvalidArgumentError(
          'colPtr',
          `decreases at column ${i}`,
          'pass non-decreasing column pointers',
        );
      }
      for (let p = colPtr[i]; p < colPtr[i + 1]; p++) {
        const r = rowIndex[p];
        if (r < 0 || r >= size || (p > colPtr[i] && r <= rowIndex[p - 1])) {
          throw new InvalidArgumentError(
            'rowIndex',
            `column ${i} has row index ${r} out of range or out of order`,
            `pass strictly increasing row indices in [0, ${size}) within each column`,
          );
        }
      }
    }
    checkFinite('values', values);
    this.size = size;
    this.colPtr = colPtr;
    this.rowIndex = rowIndex;
    this.values = values;
  }

  /** Number of stored entries. */
  get nnz(): number {
    return this.colPtr[this.size];
  }

  /** Entry (j, i) (row j, column i); 0 when not stored. Binary search in column i. */
  get(j: number, i: number): number {
    let lo = this.colPtr[i];
    let hi = this.colPtr[i + 1] - 1;
    const rows = this.rowIndex;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = rows[mid];
      if (r === j) return this.values[mid];
      if (r < j) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Calls fn(j, value) for every stored entry of column i, in increasing j. */
  forEachInColumn(i: number, fn: (j: number, value: number) => void): void {
    for (let p = this.colPtr[i]; p < this.colPtr[i + 1]; p++) fn(this.rowIndex[p], this.values[p]);
  }

  /** out = A v (out_j = sum_i A[j, i] v_i). */
  apply(v: Float64Array, out: Float64Array = new Float64Array(this.size)): Float64Array {
    this.checkVector('v', v);
    out.fill(0);
    const { colPtr, rowIndex, values } = this;
    for (let i = 0; i < this.size; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      for (let p = colPtr[i]; p < colPtr[i + 1]; p++) out[rowIndex[p]] += values[p] * vi;
    }
    return out;
  }

  /** out = A^T v (out_i = sum_j A[j, i] v_j): the backward (observable) action. */
  applyTranspose(v: Float64Array, out: Float64Array = new Float64Array(this.size)): Float64Array {
    this.checkVector('v', v);
    const { colPtr, rowIndex, values } = this;
    for (let i = 0; i < this.size; i++) {
      let s = 0;
      for (let p = colPtr[i]; p < colPtr[i + 1]; p++) s += values[p] * v[rowIndex[p]];
      out[i] = s;
    }
    return out;
  }

  /** Sum of each column (1 for a stochastic column, 0 for a generator column). */
  columnSums(): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) {
      let s = 0;
      for (let p = this.colPtr[i]; p < this.colPtr[i + 1]; p++) s += this.values[p];
      out[i] = s;
    }
    return out;
  }

  /** Dense K x K copy (row j, column i holds A[j, i]). Needs 8 K^2 bytes: use for moderate K only. */
  toDense(): Matrix {
    const n = this.size;
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) {
      for (let p = this.colPtr[i]; p < this.colPtr[i + 1]; p++)
        m.data[this.rowIndex[p] * n + i] = this.values[p];
    }
    return m;
  }

  /** Plain-JSON form with `format` and `version`. */
  toJSON(): SparseColumnJSON {
    return {
      format: (this.constructor as typeof SparseColumnMatrix).FORMAT,
      version: 1,
      size: this.size,
      colPtr: Array.from(this.colPtr),
      rowIndex: Array.from(this.rowIndex),
      values: Array.from(this.values),
    };
  }

  /** Format name written by toJSON. */
  static readonly FORMAT: string = 'sdekit.partition.sparse-column-matrix';

  /** Restores a matrix written by toJSON. */
  static fromJSON(json: SparseColumnJSON): SparseColumnMatrix {
    const { size, colPtr, rowIndex, values } = parseSparseJSON(json, SparseColumnMatrix.FORMAT);
    return new SparseColumnMatrix(size, colPtr, rowIndex, values);
  }

  /** CSC copy of a dense square matrix, keeping its non-zero entries. */
  static fromDense(a: Matrix): SparseColumnMatrix {
    const { size, colPtr, rowIndex, values } = denseToColumns(a);
    return new SparseColumnMatrix(size, colPtr, rowIndex, values);
  }

  protected checkVector(name: string, v: Float64Array): void {
    if (v.length !== this.size) {
      throw new DimensionError(
        name,
        `length ${v.length} != matrix size ${this.size}`,
        'pass one value per state',
      );
    }
  }
}

/**
 * A Markov generator in column convention (docs/methods.md §3): get(j, i) is the rate i -> j for j != i,
 * get(i, i) = -(total exit rate of i), so every column sums to 0. d p/dt = Q p for a probability
 * column vector p; observables evolve backward with Q^T (`applyTranspose`).
 *
 * @example
 * const Q = Generator.fromDense(Matrix.from([[-1, 2], [1, -2]]));
 * Q.exitRate(0); // 1
 * Q.apply(Float64Array.of(2 / 3, 1 / 3)); // ~[0, 0]: stationary
 */
export class Generator extends SparseColumnMatrix {
  static override readonly FORMAT: string = 'sdekit.partition.generator';

  constructor(size: number, colPtr: Int32Array, rowIndex: Int32Array, values: Float64Array) {
    super(size, colPtr, rowIndex, values);
    for (let i = 0; i < size; i++) {
      let sum = 0;
      let scale = 0;
      for (let p = colPtr[i]; p < colPtr[i + 1]; p++) {
        const v = values[p];
        if (rowIndex[p] !== i && v < 0) {
          throw new InvalidArgumentError(
            'values',
            `rate ${i} -> ${rowIndex[p]} is negative (${v})`,
            'off-diagonal rates must be >= 0',
          );
        }
        sum += v;
        scale += Math.abs(v);
      }
      if (Math.abs(sum) > 1e-10 * scale) {
        throw new InvalidArgumentError(
          'values',
          `column ${i} sums to ${sum}, not 0`,
          'set the diagonal to minus the sum of the exit rates',
        );
      }
    }
  }

  /** Total exit rate of state i, -Q[i, i]. */
  exitRate(i: number): number {
    return -this.get(i, i);
  }

  /** Largest exit rate max_i -Q[i, i] (the uniformisation rate). */
  maxExitRate(): number {
    let m = 0;
    for (let i = 0; i < this.size; i++) m = Math.max(m, -this.get(i, i));
    return m;
  }

  static override fromJSON(json: SparseColumnJSON): Generator {
    const { size, colPtr, rowIndex, values } = parseSparseJSON(json, Generator.FORMAT);
    return new Generator(size, colPtr, rowIndex, values);
  }

  static override fromDense(a: Matrix): Generator {
    const { size, colPtr, rowIndex, values } = denseToColumns(a);
    return new Generator(size, colPtr, rowIndex, values);
  }
}

function denseToColumns(a: Matrix): {
  size: number;
  colPtr: Int32Array;
  rowIndex: Int32Array;
  values: Float64Array;
} {
  if (a.rows !== a.cols)
    throw new DimensionError('a', `is ${a.rows} x ${a.cols}, must be square`, 'pass a square matrix');
  const n = a.rows;
  let nnz = 0;
  for (let k = 0; k < n * n; k++) if (a.data[k] !== 0) nnz++;
  const colPtr = new Int32Array(n + 1);
  const rowIndex = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = a.data[j * n + i];
      if (v !== 0) {
        rowIndex[p] = j;
        values[p] = v;
        p++;
      }
    }
    colPtr[i + 1] = p;
  }
  return { size: n, colPtr, rowIndex, values };
}

function parseSparseJSON(
  json: SparseColumnJSON,
  format: string,
): { size: number; colPtr: Int32Array; rowIndex: Int32Array; values: Float64Array } {
  if (!json || json.format !== format) {
    throw new FormatError(format, `expected format '${format}', got '${json?.format}'`);
  }
  if (json.version !== 1)
    throw new FormatError(format, `unsupported version ${json.version} (this build reads version 1)`);
  return {
    size: json.size,
    colPtr: Int32Array.from(json.colPtr),
    rowIndex: Int32Array.from(json.rowIndex),
    values: Float64Array.from(json.values),
  };
}

/**
 * Small dense float64 linear algebra on row-major typed arrays: the D x D and K x K matrices of the
 * score-based Langevin method (Stein matrix, Cdot, Phi, Cholesky factors) and of generators.
 * Hot paths are plain loops on Float64Array. General (non-symmetric) eigenvalues use the EISPACK
 * balance / Hessenberg / shifted-QR sequence, written out here rather than taken from mathjs, whose
 * eigs fails to converge on circulant generators and costs seconds to load in every worker thread.
 *
 * @example
 * const a = Matrix.from([[4, 2], [2, 3]]);
 * const l = cholesky(a);            // lower factor, a = l l^T
 * const x = choleskySolve(l, Matrix.from([[1], [2]]));
 */
import {
  ConvergenceError,
  DimensionError,
  InvalidArgumentError,
  NonFiniteError,
  NotPositiveDefiniteError,
  SingularMatrixError,
} from './errors.js';
import { checkFinite } from './validate.js';

/** A dense row-major matrix: entry (i, j) at data[i * cols + j]. */
export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;

  constructor(rows: number, cols: number, data?: Float64Array) {
    if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
      throw new InvalidArgumentError(
        'rows/cols',
        `must be non-negative integers, got ${rows} x ${cols}`,
        'pass integer sizes',
      );
    }
    if (data && data.length !== rows * cols) {
      throw new DimensionError(
        'data',
        `length ${data.length} != ${rows} * ${cols}`,
        'pass rows*cols values in row-major order',
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data ?? new Float64Array(rows * cols);
  }

  /** From nested arrays (rows of equal length). */
  static from(rows: ArrayLike<ArrayLike<number>>): Matrix {
    const r = rows.length;
    const c = r === 0 ? 0 : rows[0].length;
    const m = new Matrix(r, c);
    for (let i = 0; i < r; i++) {
      if (rows[i].length !== c) {
        throw new DimensionError(
          'rows',
          `row ${i} has ${rows[i].length} entries, expected ${c}`,
          'pass rows of equal length',
        );
      }
      for (let j = 0; j < c; j++) {
        const v = rows[i][j];
        // A null or a string would become 0 or NaN silently in a Float64Array.
        if (typeof v === 'number' && !Number.isFinite(v)) throw new NonFiniteError(`rows[${i}]`, j, v);
        if (typeof v !== 'number') {
          throw new InvalidArgumentError(
            `rows[${i}][${j}]`,
            `must be a finite number, got ${v === null ? 'null' : typeof v === 'string' ? `'${v}'` : String(v)}`,
            'pass rows of finite numbers',
          );
        }
        m.data[i * c + j] = v;
      }
    }
    return m;
  }

  static identity(n: number): Matrix {
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
    return m;
  }

  static diagonal(values: ArrayLike<number>): Matrix {
    const n = values.length;
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + i] = values[i];
    return m;
  }

  get(i: number, j: number): number {
    return this.data[i * this.cols + j];
  }

  set(i: number, j: number, v: number): void {
    this.data[i * this.cols + j] = v;
  }

  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.data.slice());
  }

  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++)
      out.push(Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols)));
    return out;
  }
}

function requireSquare(name: string, a: Matrix): number {
  if (a.rows !== a.cols)
    throw new DimensionError(name, `is ${a.rows} x ${a.cols}, must be square`, 'pass a square matrix');
  return a.rows;
}

/** C = A B. */
export function matmul(a: Matrix, b: Matrix, out?: Matrix): Matrix {
  if (a.cols !== b.rows) {
    throw new DimensionError('b', `has ${b.rows} rows, A has ${a.cols} columns`, 'pass conforming matrices');
  }
  const n = a.rows;
  const k = a.cols;
  const m = b.cols;
  const c = out ?? new Matrix(n, m);
  const A = a.data;
  const B = b.data;
  const C = c.data;
  C.fill(0);
  // i-k-j order streams rows of B contiguously.
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p];
      if (aip === 0) continue;
      const bRow = p * m;
      const cRow = i * m;
      for (let j = 0; j < m; j++) C[cRow + j] += aip * B[bRow + j];
    }
  }
  return c;
}

/** A^T. */
export function transpose(a: Matrix): Matrix {
  const t = new Matrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

/** alpha A + beta B (same shape). */
export function addScaled(a: Matrix, alpha: number, b: Matrix, beta: number): Matrix {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new DimensionError(
      'b',
      `is ${b.rows} x ${b.cols}, A is ${a.rows} x ${a.cols}`,
      'pass matrices of the same shape',
    );
  }
  const c = new Matrix(a.rows, a.cols);
  for (let i = 0; i < c.data.length; i++) c.data[i] = alpha * a.data[i] + beta * b.data[i];
  return c;
}

/** (A + A^T) / 2. */
export function symmetricPart(a: Matrix): Matrix {
  return addScaled(a, 0.5, transpose(a), 0.5);
}

/** (A - A^T) / 2. */
export function antisymmetricPart(a: Matrix): Matrix {
  return addScaled(a, 0.5, transpose(a), -0.5);
}

/** Frobenius norm sqrt(sum a_ij^2). */
export function frobeniusNorm(a: Matrix): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * a.data[i];
  return Math.sqrt(s);
}

/**
 * Lower Cholesky factor L with A = L L^T. Reads only the lower triangle of A.
 * Throws NotPositiveDefiniteError when a pivot is not positive.
 */
export function cholesky(a: Matrix, name = 'matrix'): Matrix {
  const n = requireSquare(name, a);
  checkFinite(name, a.data);
  const L = new Matrix(n, n);
  const A = a.data;
  const Ld = L.data;
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= Ld[j * n + k] * Ld[j * n + k];
    if (!(d > 0)) throw new NotPositiveDefiniteError(name, j, d);
    const ljj = Math.sqrt(d);
    Ld[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= Ld[i * n + k] * Ld[j * n + k];
      Ld[i * n + j] = s / ljj;
    }
  }
  return L;
}

/** Solves L X = B for lower-triangular L (forward substitution). */
export function solveLower(l: Matrix, b: Matrix): Matrix {
  const n = requireSquare('L', l);
  if (b.rows !== n)
    throw new DimensionError(
      'B',
      `has ${b.rows} rows, L is ${n} x ${n}`,
      'pass a right-hand side with n rows',
    );
  const m = b.cols;
  const x = b.clone();
  const X = x.data;
  const L = l.data;
  for (let i = 0; i < n; i++) {
    const lii = L[i * n + i];
    if (lii === 0) throw new SingularMatrixError('L', `zero diagonal at ${i}`);
    for (let c = 0; c < m; c++) {
      let s = X[i * m + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * X[k * m + c];
      X[i * m + c] = s / lii;
    }
  }
  return x;
}

/** Solves U X = B for upper-triangular U (back substitution). */
export function solveUpper(u: Matrix, b: Matrix): Matrix {
  const n = requireSquare('U', u);
  if (b.rows !== n)
    throw new DimensionError(
      'B',
      `has ${b.rows} rows, U is ${n} x ${n}`,
      'pass a right-hand side with n rows',
    );
  const m = b.cols;
  const x = b.clone();
  const X = x.data;
  const U = u.data;
  for (let i = n - 1; i >= 0; i--) {
    const uii = U[i * n + i];
    if (uii === 0) throw new SingularMatrixError('U', `zero diagonal at ${i}`);
    for (let c = 0; c < m; c++) {
      let s = X[i * m + c];
      for (let k = i + 1; k < n; k++) s -= U[i * n + k] * X[k * m + c];
      X[i * m + c] = s / uii;
    }
  }
  return x;
}

/** Solves A X = B given the lower Cholesky factor L of A. */
export function choleskySolve(l: Matrix, b: Matrix): Matrix {
  return solveUpper(transpose(l), solveLower(l, b));
}

/**
 * Solves A X = B by LU with partial pivoting. Throws SingularMatrixError when a pivot is below
 * n * eps * max|A|.
 */
export function solve(a: Matrix, b: Matrix, name = 'A'): Matrix {
  const n = requireSquare(name, a);
  if (b.rows !== n)
    throw new DimensionError(
      'B',
      `has ${b.rows} rows, ${name} is ${n} x ${n}`,
      'pass a right-hand side with n rows',
    );
  checkFinite(name, a.data);
  const m = b.cols;
  const A = a.data.slice();
  const X = b.data.slice();
  let scale = 0;
  for (let i = 0; i < A.length; i++) scale = Math.max(scale, Math.abs(A[i]));
  const tol = n * Number.EPSILON * scale;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(A[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(A[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > tol)) throw new SingularMatrixError(name, `pivot ${k} = ${best}`);
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = A[k * n + j];
        A[k * n + j] = A[p * n + j];
        A[p * n + j] = t;
      }
      for (let j = 0; j < m; j++) {
        const t = X[k * m + j];
        X[k * m + j] = X[p * m + j];
        X[p * m + j] = t;
      }
    }
    const akk = A[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = A[i * n + k] / akk;
      if (f === 0) continue;
      A[i * n + k] = 0;
      for (let j = k + 1; j < n; j++) A[i * n + j] -= f * A[k * n + j];
      for (let j = 0; j < m; j++) X[i * m + j] -= f * X[k * m + j];
    }
  }
  return solveUpper(new Matrix(n, n, A), new Matrix(n, m, X));
}

/** Solves X A = B (so X = B A^{-1}) without forming the inverse: A^T X^T = B^T. */
export function solveRight(b: Matrix, a: Matrix, name = 'A'): Matrix {
  return transpose(solve(transpose(a), transpose(b), name));
}

/** Result of a symmetric eigendecomposition: values ascending, vectors as columns. */
export interface SymmetricEigen {
  values: Float64Array;
  /** n x n, column k is the unit eigenvector of values[k]. */
  vectors: Matrix;
}

/**
 * Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations (accurate to working
 * precision for the small matrices used here; O(n^3) per sweep).
 */
export function symmetricEigen(a: Matrix, name = 'matrix'): SymmetricEigen {
  const n = requireSquare(name, a);
  checkFinite(name, a.data);
  let scale = 0;
  for (let k = 0; k < n * n; k++) scale = Math.max(scale, Math.abs(a.data[k]));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const gap = Math.abs(a.data[i * n + j] - a.data[j * n + i]);
      if (gap > 1e-10 * Math.max(scale, Number.MIN_VALUE)) {
        throw new InvalidArgumentError(
          name,
          `is not symmetric (entries (${i}, ${j}) and (${j}, ${i}) differ by ${gap.toExponential(3)})`,
          'pass symmetricPart(a), or use eigenvalues(a) for a general matrix',
        );
      }
    }
  }
  const A = symmetricPart(a).data;
  const V = Matrix.identity(n).data;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = A[i * n + j] * A[i * n + j];
        total += v;
        if (i !== j) off += v;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p];
        const aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[i * n + i] - A[j * n + j]);
  const values = new Float64Array(n);
  const vectors = new Matrix(n, n);
  order.forEach((src, k) => {
    values[k] = A[src * n + src];
    for (let i = 0; i < n; i++) vectors.data[i * n + k] = V[i * n + src];
  });
  return { values, vectors };
}

/**
 * Eigenvalues of a general real square matrix (complex in general): balancing, reduction to upper
 * Hessenberg form by stabilised elementary similarity transformations, and the shifted QR algorithm
 * with Francis double shifts and exceptional shifts (EISPACK balanc/elmhes/hqr; Press et al.,
 * "Numerical Recipes", 2nd ed., sections 11.5-11.6). Exceptional shifts after 10, 20, ... stalled
 * iterations handle matrices where plain shifts cycle (e.g. circulant generators). Eigenvalues are
 * returned sorted by real part, then imaginary part. Throws ConvergenceError when an eigenvalue needs
 * more than 60 iterations.
 *
 * @example
 * eigenvalues(Matrix.from([[0, -1], [1, 0]])); // re [0, 0], im [-1, 1]
 */
export function eigenvalues(a: Matrix, name = 'matrix'): { re: Float64Array; im: Float64Array } {
  const n = requireSquare(name, a);
  checkFinite(name, a.data);
  // 1-based working copy (rows 1..n, columns 1..n), the indexing of the reference algorithm.
  const A: Float64Array[] = [new Float64Array(n + 1)];
  for (let i = 1; i <= n; i++) {
    const row = new Float64Array(n + 1);
    for (let j = 1; j <= n; j++) row[j] = a.data[(i - 1) * n + (j - 1)];
    A.push(row);
  }
  balance(A, n);
  toHessenberg(A, n);
  const wr = new Float64Array(n + 1);
  const wi = new Float64Array(n + 1);
  hessenbergQr(A, n, wr, wi, name);
  const order = Array.from({ length: n }, (_, i) => i + 1).sort((i, j) => wr[i] - wr[j] || wi[i] - wi[j]);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  order.forEach((src, k) => {
    re[k] = wr[src];
    im[k] = wi[src];
  });
  return { re, im };
}

/** Similarity scaling by powers of 2 so that rows and columns have comparable norms (balanc). */
function balance(a: Float64Array[], n: number): void {
  const radix = 2;
  const sqrdx = radix * radix;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 1; i <= n; i++) {
      let r = 0;
      let c = 0;
      for (let j = 1; j <= n; j++) {
        if (j !== i) {
          c += Math.abs(a[j][i]);
          r += Math.abs(a[i][j]);
        }
      }
      if (c !== 0 && r !== 0) {
        let g = r / radix;
        let f = 1;
        const s = c + r;
        while (c < g) {
          f *= radix;
          c *= sqrdx;
        }
        g = r * radix;
        while (c > g) {
          f /= radix;
          c /= sqrdx;
        }
        if ((c + r) / f < 0.95 * s) {
          done = false;
          g = 1 / f;
          for (let j = 1; j <= n; j++) a[i][j] *= g;
          for (let j = 1; j <= n; j++) a[j][i] *= f;
        }
      }
    }
  }
}

/** Reduction to upper Hessenberg form by elimination with pivoting (elmhes); zeroes the rest. */
function toHessenberg(a: Float64Array[], n: number): void {
  for (let m = 2; m < n; m++) {
    let x = 0;
    let i = m;
    for (let j = m; j <= n; j++) {
      if (Math.abs(a[j][m - 1]) > Math.abs(x)) {
        x = a[j][m - 1];
        i = j;
      }
    }
    if (i !== m) {
      for (let j = m - 1; j <= n; j++) {
        const t = a[i][j];
        a[i][j] = a[m][j];
        a[m][j] = t;
      }
      for (let j = 1; j <= n; j++) {
        const t = a[j][i];
        a[j][i] = a[j][m];
        a[j][m] = t;
      }
    }
    if (x !== 0) {
      for (let r = m + 1; r <= n; r++) {
        let y = a[r][m - 1];
        if (y !== 0) {
          y /= x;
          a[r][m - 1] = y;
          for (let j = m; j <= n; j++) a[r][j] -= y * a[m][j];
          for (let j = 1; j <= n; j++) a[j][m] += y * a[j][r];
        }
      }
    }
  }
  // The multipliers stored below the subdiagonal are not part of the Hessenberg matrix.
  for (let i = 3; i <= n; i++) for (let j = 1; j < i - 1; j++) a[i][j] = 0;
}

/** Shifted QR on an upper Hessenberg matrix (hqr); eigenvalues into wr/wi (1-based). */
function hessenbergQr(a: Float64Array[], n: number, wr: Float64Array, wi: Float64Array, name: string): void {
  let anorm = 0;
  for (let i = 1; i <= n; i++) for (let j = Math.max(i - 1, 1); j <= n; j++) anorm += Math.abs(a[i][j]);
  let nn = n;
  let t = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let x = 0;
  let y = 0;
  let z = 0;
  let w = 0;
  while (nn >= 1) {
    let its = 0;
    let l: number;
    do {
      // Look for a single small subdiagonal element.
      for (l = nn; l >= 2; l--) {
        let s = Math.abs(a[l - 1][l - 1]) + Math.abs(a[l][l]);
        if (s === 0) s = anorm;
        if (Math.abs(a[l][l - 1]) + s === s) {
          a[l][l - 1] = 0;
          break;
        }
      }
      x = a[nn][nn];
      if (l === nn) {
        // One root found.
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        y = a[nn - 1][nn - 1];
        w = a[nn][nn - 1] * a[nn - 1][nn];
        if (l === nn - 1) {
          // Two roots found.
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + (p >= 0 ? Math.abs(z) : -Math.abs(z));
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -z;
            wi[nn] = z;
          }
          nn -= 2;
        } else {
          if (its === 60) {
            throw new ConvergenceError(
              name,
              `eigenvalue ${nn} did not converge in 60 QR iterations`,
              'check the matrix for huge or tiny entries, or rescale it',
            );
          }
          if (its % 10 === 0 && its > 0) {
            // Exceptional shift.
            t += x;
            for (let i = 1; i <= nn; i++) a[i][i] -= x;
            const s = Math.abs(a[nn][nn - 1]) + Math.abs(a[nn - 1][nn - 2]);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          its++;
          // Form the shift and look for two consecutive small subdiagonal elements.
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[m][m];
            r = x - z;
            const s0 = y - z;
            p = (r * s0 - w) / a[m + 1][m] + a[m][m + 1];
            q = a[m + 1][m + 1] - z - r - s0;
            r = a[m + 2][m + 1];
            const s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[m][m - 1]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[m - 1][m - 1]) + Math.abs(z) + Math.abs(a[m + 1][m + 1]));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i][i - 2] = 0;
            if (i !== m + 2) a[i][i - 3] = 0;
          }
          // Double QR step on rows l..nn and columns m..nn.
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = a[k][k - 1];
              q = a[k + 1][k - 1];
              r = 0;
              if (k !== nn - 1) r = a[k + 2][k - 1];
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            const norm = Math.sqrt(p * p + q * q + r * r);
            const s = p >= 0 ? norm : -norm;
            if (s !== 0) {
              if (k === m) {
                if (l !== m) a[k][k - 1] = -a[k][k - 1];
              } else {
                a[k][k - 1] = -s * x;
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = a[k][j] + q * a[k + 1][j];
                if (k !== nn - 1) {
                  p += r * a[k + 2][j];
                  a[k + 2][j] -= p * z;
                }
                a[k + 1][j] -= p * y;
                a[k][j] -= p * x;
              }
              const mmin = Math.min(nn, k + 3);
              for (let i = l; i <= mmin; i++) {
                p = x * a[i][k] + y * a[i][k + 1];
                if (k !== nn - 1) {
                  p += z * a[i][k + 2];
                  a[i][k + 2] -= p * r;
                }
                a[i][k + 1] -= p * q;
                a[i][k] -= p;
              }
            }
          }
        }
      }
    } while (nn >= 1 && l < nn - 1);
  }
}

/** Largest absolute row sum ||A||_inf. */
function normInf(a: Matrix): number {
  let best = 0;
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += Math.abs(a.data[i * a.cols + j]);
    if (s > best) best = s;
  }
  return best;
}

/**
 * Matrix exponential exp(A) by scaling and squaring with a diagonal [6/6] Pade approximant
 * (Golub & Van Loan, "Matrix Computations", 4th ed., Algorithm 9.3.1; Moler & Van Loan 2003):
 * A is scaled by 2^-s so that ||A / 2^s||_inf <= 1/2, where the Pade error bound is ~3.4e-16, then
 * the result is squared s times. Meant for the small matrices of sdekit (OU correlation functions
 * C(t) = exp(-Theta t) C0, generators).
 *
 * @example
 * const r = expm(Matrix.from([[0, -1], [1, 0]])); // rotation by 1 radian: [[cos 1, -sin 1], [sin 1, cos 1]]
 */
export function expm(a: Matrix, name = 'A'): Matrix {
  const n = requireSquare(name, a);
  checkFinite(name, a.data);
  const norm = normInf(a);
  const s = norm > 0.5 ? Math.max(0, Math.ceil(Math.log2(norm / 0.5))) : 0;
  const scaled = new Matrix(n, n);
  const f = 2 ** -s;
  for (let i = 0; i < n * n; i++) scaled.data[i] = a.data[i] * f;
  const q = 6;
  let c = 0.5;
  let x = scaled.clone();
  const num = Matrix.identity(n);
  const den = Matrix.identity(n);
  for (let i = 0; i < n * n; i++) {
    num.data[i] += c * scaled.data[i];
    den.data[i] -= c * scaled.data[i];
  }
  let positive = true;
  for (let k = 2; k <= q; k++) {
    c = (c * (q - k + 1)) / (k * (2 * q - k + 1));
    x = matmul(scaled, x);
    for (let i = 0; i < n * n; i++) {
      num.data[i] += c * x.data[i];
      den.data[i] += (positive ? c : -c) * x.data[i];
    }
    positive = !positive;
  }
  let e = solve(den, num, `${name} (Pade denominator)`);
  for (let k = 0; k < s; k++) e = matmul(e, e);
  return e;
}

/**
 * Solves the continuous Lyapunov (Sylvester) equation A X + X A^T = Q for X by the vectorised
 * system (I (x) A + A (x) I) vec(X) = vec(Q), an n^2 x n^2 LU solve: exact to round-off and fine for
 * the small n of sdekit (n <= ~30). A unique solution exists when no two eigenvalues of A sum to
 * zero; for a stable OU drift matrix Theta (eigenvalues with positive real part) and Q = Sigma
 * Sigma^T, X is the stationary covariance: Theta C + C Theta^T = Sigma Sigma^T.
 *
 * @example
 * const c = lyapunovSolve(Matrix.from([[1]]), Matrix.from([[2]])); // [[1]]: 2 c = 2
 */
export function lyapunovSolve(a: Matrix, q: Matrix, name = 'A'): Matrix {
  const n = requireSquare(name, a);
  if (q.rows !== n || q.cols !== n) {
    throw new DimensionError(
      'Q',
      `is ${q.rows} x ${q.cols}, ${name} is ${n} x ${n}`,
      'pass a right-hand side of the same size',
    );
  }
  checkFinite(name, a.data);
  checkFinite('Q', q.data);
  const N = n * n;
  const m = new Matrix(N, N);
  const M = m.data;
  const A = a.data;
  // Row (i, j) of the system: sum_k A_ik X_kj + sum_k X_ik A_jk = Q_ij (row-major vec: i * n + j).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const row = (i * n + j) * N;
      for (let k = 0; k < n; k++) {
        M[row + k * n + j] += A[i * n + k];
        M[row + i * n + k] += A[j * n + k];
      }
    }
  }
  const x = solve(
    m,
    new Matrix(N, 1, q.data.slice()),
    `${name} (Lyapunov operator; two eigenvalues sum to ~0)`,
  );
  return new Matrix(n, n, x.data);
}

/**
 * Text output of the `sdekit` commands: numbers, matrices, aligned tables and a progress bar drawn
 * on stderr (only when the I/O says it is a terminal).
 */
import type { Matrix } from '@sdekit/sde';
import type { CliIo } from './spec.js';

/** A number with `digits` significant digits, without trailing noise ('1.23457', '-0.000123', '1.2e+6'). */
export function num(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-4 && a < 1e6 ? String(Number(v.toPrecision(digits))) : v.toExponential(digits - 1);
}

/** A matrix as right-aligned rows, indented by `indent` spaces. */
export function formatMatrix(m: Matrix, indent = 4, digits = 5): string {
  const cells: string[][] = [];
  for (let i = 0; i < m.rows; i++) {
    const row: string[] = [];
    for (let j = 0; j < m.cols; j++) row.push(num(m.data[i * m.cols + j], digits));
    cells.push(row);
  }
  const width = Math.max(...cells.flat().map((c) => c.length));
  return cells.map((r) => `${' '.repeat(indent)}${r.map((c) => c.padStart(width)).join('  ')}`).join('\n');
}

/**
 * A matrix with the standard error and interval of every entry: each row shows 'value +- se' and,
 * below it, '[lower, upper]', right-aligned per column.
 */
export function formatMatrixWithErrors(
  m: Matrix,
  e: { se: Matrix; lower: Matrix; upper: Matrix },
  indent = 4,
  digits = 4,
): string {
  const rows: string[][] = [];
  for (let i = 0; i < m.rows; i++) {
    const a: string[] = [];
    const b: string[] = [];
    for (let j = 0; j < m.cols; j++) {
      const k = i * m.cols + j;
      a.push(`${num(m.data[k], digits)} +- ${num(e.se.data[k], 2)}`);
      b.push(`[${num(e.lower.data[k], 3)}, ${num(e.upper.data[k], 3)}]`);
    }
    rows.push(a, b);
  }
  const width = Math.max(...rows.flat().map((c) => c.length));
  return rows.map((r) => `${' '.repeat(indent)}${r.map((c) => c.padStart(width)).join('  ')}`).join('\n');
}

/** An aligned text table: first column left-aligned, the others right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A progress bar on stderr, redrawn at most once per percent; silent unless `io.progress`. */
export class ProgressBar {
  private lastPercent = -1;
  private active = false;
  constructor(
    private readonly io: CliIo,
    private readonly label: string,
  ) {}

  /** Reports `done` out of `total` units (optionally with a short note, e.g. the loss). */
  update(done: number, total: number, note = ''): void {
    if (!this.io.progress || !(total > 0)) return;
    const percent = Math.min(100, Math.floor((100 * done) / total));
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    const filled = Math.round(percent / 4);
    this.io.stderr(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(25 - filled)}] ${String(percent).padStart(3)}% ${note}`.padEnd(
        79,
      ),
    );
    this.active = true;
  }

  /**
   * Shows a step without a known length (e.g. 'Cdot: partition and generator') on the bar's line,
   * so a long stage is visibly running.
   */
  status(text: string): void {
    if (!this.io.progress) return;
    this.lastPercent = -1;
    this.io.stderr(`\r${this.label}: ${text} ...`.padEnd(79));
    this.active = true;
  }

  /** Ends the bar's line (if one was drawn). */
  finish(): void {
    if (this.active) this.io.stderr('\n');
    this.active = false;
  }
}

/** A progress bar for a command: silent under --quiet, otherwise drawn when `io.progress`. */
export function commandProgress(io: CliIo, quiet: boolean, label: string): ProgressBar {
  return new ProgressBar(quiet ? { ...io, progress: false } : io, label);
}

/** 'warnings: none', or 'warnings:' followed by one indented '- ' line per warning. */
export function formatWarnings(warnings: readonly string[]): string {
  return warnings.length === 0
    ? 'warnings: none'
    : `warnings:\n${warnings.map((w) => `  - ${w}`).join('\n')}`;
}

/**
 * Progress display for long stages, on stderr. On a terminal one line is redrawn in place
 * (a bar with the fraction done and the elapsed time); otherwise (CI logs, pipes) only the start and
 * the end of each stage are printed, so logs stay readable.
 */

export interface ProgressSink {
  /** A stage begins. */
  start(label: string): void;
  /** Fraction done in [0, 1] of the current stage, with an optional short detail ('loss 0.31'). */
  update(fraction: number, detail?: string): void;
  /** The current stage ended after `seconds`. */
  end(seconds: number, detail?: string): void;
}

/** A sink that prints nothing (tests, library use). */
export const silentProgress: ProgressSink = { start() {}, update() {}, end() {} };

/**
 * Progress bars on a stream (default process.stderr); redraws at most every 100 ms.
 *
 * @example
 * const bar = terminalProgress();
 * bar.start('T2 learn'); bar.update(0.5, 'loss 0.3'); bar.end(12.3);
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  const tty = Boolean(stream.isTTY);
  let label = '';
  let t0 = 0;
  let last = 0;
  const width = 28;
  return {
    start(l) {
      label = l;
      t0 = Date.now();
      last = 0;
      if (!tty) stream.write(`  ${label} ...\n`);
    },
    update(fraction, detail) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && fraction < 1) return;
      last = now;
      const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
      const filled = Math.round(f * width);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      const line = `  ${label} [${bar}] ${(100 * f).toFixed(0).padStart(3)}% ${((now - t0) / 1000).toFixed(1)}s${detail ? ` ${detail}` : ''}`;
      const cols = stream.columns ?? 100;
      stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length))}\x1b[K`);
    },
    end(seconds, detail) {
      const line = `  ${label} done in ${seconds.toFixed(1)} s${detail ? ` (${detail})` : ''}`;
      stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}

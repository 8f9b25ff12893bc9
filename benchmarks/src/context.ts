/**
 * What a benchmark case sees while it runs: its profile and seed, timed stages with progress,
 * metric recording against targets, and writers for series (.npy), models (.json) and plots (.svg)
 * into the run folder. The runner turns a finished context into a CaseResult for metrics.json.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { atomicWrite, atomicWriteSync, writeNpy } from '@sdekit/cli';
import { writeArrayFile } from '@sdekit/io';
import type { TopLevelSpec } from 'vega-lite';
import {
  type CaseResult,
  evaluateTarget,
  type Metric,
  type ModelRecord,
  type PlotRecord,
  type SeriesRecord,
  type StageTiming,
  type Target,
} from './metrics.js';
import { renderSvg } from './plots.js';
import type { ProgressSink } from './progress.js';

export type Profile = 'quick' | 'full';

/** Per-stage progress callback: fraction in [0, 1] and an optional short detail. */
export type StageProgress = (fraction: number, detail?: string) => void;

/** A checkpoint file of one long stage (see `CaseContext.checkpoint`). */
export interface CheckpointStore<T> {
  /** The saved state when the run resumes and one exists, else null. */
  load(): T | null;
  /** Writes the state atomically (synchronous: callers save from inside long synchronous loops). */
  save(state: T): void;
}

/** File formats of the saved series: NumPy .npy (the default) or HDF5 (`--series-format h5`). */
export type SeriesFormat = 'npy' | 'h5';

export class CaseContext {
  readonly id: string;
  readonly title: string;
  readonly profile: Profile;
  readonly seed: number;
  /** The run folder (plots/, series/, models/ live below it). */
  readonly runDir: string;
  /** Size overrides (tests run cases at reduced size): 'NAME' for every case, 'ID.NAME' for one. */
  readonly overrides: Readonly<Record<string, number>>;
  /** Resume long stages from the checkpoints of an interrupted run in the same folder (`--resume`). */
  readonly resume: boolean;
  /** File format of the saved series (`--series-format`): .npy (default) or HDF5. */
  readonly seriesFormat: SeriesFormat;
  private readonly progress: ProgressSink;
  private readonly metrics: Metric[] = [];
  private readonly stages: StageTiming[] = [];
  private readonly plots: PlotRecord[] = [];
  private readonly series: SeriesRecord[] = [];
  private readonly models: ModelRecord[] = [];
  private readonly warnings: string[] = [];
  private sizes: Record<string, number | string | boolean> = {};

  constructor(o: {
    id: string;
    title: string;
    profile: Profile;
    seed: number;
    runDir: string;
    overrides?: Record<string, number>;
    resume?: boolean;
    seriesFormat?: SeriesFormat;
    progress: ProgressSink;
  }) {
    this.id = o.id;
    this.title = o.title;
    this.profile = o.profile;
    this.seed = o.seed;
    this.runDir = o.runDir;
    this.overrides = o.overrides ?? {};
    this.resume = o.resume ?? false;
    this.seriesFormat = o.seriesFormat ?? 'npy';
    this.progress = o.progress;
  }

  /** Merges profile sizes with the overrides that apply to them and records the result. */
  resolveSizes<T extends Record<string, number | string | boolean>>(sizes: T): T {
    const out: Record<string, number | string | boolean> = { ...sizes };
    // 'NAME' applies to every case that has that size; 'ID.NAME' (e.g. 'T2.T') to one case only.
    for (const [k, v] of Object.entries(this.overrides)) if (k in out) out[k] = v;
    for (const [k, v] of Object.entries(this.overrides)) {
      const [id, name] = k.split('.');
      if (name !== undefined && id.toUpperCase() === this.id && name in out) out[name] = v;
    }
    this.sizes = { ...this.sizes, ...out };
    return out as T;
  }

  /** Records extra sizes / settings shown in metrics.json. */
  recordSizes(s: Record<string, number | string | boolean>): void {
    this.sizes = { ...this.sizes, ...s };
  }

  /**
   * The checkpoint file `checkpoints/<ID>-<name>.json` of the run folder. A checkpoint is only read
   * back when the run resumes (`--resume`); the stage itself checks that it belongs to the same
   * settings. Saving never happens in the background, so a killed run leaves the last whole file.
   */
  checkpoint<T>(name: string): CheckpointStore<T> {
    const file = this.checkpointFile(`${name}.json`);
    return {
      load: () => (this.resume && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null),
      save: (state: T) => {
        mkdirSync(dirname(file), { recursive: true });
        atomicWriteSync(file, JSON.stringify(state));
      },
    };
  }

  /**
   * Path of a checkpoint file `checkpoints/<ID>-<name>`. Nothing is created: a run that never
   * saves a checkpoint leaves no folder; writers create it (`checkpoint().save` does).
   */
  checkpointFile(name: string): string {
    return join(this.runDir, 'checkpoints', `${this.id}-${name}`);
  }

  /** A derived seed for one purpose of this case, so that stages are independent but reproducible. */
  seedFor(stream: number): number {
    return (this.seed * 1009 + stream * 7919 + 17) >>> 0;
  }

  /** Runs one timed stage with a progress bar. */
  async stage<T>(name: string, fn: (progress: StageProgress) => T | Promise<T>): Promise<T> {
    this.progress.start(`${this.id} ${name}`);
    const t0 = performance.now();
    try {
      return await fn((f, d) => this.progress.update(f, d));
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      this.stages.push({ name, seconds });
      this.progress.end(seconds);
    }
  }

  /** Records a metric; `target` null for an informational number. Non-finite values are stored as null. */
  metric(name: string, value: number, target: Target | null, note?: string): void {
    const v = Number.isFinite(value) ? value : null;
    this.metrics.push({ name, value: v, target, pass: evaluateTarget(v, target), ...(note ? { note } : {}) });
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /**
   * Writes a float64 series under series/ and lists it: .npy, or with `--series-format h5` one HDF5
   * dataset 'data' of the same shape (h5py: f['data'][...]) with the description and case as attributes.
   */
  async saveSeries(name: string, data: Float64Array, shape: number[], description: string): Promise<void> {
    const file = `series/${this.id}-${name}.${this.seriesFormat}`;
    await mkdir(join(this.runDir, 'series'), { recursive: true });
    if (this.seriesFormat === 'h5')
      await writeArrayFile(join(this.runDir, file), data, shape, {
        attributes: { description, case: this.id, seed: this.seed },
      });
    else await writeNpy(join(this.runDir, file), data, shape);
    this.series.push({ file, shape, dtype: 'float64', description });
  }

  /** Writes a model's toJSON() under models/ and lists it. */
  async saveModel(name: string, json: unknown, description: string): Promise<void> {
    const file = `models/${this.id}-${name}.json`;
    await mkdir(join(this.runDir, 'models'), { recursive: true });
    await atomicWrite(join(this.runDir, file), JSON.stringify(json));
    const format =
      typeof json === 'object' && json !== null && 'format' in json
        ? String((json as { format: unknown }).format)
        : 'unknown';
    this.models.push({ file, format, description });
  }

  /** Renders a Vega-Lite spec to plots/<case>-<name>.svg and lists it with a caption. */
  async plot(name: string, title: string, caption: string, spec: TopLevelSpec): Promise<void> {
    const file = `plots/${this.id}-${name}.svg`;
    await mkdir(join(this.runDir, 'plots'), { recursive: true });
    await atomicWrite(join(this.runDir, file), await renderSvg(spec));
    this.plots.push({ file, title, caption });
  }

  /** The CaseResult for metrics.json (status from the metrics, or 'error' with the message). */
  result(seconds: number, error: unknown): CaseResult {
    const failed = this.metrics.some((m) => m.pass === false);
    const status = error !== null ? 'error' : failed ? 'failed' : 'passed';
    const message =
      error === null ? null : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      id: this.id,
      title: this.title,
      status,
      error: message,
      metrics: [...this.metrics],
      stages: [...this.stages],
      seconds,
      sizes: { ...this.sizes },
      warnings: [...this.warnings],
      plots: [...this.plots],
      series: [...this.series],
      models: [...this.models],
    };
  }
}

/** A benchmark case of docs/benchmarks.md. */
export interface BenchCase {
  readonly id: string;
  readonly title: string;
  /** One paragraph: system, data, method, pass criteria. */
  readonly description: string;
  run(ctx: CaseContext): Promise<void>;
}

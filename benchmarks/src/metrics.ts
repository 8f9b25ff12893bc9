/**
 * The metrics.json document written for every run of the suite, and its validator.
 *
 * Schema 'sdekit-bench-metrics' version 1 (documented field by field in benchmarks/README.md):
 * one run = profile, seed, backend, package versions, machine, date, and per case every metric
 * (value, target, pass), stage timings, problem sizes and the files written (plots, series, models).
 */

/** A pass criterion: value `op` threshold. */
export interface Target {
  readonly op: '<' | '<=' | '>' | '>=';
  readonly value: number;
}

/** One measured number. `target` null marks an informational metric (pass null). */
export interface Metric {
  readonly name: string;
  /** The measured value; null when it could not be computed (then pass is false if there is a target). */
  readonly value: number | null;
  readonly target: Target | null;
  readonly pass: boolean | null;
  /** What the number is, in a few words (units, grid, lags). */
  readonly note?: string;
}

/** Wall-clock time of one stage of a case (data, learn, simulate, metrics, report). */
export interface StageTiming {
  readonly name: string;
  readonly seconds: number;
}

/** A file written by a case, relative to the run folder. */
export interface PlotRecord {
  readonly file: string;
  readonly title: string;
  readonly caption: string;
}
export interface SeriesRecord {
  readonly file: string;
  readonly shape: number[];
  readonly dtype: 'float64';
  readonly description: string;
}
export interface ModelRecord {
  readonly file: string;
  readonly format: string;
  readonly description: string;
}

export type CaseStatus = 'passed' | 'failed' | 'error';

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  /** 'passed': every metric with a target passed; 'failed': some did not; 'error': the case threw. */
  readonly status: CaseStatus;
  readonly error: string | null;
  readonly metrics: Metric[];
  readonly stages: StageTiming[];
  readonly seconds: number;
  /** Problem sizes actually used (T, dt, sample counts, network sizes ...). */
  readonly sizes: Record<string, number | string | boolean>;
  readonly warnings: string[];
  readonly plots: PlotRecord[];
  readonly series: SeriesRecord[];
  readonly models: ModelRecord[];
}

export interface RunReport {
  readonly schema: 'sdekit-bench-metrics';
  readonly schemaVersion: 1;
  /** ISO 8601 start time of the run (UTC). */
  readonly date: string;
  readonly profile: 'quick' | 'full';
  readonly seed: number;
  readonly backend: { readonly name: string; readonly requested: string };
  /** Versions of the @sdekit packages and of TensorFlow.js, e.g. {"@sdekit/sde": "0.1.0"}. */
  readonly versions: Record<string, string>;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
  };
  readonly cases: CaseResult[];
  /** True when every case passed. */
  readonly passed: boolean;
  readonly seconds: number;
}

/** Evaluates a target; a null or non-finite value never passes. */
export function evaluateTarget(value: number | null, target: Target | null): boolean | null {
  if (target === null) return null;
  if (value === null || !Number.isFinite(value)) return false;
  switch (target.op) {
    case '<':
      return value < target.value;
    case '<=':
      return value <= target.value;
    case '>':
      return value > target.value;
    case '>=':
      return value >= target.value;
  }
}

/** Renders a target as text, e.g. '< 0.02'. */
export function formatTarget(target: Target | null): string {
  return target === null ? '-' : `${target.op} ${target.value}`;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/**
 * Checks a parsed metrics.json against schema version 1. Returns the list of problems (empty when
 * valid), each naming the JSON path, so a test or a consumer sees every problem at once.
 *
 * @example
 * const problems = validateRunReport(JSON.parse(await readFile('metrics.json', 'utf8')));
 * if (problems.length) throw new Error(problems.join('\n'));
 */
export function validateRunReport(doc: unknown): string[] {
  const errs: string[] = [];
  const need = (cond: boolean, path: string, what: string) => {
    if (!cond) errs.push(`${path}: ${what}`);
  };
  if (!isObj(doc)) return ['$: must be an object'];
  need(doc.schema === 'sdekit-bench-metrics', '$.schema', "must be 'sdekit-bench-metrics'");
  need(doc.schemaVersion === 1, '$.schemaVersion', 'must be 1');
  need(isStr(doc.date) && !Number.isNaN(Date.parse(doc.date)), '$.date', 'must be an ISO 8601 date');
  need(doc.profile === 'quick' || doc.profile === 'full', '$.profile', "must be 'quick' or 'full'");
  need(Number.isInteger(doc.seed), '$.seed', 'must be an integer');
  need(
    isObj(doc.backend) && isStr(doc.backend.name) && isStr(doc.backend.requested),
    '$.backend',
    'must be {name, requested} strings',
  );
  need(
    isObj(doc.versions) && Object.values(doc.versions).every(isStr),
    '$.versions',
    'must map package names to version strings',
  );
  const m = doc.machine;
  need(
    isObj(m) &&
      isStr(m.node) &&
      isStr(m.platform) &&
      isNum(m.cpus) &&
      isStr(m.cpuModel) &&
      isNum(m.memoryGiB),
    '$.machine',
    'must be {node, platform, cpus, cpuModel, memoryGiB}',
  );
  need(typeof doc.passed === 'boolean', '$.passed', 'must be a boolean');
  need(isNum(doc.seconds) && (doc.seconds as number) >= 0, '$.seconds', 'must be a number >= 0');
  if (!Array.isArray(doc.cases)) {
    errs.push('$.cases: must be an array');
    return errs;
  }
  let allPassed = true;
  doc.cases.forEach((c: unknown, i: number) => {
    const p = `$.cases[${i}]`;
    if (!isObj(c)) {
      errs.push(`${p}: must be an object`);
      return;
    }
    need(isStr(c.id) && c.id.length > 0, `${p}.id`, 'must be a non-empty string');
    need(isStr(c.title), `${p}.title`, 'must be a string');
    need(
      c.status === 'passed' || c.status === 'failed' || c.status === 'error',
      `${p}.status`,
      "must be 'passed', 'failed' or 'error'",
    );
    need(c.error === null || isStr(c.error), `${p}.error`, 'must be null or a string');
    need(
      c.status !== 'error' || isStr(c.error),
      `${p}.error`,
      "must say what went wrong when status is 'error'",
    );
    need(isNum(c.seconds), `${p}.seconds`, 'must be a number');
    need(
      isObj(c.sizes) && Object.values(c.sizes).every((v) => isNum(v) || isStr(v) || typeof v === 'boolean'),
      `${p}.sizes`,
      'must map names to numbers, strings or booleans',
    );
    need(
      Array.isArray(c.warnings) && c.warnings.every(isStr),
      `${p}.warnings`,
      'must be an array of strings',
    );
    if (c.status !== 'passed') allPassed = false;
    let metricsPass = true;
    if (!Array.isArray(c.metrics)) errs.push(`${p}.metrics: must be an array`);
    else
      c.metrics.forEach((mm: unknown, j: number) => {
        const q = `${p}.metrics[${j}]`;
        if (!isObj(mm)) {
          errs.push(`${q}: must be an object`);
          return;
        }
        need(isStr(mm.name) && mm.name.length > 0, `${q}.name`, 'must be a non-empty string');
        need(mm.value === null || isNum(mm.value), `${q}.value`, 'must be a finite number or null');
        const t = mm.target;
        const tOk =
          t === null || (isObj(t) && ['<', '<=', '>', '>='].includes(t.op as string) && isNum(t.value));
        need(tOk, `${q}.target`, "must be null or {op: '<'|'<='|'>'|'>=', value: number}");
        need(mm.pass === null || typeof mm.pass === 'boolean', `${q}.pass`, 'must be a boolean or null');
        if (tOk) {
          const expected = evaluateTarget((mm.value as number | null) ?? null, (t as Target | null) ?? null);
          need(
            mm.pass === expected,
            `${q}.pass`,
            `is ${String(mm.pass)} but value ${String(mm.value)} against target gives ${String(expected)}`,
          );
          if (expected === false) metricsPass = false;
        }
      });
    if (c.status === 'passed') need(metricsPass, `${p}.status`, "is 'passed' but a metric failed its target");
    if (c.status === 'failed') need(!metricsPass, `${p}.status`, "is 'failed' but every metric passed");
    if (!Array.isArray(c.stages)) errs.push(`${p}.stages: must be an array`);
    else
      c.stages.forEach((s: unknown, j: number) => {
        need(
          isObj(s) && isStr(s.name) && isNum(s.seconds) && (s.seconds as number) >= 0,
          `${p}.stages[${j}]`,
          'must be {name, seconds >= 0}',
        );
      });
    const files = (key: string, check: (v: Record<string, unknown>) => boolean, what: string) => {
      const arr = c[key];
      if (!Array.isArray(arr)) errs.push(`${p}.${key}: must be an array`);
      else
        arr.forEach((v: unknown, j: number) => {
          need(isObj(v) && isStr(v.file) && check(v), `${p}.${key}[${j}]`, what);
        });
    };
    files(
      'plots',
      (v) => isStr(v.title) && isStr(v.caption) && /\.svg$/.test(v.file as string),
      'must be {file: *.svg, title, caption}',
    );
    files(
      'series',
      (v) =>
        Array.isArray(v.shape) &&
        (v.shape as unknown[]).every((s) => Number.isInteger(s)) &&
        v.dtype === 'float64' &&
        isStr(v.description) &&
        /\.(npy|h5)$/.test(v.file as string),
      'must be {file: *.npy or *.h5, shape: int[], dtype: float64, description}',
    );
    files(
      'models',
      (v) => isStr(v.format) && isStr(v.description) && /\.json$/.test(v.file as string),
      'must be {file: *.json, format, description}',
    );
  });
  need(
    doc.passed === allPassed,
    '$.passed',
    `is ${String(doc.passed)} but the cases say ${String(allPassed)}`,
  );
  return errs;
}

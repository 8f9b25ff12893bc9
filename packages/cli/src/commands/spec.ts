/**
 * Command-line plumbing shared by the `sdekit` commands: the I/O the commands write to, the option
 * table of each command (parsed with Node's `util.parseArgs`, strict, so unknown options are errors),
 * typed conversions of option values, usage errors and generated `--help` texts.
 */
import { parseArgs } from 'node:util';
import { SdekitError } from '@sdekit/sde';
import type { BackendPreference } from '../backend.js';

/** Where a command writes. `main` never touches `process` itself, so tests run it in-process. */
export interface CliIo {
  /** Normal output (tables, reports). */
  stdout(text: string): void;
  /** Errors, warnings and progress. */
  stderr(text: string): void;
  /** Draw progress bars on stderr (a terminal); false in tests and pipes. */
  readonly progress?: boolean;
  /** Folder that relative paths are resolved against (default process.cwd()). */
  readonly cwd?: string;
}

/** Exit codes of `sdekit`. */
export const EXIT = Object.freeze({
  ok: 0,
  /** Bad data, a failed fit, an unreadable file: the command ran and failed. */
  failure: 1,
  /** The command line itself is wrong: unknown command or option, missing or malformed value. */
  usage: 2,
});

/** The command line is wrong (unknown option, missing required option, malformed value). */
export class UsageError extends SdekitError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Placeholder shown in the help, e.g. 'DT'. */
  readonly value?: string;
  readonly help: string;
  readonly required?: boolean;
  /** Default shown in the help (the command applies it). */
  readonly defaultText?: string;
}

/** A command: name, positional arguments, options and the function that runs it. */
export interface CommandSpec {
  readonly name: string;
  /** One line for the command overview of `sdekit --help`. */
  readonly brief: string;
  /** The description printed by the command's `--help`. */
  readonly summary: string;
  /**
   * Positional arguments, in order. One of them may be `variadic`: it takes one or more arguments
   * (shown as NAME...), the others exactly one each.
   */
  readonly positionals: ReadonlyArray<{
    readonly name: string;
    readonly help: string;
    readonly variadic?: boolean;
  }>;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra paragraphs printed at the end of `--help`. */
  readonly notes?: string;
  run(args: ParsedArgs, io: CliIo): Promise<void>;
}

/** Parsed command line of one command. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | undefined>;
}

/** The help text of a command, generated from its spec. */
export function helpText(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.variadic ? `${p.name}...` : p.name)).join(' ');
  const required = Object.entries(spec.options)
    .filter(([, o]) => o.required)
    .map(([k, o]) => `--${k} ${o.value ?? ''}`.trimEnd())
    .join(' ');
  const lines = [
    `Usage: sdekit ${spec.name} ${pos} ${required} [options]`.replace(/\s+/g, ' '),
    '',
    spec.summary,
    '',
  ];
  if (spec.positionals.length > 0) {
    lines.push('Arguments:');
    for (const p of spec.positionals)
      lines.push(`  ${(p.variadic ? `${p.name}...` : p.name).padEnd(26)}${p.help}`);
    lines.push('');
  }
  lines.push('Options:');
  const all: Array<[string, OptionSpec]> = [
    ...Object.entries(spec.options),
    ['help', { type: 'boolean', help: 'show this help' }],
  ];
  for (const [name, o] of all) {
    const flag = `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const extra = o.required
      ? ' (required)'
      : o.defaultText !== undefined
        ? ` (default ${o.defaultText})`
        : '';
    lines.push(`  ${flag.padEnd(26)}${o.help}${extra}`);
  }
  if (spec.notes) lines.push('', spec.notes);
  return `${lines.join('\n')}\n`;
}

/**
 * Parses a command's arguments strictly: an unknown option, a missing option value or a wrong number
 * of positionals is a UsageError naming the problem and pointing at `--help`.
 */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs & { help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [k, o] of Object.entries(spec.options)) options[k] = { type: o.type };
  const hint = `run 'sdekit ${spec.name} --help'`;
  let parsed: {
    values: Record<string, string | boolean | undefined>;
    positionals: string[];
    tokens: { kind: string; name?: string; rawName?: string }[];
  };
  try {
    parsed = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: true,
      tokens: true,
    }) as typeof parsed;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const quoted = /'([^']+)'/.exec(e.message ?? '')?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`unknown option '${quoted}'; ${hint} for the options`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = quoted.split(' ')[0];
      if (options[flag.replace(/^--/, '')]?.type === 'boolean') {
        throw new UsageError(`option '${flag}' is a switch and takes no value; write ${flag} alone`);
      }
      throw new UsageError(
        `option '${flag}' needs a value (a value starting with '-' must be written ${flag}=VALUE, e.g. --x0=-1.5)`,
      );
    }
    throw new UsageError(`${(e.message ?? String(err)).split('\n')[0]}; ${hint}`);
  }
  // A repeated option is an error, not last-wins: '--dt 0.05 --dt 0.1' is ambiguous.
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    if (seen.has(t.name)) throw new UsageError(`option '--${t.name}' is given twice; pass it once`);
    seen.add(t.name);
  }
  const help = parsed.values.help === true;
  if (!help) {
    const n = spec.positionals.length;
    const variadic = spec.positionals.some((p) => p.variadic);
    if (variadic ? parsed.positionals.length < n : parsed.positionals.length !== n) {
      const names = spec.positionals.map((p) => (p.variadic ? `${p.name}...` : p.name)).join(' ');
      const got =
        parsed.positionals.length === 0 ? 'none' : parsed.positionals.map((p) => `'${p}'`).join(' ');
      throw new UsageError(
        `expected ${variadic ? 'at least ' : ''}${n} argument${n === 1 ? '' : 's'} (${names}), got ${got}; ${hint}`,
      );
    }
    const missing = Object.entries(spec.options)
      .filter(([k, o]) => o.required && parsed.values[k] === undefined)
      .map(([k]) => `--${k}`);
    if (missing.length > 0) {
      throw new UsageError(
        `missing required option${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ${hint}`,
      );
    }
  }
  return { positionals: parsed.positionals, values: parsed.values, help };
}

/** A string option's value, or undefined when absent. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A required string option (presence is checked by parseCommandArgs). */
export function requiredString(args: ParsedArgs, name: string): string {
  const v = stringOption(args, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} needs a value`);
  return v;
}

/** Parses a decimal number the way the CSV reader does (no hex, no empty string). */
function parseDecimal(text: string): number {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

/** Number option constraints. */
export interface NumberRule {
  /** Value must be > 0. */
  positive?: boolean;
  /** Value must be an integer. */
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive upper bound. */
  below?: number;
}

/** Converts an option value to a finite number obeying `rule`, or throws a UsageError naming the option. */
export function toNumber(name: string, text: string, rule: NumberRule = {}): number {
  const v = parseDecimal(text);
  const want = [
    rule.integer ? 'an integer' : 'a number',
    rule.positive ? '> 0' : '',
    rule.min !== undefined ? `>= ${rule.min}` : '',
    rule.below !== undefined ? `< ${rule.below}` : '',
  ]
    .filter((s) => s !== '')
    .join(' ');
  const ok =
    Number.isFinite(v) &&
    (!rule.integer || Number.isInteger(v)) &&
    (!rule.positive || v > 0) &&
    (rule.min === undefined || v >= rule.min) &&
    (rule.below === undefined || v < rule.below);
  if (!ok) throw new UsageError(`--${name}: expected ${want}, got '${text}'`);
  return v;
}

/** A number option, or `fallback` when absent. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, rule?: NumberRule): number;
export function numberOption(
  args: ParsedArgs,
  name: string,
  fallback: undefined,
  rule?: NumberRule,
): number | undefined;
export function numberOption(
  args: ParsedArgs,
  name: string,
  fallback: number | undefined,
  rule: NumberRule = {},
): number | undefined {
  const t = stringOption(args, name);
  return t === undefined ? fallback : toNumber(name, t, rule);
}

/** A comma-separated list of numbers ('1,-2.5,3'), each checked with `rule`. */
export function numberList(name: string, text: string, rule: NumberRule = {}): number[] {
  const parts = text.split(',');
  if (parts.some((p) => p.trim() === ''))
    throw new UsageError(`--${name}: expected comma-separated numbers, got '${text}'`);
  return parts.map((p) => toNumber(name, p, rule));
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const t = stringOption(args, name);
  if (t === undefined) return fallback;
  if (!(choices as readonly string[]).includes(t)) {
    throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got '${t}'`);
  }
  return t as T;
}

/** `--backend`, shared by the commands that run TensorFlow.js (read it with `backendOption`). */
export const BACKEND_OPTION: OptionSpec = {
  type: 'string',
  value: 'NAME',
  help: 'TensorFlow.js backend: auto, wasm, cpu or node',
  defaultText: 'auto',
};

const BACKENDS: readonly BackendPreference[] = ['auto', 'wasm', 'cpu', 'node'];

/** The value of `--backend` (default 'auto'). */
export function backendOption(args: ParsedArgs): BackendPreference {
  return choiceOption(args, 'backend', BACKENDS, 'auto');
}

/** `--quiet`, shared by the commands that print a report (read it with `quietFlag`). */
export const QUIET_OPTION: OptionSpec = { type: 'boolean', help: 'print nothing but errors' };

/** `--force`: replace an existing output (never one of the command's inputs). */
export const FORCE_OPTION: OptionSpec = {
  type: 'boolean',
  help: 'replace an existing output file or folder (an output that is one of the inputs is always refused)',
};

/** Whether `--force` was given. */
export function forceFlag(args: ParsedArgs): boolean {
  return args.values.force === true;
}

/** Whether `--quiet` was given. */
export function quietFlag(args: ParsedArgs): boolean {
  return args.values.quiet === true;
}

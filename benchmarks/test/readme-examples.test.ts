// Doc tests: every fenced code block of every README (README.md, packages/*/README.md,
// benchmarks/README.md) runs as written, against the built packages (dist; `pnpm test` builds first).
//
// Convention (docs/contributing.md):
// - ```ts blocks are type-checked (one strict `tsc --noEmit` run over all of them) and each runs with
//   tsx as a child process; ```js blocks run with node. A block must be a complete program.
// - ```sh blocks: their `sdekit ...` command lines run with bash against packages/cli/dist/bin.js;
//   other lines (npm i, open, cd, ...) are not run. A shell block without an `sdekit` line must be
//   marked fragment.
// - The blocks of one README run in order in one working folder (benchmarks/.doctest/<readme>/), so
//   a block can use the files an earlier one wrote.
// - `<!-- fragment -->` on the last non-blank line before the fence: not run (install commands,
//   commands that need a full checkout or hours).
// - `<!-- file: NAME -->` before the fence: the block is written to NAME in the working folder (a
//   coefficients module, a data file) for later blocks, not run.
// - ```text blocks are program output or command synopses: not run. An untagged fence is an error.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const benchDir = join(root, 'benchmarks');
const outDir = join(benchDir, '.doctest');
const cliBin = join(root, 'packages', 'cli', 'dist', 'bin.js');
/** Wall-clock limit of one block (a ts/js program or one sdekit command line). */
const BLOCK_TIMEOUT_MS = 60_000;
/** SDEKIT_DOCTEST_VERBOSE=1 prints what every block wrote to stdout (to check the numbers it shows). */
const VERBOSE = process.env.SDEKIT_DOCTEST_VERBOSE === '1';
/** READMEs run in parallel, in this many child processes at a time (the blocks of one README in order). */
const JOBS = Math.max(1, Number(process.env.SDEKIT_DOCTEST_JOBS ?? Math.min(2, availableParallelism())));
/** SDEKIT_DOCTEST_ONLY=REGEX runs only the READMEs whose path matches (while editing one). */
const ONLY = process.env.SDEKIT_DOCTEST_ONLY ? new RegExp(process.env.SDEKIT_DOCTEST_ONLY) : null;

export type BlockKind = 'ts' | 'js' | 'sh' | 'text';

export interface ReadmeBlock {
  /** README path relative to the repository root. */
  readonly readme: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly kind: BlockKind | null;
  readonly code: string;
  readonly fragment: boolean;
  /** Set by `<!-- file: NAME -->`: written to NAME in the working folder instead of run. */
  readonly file: string | null;
}

const KINDS: Record<string, BlockKind> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  text: 'text',
};

/** The fenced blocks of one README, with their marks. */
export function extractBlocks(readme: string, source: string): ReadmeBlock[] {
  const lines = source.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const lang = open[3].toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++]);
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const mark = k >= 0 ? lines[k].trim() : '';
    const fileMark = /^<!--\s*file:\s*(\S+)\s*-->$/.exec(mark);
    blocks.push({
      readme,
      line: i + 1,
      lang,
      kind: KINDS[lang] ?? null,
      code: `${body.join('\n')}\n`,
      fragment: /^<!--\s*fragment\b.*-->$/.test(mark),
      file: fileMark ? fileMark[1] : null,
    });
    i = j;
  }
  return blocks;
}

/** The `sdekit` command lines of a shell block (continuations joined), with their README lines. */
export function sdekitLines(block: ReadmeBlock): Array<{ line: number; command: string }> {
  const out: Array<{ line: number; command: string }> = [];
  const lines = block.code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let command = lines[i];
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${lines[++i]}`;
    command = command.trim();
    if (/^sdekit(\s|$)/.test(command)) out.push({ line: block.line + 1 + start, command });
  }
  return out;
}

function readmes(): string[] {
  const list = ['README.md'];
  for (const p of readdirSync(join(root, 'packages')).sort()) {
    if (existsSync(join(root, 'packages', p, 'README.md'))) list.push(`packages/${p}/README.md`);
  }
  list.push('benchmarks/README.md');
  return list;
}

const slug = (readme: string) => readme.replace(/\.md$/, '').replace(/[/\\]/g, '_');
const fileOf = (b: ReadmeBlock) => `block-L${b.line}.${b.kind === 'ts' ? 'ts' : 'mjs'}`;

/** Rewrites `block-L<fence>.ts:<row>` and tsc's `(<row>,<col>)` into README lines. */
function toReadmeLines(text: string, readme: string): string {
  return text
    .replace(/(?:[^\s(]*[/\\])?block-L(\d+)\.(?:ts|mjs):(\d+)/g, (_, f, r) => `${readme}:${+f + +r}`)
    .replace(
      /(?:[^\s(]*[/\\])?block-L(\d+)\.(?:ts|mjs)\((\d+),(\d+)\)/g,
      (_, f, r, c) => `${readme}:${+f + +r}:${c}`,
    );
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

function runChild(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, BLOCK_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - start) / 1000;
      if (VERBOSE)
        console.log(
          `--- ${cwd.slice(outDir.length + 1)}: ${[cmd, ...args].join(' ')} (${seconds.toFixed(1)} s)\n${stdout}${stderr}`,
        );
      resolve({ code, signal, stdout, stderr, seconds, timedOut });
    });
  });
}

const tail = (s: string, n = 3000) => (s.length > n ? `...${s.slice(-n)}` : s);

function failure(where: string, what: string, r: RunResult, readme: string): string {
  const status = r.timedOut
    ? `timed out after ${BLOCK_TIMEOUT_MS / 1000} s`
    : `exit code ${r.code}${r.signal ? ` (${r.signal})` : ''}`;
  return toReadmeLines(
    `${where}: ${what} failed, ${status}\n--- stderr\n${tail(r.stderr)}\n--- stdout\n${tail(r.stdout, 1500)}`,
    readme,
  );
}

interface Step {
  readonly key: string;
  readonly title: string;
  readonly run: () => Promise<string | null>; // null: passed; else the failure message
}

/** The steps of one README, in order: write a file, run a ts/js block, or run one sdekit line. */
function stepsOf(readme: string, blocks: ReadmeBlock[]): Step[] {
  const dir = join(outDir, slug(readme));
  const env = { ...process.env, PATH: `${join(outDir, 'bin')}:${process.env.PATH ?? ''}` };
  const steps: Step[] = [];
  for (const b of blocks) {
    if (b.kind === 'text' || b.kind === null || b.fragment) continue;
    const where = `${readme}:${b.line}`;
    if (b.file) {
      const file = b.file;
      steps.push({
        key: where,
        title: `${where} writes ${file}`,
        run: async () => {
          writeFileSync(join(dir, file), b.code);
          return null;
        },
      });
    } else if (b.kind === 'ts' || b.kind === 'js') {
      const args = b.kind === 'ts' ? ['--import', 'tsx', fileOf(b)] : [fileOf(b)];
      steps.push({
        key: where,
        title: `${where} runs (${b.kind})`,
        run: async () => {
          const r = await runChild(process.execPath, args, dir, env);
          timings.push({ where, seconds: r.seconds });
          return r.code === 0 ? null : failure(where, `the ${b.kind} block`, r, readme);
        },
      });
    } else {
      for (const { line, command } of sdekitLines(b)) {
        const at = `${readme}:${line}`;
        steps.push({
          key: at,
          title: `${at} $ ${command}`,
          run: async () => {
            const r = await runChild('bash', ['-c', command], dir, env);
            timings.push({ where: at, seconds: r.seconds });
            return r.code === 0 ? null : failure(at, `'${command}'`, r, readme);
          },
        });
      }
    }
  }
  return steps;
}

/** Runs tasks, at most `jobs` at a time, in the order given. */
function runPool(tasks: Array<() => Promise<void>>, jobs: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  return Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker)).then(() => undefined);
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Strict type check of all ts blocks against the packages' published types (dist/*.d.ts). */
async function typeCheck(): Promise<string | null> {
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const start = performance.now();
  const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '--noEmit', '-p', join(outDir, 'tsconfig.json')], {
      cwd: outDir,
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
  timings.push({ where: 'tsc --noEmit (all ts blocks)', seconds: (performance.now() - start) / 1000 });
  if (r.code === 0) return null;
  const lines = r.out.split('\n').map((l) => {
    const readme = all.find((x) => l.startsWith(`${slug(x.readme)}/`))?.readme;
    return readme ? toReadmeLines(l, readme) : l;
  });
  return `tsc reported errors:\n${lines.join('\n')}`;
}

const timings: Array<{ where: string; seconds: number }> = [];
const all = readmes()
  .filter((readme) => !ONLY || ONLY.test(readme))
  .map((readme) => {
    const blocks = extractBlocks(readme, readFileSync(join(root, readme), 'utf8'));
    return { readme, blocks, steps: stepsOf(readme, blocks) };
  });
const results = new Map<string, ReturnType<typeof deferred<string | null>>>();
for (const { steps } of all) for (const step of steps) results.set(step.key, deferred<string | null>());
const typeCheckResult = deferred<string | null>();

function prepare(): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'bin'), { recursive: true });
  writeFileSync(join(outDir, 'bin', 'sdekit'), `#!/bin/sh\nexec "${process.execPath}" "${cliBin}" "$@"\n`);
  chmodSync(join(outDir, 'bin', 'sdekit'), 0o755);
  for (const { readme, blocks } of all) {
    const dir = join(outDir, slug(readme));
    mkdirSync(dir, { recursive: true });
    for (const b of blocks) {
      if ((b.kind === 'ts' || b.kind === 'js') && !b.fragment && !b.file)
        writeFileSync(join(dir, fileOf(b)), b.code);
    }
  }
  const compilerOptions = {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    moduleDetection: 'force',
    lib: ['ES2022'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    esModuleInterop: true,
    noEmit: true,
  };
  writeFileSync(
    join(outDir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: ['*/*.ts'] }, null, 2),
  );
}

/** Everything runs in the background from beforeAll; each test awaits its own step's result. */
function startAll(): void {
  const safe = async (run: () => Promise<string | null>) => {
    try {
      return await run();
    } catch (e) {
      return `the harness failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    }
  };
  const tasks: Array<() => Promise<void>> = [async () => typeCheckResult.resolve(await safe(typeCheck))];
  for (const { steps } of all) {
    if (steps.length === 0) continue;
    tasks.push(async () => {
      for (const step of steps) results.get(step.key)!.resolve(await safe(step.run));
    });
  }
  void runPool(tasks, JOBS);
}

// A test waits for its step; the steps before it in the pool bound the wait.
const WAIT_MS = 600_000;

describe('README examples', () => {
  beforeAll(() => {
    if (!existsSync(cliBin)) return; // reported by the second test; nothing can run
    prepare();
    startAll();
  });

  it('every fenced block has a known language tag and every shell block runs or is a fragment', () => {
    const problems: string[] = [];
    for (const { blocks } of all) {
      for (const b of blocks) {
        const where = `${b.readme}:${b.line}`;
        if (b.kind === null) problems.push(`${where}: fence language '${b.lang}' (use ts, js, sh or text)`);
        else if (b.kind === 'sh' && !b.fragment && !b.file && sdekitLines(b).length === 0) {
          problems.push(`${where}: a shell block without an sdekit command line; mark it <!-- fragment -->`);
        } else if (b.kind === 'text' && (b.fragment || b.file)) {
          problems.push(`${where}: a text block is never run; drop the mark`);
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('the packages are built (the examples run against dist)', () => {
    expect(existsSync(cliBin), `${cliBin} is missing: run pnpm build first`).toBe(true);
  });

  it(
    'the ts blocks type-check (tsc --noEmit, strict)',
    async () => {
      const problem = await typeCheckResult.promise;
      expect(problem, problem ?? '').toBeNull();
    },
    WAIT_MS,
  );

  for (const { readme, steps } of all) {
    if (steps.length === 0) continue; // only text and fragments (checked by the first test)
    describe(readme, () => {
      for (const step of steps) {
        it(
          step.title,
          async () => {
            const problem = await results.get(step.key)!.promise;
            expect(problem, problem ?? '').toBeNull();
          },
          WAIT_MS,
        );
      }
    });
  }

  afterAll(() => {
    if (timings.length === 0) return;
    const total = timings.reduce((s, t) => s + t.seconds, 0);
    const rows = timings.map((t) => `  ${t.seconds.toFixed(1).padStart(5)} s  ${t.where}`).join('\n');
    console.log(
      `README examples: ${timings.length} runs, ${total.toFixed(1)} s of child processes (${JOBS} at a time)\n${rows}`,
    );
  });
});

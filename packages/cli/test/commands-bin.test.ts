/**
 * The real executable in subprocesses: from the TypeScript sources through tsx (no build needed), and
 * the built dist/bin.js when the package has been built (CI builds before testing). Exit codes and
 * streams as a shell sees them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@sdekit/sde';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCsv } from '../src/io';
import { tempDir } from './commands-helpers';

const PKG = join(__dirname, '..');
const DIST_BIN = join(PKG, 'dist', 'bin.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: PKG, env: { ...process.env, SDEKIT_DEBUG: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-bin-'));
  const rng = Rng.fromSeed(9);
  await writeFile(join(dir, 'a.csv'), formatCsv(rng.fillNormal(new Float64Array(400)), 2, ['u', 'v']));
  await writeFile(join(dir, 'b.csv'), formatCsv(rng.fillNormal(new Float64Array(400)), 2, ['u', 'v']));
  await writeFile(join(dir, 'ragged.csv'), 'u,v\n1,2\n3\n');
});
afterAll(async () => {
  await cleanup();
});

describe('sdekit executable', () => {
  it('runs from the sources with tsx: help, a comparison, and a one-line error with exit code 1', async () => {
    const tsx = ['--import', 'tsx', 'src/bin.ts'];
    const [help, cmp, bad, unknown] = await Promise.all([
      run([...tsx, 'compare', '--help']),
      run([...tsx, 'compare', join(dir, 'a.csv'), join(dir, 'b.csv'), '--bins', '8']),
      run([...tsx, 'fit-langevin', join(dir, 'ragged.csv'), '--dt', '0.1', '--out', join(dir, 'm.json')]),
      run([...tsx, 'simulate', '--bogus']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sdekit compare DATA\.\.\. SIM/);
    expect(cmp.stderr).toBe('');
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/coordinate\s+mean data\s+mean sim/);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^sdekit fit-langevin: .*ragged.csv line 3, column 2: row has 1 fields, expected 2 \(as in the header\)\. Fix: .*\n$/,
    );
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'm.json'))).toBe(false);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('a reader that closes early (| true) neither crashes the command nor stops its output files', async () => {
    const out = join(dir, 'piped-report');
    const cmd = `set -o pipefail; "${process.execPath}" --import tsx src/bin.ts compare "${join(dir, 'a.csv')}" "${join(dir, 'b.csv')}" --bins 8 --out "${out}" | true`;
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('bash', ['-c', cmd], { cwd: PKG }, (err, _stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  });

  it('--quiet silences TensorFlow.js too: no cpu-backend banner on stderr', async () => {
    const tsx = ['--import', 'tsx', 'src/bin.ts'];
    const fit = (out: string, quiet: boolean) =>
      run([
        ...tsx,
        'fit-langevin',
        join(dir, 'a.csv'),
        '--dt',
        '0.1',
        '--out',
        join(dir, out),
        '--backend',
        'cpu',
        '--steps',
        '20',
        '--bootstrap',
        '0',
        ...(quiet ? ['--quiet'] : []),
      ]);
    const [loud, quiet] = await Promise.all([fit('loud.json', false), fit('quiet.json', true)]);
    expect(loud.code).toBe(0);
    // The control: without --quiet tfjs-backend-cpu greets on stderr, so the check below can fail.
    expect(loud.stderr).toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe('');
  });

  it.skipIf(!existsSync(DIST_BIN))('runs from the built package (dist/bin.js, plain node)', async () => {
    const [version, bad] = await Promise.all([
      run([DIST_BIN, '--version']),
      run([DIST_BIN, 'compare', join(dir, 'a.csv')]),
    ]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected at least 2 arguments \(DATA\.\.\. SIM\)/);
  });
});

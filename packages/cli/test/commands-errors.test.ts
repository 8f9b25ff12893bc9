/**
 * Bad input to the sdekit command line: every case gets one line on stderr naming the problem, a
 * non-zero exit code (2 for a wrong command line, 1 for bad data or a failed run), and never a
 * partial output file. Also `--help` of every command and `--version`.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@sdekit/sde';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFolderAtomically } from '../src/commands/files';
import { VERSION } from '../src/commands/main';
import { encodeNpy, formatCsv, writeNpy } from '../src/io';
import { AFFINE_MODULE, type RunResult, sdekit, tempDir } from './commands-helpers';

let dir: string;
let cleanup: () => Promise<void>;

/** A clean 2-column series (i.i.d. normal rows; only used where the command fails before fitting). */
function normalRows(rows: number, cols: number, seed: number): Float64Array {
  return Rng.fromSeed(seed).fillNormal(new Float64Array(rows * cols));
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sdekit-cli-err-'));
  await writeFile(join(dir, 'good.csv'), formatCsv(normalRows(300, 2, 1), 2, ['a', 'b']));
  await writeFile(join(dir, 'ragged.csv'), 'a,b\n1,2\n3,4,5\n6,7\n');
  await writeFile(join(dir, 'word.csv'), 'a,b\n1,2\n3,4\n5,abc\n');
  await writeFile(join(dir, 'nan.csv'), '1,2\n3,NaN\n');
  await writeFile(join(dir, 'inf.csv'), '1,2\n3,4\n-Infinity,5\n');
  const withNan = normalRows(10, 2, 2);
  withNan[5] = Number.NaN; // row 3, column 2 (1-based)
  await writeNpy(join(dir, 'nan.npy'), withNan, [10, 2]);
  const withInf = normalRows(10, 2, 3);
  withInf[8] = Number.POSITIVE_INFINITY; // row 5, column 1
  await writeNpy(join(dir, 'inf.npy'), Float32Array.from(withInf), [10, 2]);
  await writeFile(join(dir, 'short.csv'), formatCsv(normalRows(50, 1, 4), 1));
  await writeFile(join(dir, 'two.csv'), '0.1\n0.2\n');
  await writeFile(join(dir, 'cube.npy'), encodeNpy(Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8), [2, 2, 2]));
  await writeFile(join(dir, 'tesseract.npy'), encodeNpy(new Float64Array(16), [2, 2, 2, 2]));
  await writeFile(join(dir, 'coef.mjs'), AFFINE_MODULE);
  await writeFile(join(dir, 'coef-none.mjs'), 'export const b = 1;\n');
  await writeFile(join(dir, 'coef-2d.mjs'), AFFINE_MODULE.replace('slowDim: 1', 'slowDim: 2'));
  await writeFile(join(dir, 'not-json.json'), '{"format": ');
  await writeFile(join(dir, 'other.json'), '{"format": "something-else", "version": 1}');
  await writeFile(
    join(dir, 'external.json'),
    JSON.stringify({
      format: 'sdekit.langevin-model',
      version: 1,
      score: { format: 'external', units: 'z' },
    }),
  );
  await writeFile(join(dir, 'slow.csv'), formatCsv(normalRows(200, 1, 5), 1));
});
afterAll(async () => {
  await cleanup();
});

/** Expects a failed run: the exit code and one stderr line matching `message`, nothing on stdout. */
function expectFailure(r: RunResult, code: number, message: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().includes('\n')).toBe(false);
}

const FIT = ['fit-langevin', '--dt', '0.01', '--out', 'm.json'];

describe('command-line errors (exit code 2)', () => {
  it('unknown command, unknown option, missing required option or argument, malformed values', async () => {
    expectFailure(
      await sdekit(['fit'], dir),
      2,
      /^sdekit: unknown command 'fit'; commands: fit-langevin, simulate, fit-averaged, posterior, compare/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--sigmaa', '0.1'], dir),
      2,
      /^sdekit fit-langevin: unknown option '--sigmaa'; run 'sdekit fit-langevin --help'/,
    );
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--out', 'm.json'], dir),
      2,
      /missing --dt: good\.csv does not state its sampling interval; pass --dt DT/,
    );
    expectFailure(
      await sdekit(['simulate', 'm.json', '--dt', '0.1'], dir),
      2,
      /missing required options --T, --seed, --out/,
    );
    expectFailure(await sdekit(FIT, dir), 2, /expected at least 1 argument \(DATA\.\.\.\), got none/);
    expectFailure(
      await sdekit(['compare', 'good.csv'], dir),
      2,
      /expected at least 2 arguments \(DATA\.\.\. SIM\), got 'good.csv'/,
    );
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--dt', 'abc', '--out', 'm.json'], dir),
      2,
      /--dt: expected a number > 0, got 'abc'/,
    );
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--dt=-1', '--out', 'm.json'], dir),
      2,
      /--dt: expected a number > 0, got '-1'/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--tail-quantile', '0.5'], dir),
      2,
      /--tail-quantile: expected a number >= 0 < 0.5, got '0.5'/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--cdot', 'lagged'], dir),
      2,
      /--cdot: expected one of auto, lag, generator, got 'lagged'/,
    );
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--out', 'm.json', '--dt'], dir),
      2,
      /option '--dt' needs a value/,
    );
    // A switch given a value, and an option given twice (not last-wins).
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--quiet=yes'], dir),
      2,
      /option '--quiet' is a switch and takes no value/,
    );
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--dt', '0.05', '--dt', '0.1', '--out', 'm.json'], dir),
      2,
      /option '--dt' is given twice; pass it once/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--score', 'gmm'], dir),
      2,
      /--score: expected one of dsm, kgmm, got 'gmm'/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--steps', '2.5'], dir),
      2,
      /--steps: expected an integer >= 1, got '2.5'/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--columns', 'a,c'], dir),
      2,
      /--columns: no column named 'c' in good.csv \(columns: a, b\)/,
    );
    expectFailure(
      await sdekit([...FIT, 'good.csv', '--columns', '0,5'], dir),
      2,
      /--columns: index 5 is out of range; good.csv has 2 columns/,
    );
    const sim = ['simulate', 'm.json', '--T', '1', '--dt', '0.1', '--seed', '1'];
    expectFailure(
      await sdekit([...sim, '--out', 'sim.txt'], dir),
      2,
      /--out 'sim.txt': expected a file ending in .npy or .csv/,
    );
    expectFailure(
      await sdekit(
        ['simulate', 'm.json', '--T', '1.05', '--dt', '0.1', '--seed', '1', '--out', 's.npy'],
        dir,
      ),
      2,
      /--T 1.05 is not a whole number of output intervals --dt \(0.1\)/,
    );
    expectFailure(await sdekit([...sim, '--out', 's.npy', '--threads', '0'], dir), 2, /--threads/);
    expectFailure(await sdekit([...sim, '--out', 's.npy', '--threads', '1.5'], dir), 2, /--threads/);
  });
});

describe('data errors (exit code 1)', () => {
  it('missing file, ragged rows, non-numeric cells, NaN and Infinity are named with line and column', async () => {
    expectFailure(
      await sdekit([...FIT, 'nope.csv'], dir),
      1,
      /^sdekit fit-langevin: DATA: cannot read 'nope.csv' \(no such file\)$/m,
    );
    expectFailure(
      await sdekit([...FIT, 'ragged.csv'], dir),
      1,
      /ragged.csv line 3, column 3: row has 3 fields, expected 2 \(as in the header\)/,
    );
    expectFailure(
      await sdekit([...FIT, 'word.csv'], dir),
      1,
      /word.csv line 4, column 2: field 'abc' is not a finite number/,
    );
    expectFailure(
      await sdekit([...FIT, 'nan.csv'], dir),
      1,
      /nan.csv line 2, column 2: field 'NaN' is not a finite number/,
    );
    expectFailure(
      await sdekit([...FIT, 'inf.csv'], dir),
      1,
      /inf.csv line 3, column 1: field '-Infinity' is not a finite number/,
    );
    expectFailure(await sdekit([...FIT, 'nan.npy'], dir), 1, /nan.npy: value at row 3, column 2 is NaN/);
    expectFailure(await sdekit([...FIT, 'inf.npy'], dir), 1, /inf.npy: value at row 5, column 1 is Infinity/);
    expectFailure(
      await sdekit([...FIT, 'tesseract.npy'], dir),
      1,
      /tesseract.npy: array has shape \[2, 2, 2, 2\]; a time series is \[N\] or \[N, D\] \(rows = time\), R runs are \[R, N, D\]/,
    );
    // [R, N, D] is R runs; runs of 2 samples are too short for the Cdot estimate.
    expectFailure(
      await sdekit([...FIT, 'cube.npy'], dir),
      1,
      /series\[0\]: has 2 samples; every series needs at least 3/,
    );
    expectFailure(
      await sdekit(['compare', 'good.csv', 'nope.npy'], dir),
      1,
      /SIM: cannot read 'nope.npy' \(no such file\)/,
    );
    expectFailure(
      await sdekit(['compare', 'good.csv', 'two.csv'], dir),
      1,
      /two.csv: has 1 columns, not a multiple of the data dimension 2/,
    );
  });

  it('fewer samples than the method needs', async () => {
    // fitLangevin needs at least 200 samples.
    expectFailure(
      await sdekit([...FIT, 'short.csv'], dir),
      1,
      /series: has 50 samples; fitLangevin needs at least 200/,
    );
    // fitAveraged needs a path of at least 3 points.
    expectFailure(
      await sdekit(
        [
          'fit-averaged',
          'two.csv',
          '--dt',
          '0.01',
          '--coefficients',
          'coef.mjs',
          '--fast-dim',
          '1',
          '--out',
          'a.json',
        ],
        dir,
      ),
      1,
      /DATA: has 2 samples; this command needs at least 50/,
    );
    expectFailure(
      await sdekit(['compare', 'two.csv', 'two.csv'], dir),
      2,
      /compare needs at least 10 samples per run; DATA's longest run has 2/,
    );
  });

  it('bad coefficients modules and model files', async () => {
    const avg = [
      'fit-averaged',
      'slow.csv',
      '--dt',
      '0.01',
      '--fast-dim',
      '1',
      '--out',
      'a.json',
      '--coefficients',
    ];
    expectFailure(
      await sdekit([...avg, 'missing.mjs'], dir),
      1,
      /--coefficients: cannot read 'missing.mjs' \(no such file\)/,
    );
    expectFailure(
      await sdekit([...avg, 'coef-none.mjs'], dir),
      1,
      /coefficients module 'coef-none.mjs' has neither a default export nor an export named 'coefficients'/,
    );
    expectFailure(
      await sdekit([...avg, 'coef-2d.mjs'], dir),
      1,
      /slowDim is 2 but the data have 1 column\(s\)/,
    );
    expectFailure(
      await sdekit(
        [
          'fit-averaged',
          'slow.csv',
          '--dt',
          '0.01',
          '--fast-dim',
          '2',
          '--out',
          'a.json',
          '--coefficients',
          'coef.mjs',
        ],
        dir,
      ),
      1,
      /fastDim is 1 but --fast-dim is 2/,
    );
    const sim = ['--T', '1', '--dt', '0.1', '--seed', '1', '--out', 's.npy'];
    expectFailure(
      await sdekit(['simulate', 'nope.json', ...sim], dir),
      1,
      /MODEL: cannot read 'nope.json' \(no such file\)/,
    );
    expectFailure(
      await sdekit(['simulate', 'not-json.json', ...sim], dir),
      1,
      /MODEL: 'not-json.json' is not valid JSON/,
    );
    expectFailure(
      await sdekit(['simulate', 'other.json', ...sim], dir),
      1,
      /has format 'something-else'; expected 'sdekit.langevin-model' \(fit-langevin\), 'sdekit.averaged-model' \(fit-averaged\) or 'sdekit.vi.averaged-posterior'/,
    );
    expectFailure(
      await sdekit(['simulate', 'external.json', ...sim], dir),
      1,
      /was fitted with a caller-supplied score, which the file does not contain/,
    );
  });

  it('a failed run leaves an existing output untouched and no temporary files; a missing output folder fails before fitting', async () => {
    const previous = '{"format": "sdekit.langevin-model", "keep": true}\n';
    await writeFile(join(dir, 'keep.json'), previous);
    const before = (await readdir(dir)).sort();
    expectFailure(
      await sdekit(['fit-langevin', 'short.csv', '--dt', '0.01', '--out', 'keep.json', '--force'], dir),
      1,
      /needs at least 200/,
    );
    expect(await readFile(join(dir, 'keep.json'), 'utf8')).toBe(previous);
    expect((await readdir(dir)).sort()).toEqual(before);
    const t0 = Date.now();
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--dt', '0.01', '--out', 'no/such/dir/m.json'], dir),
      1,
      /--out 'no\/such\/dir\/m.json': folder '.*no\/such\/dir' does not exist; create it first/,
    );
    expect(Date.now() - t0).toBeLessThan(2000); // checked before reading data or training
  });
});

describe('data the methods cannot use', () => {
  it('a constant column is named by its header (DATA or SIM), and too many bins are refused', async () => {
    const rows = normalRows(300, 2, 9);
    for (let i = 0; i < 300; i++) rows[2 * i + 1] = 3.5;
    await writeFile(join(dir, 'flat.csv'), formatCsv(rows, 2, ['u', 'w']));
    expectFailure(
      await sdekit([...FIT, 'flat.csv'], dir),
      1,
      /DATA: column 'w' is constant \(every row is 3\.5\); leave it out with --columns/,
    );
    expectFailure(
      await sdekit(
        [
          'fit-averaged',
          'flat.csv',
          '--dt',
          '0.01',
          '--columns',
          'w',
          '--coefficients',
          'coef.mjs',
          '--fast-dim',
          '1',
          '--out',
          'a.json',
        ],
        dir,
      ),
      1,
      /DATA: column 'w' is constant/,
    );
    expectFailure(await sdekit(['compare', 'good.csv', 'flat.csv'], dir), 1, /SIM: column 'b' is constant/);
    expectFailure(
      await sdekit(['compare', 'good.csv', 'good.csv', '--bins', '10000000'], dir),
      2,
      /--bins 10000000: more than 60 bins/,
    );
  });
});

describe('outputs never replace inputs or existing files', () => {
  it('refuses an --out that is the DATA file, also through ./ and a symlink; the data stay intact', async () => {
    const before = await readFile(join(dir, 'good.csv'), 'utf8');
    for (const out of ['good.csv', './good.csv', `../${dir.split('/').pop()}/good.csv`]) {
      expectFailure(
        await sdekit(['fit-langevin', 'good.csv', '--dt', '0.01', '--out', out, '--force'], dir),
        1,
        /--out '.*good\.csv' is the DATA file 'good\.csv'; writing there would replace your data/,
      );
    }
    await symlink(join(dir, 'good.csv'), join(dir, 'link.csv'));
    expectFailure(
      await sdekit(['fit-langevin', 'link.csv', '--dt', '0.01', '--out', 'good.csv'], dir),
      1,
      /is the DATA file 'link\.csv'/,
    );
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--dt', '0.01', '--out', 'link.csv', '--force'], dir),
      1,
      /--out 'link\.csv' is the DATA file 'good\.csv'/,
    );
    // The coefficients module of fit-averaged is an input too.
    expectFailure(
      await sdekit(
        [
          'fit-averaged',
          'slow.csv',
          '--dt',
          '0.01',
          '--coefficients',
          'coef.mjs',
          '--fast-dim',
          '1',
          '--out',
          'coef.mjs',
          '--force',
        ],
        dir,
      ),
      1,
      /is the coefficients module file 'coef\.mjs'/,
    );
    expect(await readFile(join(dir, 'good.csv'), 'utf8')).toBe(before);
  });

  it('refuses to replace an existing output without --force, and removes stale temporary files of killed runs', async () => {
    await writeFile(join(dir, 'exists.json'), 'keep me\n');
    expectFailure(
      await sdekit(['fit-langevin', 'good.csv', '--dt', '0.01', '--out', 'exists.json'], dir),
      1,
      /--out 'exists\.json' exists\. Fix: pass --force to replace it/,
    );
    expect(await readFile(join(dir, 'exists.json'), 'utf8')).toBe('keep me\n');
    // A run killed mid-write left .NAME.<pid>.<hex>.tmp behind (pid 2^22 + 1 is beyond Linux's pid range).
    const stale = `.fresh.json.${(1 << 22) + 1}.0123456789ab.tmp`;
    await writeFile(join(dir, stale), 'partial');
    expectFailure(
      await sdekit(['fit-langevin', 'short.csv', '--dt', '0.01', '--out', 'fresh.json'], dir),
      1,
      /needs at least 200/,
    );
    expect((await readdir(dir)).includes(stale)).toBe(false);
    // compare: a non-empty report folder is not replaced without --force.
    await mkdir(join(dir, 'report-full'));
    await writeFile(join(dir, 'report-full', 'notes.txt'), 'mine');
    expectFailure(
      await sdekit(['compare', 'good.csv', 'good.csv', '--out', 'report-full'], dir),
      1,
      /--out 'report-full' is a folder that is not empty\. Fix: pass --force/,
    );
    expect(await readFile(join(dir, 'report-full', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('writes a folder as a whole: a failure leaves neither a partial folder nor the temporary one', async () => {
    const target = join(dir, 'whole');
    await expect(
      writeFolderAtomically(target, async (tmp) => {
        await writeFile(join(tmp, 'a.svg'), '<svg/>');
        throw new Error('plot failed');
      }),
    ).rejects.toThrow('plot failed');
    expect((await readdir(dir)).filter((n) => n.includes('whole'))).toEqual([]);
    await writeFolderAtomically(target, async (tmp) => writeFile(join(tmp, 'index.html'), 'one'));
    await writeFolderAtomically(target, async (tmp) => writeFile(join(tmp, 'other.html'), 'two'));
    expect(await readdir(target)).toEqual(['other.html']);
    expect((await readdir(dir)).filter((n) => n.includes('whole'))).toEqual(['whole']);
  });
});

describe('help and version', () => {
  it('every command documents its options; the version matches package.json', async () => {
    const top = await sdekit(['--help'], dir);
    expect(top.code).toBe(0);
    for (const c of ['fit-langevin', 'simulate', 'fit-averaged', 'posterior', 'compare'])
      expect(top.stdout).toContain(`  ${c}`);
    const expected: Record<string, string[]> = {
      'fit-langevin': [
        '--dt DT',
        '--out MODEL.json',
        '--columns',
        '--sigma',
        '--pmin',
        '--score dsm|kgmm',
        '--seed',
        '--backend',
        '--steps',
        '--hidden',
        '--tail-quantile',
        '--cdot',
        '--perturb-series',
        '--perturb-sigma',
      ],
      simulate: [
        '--T T',
        '--dt DT',
        '--paths',
        '--seed',
        '--x0',
        '--out SIM.npy|SIM.csv',
        '--h',
        '--burn-in',
        '--coefficients',
      ],
      'fit-averaged': [
        '--dt DT',
        '--coefficients MODULE.js',
        '--fast-dim M',
        '--out MODEL.json',
        '--steps',
        '--fast-samples',
        '--evaluate-every',
        '--held-out-max',
      ],
      posterior: [
        '--out DIR',
        '--dt DT',
        '--dataset',
        '--rows',
        '--steps',
        '--tolerance',
        '--draws',
        '--prior-std',
        '--seed',
        '--backend',
        '--allow-unconverged',
        '--force',
      ],
      compare: ['--out DIR', '--dt', '--sim-dt', '--max-lag', '--bins', '--pdf', '--dataset', '--time-dim'],
    };
    for (const [name, flags] of Object.entries(expected)) {
      const r = await sdekit([name, '--help'], dir);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.startsWith(`Usage: sdekit ${name} `)).toBe(true);
      for (const f of [...flags, '--help']) expect(r.stdout).toContain(f);
    }
    const v = await sdekit(['--version'], dir);
    const pkg = JSON.parse(await readFile(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(v.stdout.trim()).toBe(VERSION);
    expect(VERSION).toBe(pkg.version);
    const none = await sdekit([], dir);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^Usage: sdekit <command>/);
  });
});

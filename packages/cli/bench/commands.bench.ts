/**
 * Throughput of the commands' own work, in-process through `main` (outputs to a temp folder, stdout
 * discarded): `simulate` of a saved Langevin model (one network evaluation per step for all paths)
 * and `compare` (PDFs, ACFs by FFT, SVG plots). Fitting is measured by @sdekit/score's benches.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, simulate } from '@sdekit/sde';
import { ouSystem } from '@sdekit/systems';
import { bench, describe } from 'vitest';
import { main } from '../src/commands/main';
import { formatCsv } from '../src/io';

const dir = await mkdtemp(join(tmpdir(), 'sdekit-cli-bench-'));
const io = { stdout: () => {}, stderr: (s: string) => process.stderr.write(s), cwd: dir };
const ou = simulate(
  ouSystem(
    Matrix.from([
      [1, 1],
      [-1, 1],
    ]),
    Matrix.from([
      [Math.SQRT2, 0],
      [0, Math.SQRT2],
    ]),
  ),
  {
    x0: new Float64Array(2),
    h: 0.01,
    T: 2000,
    saveEvery: 5,
    seed: 1,
  },
);
await writeFile(join(dir, 'ou.csv'), formatCsv(ou.data, 2, ['u', 'v']));
// A small score network (32 x 32) as fitted in the tests; the default 128 x 128 costs more per step.
await main(
  [
    'fit-langevin',
    'ou.csv',
    '--dt',
    '0.05',
    '--steps',
    '50',
    '--hidden',
    '32,32',
    '--out',
    'model.json',
    '--quiet',
  ],
  io,
);
await main(
  [
    'simulate',
    'model.json',
    '--T',
    '500',
    '--dt',
    '0.05',
    '--paths',
    '4',
    '--seed',
    '1',
    '--out',
    'sim.npy',
    '--quiet',
  ],
  io,
);

async function run(argv: string[]): Promise<void> {
  const code = await main(argv, io);
  if (code !== 0) throw new Error(`sdekit ${argv.join(' ')} exited with ${code}`);
}

describe('simulate a Langevin model (2-D, MLP 32 x 32), 1000 steps', () => {
  for (const paths of [1, 64, 1024]) {
    bench(
      `${paths} path(s)`,
      () =>
        run([
          'simulate',
          'model.json',
          '--T',
          '50',
          '--dt',
          '0.05',
          '--paths',
          String(paths),
          '--seed',
          '2',
          '--out',
          `s${paths}.npy`,
          '--quiet',
        ]),
      {
        iterations: 3,
        time: 0,
      },
    );
  }
});

describe('compare 40001 x 2 data with 4 x 10001 x 2 simulated samples', () => {
  bench('tables only', () => run(['compare', 'ou.csv', 'sim.npy', '--dt', '0.05']), {
    iterations: 5,
    time: 0,
  });
  bench(
    'tables, SVG plots, compare.json',
    () => run(['compare', 'ou.csv', 'sim.npy', '--dt', '0.05', '--out', 'report', '--force']),
    {
      iterations: 5,
      time: 0,
    },
  );
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/commands/main';

/** Result of one in-process `sdekit` run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sdekit ...argv` in-process with captured output, relative paths resolved against `cwd`. */
export async function sdekit(argv: string[], cwd: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    cwd,
  });
  return { code, stdout, stderr };
}

/** A fresh temporary folder and its cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The coefficients module used by the fit-averaged tests: b(x, y) = -x + y (d = m = 1), sigma = 0.5,
 * written as the README documents it (a factory receiving the CLI's tf).
 */
export const AFFINE_MODULE = `// b(x, y) = -x + y, sigma = 0.5 (d = 1, m = 1)
export default function ({ tf }) {
  return {
    slowDim: 1,
    fastDim: 1,
    noise: 'scalar',
    noiseDim: 1,
    constantDiffusion: true,
    driftTf: (x, y) => tf.add(tf.neg(x), y),
    diffusionTf: (x) => tf.fill([x.shape[0], 1], 0.5),
    drift: (x, y, out) => { out[0] = -x[0] + y[0]; },
    diffusion: (_x, _y, out) => { out[0] = 0.5; },
  };
}
`;

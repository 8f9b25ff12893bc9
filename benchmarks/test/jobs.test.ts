/**
 * `jobs`: cases in worker processes give the same metrics, bit for bit, as cases run one after the
 * other in this process, and come back in the order asked (tiny sizes: this checks the runner, not
 * the methods).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runSuite } from '../src/runner';

const TINY = { T: 300, simPaths: 4, simT: 10, trackPaths: 8, trackT: 1, bootstrap: 0, acfT: 2 };
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

it('jobs = 2 reproduces jobs = 1 exactly, results in the order of the cases', async () => {
  const run = async (jobs: number) => {
    const out = await mkdtemp(join(tmpdir(), `sdekit-jobs-${jobs}-`));
    dirs.push(out);
    return runSuite({ cases: ['T2', 'T1'], profile: 'quick', seed: 11, out, overrides: TINY, jobs });
  };
  const [parallel, serial] = [await run(2), await run(1)];
  expect(parallel.cases.map((c) => c.id)).toEqual(['T2', 'T1']);
  for (const [p, s] of parallel.cases.map((c, i) => [c, serial.cases[i]] as const)) {
    expect(p.error).toBe(s.error);
    expect(p.metrics.length).toBeGreaterThan(5);
    expect(p.metrics.map((m) => [m.name, m.value])).toEqual(s.metrics.map((m) => [m.name, m.value]));
  }
}, 240_000);

// Simulation and RNG throughput: `npx vitest bench --run bench/simulate.bench.ts` in packages/sde.
// vitest reports hz = iterations per second; multiply by the work per iteration named in each case
// (path-steps or normals) for the throughput quoted in the README.
//
// Case of issue 2: Euler-Maruyama on T2 (four-well with rotation, additive sqrt(2) noise), 1e5 paths.
// One iteration advances 1e5 paths by 200 steps (2e7 path-steps); saving only the first and last
// states so that the number measures integration, not copying.

import { fourWellSystem } from '@sdekit/systems';
import { bench, describe } from 'vitest';
import { eulerMaruyama, Rng, simulate, simulateParallel, sra1 } from '../src/index.js';
import { systemsModule } from '../test/systems-module.js';

const PATHS = 100_000;
const STEPS = 200;
const opts = {
  x0: Float64Array.of(-0.5, -0.4),
  paths: PATHS,
  h: 1e-3,
  steps: STEPS,
  saveEvery: STEPS,
  seed: 1,
};
const benchOpts = { iterations: 5, warmupIterations: 1, time: 0 };

describe('RNG', () => {
  const buf = new Float64Array(1_000_000);
  const rng = Rng.fromSeed(1);
  bench(
    'fillNormal, 1e6 normals',
    () => {
      rng.fillNormal(buf);
    },
    { iterations: 20, time: 0 },
  );
  bench(
    'fillUniform, 1e6 uniforms',
    () => {
      rng.fillUniform(buf);
    },
    { iterations: 20, time: 0 },
  );
});

describe('T2 Euler-Maruyama, 1e5 paths x 200 steps (2e7 path-steps)', () => {
  const system = fourWellSystem();
  bench(
    'simulate, one thread',
    () => {
      simulate(system, { ...opts, solver: eulerMaruyama });
    },
    benchOpts,
  );
  bench(
    'simulateParallel, two worker threads',
    async () => {
      await simulateParallel(
        { module: systemsModule, exportName: 'fourWellSystem' },
        { ...opts, threads: 2 },
      );
    },
    benchOpts,
  );
  bench(
    'simulate, one thread, SRA1 (two drift evaluations per step)',
    () => {
      simulate(system, { ...opts, solver: sra1 });
    },
    benchOpts,
  );
});

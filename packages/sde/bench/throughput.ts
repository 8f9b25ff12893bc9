// Throughput by wall-clock and by process CPU time (robust when other jobs share the machine):
//   npx tsx bench/throughput.ts [paths] [steps]
// Same case as bench/simulate.bench.ts and bench/numpy_em_t2.py: Euler-Maruyama on T2.

import { fourWellSystem } from '@sdekit/systems';
import { Rng, simulate, simulateParallel } from '../src/index.js';
import { systemsModule } from '../test/systems-module.js';

const paths = Number(process.argv[2] ?? 100_000);
const steps = Number(process.argv[3] ?? 200);
const opts = { x0: Float64Array.of(-0.5, -0.4), paths, h: 1e-3, steps, saveEvery: steps, seed: 1 };
const work = paths * steps;

function measure(
  label: string,
  units: string,
  amount: number,
  fn: () => void | Promise<void>,
): Promise<void> {
  return (async () => {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    const wall = (performance.now() - w0) / 1e3;
    const cpu = (c.user + c.system) / 1e6;
    console.log(
      `${label}: ${(amount / wall).toExponential(3)} ${units}/s (wall), ${(amount / cpu).toExponential(3)} ${units}/s per CPU-second`,
    );
  })();
}

const buf = new Float64Array(1_000_000);
const rng = Rng.fromSeed(1);
for (let i = 0; i < 5; i++) rng.fillNormal(buf); // warm-up
await measure('fillNormal', 'normals', 2e7, () => {
  for (let i = 0; i < 20; i++) rng.fillNormal(buf);
});
simulate(fourWellSystem(), { ...opts, steps: 10, saveEvery: 10 }); // warm-up
await measure('simulate EM T2, 1 thread', 'path-steps', work, () => {
  simulate(fourWellSystem(), opts);
});
await measure('simulateParallel EM T2, 2 worker threads', 'path-steps', work, async () => {
  await simulateParallel({ module: systemsModule, exportName: 'fourWellSystem' }, { ...opts, threads: 2 });
});

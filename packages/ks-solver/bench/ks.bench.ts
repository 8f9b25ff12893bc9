// ETDRK4 throughput: `npx vitest bench --run` in packages/ks-solver. One iteration = 1000 steps, so
// steps per second = 1000 * hz. Compare with `python3 bench/numpy_etdrk4.py 64` (same scheme in numpy).
import { bench, describe } from 'vitest';
import { randomSmoothField } from '../src/simulate.js';
import { createKsSolver } from '../src/solver.js';

for (const N of [64, 128]) {
  // L scaled with N (34 at N = 64, as in docs/benchmarks.md T3) so the resolution per unit length is fixed.
  const L = (34 * N) / 64;
  describe(`KS ETDRK4, N = ${N}, L = ${L}, h = 0.05 (1000 steps per iteration)`, () => {
    for (const dealias of [false, true]) {
      const solver = createKsSolver({ L, N, h: 0.05, dealias });
      solver.setState(randomSmoothField({ N, seed: 1 }));
      solver.step(20000); // onto the attractor
      bench(dealias ? '1000 steps, 2/3 dealiased' : '1000 steps', () => {
        solver.step(1000);
      });
    }
  });
}

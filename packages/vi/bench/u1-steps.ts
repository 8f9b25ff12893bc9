// Time per VI step and time to convergence of averagedPosterior at the sizes of benchmark U1 (quick
// profile, benchmarks/src/cases/u1.ts): M1 and M2 with T = 100 and 5T = 500 at Delta = 0.01 (10001 and
// 50001 observations), fitAveraged 400 steps with L = 32, then averagedPosterior with U1's
// settings (subspace, prior std 3, K = 4, L = 32, batch 512, 800 steps), the likelihood check (32
// draws, 256 fast samples) and the ELBO convergence test of `sdekit posterior` (the ELBO change over
// the last quarter of the steps within 3 standard errors of 0). Time to convergence: the first
// progress report (every 40 steps) from which the test, applied to the ELBO history so far, passes at
// every later report (the step count at which it then holds, times the step time, plus the subspace
// set-up); with a cosine learning rate over the 800 steps, a run stopped there would not be the
// same run, so this is the step count the test needs on this schedule, not a stopping rule.
//
// Run from the repository root (tsx resolves @sdekit/* to the sources through tsconfig paths):
//   npx tsx packages/vi/bench/u1-steps.ts            (wasm; SDEKIT_TF_BACKEND=cpu for cpu)
// Options: U1_BENCH_ONLY=M1 (one problem), U1_BENCH_T=100 (one window).
import { fitAveraged, m1Coefficients, m2Coefficients } from '@sdekit/averaging';
import { useBackend } from '@sdekit/nn';
import { pathOf, Rng, simulate, slowFastSde, stackState, type TimeSeries, wholeMultiple } from '@sdekit/sde';
import {
  multiscaleDoubleWellSystem,
  sampleMultiscaleDoubleWellFast,
  sampleTaggedParticleFast,
  taggedParticleSystem,
} from '@sdekit/systems';
import { averagedPosterior, elboConvergence } from '../src/index.js';

const STEPS = 800;
const problems = [
  {
    name: 'M1',
    coefficients: () => m1Coefficients({ m: 2, beta: 0.5 }),
    generate: (T: number, seed: number) =>
      pathOf(
        simulate(slowFastSde(multiscaleDoubleWellSystem({ m: 2, n: 100, beta: 0.5 })), {
          x0: stackState(new Float64Array([0]), sampleMultiscaleDoubleWellFast(Rng.fromSeed(seed, 1), 1, 2)),
          h: 0.02 / 100,
          T,
          saveEvery: wholeMultiple('Delta', 0.01, 0.02 / 100, 'h'),
          seed,
          observe: [0],
        }),
        0,
      ),
  },
  {
    name: 'M2',
    coefficients: () => m2Coefficients({ d: 1, N: 10 }),
    generate: (T: number, seed: number) =>
      pathOf(
        simulate(slowFastSde(taggedParticleSystem({ d: 1, N: 10, n: 100 })), {
          x0: stackState(
            new Float64Array([0]),
            sampleTaggedParticleFast(Rng.fromSeed(seed, 1), 1, { d: 1, N: 10 }),
          ),
          h: 0.02 / 100,
          T,
          saveEvery: wholeMultiple('Delta', 0.01, 0.02 / 100, 'h'),
          seed,
          observe: [0],
        }),
        0,
      ),
  },
].filter((p) => !process.env.U1_BENCH_ONLY || p.name === process.env.U1_BENCH_ONLY);

const backend = await useBackend();
const windows = process.env.U1_BENCH_T ? [Number(process.env.U1_BENCH_T)] : [100, 500];
const rows: string[] = [];
for (const [pi, prob] of problems.entries()) {
  for (const T of windows) {
    const path: TimeSeries = prob.generate(T, 10 + pi);
    let t = performance.now();
    const model = fitAveraged({
      path,
      coefficients: prob.coefficients(),
      L: 32,
      steps: 400,
      seed: 30 + pi,
    });
    const fitS = (performance.now() - t) / 1000;
    const reports: { step: number; at: number }[] = [];
    t = performance.now();
    const post = averagedPosterior(model, path, {
      L: 32,
      batchSize: Math.min(512, path.length - 1),
      samples: 4,
      steps: STEPS,
      subspace: {},
      prior: { std: 3 },
      seed: 50 + pi,
      onProgress: (q) => reports.push({ step: q.step, at: performance.now() }),
    });
    const first = reports[0];
    const last = reports[reports.length - 1];
    const stepMs = (last.at - first.at) / (last.step - first.step);
    const setupS = (first.at - t - first.step * stepMs) / 1000;
    const history = post.posterior.elboHistory;
    let convergedAt: number | null = null;
    for (const r of reports) {
      if (elboConvergence(history.subarray(0, r.step)).converged) convergedAt ??= r.step;
      else convergedAt = null;
    }
    t = performance.now();
    const check = post.likelihoodCheck(path, { draws: 32, fastSamples: 256, seed: 60 + pi });
    const checkS = (performance.now() - t) / 1000;
    const line = [
      prob.name,
      T,
      path.length,
      model.numParams,
      post.posterior.dim,
      fitS.toFixed(1),
      setupS.toFixed(1),
      stepMs.toFixed(1),
      ((STEPS * stepMs) / 1000).toFixed(1),
      convergedAt === null
        ? 'not within 800'
        : `${convergedAt} steps, ${(setupS + (convergedAt * stepMs) / 1000).toFixed(1)} s`,
      `${checkS.toFixed(1)} (${check.displaced ? 'displaced' : 'not displaced'}, gap ${check.medianGap.toFixed(2)} / ${check.bound.toFixed(2)})`,
    ].join(' | ');
    rows.push(`| ${line} |`);
    console.error(`| ${line} |`);
    model.dispose();
  }
}
console.log(`backend ${backend}, ${new Date().toISOString().slice(0, 10)}`);
console.log(
  '| problem | T | observations | flow params | rank | fitAveraged 400 steps (s) | subspace set-up (s) | ms per VI step | 800 steps (s) | to convergence | likelihood check (s) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);

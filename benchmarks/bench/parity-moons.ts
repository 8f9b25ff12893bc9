/**
 * Learning per step against PyTorch on two moons (tools/torch-parity/moons.py writes the data into
 * MOONS_DIR and prints PyTorch's numbers for the same tasks):
 * - RealNVP density: realNvp with 6 couplings, conditioners [64, 64] swish, batch 512, 3000 Adam steps;
 *   held-out NLL in nats per point;
 * - DSM: z-scored data, swish MLP [128, 128], sigma 0.05, batch 256, 3000 steps; held-out DSM loss per
 *   component, mean over 20 noise draws on the test set.
 * Each under the library's default schedule (warm-up cosine, clipped) and under PyTorch's optimiser
 * (constant lr 1e-3, no clipping), with the default initialisation (PyTorch's fan-in rule) or the one
 * named by INIT (e.g. INIT=glorot).
 * Run (in benchmarks/): MOONS_DIR=/tmp/moons npx tsx bench/parity-moons.ts [realnvp] [dsm]
 */
import { readNpy } from '@sdekit/cli';
import { realNvp } from '@sdekit/flows';
import { type MlpInit, useBackend } from '@sdekit/nn';
import { trainDsm } from '@sdekit/score';
import { Rng } from '@sdekit/sde';

const dir = process.env.MOONS_DIR ?? '/tmp/moons';
const init = process.env.INIT as MlpInit | undefined;
const tasks = process.argv.length > 2 ? process.argv.slice(2) : ['realnvp', 'dsm'];
const backend = await useBackend();
const train = (await readNpy(`${dir}/moons-train.npy`)).data as Float64Array;
const test = (await readNpy(`${dir}/moons-test.npy`)).data as Float64Array;
const NO_CLIP = 1e30;

if (tasks.includes('realnvp')) {
  for (const schedule of ['default', 'constant'] as const) {
    const t0 = performance.now();
    const flow = realNvp({ dim: 2, layers: 6, hidden: 64, seed: 1, ...(init ? { init } : {}) });
    flow.fit(train, {
      seed: 2,
      steps: 3000,
      batchSize: 512,
      heldOutFraction: 0,
      ...(schedule === 'constant' ? { lr: 1e-3, clipNorm: NO_CLIP } : {}),
    });
    const lp = flow.logProb(test);
    let nll = 0;
    for (const v of lp) nll -= v;
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      JSON.stringify({
        task: 'realnvp',
        backend,
        init: init ?? 'default',
        schedule,
        heldOutNll: nll / lp.length,
        seconds,
      }),
    );
    flow.dispose();
  }
}

if (tasks.includes('dsm')) {
  // z-score with the training statistics, as the reference does.
  const mu = [0, 0];
  const sd = [0, 0];
  const n = train.length / 2;
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) mu[j] += train[2 * i + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) sd[j] += (train[2 * i + j] - mu[j]) ** 2 / n;
  const z = (x: Float64Array) => x.map((v, i) => (v - mu[i % 2]) / Math.sqrt(sd[i % 2]));
  const tr = z(train);
  const te = z(test);
  const sigma = 0.05;
  for (const schedule of ['default', 'constant'] as const) {
    const t0 = performance.now();
    const { model } = trainDsm(tr, 2, {
      sigma,
      hiddenDims: [128, 128],
      batchSize: 256,
      steps: 3000,
      heldOutFraction: 0.01,
      antithetic: schedule === 'default',
      ...(schedule === 'constant' ? { lr: 1e-3, warmupSteps: 0, lrFloor: 1e-3, clipNorm: NO_CLIP } : {}),
      ...(init ? { init } : {}),
      seed: 1,
    });
    const seconds = (performance.now() - t0) / 1000;
    const rng = Rng.fromSeed(5);
    let total = 0;
    const noise = new Float64Array(te.length);
    for (let r = 0; r < 20; r++) {
      rng.fillNormal(noise);
      const s = model.score(te.map((v, i) => v + sigma * noise[i]));
      // The network predicts eps, with score = -eps / sigma.
      for (let i = 0; i < te.length; i++) total += (-sigma * s[i] - noise[i]) ** 2;
    }
    console.log(
      JSON.stringify({
        task: 'dsm',
        backend,
        init: init ?? 'default',
        schedule,
        heldOutLossPerComponent: total / (20 * te.length),
        seconds,
      }),
    );
    model.dispose();
  }
}

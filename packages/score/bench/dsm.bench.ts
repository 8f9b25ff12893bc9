// DSM training throughput (samples per second = steps x batch / time): Swish MLP for D = 2 and the
// periodic U-Net (base 16, [1, 2, 4]) for D = 32. One bench call trains STEPS steps; samples/s =
// hz x STEPS x batch. Run: npx vitest bench --run (wasm); SDEKIT_TF_BACKEND=cpu for cpu.

import { Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { trainDsm } from '../src/index.js';

const STEPS = 20;

function gaussian(n: number, dim: number): Float64Array {
  return Rng.fromSeed(1).fillNormal(new Float64Array(n * dim));
}

describe(`DSM training, ${STEPS} steps per call (${tf.getBackend()})`, () => {
  const d2 = gaussian(20000, 2);
  bench(
    'MLP [128, 128], D = 2, batch 256',
    () => {
      trainDsm(d2, 2, {
        sigma: 0.05,
        steps: STEPS,
        batchSize: 256,
        evaluateEvery: STEPS,
        maxHeldOut: 256,
        seed: 1,
      }).model.dispose();
    },
    { iterations: 5, warmupIterations: 1 },
  );
  const d32 = gaussian(4000, 32);
  bench(
    'U-Net base 16 [1, 2, 4], D = 32, batch 64',
    () => {
      trainDsm(d32, 32, {
        sigma: 0.1,
        network: 'unet',
        steps: STEPS,
        batchSize: 64,
        evaluateEvery: STEPS,
        maxHeldOut: 64,
        seed: 1,
      }).model.dispose();
    },
    { iterations: 3, warmupIterations: 1 },
  );
});

// ELBO optimisation throughput of fitPosterior on the conjugate linear-regression model
// (test/conjugate.ts): each bench iteration runs STEPS Adam steps with K = 8 reparameterised samples,
// so ELBO steps/s = STEPS x (iterations/s). Default flow (1 sinh-arcsinh layer, rank 4), STL gradient.
// Run: npx vitest bench --run  (backend: wasm by default, SDEKIT_TF_BACKEND=cpu for cpu).
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { fitPosterior } from '../src/index.js';
import { conjugateLogLikelihood, conjugateModel } from '../test/conjugate.js';

const STEPS = 20;

for (const dim of [10, 1000]) {
  describe(`fitPosterior, conjugate regression dim ${dim}, n = ${2 * dim}, K = 8, ${STEPS} steps per iteration (${tf.getBackend()})`, () => {
    const model = conjugateModel(2 * dim, dim, 1);
    const ll = conjugateLogLikelihood(model);
    let seed = 0;
    bench(
      `${STEPS} ELBO steps (rank 4, 1 layer)`,
      () => {
        fitPosterior({
          dim,
          logLikelihoodBatch: ll.batch,
          samples: 8,
          steps: STEPS,
          seed: seed++,
          gaussianWarmup: 0,
        });
      },
      { time: 3000, iterations: 3 },
    );
    const gaussian = (t: tf.Tensor2D) => tf.mul(tf.sum(tf.square(t), 1), -0.5) as tf.Tensor1D;
    bench(
      `${STEPS} ELBO steps, flow cost only (log L = -|theta|^2/2; rank 4, 1 layer)`,
      () => {
        fitPosterior({
          dim,
          logLikelihoodBatch: gaussian,
          samples: 8,
          steps: STEPS,
          seed: seed++,
          gaussianWarmup: 0,
        });
      },
      { time: 3000, iterations: 3 },
    );
    bench(
      `${STEPS} ELBO steps (mean-field: rank 0, no layer)`,
      () => {
        fitPosterior({
          dim,
          logLikelihoodBatch: ll.batch,
          samples: 8,
          steps: STEPS,
          seed: seed++,
          flow: { rank: 0, layers: 0 },
        });
      },
      { time: 3000, iterations: 3 },
    );
  });
}

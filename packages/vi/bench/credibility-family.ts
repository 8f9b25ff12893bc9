// Credibility of averagedPosterior beyond the benchmarks (a family of slow-fast systems that are
// not M1 or M2): a slow x with one or two wells, a 2-D non-Gaussian fast y (y1 with density
// ~ exp(-y1^2/2 - y1^4/4), y2 | y1 ~ N(a y1^2, s^2): dependent coordinates), the user's own b and
// sigma:
//
//     b(x, y) = w(x) / (1 + y1^2 / 2) + c tanh(x - y2),   w(x) = 2 (x - x^3) (two wells) or -2 (x + x^3),
//     sigma(y) = 0.5 (1 + k tanh(y2))                      (k = 0: constant diffusion),
//
// observed every Delta = 0.01 with n = 100, as runs of 250 time units started in alternate wells.
// For each configuration and seed: fitAveraged (400 steps, L = 32), averagedPosterior with U1's
// settings (subspace, prior std 3, K = 4, L = 32, batch 512, 800 steps), then with one run (T = 250)
// and with five (5T = 1250): the ELBO convergence test, the likelihood check, the truth's coverage
// by the pointwise 95 % band where the data lie, its calibration p-value (bandCalibration, 300
// draws), the mean width, and the width ratio 5T / T (1/sqrt(5) = 0.45 for a posterior that
// shrinks like 1/sqrt(T); the two windows' judged ranges differ, so only roughly). True bbar: Monte
// Carlo over 2e5 exact samples of the fast law. One JSON line per fit.
//
// Run from the repository root (about 3 minutes per line on one core):
//   npx tsx packages/vi/bench/credibility-family.ts
// Options: FAMILY_SEEDS=1,2,3  FAMILY_CONFIGS=wells2,wells1,coupling,sigmaY  SDEKIT_TF_BACKEND=cpu
import { fitAveraged, type SlowCoefficients } from '@sdekit/averaging';
import { useBackend } from '@sdekit/nn';
import {
  childSeed,
  pathOf,
  quantile,
  Rng,
  type SlowFastSystem,
  simulate,
  slowFastSde,
  stackState,
  type TimeSeries,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { averagedPosterior, bandCalibration, elboConvergence } from '../src/index.js';

interface Config {
  name: string;
  wells: 1 | 2;
  coupling: number;
  sigmaSlope: number;
}
const CONFIGS: Config[] = [
  { name: 'wells2', wells: 2, coupling: 0.3, sigmaSlope: 0 },
  { name: 'wells1', wells: 1, coupling: 0.3, sigmaSlope: 0 },
  { name: 'coupling', wells: 2, coupling: 0.8, sigmaSlope: 0 },
  { name: 'sigmaY', wells: 2, coupling: 0.3, sigmaSlope: 0.5 },
];
const A = 0.5;
const S = 0.5;
const N_SCALE = 100;
const RUN_T = 250;
const GRID = Float64Array.from({ length: 31 }, (_, i) => -1.5 + 0.1 * i);

const seeds = (process.env.FAMILY_SEEDS ?? '1,2,3').split(',').map(Number);
const only = process.env.FAMILY_CONFIGS?.split(',');
await useBackend((process.env.SDEKIT_TF_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm');

function problem(c: Config) {
  const wellTerm = (x: number) => (c.wells === 2 ? 2 * (x - x * x * x) : -2 * (x + x * x * x));
  const drift = (x: number, y1: number, y2: number) =>
    wellTerm(x) / (1 + 0.5 * y1 * y1) + c.coupling * Math.tanh(x - y2);
  const sigma = (y2: number) => 0.5 * (1 + c.sigmaSlope * Math.tanh(y2));
  const system: SlowFastSystem = {
    slowDim: 1,
    fastDim: 2,
    n: N_SCALE,
    slowNoise: 'scalar',
    slowNoiseDim: 1,
    fastNoise: 'scalar',
    fastNoiseDim: 2,
    slowDrift: (x, y, out) => {
      out[0] = drift(x[0], y[0], y[1]);
    },
    slowDiffusion: (_x, y, out) => {
      out[0] = sigma(y[1]);
    },
    // -grad U, U = y1^2/2 + y1^4/4 + (y2 - a y1^2)^2 / (2 s^2): pi_0 ~ exp(-U) as sampled below.
    fastDrift: (y, out) => {
      const e = y[1] - A * y[0] * y[0];
      out[0] = -(y[0] + y[0] ** 3 - (2 * A * y[0] * e) / (S * S));
      out[1] = -e / (S * S);
    },
    fastDiffusion: (_y, out) => {
      out[0] = Math.SQRT2;
    },
    additive: c.sigmaSlope === 0,
  };
  const coefficients: SlowCoefficients = {
    slowDim: 1,
    fastDim: 2,
    noise: 'scalar',
    noiseDim: 1,
    constantDiffusion: c.sigmaSlope === 0,
    driftTf: (x, y) =>
      tf.tidy(() => {
        const y1 = tf.slice(y, [0, 0], [-1, 1]);
        const y2 = tf.slice(y, [0, 1], [-1, 1]);
        const cube = tf.pow(x, 3);
        const well = c.wells === 2 ? tf.mul(2, tf.sub(x, cube)) : tf.mul(-2, tf.add(x, cube));
        const den = tf.add(1, tf.mul(0.5, tf.square(y1)));
        return tf.add(tf.div(well, den), tf.mul(c.coupling, tf.tanh(tf.sub(x, y2)))) as tf.Tensor2D;
      }),
    diffusionTf: (_x, y) =>
      tf.tidy(
        () =>
          tf.mul(0.5, tf.add(1, tf.mul(c.sigmaSlope, tf.tanh(tf.slice(y, [0, 1], [-1, 1]))))) as tf.Tensor2D,
      ),
    drift: (x, y, out) => {
      out[0] = drift(x[0], y[0], y[1]);
    },
    diffusion: (_x, y, out) => {
      out[0] = sigma(y[1]);
    },
  };
  return { system, coefficients, drift };
}

/** Exact samples of the fast law: y1 by rejection from N(0, 1) (acceptance exp(-y^4/4)), then y2 | y1. */
function sampleFast(rng: Rng, count: number): Float64Array {
  const out = new Float64Array(count * 2);
  for (let i = 0; i < count; ) {
    const y = rng.normal();
    if (rng.uniform() < Math.exp(-0.25 * y ** 4)) {
      out[2 * i] = y;
      out[2 * i + 1] = A * y * y + S * rng.normal();
      i++;
    }
  }
  return out;
}

const truthSamples = sampleFast(Rng.named(99, 'truth'), 200000);
for (const config of CONFIGS.filter((c) => only === undefined || only.includes(c.name))) {
  const { system, coefficients, drift } = problem(config);
  const truth = Float64Array.from(GRID, (x) => {
    let s = 0;
    for (let i = 0; i < 200000; i++) s += drift(x, truthSamples[2 * i], truthSamples[2 * i + 1]);
    return s / 200000;
  });
  for (const seed of seeds) {
    const runs: TimeSeries[] = [];
    for (let r = 0; r < 5; r++) {
      const runSeed = childSeed(seed, `run-${r}`);
      runs.push(
        pathOf(
          simulate(slowFastSde(system), {
            x0: stackState(Float64Array.of(r % 2 === 0 ? -1 : 1), sampleFast(Rng.fromSeed(runSeed, 1), 1)),
            h: 0.02 / N_SCALE,
            T: RUN_T,
            saveEvery: 50,
            seed: runSeed,
            observe: [0],
          }),
          0,
        ),
      );
    }
    const widths: number[] = [];
    for (const path of [runs[0], runs]) {
      const t0 = Date.now();
      const model = fitAveraged({ path, coefficients, L: 32, steps: 400, seed: childSeed(seed, 'fit') });
      const post = averagedPosterior(model, path, {
        L: 32,
        batchSize: 512,
        samples: 4,
        steps: 800,
        subspace: {},
        prior: { std: 3 },
        seed: childSeed(seed, 'vi'),
      });
      const convergence = elboConvergence(post.posterior.elboHistory);
      const check = post.likelihoodCheck(path, {
        draws: 32,
        fastSamples: 256,
        seed: childSeed(seed, 'check'),
      });
      const bands = post.bbarBands(GRID, [0.95], {
        samples: 300,
        fastSamples: 2048,
        seed: childSeed(seed, 'bands'),
      });
      const data = Float64Array.from(
        (Array.isArray(path) ? path : [path]).flatMap((p) => Array.from(p.data)),
      ).sort();
      const lo = quantile(data, 0.005);
      const hi = quantile(data, 0.995);
      const judged = Array.from(GRID, (x) => x >= lo && x <= hi);
      const band = bands.bands[0];
      let inMass = 0;
      let width = 0;
      for (let i = 0; i < GRID.length; i++) {
        if (!judged[i]) continue;
        inMass++;
        width += band.upper[i] - band.lower[i];
      }
      widths.push(width / inMass);
      const calibration = bandCalibration(bands.values, bands.samples, GRID.length, truth, { judged });
      console.log(
        JSON.stringify({
          config: config.name,
          seed,
          T: Array.isArray(path) ? 5 * RUN_T : RUN_T,
          range: [+lo.toFixed(2), +hi.toFixed(2)],
          rank: post.posterior.dim,
          converged: convergence.converged,
          check: {
            median: +check.medianGap.toFixed(2),
            bound: +check.bound.toFixed(2),
            displaced: check.displaced,
          },
          coverage: +calibration.coverage.toFixed(3),
          pValue: +calibration.pValue.toFixed(4),
          width: +(width / inMass).toFixed(4),
          ...(widths.length === 2 ? { widthRatio: +(widths[1] / widths[0]).toFixed(3) } : {}),
          seconds: (Date.now() - t0) / 1000,
        }),
      );
      model.dispose();
    }
  }
}

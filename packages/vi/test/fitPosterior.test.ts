import type { TrainingCheckpoint } from '@sdekit/nn';
import { ConvergenceError, DimensionError, FormatError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateElbo, fitPosterior, initialFlowParams, Posterior } from '../src/index.js';
import { conjugateLogLikelihood, conjugateModel } from './conjugate.js';

// D = 4 with strongly correlated design columns (posterior correlations down to -0.47), n = 40.
const model = conjugateModel(40, 4, 11, { correlation: 0.8 });
const ll = conjugateLogLikelihood(model);
afterAll(() => ll.dispose());

const D = model.dim;
const N_DRAWS = 20000;

function sampleMoments(x: Float64Array, n: number, d: number) {
  const mean = new Float64Array(d);
  for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) mean[i] += x[s * d + i] / n;
  const cov = new Float64Array(d * d);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++)
        cov[i * d + j] += ((x[s * d + i] - mean[i]) * (x[s * d + j] - mean[j])) / (n - 1);
    }
  }
  return { mean, cov };
}

describe('fitPosterior on conjugate Gaussian linear regression (exact posterior and evidence)', () => {
  it('full-rank flow recovers the posterior mean and covariance; the ELBO rises to just below log Z', () => {
    const before = tf.memory().numTensors;
    const post = fitPosterior({
      dim: D,
      logLikelihoodBatch: ll.batch,
      flow: { rank: D, layers: 1 },
      samples: 8,
      steps: 1500,
      seed: 1,
    });
    // No tensor may outlive the fit (nn Adam no longer leaks its initial moments).
    expect(tf.memory().numTensors - before).toBe(0);
    const { mean, cov } = sampleMoments(post.sample(N_DRAWS, 5), N_DRAWS, D);
    const pc = model.postCov.data;
    for (let i = 0; i < D; i++) {
      // MC error of a sample mean from 20000 draws: 0.007 posterior sd; 0.05 sd = 7 MC sd.
      expect(Math.abs(mean[i] - model.postMean[i]) / Math.sqrt(pc[i * D + i])).toBeLessThan(0.05);
      for (let j = 0; j < D; j++) {
        // Sample covariance entry sd ~ sqrt((1 + rho^2) / N) <= 0.01 in units of sd_i sd_j: 5 % = 5 MC sd.
        const scaled = (cov[i * D + j] - pc[i * D + j]) / Math.sqrt(pc[i * D + i] * pc[j * D + j]);
        expect(Math.abs(scaled)).toBeLessThan(0.05);
      }
    }
    // The ELBO increases: the first 50 steps (q = N(0, 0.01 I), far from the posterior) lie far below the last 100.
    const h = post.elboHistory;
    const avg = (a: number, b: number) => h.slice(a, b).reduce((s, v) => s + v, 0) / (b - a);
    expect(avg(0, 50)).toBeLessThan(avg(1400, 1500) - 5);
    expect(avg(1400, 1500)).toBeLessThan(model.logEvidence + 0.01);
    // Float64 ELBO estimate from 4000 draws: below log Z up to 3 standard errors plus the float32
    // rounding of log L (|log L| ~ 30, relative 1e-7 -> 1e-5); and close to it (q can equal the posterior).
    const est = estimateElbo(post, { logLikelihoodBatch: ll.batch, samples: 4000, seed: 3 });
    expect(est.mean).toBeLessThan(model.logEvidence + 3 * est.stdError + 1e-4);
    expect(model.logEvidence - est.mean).toBeLessThan(0.02);
    expect(post.nonFiniteSteps).toBe(0);
  });

  it('mean-field flow (rank 0) reaches the exact mean-field optimum: ELBO = log Z - KL*', () => {
    const post = fitPosterior({
      dim: D,
      logLikelihoodBatch: ll.batch,
      flow: { rank: 0, layers: 0 },
      samples: 8,
      steps: 1000,
      seed: 2,
    });
    // Optimal mean-field q for a Gaussian posterior N(m, Lambda^{-1}): N(m, diag(1/Lambda_ii)) with
    // KL* = (sum_i log Lambda_ii - log det Lambda) / 2 (Bishop 2006, sec. 10.1.2).
    const lam = model.precision.data;
    let klStar = 0;
    for (let i = 0; i < D; i++) klStar += 0.5 * Math.log(lam[i * D + i]);
    const pc = model.postCov.data;
    // log det Lambda = -log det Sigma; Sigma by its Cholesky factor (4 x 4, float64).
    const Lc = choleskyLogDet(pc, D);
    klStar += 0.5 * Lc;
    expect(klStar).toBeGreaterThan(0.5); // the correlated design makes mean-field clearly worse than exact
    const est = estimateElbo(post, { logLikelihoodBatch: ll.batch, samples: 4000, seed: 4 });
    // Strictly below log Z by KL*; the estimate has MC error ~0.03 and optimisation residual < 0.02.
    expect(est.mean).toBeLessThan(model.logEvidence);
    expect(Math.abs(model.logEvidence - est.mean - klStar)).toBeLessThan(3 * est.stdError + 0.03);
    const { mean, cov } = sampleMoments(post.sample(N_DRAWS, 6), N_DRAWS, D);
    for (let i = 0; i < D; i++) {
      expect(Math.abs(mean[i] - model.postMean[i]) / Math.sqrt(pc[i * D + i])).toBeLessThan(0.1);
      // mean-field variance 1 / Lambda_ii, MC relative sd sqrt(2 / N) = 1 %
      expect(Math.abs(cov[i * D + i] * lam[i * D + i] - 1)).toBeLessThan(0.05);
    }
  });
});

function choleskyLogDet(a: Float64Array, n: number): number {
  const l = new Float64Array(n * n);
  let logDet = 0;
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= l[j * n + k] ** 2;
    l[j * n + j] = Math.sqrt(s);
    logDet += Math.log(s);
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / l[j * n + j];
    }
  }
  return logDet;
}

describe('non-finite log-likelihoods and bad input', () => {
  const nanSteps = new Set([3, 10, 17]);
  const perSample = (theta: tf.Tensor1D, ctx: { step: number; sample: number }) =>
    tf.tidy(() => {
      const v = tf.mul(-0.5, tf.sum(tf.square(theta)));
      // sample 1 of three fixed steps returns NaN (as a likelihood outside its domain would)
      return (nanSteps.has(ctx.step) && ctx.sample === 1 ? tf.mul(v, Number.NaN) : v) as tf.Scalar;
    });

  it('skips and counts the steps whose ELBO is not finite', () => {
    const post = fitPosterior({
      dim: 3,
      logLikelihood: perSample,
      samples: 4,
      steps: 25,
      seed: 3,
      flow: { rank: 1, layers: 1 },
    });
    expect(post.nonFiniteSteps).toBe(3);
    for (let s = 0; s < 25; s++) expect(Number.isNaN(post.elboHistory[s])).toBe(nanSteps.has(s));
    expect(post.warnings.length).toBe(1);
    expect(post.warnings[0]).toContain('3 of 25');
    for (const v of post.params) expect(Number.isFinite(v)).toBe(true);
  });

  it('throws ConvergenceError when every step is non-finite', () => {
    expect(() =>
      fitPosterior({
        dim: 2,
        logLikelihood: (t) => tf.mul(tf.sum(t), Number.NaN) as tf.Scalar,
        steps: 5,
        seed: 1,
      }),
    ).toThrow(ConvergenceError);
  });

  it('rejects dim 0, missing or duplicate likelihoods, bad prior and rank', () => {
    const f = (t: tf.Tensor1D) => tf.sum(t) as tf.Scalar;
    expect(() => fitPosterior({ dim: 0, logLikelihood: f, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => fitPosterior({ dim: 2, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() =>
      fitPosterior({
        dim: 2,
        logLikelihood: f,
        logLikelihoodBatch: (t) => tf.sum(t, 1) as tf.Tensor1D,
        seed: 1,
      }),
    ).toThrow(InvalidArgumentError);
    expect(() => fitPosterior({ dim: 2, logLikelihood: f, prior: { std: -1 }, seed: 1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      fitPosterior({ dim: 2, logLikelihood: f, prior: { mean: new Float64Array(3) }, seed: 1 }),
    ).toThrow(DimensionError);
    expect(() => fitPosterior({ dim: 2, logLikelihood: f, flow: { rank: 3 }, seed: 1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      fitPosterior({ dim: 2, logLikelihood: (t) => t as unknown as tf.Scalar, steps: 1, seed: 1 }),
    ).toThrow(DimensionError);
  });
});

describe('Posterior', () => {
  it('is deterministic given the seed and keeps tf.memory flat over a fit', () => {
    const opts = {
      dim: 3,
      logLikelihood: (t: tf.Tensor1D) => tf.mul(-2, tf.sum(tf.square(tf.sub(t, 1)))) as tf.Scalar,
      samples: 4,
      steps: 30,
      seed: 9,
    };
    const a = fitPosterior(opts);
    const before = tf.memory().numTensors;
    const b = fitPosterior(opts);
    expect(tf.memory().numTensors - before).toBe(0);
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
    expect(Array.from(b.sample(5, 1))).toEqual(Array.from(a.sample(5, 1)));
  });

  it('round-trips through JSON (same draws, densities and history, NaN kept)', () => {
    const shape = { dim: 3, layers: 1, rank: 2 };
    const params = new Float64Array(3 * (2 + 2 + 4));
    Rng.fromSeed(4).fillNormal(params, 0, 0.3);
    const prior = { mean: Float64Array.from([0, 1, 2]), std: Float64Array.from([1, 2, 3]) };
    const elboHistory = Float64Array.from([-3, Number.NaN, -2]);
    const post = new Posterior(shape, params, prior, { elboHistory, nonFiniteSteps: 1, warnings: ['w'] });
    const back = Posterior.fromJSON(JSON.parse(JSON.stringify(post.toJSON())));
    expect(Array.from(back.sample(10, 2))).toEqual(Array.from(post.sample(10, 2)));
    const x = post.sample(10, 3);
    expect(Array.from(back.logProb(x))).toEqual(Array.from(post.logProb(x)));
    expect(Number.isNaN(back.elboHistory[1])).toBe(true);
    expect(back.elboHistory[2]).toBe(-2);
    expect(back.nonFiniteSteps).toBe(1);
    expect(() => Posterior.fromJSON({ ...post.toJSON(), format: 'other' } as never)).toThrow(FormatError);
    expect(() => Posterior.fromJSON({ ...post.toJSON(), version: 2 } as never)).toThrow(FormatError);
  });

  it('bands give the exact Gaussian quantiles of a linear function (within MC error)', () => {
    const shape = { dim: 2, layers: 1, rank: 1 };
    const mean = Float64Array.from([0.5, -1]);
    const std = Float64Array.from([0.2, 0.4]);
    // initial params: q = N(mean, diag(std^2)) exactly
    const post = new Posterior(shape, initialFlowParams(shape, { mean, std }, Rng.fromSeed(1)), {
      mean: new Float64Array(2),
      std: Float64Array.from([1, 1]),
    });
    const grid = Float64Array.from([-1, 0, 2]);
    const b = post.bands((t, g) => g.map((x) => t[0] + t[1] * x), grid, [0.9, 0.5], {
      samples: 4000,
      seed: 7,
    });
    const z90 = 1.6448536269514722;
    const z50 = 0.6744897501960817;
    for (let g = 0; g < 3; g++) {
      const m = mean[0] + mean[1] * grid[g];
      const s = Math.sqrt(std[0] ** 2 + (std[1] * grid[g]) ** 2);
      // sd of a sample quantile: sqrt(p(1-p)/N) / phi(z) * s = 0.033 s (p = 0.05) / 0.021 s (p = 0.25) for N = 4000: 0.15 s ~ 4.5 sd
      expect(Math.abs(b.bands[0].lower[g] - (m - z90 * s))).toBeLessThan(0.15 * s);
      expect(Math.abs(b.bands[0].upper[g] - (m + z90 * s))).toBeLessThan(0.15 * s);
      expect(Math.abs(b.bands[1].lower[g] - (m - z50 * s))).toBeLessThan(0.1 * s);
      expect(Math.abs(b.median[g] - m)).toBeLessThan(0.1 * s);
      expect(Math.abs(b.mean[g] - m)).toBeLessThan(0.1 * s);
    }
    expect(() => post.bands((t) => [t[0], Number.NaN], grid)).toThrow();
    expect(() => post.bands((t) => [t[0]], grid, [1.2])).toThrow(InvalidArgumentError);
  });
});

describe('fitPosterior runs on nn train(): records, checkpoints, resume, abort', () => {
  const nanSteps = new Set([2, 9, 15]);
  /** Per-sample likelihood that draws from the context's stream, NaN at sample 1 of three steps. */
  const noisy = (theta: tf.Tensor1D, ctx: { step: number; sample: number; rng: Rng }) =>
    tf.tidy(() => {
      const v = tf.mul(-0.5, tf.sum(tf.square(tf.sub(theta, 0.7 + 0.1 * ctx.rng.normal()))));
      return (nanSteps.has(ctx.step) && ctx.sample === 1 ? tf.mul(v, Number.NaN) : v) as tf.Scalar;
    });
  const base = {
    dim: 3,
    logLikelihood: noisy,
    samples: 3,
    steps: 30,
    // The Gaussian warm-up (15 steps) ends after the checkpoint at 14 and before the one at 21.
    flow: { rank: 2, layers: 1 },
    evaluateEvery: 4,
    seed: 5,
  };
  type Record = { step: number; steps: number; loss: number; metrics?: { [k: string]: number } };

  it('records every evaluateEvery steps: metrics.elbo is the mean float64 ELBO of the window’s finite steps', () => {
    const records: Record[] = [];
    const post = fitPosterior({ ...base, onProgress: (p) => records.push(p) });
    expect(records.map((r) => r.step)).toEqual([4, 8, 12, 16, 20, 24, 28, 30]);
    let from = 0;
    for (const r of records) {
      expect(r.steps).toBe(30);
      const finite = Array.from(post.elboHistory.subarray(from, r.step)).filter(Number.isFinite);
      let sum = 0;
      for (const v of finite) sum += v;
      expect(r.metrics?.elbo).toBe(sum / finite.length);
      expect(r.metrics?.nonFiniteSteps).toBe(Array.from(nanSteps).filter((s) => s < r.step).length);
      // loss: the negated ELBO without its additive constants, so it tracks -elbo up to one constant.
      expect(Number.isFinite(r.loss)).toBe(true);
      from = r.step;
    }
    const offsets = records.map((r) => (r.metrics?.elbo as number) + r.loss);
    for (const o of offsets)
      expect(Math.abs(o - offsets[0])).toBeLessThan(1e-4 * Math.abs(offsets[0]) + 1e-4);
    expect(post.nonFiniteSteps).toBe(3);
  });

  it('a fit resumed from a checkpoint equals the uninterrupted one bit for bit (both streams, own likelihood state)', () => {
    // A likelihood with a stream of its own besides ctx.rng, carried by likelihoodState.
    const own = { rng: Rng.fromSeed(3, 4) };
    const ownState = {
      save: () => Array.from(own.rng.state()),
      restore: (s: unknown) => {
        own.rng = Rng.fromState(Uint32Array.from(s as number[]));
      },
    };
    const logLikelihood = (theta: tf.Tensor1D, ctx: { step: number; sample: number; rng: Rng }) =>
      tf.tidy(() => tf.add(noisy(theta, ctx), 0.05 * own.rng.normal()) as tf.Scalar);
    const run = (extra: object) => {
      const records: Record[] = [];
      const post = fitPosterior({
        ...base,
        logLikelihood,
        likelihoodState: ownState,
        onProgress: (p) => records.push(p),
        ...extra,
      });
      return { post, records };
    };
    own.rng = Rng.fromSeed(3, 4);
    const plain = run({});
    own.rng = Rng.fromSeed(3, 4);
    const checkpoints: TrainingCheckpoint[] = [];
    const full = run({
      checkpoint: {
        every: 7,
        save: (c: TrainingCheckpoint) => checkpoints.push(JSON.parse(JSON.stringify(c))),
      },
    });
    expect(checkpoints.map((c) => c.step)).toEqual([7, 14, 21, 28, 30]);
    // Checkpointing does not perturb the fit.
    expect(Array.from(full.post.params)).toEqual(Array.from(plain.post.params));
    for (const at of [7, 14, 21]) {
      const c = checkpoints.find((k) => k.step === at) as TrainingCheckpoint;
      own.rng = Rng.fromSeed(99, 0); // whatever it holds now: the resume restores it
      const before = tf.memory().numTensors;
      const resumed = run({ resume: c });
      expect(tf.memory().numTensors).toBe(before);
      expect(Array.from(resumed.post.params)).toEqual(Array.from(full.post.params));
      expect(Array.from(resumed.post.elboHistory)).toEqual(Array.from(full.post.elboHistory));
      expect(resumed.post.nonFiniteSteps).toBe(full.post.nonFiniteSteps);
      expect(resumed.post.warnings).toEqual(full.post.warnings);
      expect(resumed.records).toEqual(full.records.filter((r) => r.step > at));
    }
    // Without its likelihood state, or with a tampered trace, a checkpoint is refused.
    const c14 = checkpoints[1];
    expect(() => fitPosterior({ ...base, resume: c14 })).toThrow(InvalidArgumentError);
    const tampered = { ...c14, problem: { ...(c14.problem as object), elboHistory: [] } };
    expect(() => run({ resume: tampered })).toThrow(InvalidArgumentError);
    expect(() => fitPosterior({ ...base, dim: 2, resume: checkpoints[0] })).toThrow(InvalidArgumentError);
  });

  it('leaves no tensor behind on a throwing onProgress or an abort (during the fit or before it)', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      fitPosterior({
        ...base,
        onProgress: (p) => {
          if (p.step >= 8) throw new Error('stop here');
        },
      }),
    ).toThrow('stop here');
    expect(tf.memory().numTensors).toBe(before);

    const controller = new AbortController();
    let seen = 0;
    expect(() =>
      fitPosterior({
        ...base,
        signal: controller.signal,
        onProgress: (p) => {
          seen = p.step;
          if (p.step === 12) controller.abort(new Error('cancelled'));
        },
      }),
    ).toThrow('cancelled');
    expect(seen).toBe(12);
    expect(tf.memory().numTensors).toBe(before);

    const aborted = new AbortController();
    aborted.abort();
    expect(() => fitPosterior({ ...base, signal: aborted.signal })).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

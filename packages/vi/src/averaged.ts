/**
 * Bayesian uncertainty for the averaged SDE of @sdekit/averaging (docs/methods.md sections 4-5, [SG]):
 * a variational posterior over the flow parameters theta of an AveragedModel, with pointwise
 * credible bands of bbar(x) and of forecast paths.
 *
 * Likelihood: the Euler-Maruyama path log-likelihood of the averaged SDE as a function of theta,
 * estimated with L fresh inner fast samples per call (AveragedModel.logLikelihoodFunction), so the
 * ELBO estimate is doubly stochastic (K outer samples of theta, L inner samples of y).
 *
 * Prior: N(theta_hat, s0^2 I), centred at the fitted (penalised maximum-likelihood) parameters
 * theta_hat by default (`prior.centre: 'fitted'`), or N(0, s0^2 I) (`'zero'`, docs/methods.md section 5
 * literally). Centring at theta_hat is an empirical-Bayes choice: the flow's weights are only
 * identified up to the many reparameterisations that leave bbar unchanged (docs/methods.md section 4),
 * and a prior around the point estimate keeps the posterior on the mode that was fitted instead of
 * spreading it over equivalent modes, which a unimodal q could not represent anyway. The
 * variational q starts as N(theta_hat, initStd^2 I).
 */
import type { AveragedModel } from '@sdekit/averaging';
import { averagedCoefficientsTf, pathTransitions } from '@sdekit/averaging';
import { matMul, warmupCosine } from '@sdekit/nn';
import type { TimeSeries } from '@sdekit/sde';
import {
  checkFinite,
  checkInteger,
  checkPositive,
  childSeed,
  FormatError,
  InvalidArgumentError,
  Matrix,
  quantile,
  Rng,
  simulate,
  symmetricEigen,
} from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { bandsFromDraws, type CredibleBands } from './bands.js';
import { type FitPosteriorOptions, fitPosterior } from './fitPosterior.js';
import { Posterior, type PosteriorJSON } from './posterior.js';

/** Options of `averagedPosterior`. */
export interface AveragedPosteriorOptions {
  /** Inner fast samples per likelihood evaluation (default 32). */
  L?: number;
  /** Transitions per likelihood evaluation, an unbiased rescaled random subset (default: all). */
  batchSize?: number;
  /**
   * Remove the Monte Carlo bias of the L-sample likelihood estimate (default true; see
   * `FlatLikelihoodOptions.debias` of @sdekit/averaging). The ELBO's gradient is unbiased only for
   * an unbiased likelihood estimate; the bias of the plain one grows like T (drift) or like the
   * number of transitions (a y-dependent diffusion) while the posterior narrows like 1 / sqrt(T),
   * so without the correction q drifts off the data as they grow.
   */
  debias?: boolean;
  /** Prior N(centre, s0^2 I): centre 'fitted' (default) or 'zero'; s0 default 1. */
  prior?: { centre?: 'fitted' | 'zero'; std?: number };
  /**
   * Standard deviation of the initial q around theta_hat (default 1e-2; with `subspace`, the
   * linearised widths 1 / sqrt(lambda_i + 1 / s0^2) of the eigen-directions). The location is
   * trained relative to the current width (fitPosterior's location: 'relative').
   */
  initStd?: number;
  /** Variational flow shape (default: no sinh-arcsinh layer, rank 2). */
  flow?: FitPosteriorOptions['flow'];
  /** K outer samples of theta per step (default 2). */
  samples?: number;
  /** Adam steps (default 400). */
  steps?: number;
  /** Adam settings; default lr cosine 3e-2 -> 1e-3 over the steps. */
  adam?: FitPosteriorOptions['adam'];
  gaussianWarmup?: number;
  /**
   * Posterior over a low-dimensional subspace of the flow parameters (default: none, q over all
   * of them): theta = theta_hat + V c with V the top eigen-directions of the Gauss-Newton matrix of
   * the drift part of the likelihood at theta_hat, G = sum_k J_k^T S_k^{-1} J_k Delta with
   * J_k = d bbar(x_k) / d theta (estimated on `points` path states, rescaled to all transitions),
   * and a full-rank Gaussian q over c with prior N(0, s0^2 I) (the prior restricted to the
   * subspace). Subspace inference (Izmailov et al. 2019): the likelihood constrains only a few
   * weight directions of an over-parameterised flow; a low-rank q over all weights misses their
   * correlations and is over-confident, while here q is exact in form on the constrained directions.
   * `rank` (default: the directions with s0^2 lambda_i >= `threshold`, default 1e-3, at most 16):
   * a dropped direction with s0^2 lambda < threshold changes the data-weighted drift variance by
   * less than `threshold` (in units of the noise). When sigma depends on the fast variables, G also
   * holds the diffusion's Fisher information, sum_k 1/2 tr(S_k^{-1} dS_k S_k^{-1} dS_k) (diagonal
   * of S): the quadratic variation pins sigmabar with information growing with the number of
   * transitions, so directions that change bbar and sigmabar together are far narrower than the
   * drift part alone says.
   */
  subspace?: { rank?: number; threshold?: number; maxRank?: number; points?: number; fastSamples?: number };
  seed: number;
  /** Records of the fit (see `FitPosteriorOptions.onProgress`). */
  onProgress?: FitPosteriorOptions['onProgress'];
  /** Steps between records; default max(1, floor(steps / 20)). */
  evaluateEvery?: number;
  /** Run until the ELBO convergence test holds, `steps` the cap (`FitPosteriorOptions.untilConverged`). */
  untilConverged?: FitPosteriorOptions['untilConverged'];
  /**
   * Checkpoints of the fit (`FitPosteriorOptions.checkpoint`); they also carry the stream of the
   * likelihood's inner samples, so `resume` continues the fit bit for bit.
   */
  checkpoint?: FitPosteriorOptions['checkpoint'];
  /** Continue from a checkpoint of a fit of the same model, data and options. */
  resume?: FitPosteriorOptions['resume'];
  /** Checked before every step: an aborted signal ends the fit by throwing its reason. */
  signal?: AbortSignal;
}

/** Options of the Monte Carlo bands of bbar. */
export interface BbarBandOptions {
  /** Posterior draws of theta (default 100). */
  samples?: number;
  /** Fast samples per bbar evaluation (default 1024; MC error ~ std(b) / sqrt(fastSamples)). */
  fastSamples?: number;
  seed?: number;
}

/** Options of forecast bands. */
export interface ForecastBandOptions {
  /** Integration step of the averaged SDE (default: the observation spacing / 10). */
  h?: number;
  /** Save every k-th step (default: so that saved states are spaced by the observation spacing). */
  saveEvery?: number;
  /** Posterior draws of theta (default 50). */
  samples?: number;
  /** Simulated paths per draw (default 4): bands include parameter and noise uncertainty. */
  pathsPerDraw?: number;
  /** Fast samples of the quenched drift estimate per draw (AveragedModel.system; default 256). */
  fastSamples?: number;
  levels?: number[];
  seed?: number;
}

/** Options of `AveragedPosterior.likelihoodCheck`. */
export interface LikelihoodCheckOptions {
  /** Posterior draws (default 64). */
  draws?: number;
  /** Fast samples for bbar and S, the same base samples at every draw and at theta_hat (default 512). */
  fastSamples?: number;
  seed?: number;
}

/** Result of `AveragedPosterior.likelihoodCheck`; log-likelihoods in nats, float64. */
export interface LikelihoodCheck {
  /** Path log-likelihood at theta_hat. */
  readonly atFitted: number;
  /** loglik(theta_hat) - loglik(theta_s) for each posterior draw theta_s, ascending. */
  readonly gaps: Float64Array;
  readonly medianGap: number;
  /**
   * Half the median of chi^2_r, r = the posterior's dimension: the median gap of the exact posterior
   * of a likelihood quadratic in those r coordinates under a flat prior. A prior only shrinks it.
   */
  readonly bound: number;
  /** Mean gap of the linearised (Laplace) posterior, 1/2 sum lambda_i / (lambda_i + 1 / s0_i^2); null without a subspace. */
  readonly laplaceMeanGap: number | null;
  /** medianGap > bound: the typical draw of q fits the data worse than an exact posterior's would. */
  readonly displaced: boolean;
  /** A message for displaced posteriors, null otherwise. */
  readonly warning: string | null;
}

/** Pointwise forecast bands on the saved time grid. */
export interface ForecastBands extends CredibleBands {
  /** Times after x0 of each saved state (0 first). */
  readonly times: Float64Array;
  /** Dimension of the state; outputs are time-major: time k, coordinate j at k * dim + j. */
  readonly dim: number;
}

/**
 * A variational posterior over the flow parameters of an AveragedModel, with bands of bbar and of
 * forecasts. Each posterior draw is evaluated functionally (the model's `params` option): the
 * model's own parameters are never changed.
 */
export class AveragedPosterior {
  readonly posterior: Posterior;
  readonly model: AveragedModel;
  /** The fitted parameters theta_hat the posterior was centred at. */
  readonly fitted: Float64Array;
  /**
   * Subspace basis V (numParams x rank, row-major, orthonormal columns) when the posterior is over
   * c in theta = theta_hat + V c (option `subspace`); null when it is over theta itself.
   */
  readonly basis: Float64Array | null;
  /**
   * Eigenvalues lambda_1 >= ... >= lambda_rank of the Gauss-Newton matrix for the basis columns
   * (subspace posteriors; null otherwise). The linearised (Laplace) posterior of c_i has standard
   * deviation 1 / sqrt(lambda_i + 1 / s0^2), a reference for the fitted q.
   */
  readonly eigenvalues: Float64Array | null;

  constructor(
    model: AveragedModel,
    posterior: Posterior,
    fitted: Float64Array,
    basis: Float64Array | null = null,
    eigenvalues: Float64Array | null = null,
  ) {
    const expected = basis === null ? model.numParams : basis.length / model.numParams;
    if (posterior.dim !== expected || (basis !== null && basis.length !== model.numParams * posterior.dim)) {
      throw new InvalidArgumentError(
        'posterior',
        `has dim ${posterior.dim}, the model ${model.numParams} flow parameters` +
          (basis === null ? '' : ` and the basis ${basis.length} entries`),
        'pass the posterior (and basis) fitted for this model',
      );
    }
    this.model = model;
    this.posterior = posterior;
    this.fitted = fitted;
    this.basis = basis;
    this.eigenvalues = eigenvalues;
  }

  /** Flow parameters of one posterior draw: the draw itself, or theta_hat + V c on a subspace. */
  parametersOf(draw: Float64Array): Float64Array {
    const basis = this.basis;
    if (basis === null) return draw;
    const r = this.posterior.dim;
    const theta = Float64Array.from(this.fitted);
    for (let p = 0; p < theta.length; p++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += basis[p * r + j] * draw[j];
      theta[p] += s;
    }
    return theta;
  }

  /**
   * Pointwise credible bands of bbar on a grid of slow states (n x d, row-major): for each posterior
   * draw of theta, bbar_theta(grid) by Monte Carlo over `fastSamples` flow samples (float64).
   *
   * @example
   * const b = post.bbarBands(Float64Array.from({ length: 31 }, (_, i) => -1.5 + 0.1 * i), [0.95]);
   * b.bands[0].lower; b.bands[0].upper;
   */
  bbarBands(grid: Float64Array, levels: number[] = [0.95], options: BbarBandOptions = {}): CredibleBands {
    const fastSamples = options.fastSamples ?? 1024;
    checkInteger('fastSamples', fastSamples, 2);
    const seed = options.seed ?? 0;
    return this.posterior.bands(
      (theta, g: Float64Array) =>
        this.model.bbar(g, {
          fastSamples,
          seed: childSeed(seed, 'fast-samples'),
          params: this.parametersOf(theta),
        }).value,
      grid,
      levels,
      { samples: options.samples ?? 100, seed },
    );
  }

  /**
   * Posterior-predictive forecast bands: for each posterior draw, simulate the averaged SDE from x0
   * over `horizon` time units (Euler-Maruyama via @sdekit/sde), `pathsPerDraw` paths per draw; bands
   * are pointwise quantiles over all simulated paths at each saved time.
   *
   * @example
   * const f = post.forecastBands(Float64Array.of(-1), 5, { samples: 40, seed: 2 });
   * f.times; f.bands[0].lower; // time-major, one value per time and coordinate
   */
  forecastBands(x0: Float64Array, horizon: number, options: ForecastBandOptions = {}): ForecastBands {
    const d = this.model.slowDim;
    if (x0.length !== d) {
      throw new InvalidArgumentError(
        'x0',
        `has length ${x0.length}, the model's slow dimension is ${d}`,
        'pass one initial slow state',
      );
    }
    checkFinite('x0', x0);
    checkPositive('horizon', horizon);
    const obsDt = this.model.dt;
    const h = options.h ?? obsDt / 10;
    checkPositive('h', h);
    const saveEvery = options.saveEvery ?? Math.max(1, Math.round(obsDt / h));
    checkInteger('saveEvery', saveEvery, 1);
    const totalSteps = Math.max(saveEvery, Math.round(horizon / h / saveEvery) * saveEvery);
    const draws = options.samples ?? 50;
    checkInteger('samples', draws, 1);
    const perDraw = options.pathsPerDraw ?? 4;
    checkInteger('pathsPerDraw', perDraw, 1);
    const fastSamples = options.fastSamples ?? 256;
    const seed = options.seed ?? 0;
    const thetas = this.posterior.sample(draws, seed);
    const { fast, noise } = forecastSeeds(seed, draws);
    const P = this.posterior.dim;
    const length = totalSteps / saveEvery + 1;
    const outputs = length * d;
    const values = new Float64Array(draws * perDraw * outputs);
    for (let s = 0; s < draws; s++) {
      const params = this.parametersOf(thetas.subarray(s * P, (s + 1) * P));
      const bundle = simulate(this.model.system({ fastSamples, seed: fast[s], params }), {
        x0,
        paths: perDraw,
        h,
        steps: totalSteps,
        saveEvery,
        seed: noise[s],
      });
      values.set(bundle.data, s * perDraw * outputs);
    }
    const bands = bandsFromDraws(values, draws * perDraw, outputs, options.levels ?? [0.95]);
    const times = Float64Array.from({ length }, (_, k) => k * h * saveEvery);
    return { ...bands, times, dim: d };
  }

  /**
   * Checks that q sits where the data put the posterior: the float64 path log-likelihood at
   * theta_hat against its value at `draws` draws of q, with common fast samples. Under a posterior
   * close to Gaussian around theta_hat (Bernstein-von Mises), the gap loglik(theta_hat) -
   * loglik(theta) of a draw is 1/2 sum_i w_i chi^2_1 with weights w_i = lambda_i / (lambda_i +
   * 1 / s0^2) <= 1, so its median is at most `bound` = 1/2 median(chi^2_r) (Wilson-Hilferty:
   * r (1 - 2 / (9 r))^3 / 2). A larger median gap means q's draws are typically less likely than an
   * exact posterior's: a displaced or over-wide q, whose bands cannot be trusted even when they are
   * narrow (the ELBO does not show it). With a full-space posterior r is the number of flow weights,
   * and the check catches only gross displacements. When theta_hat is not the exact maximum (gradient
   * g), draws towards the maximum gain up to 1/2 g^T H^{-1} g and the gaps shrink by as much, so the
   * check errs towards passing. Cost: draws + 1 float64 likelihood evaluations over the whole path.
   *
   * @example
   * const check = post.likelihoodCheck(path, { draws: 64, seed: 3 });
   * if (check.displaced) console.warn(check.warning);
   */
  likelihoodCheck(
    path: TimeSeries | readonly TimeSeries[],
    options: LikelihoodCheckOptions = {},
  ): LikelihoodCheck {
    const draws = options.draws ?? 64;
    checkInteger('draws', draws, 2);
    const fastSamples = options.fastSamples ?? 512;
    checkInteger('fastSamples', fastSamples, 2);
    const seed = options.seed ?? 0;
    const logLikelihood = (params: Float64Array) =>
      this.model.logLikelihood(path, { fastSamples, seed: childSeed(seed, 'fast-samples'), params }).total;
    const atFitted = logLikelihood(this.fitted);
    const r = this.posterior.dim;
    const thetas = this.posterior.sample(draws, seed);
    const gaps = new Float64Array(draws);
    for (let s = 0; s < draws; s++) {
      gaps[s] = atFitted - logLikelihood(this.parametersOf(thetas.subarray(s * r, (s + 1) * r)));
    }
    gaps.sort();
    const medianGap = quantile(gaps, 0.5);
    const bound = 0.5 * r * (1 - 2 / (9 * r)) ** 3;
    let laplaceMeanGap: number | null = null;
    if (this.eigenvalues !== null) {
      laplaceMeanGap = 0;
      for (let i = 0; i < r; i++) {
        const lambda = this.eigenvalues[i];
        laplaceMeanGap += (0.5 * lambda) / (lambda + 1 / this.posterior.prior.std[i] ** 2);
      }
    }
    const displaced = medianGap > bound;
    const warning = displaced
      ? `q is displaced from the data: its median draw has a path log-likelihood ${medianGap.toFixed(2)} nats ` +
        `below theta_hat, more than the ${bound.toFixed(2)} of an exact posterior in ${r} dimensions; ` +
        'its bands are not credible (try a smaller prior.std, more steps or a lower learning rate)'
      : null;
    return { atFitted, gaps, medianGap, bound, laplaceMeanGap, displaced, warning };
  }

  toJSON(): {
    format: 'sdekit.vi.averaged-posterior';
    version: 1;
    posterior: PosteriorJSON;
    fitted: number[];
    /** Subspace basis V (numParams x rank, row-major), present for subspace posteriors. */
    basis?: number[];
    eigenvalues?: number[];
  } {
    return {
      format: 'sdekit.vi.averaged-posterior',
      version: 1,
      posterior: this.posterior.toJSON(),
      fitted: Array.from(this.fitted),
      ...(this.basis === null ? {} : { basis: Array.from(this.basis) }),
      ...(this.eigenvalues === null ? {} : { eigenvalues: Array.from(this.eigenvalues) }),
    };
  }

  /** Rebuilds from toJSON() and the AveragedModel it was fitted for. */
  static fromJSON(json: ReturnType<AveragedPosterior['toJSON']>, model: AveragedModel): AveragedPosterior {
    if (json?.format !== 'sdekit.vi.averaged-posterior' || json.version !== 1) {
      throw new FormatError(
        'AveragedPosterior.fromJSON',
        `format ${json?.format} v${json?.version} is not 'sdekit.vi.averaged-posterior' v1`,
      );
    }
    return new AveragedPosterior(
      model,
      Posterior.fromJSON(json.posterior),
      Float64Array.from(json.fitted),
      json.basis === undefined ? null : Float64Array.from(json.basis),
      json.eigenvalues === undefined ? null : Float64Array.from(json.eigenvalues),
    );
  }
}

/**
 * Fits a variational posterior over the flow parameters of an AveragedModel to one slow path, or to
 * several independent paths (an array; transitions pooled as in `fitAveraged`) (docs/methods.md
 * section 5; U1 of docs/benchmarks.md).
 *
 * @example
 * const model = fitAveraged({ path, coefficients: m1Coefficients({ m: 2 }), steps: 300, seed: 1 });
 * const post = averagedPosterior(model, path, { steps: 300, seed: 2 });
 * const bands = post.bbarBands(grid, [0.95]);
 */
export function averagedPosterior(
  model: AveragedModel,
  path: TimeSeries | readonly TimeSeries[],
  options: AveragedPosteriorOptions,
): AveragedPosterior {
  const fitted = model.getParams();
  const dim = fitted.length;
  const centre = options.prior?.centre ?? 'fitted';
  if (centre !== 'fitted' && centre !== 'zero') {
    throw new InvalidArgumentError('prior.centre', `unknown value '${centre}'`, "pass 'fitted' or 'zero'");
  }
  // The inner samples' stream (the likelihood function's default one), held here so that
  // checkpoints carry it; a resume rebuilds the likelihood function on the restored stream.
  const likelihoodOf = (rng: Rng) =>
    model.logLikelihoodFunction({
      path,
      L: options.L ?? 32,
      batchSize: options.batchSize,
      debias: options.debias ?? true,
      seed: options.seed,
      rng,
    });
  let innerRng = Rng.fromSeed(options.seed, 11);
  let logLik = likelihoodOf(innerRng);
  const likelihoodState = {
    save: () => Array.from(innerRng.state()),
    restore: (state: unknown) => {
      if (!Array.isArray(state) || state.length !== 4) {
        throw new InvalidArgumentError(
          'resume',
          'holds no state of the inner-sample stream',
          'pass a checkpoint written by averagedPosterior',
        );
      }
      innerRng = Rng.fromState(Uint32Array.from(state as number[]));
      logLik = likelihoodOf(innerRng);
    },
  };
  const s0 = options.prior?.std ?? 1;
  checkPositive('prior.std', s0);
  const steps = options.steps ?? 400;
  const common = {
    samples: options.samples ?? 2,
    steps,
    adam: {
      lr: warmupCosine({ peak: 3e-2, warmupSteps: 0, totalSteps: steps, floor: 1e-3 }),
      ...options.adam,
    },
    gaussianWarmup: options.gaussianWarmup,
    location: 'relative' as const,
    seed: options.seed,
    onProgress: options.onProgress,
    evaluateEvery: options.evaluateEvery,
    untilConverged: options.untilConverged,
    checkpoint: options.checkpoint,
    resume: options.resume,
    signal: options.signal,
    likelihoodState,
  };
  if (options.subspace !== undefined) {
    if (centre !== 'fitted') {
      throw new InvalidArgumentError(
        'prior.centre',
        "must be 'fitted' with a subspace posterior (the subspace is anchored at theta_hat)",
        'drop prior.centre or the subspace option',
      );
    }
    const { basis, rank, eigenvalues } = gaussNewtonSubspace(model, path, s0, options.subspace, options.seed);
    const V = tf.tensor2d(Float32Array.from(basis), [dim, rank]);
    const anchor = tf.tensor2d(Float32Array.from(fitted), [dim, 1]);
    try {
      const posterior = fitPosterior({
        dim: rank,
        logLikelihood: (c: tf.Tensor1D) =>
          tf.tidy(() =>
            logLik(tf.reshape(tf.add(anchor, matMul(V, tf.reshape(c, [rank, 1]))), [dim]) as tf.Tensor1D),
          ),
        prior: { mean: 0, std: s0 },
        // q starts at the linearised (Laplace) widths of the eigen-directions, 1 / sqrt(lambda_i +
        // 1 / s0^2) (exact for a likelihood linear-Gaussian in c): a narrow start leaves the weakly
        // constrained directions (posterior sd ~ s0) growing at <= lr per step (docs/findings.md, vi).
        init: {
          mean: 0,
          std:
            options.initStd ??
            Float64Array.from(
              eigenvalues.subarray(0, rank),
              (lambda) => 1 / Math.sqrt(lambda + 1 / (s0 * s0)),
            ),
        },
        flow: { layers: 0, rank, ...options.flow },
        ...common,
      });
      return new AveragedPosterior(model, posterior, fitted, basis, eigenvalues.slice(0, rank));
    } finally {
      V.dispose();
      anchor.dispose();
    }
  }
  const posterior = fitPosterior({
    dim,
    logLikelihood: (theta: tf.Tensor1D) => logLik(theta),
    prior: { mean: centre === 'fitted' ? fitted : 0, std: s0 },
    init: { mean: fitted, std: options.initStd ?? 1e-2 },
    flow: { layers: 0, rank: Math.min(dim, 2), ...options.flow },
    ...common,
  });
  return new AveragedPosterior(model, posterior, fitted);
}

/**
 * Top eigen-directions of the Gauss-Newton (expected Fisher) matrix of the path likelihood at the
 * fitted parameters (see `AveragedPosteriorOptions.subspace`), transitions N(x + bbar Delta, S Delta):
 *
 *     G = w sum_{k in sample} [J_k^T diag(S_k)^{-1} J_k Delta + 1/2 sum_j (dS_k,jj / S_k,jj)^2],
 *     J_k = d bbar(x_k) / d theta   (the second term only for a diffusion that depends on y),
 *
 * over `points` path states drawn uniformly from the transitions (w = transitions / points), bbar by
 * `fastSamples` fixed base samples. The nonzero spectrum is that of the small Gram matrix
 * A = Jw Jw^T (Jw: the weighted rows), A u = lambda u, and v = Jw^T u / sqrt(lambda) are
 * orthonormal eigenvectors of G. Returns V (numParams x rank, row-major) and the rank.
 */
function gaussNewtonSubspace(
  model: AveragedModel,
  path: TimeSeries | readonly TimeSeries[],
  s0: number,
  options: NonNullable<AveragedPosteriorOptions['subspace']>,
  seed: number,
): { basis: Float64Array; rank: number; eigenvalues: Float64Array } {
  const d = model.slowDim;
  const m = model.fastDim;
  const P = model.numParams;
  // Transition origins of the path (or of every path of an array), as the likelihood sees them.
  const { x: origins, transitions } = pathTransitions(path, d, 0);
  const points = Math.min(options.points ?? 128, transitions);
  checkInteger('subspace.points', points, 1);
  const fastSamples = options.fastSamples ?? 1024;
  checkInteger('subspace.fastSamples', fastSamples, 2);
  const threshold = options.threshold ?? 1e-3;
  checkPositive('subspace.threshold', threshold);
  const maxRank = options.maxRank ?? 16;
  checkInteger('subspace.maxRank', maxRank, 1);
  const rng = Rng.fromSeed(seed, 23);
  const xs = new Float64Array(points * d);
  for (let i = 0; i < points; i++) {
    const k = rng.integer(transitions);
    for (let j = 0; j < d; j++) xs[i * d + j] = origins[k * d + j];
  }
  // Noise variances diag(S(x_k)) from the fitted model (float64).
  const cov = model.sigmabar(xs, { fastSamples, seed }).covariance;
  const cs = cov.length / points;
  // S_jj of point i: scalar noise has one entry (S = s I); diagonal d entries; general d x d
  // (its diagonal is used, an approximation for correlated noise).
  const sOf = (i: number, j: number) =>
    cs === 1 ? cov[i] : cs === d ? cov[i * d + j] : cov[i * cs + j * d + j];
  // A diffusion that depends on the fast variables makes S a function of theta too, and the data
  // pin it far harder than bbar: its Fisher information grows with the number of transitions, the
  // drift's with the time span (Fisher information of N(x + bbar Delta, S Delta) below).
  const diffusionRows = model.coefficients.constantDiffusion === true ? 0 : cs === 1 ? 1 : d;
  const rowsPerPoint = d + diffusionRows;
  const R = points * rowsPerPoint;
  const rows = new Float64Array(R * P);
  const z = new Float64Array(fastSamples * m);
  rng.fillNormal(z);
  const zt = tf.tensor2d(Float32Array.from(z), [fastSamples, m]);
  const theta = tf.tensor1d(Float32Array.from(model.getParams()));
  const w = transitions / points;
  const gradientRow = (row: number, scale: number, of: (y: tf.Tensor2D) => tf.Scalar) => {
    const g = tf.tidy(() =>
      tf.grad((t: tf.Tensor) => of(model.flow.forwardFlat(zt, t as tf.Tensor1D)))(theta),
    );
    const values = g.dataSync();
    g.dispose();
    for (let p = 0; p < P; p++) rows[row * P + p] = scale * values[p];
  };
  try {
    for (let i = 0; i < points; i++) {
      const x = tf.tensor2d(Float32Array.from(xs.subarray(i * d, (i + 1) * d)), [1, d]);
      for (let j = 0; j < d; j++) {
        // Drift part: Delta J_b^T S^{-1} J_b per transition.
        gradientRow(i * rowsPerPoint + j, Math.sqrt((w * model.dt) / sOf(i, j)), (y) => {
          const { bbar } = averagedCoefficientsTf(model.coefficients, x, y);
          return tf.sum(tf.slice(bbar, [0, j], [1, 1])) as tf.Scalar;
        });
      }
      for (let j = 0; j < diffusionRows; j++) {
        // Diffusion part: 1/2 tr(S^{-1} dS S^{-1} dS) per transition; for S = s I in d dimensions
        // that is d/2 (ds / s)^2, for diagonal S the sum over j of 1/2 (dS_jj / S_jj)^2.
        const entry = cs === 1 ? 0 : cs === d ? j : j * d + j;
        const weight = cs === 1 ? d : 1;
        gradientRow(i * rowsPerPoint + d + j, Math.sqrt((w * weight) / 2) / sOf(i, j), (y) => {
          const { cov: S } = averagedCoefficientsTf(model.coefficients, x, y);
          return tf.sum(tf.slice(S, [0, entry], [1, 1])) as tf.Scalar;
        });
      }
      x.dispose();
    }
  } finally {
    zt.dispose();
    theta.dispose();
  }
  const gram = new Matrix(R, R);
  for (let a = 0; a < R; a++) {
    for (let b = a; b < R; b++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += rows[a * P + p] * rows[b * P + p];
      gram.data[a * R + b] = s;
      gram.data[b * R + a] = s;
    }
  }
  const eig = symmetricEigen(gram);
  const order = Array.from(eig.values.keys()).sort((a, b) => eig.values[b] - eig.values[a]);
  const eigenvalues = Float64Array.from(order, (k) => eig.values[k]);
  let rank = options.rank ?? 0;
  if (options.rank === undefined) {
    while (rank < Math.min(maxRank, R) && s0 * s0 * eigenvalues[rank] >= threshold) rank++;
    rank = Math.max(rank, 1);
  }
  checkInteger('subspace.rank', rank, 1);
  if (rank > Math.min(R, P) || !(eigenvalues[rank - 1] > 0)) {
    throw new InvalidArgumentError(
      'subspace.rank',
      `is ${rank}, but the Gauss-Newton matrix from ${points} points has only ${eigenvalues.filter((v) => v > 0).length} positive eigenvalues`,
      'pass a smaller rank or more points',
    );
  }
  const basis = new Float64Array(P * rank);
  for (let j = 0; j < rank; j++) {
    const k = order[j];
    const inv = 1 / Math.sqrt(eigenvalues[j]);
    for (let a = 0; a < R; a++) {
      const u = eig.vectors.data[a * R + k] * inv;
      if (u === 0) continue;
      for (let p = 0; p < P; p++) basis[p * rank + j] += u * rows[a * P + p];
    }
  }
  return { basis, rank, eigenvalues };
}

/** Stream of the seeds of `forecastBands` (a stream of its own, apart from the posterior draws). */
const FORECAST_SEED_STREAM = 41;

/**
 * Seeds of forecast draw s: `fast[s]` for the quenched fast samples of the averaged coefficients,
 * `noise[s]` for the paths' Brownian increments. They come from one stream and are all distinct, so
 * the flow's base normals never reappear as the first Brownian increments (both are standard normals
 * from `Rng.fromSeed(seed)`: one seed for both makes them the same numbers).
 *
 * @example
 * const { fast, noise } = forecastSeeds(3, 50); // 100 distinct seeds
 */
export function forecastSeeds(seed: number, draws: number): { fast: number[]; noise: number[] } {
  const rng = Rng.fromSeed(seed, FORECAST_SEED_STREAM);
  const used = new Set<number>();
  const fresh = () => {
    for (;;) {
      const v = rng.integer(2 ** 32);
      if (!used.has(v)) {
        used.add(v);
        return v;
      }
    }
  };
  const fast: number[] = [];
  const noise: number[] = [];
  for (let s = 0; s < draws; s++) {
    fast.push(fresh());
    noise.push(fresh());
  }
  return { fast, noise };
}

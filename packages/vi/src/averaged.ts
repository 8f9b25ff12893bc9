/**
 * Bayesian uncertainty for the averaged SDE of @sdekit/averaging (methods.md sections 4-5, [SG]):
 * a variational posterior over the flow parameters theta of an AveragedModel, with pointwise
 * credible bands of bbar(x) and of forecast paths.
 *
 * Likelihood: the Euler-Maruyama path log-likelihood of the averaged SDE as a function of theta,
 * estimated with L fresh inner fast samples per call (AveragedModel.logLikelihoodFunction), so the
 * ELBO estimate is doubly stochastic (K outer samples of theta, L inner samples of y).
 *
 * Prior: N(theta_hat, s0^2 I), centred at the fitted (penalised maximum-likelihood) parameters
 * theta_hat by default (`prior.centre: 'fitted'`), or N(0, s0^2 I) (`'zero'`, methods.md section 5
 * literally). Centring at theta_hat is an empirical-Bayes choice: the flow's weights are only
 * identified up to the many reparameterisations that leave bbar unchanged (methods.md section 4),
 * and a prior around the point estimate keeps the posterior on the mode that was fitted instead of
 * spreading it over equivalent modes, which a unimodal q could not represent anyway. The
 * variational q starts as N(theta_hat, initStd^2 I).
 */
import type { AveragedModel } from '@sdekit/averaging';
import { warmupCosine } from '@sdekit/nn';
import type { TimeSeries } from '@sdekit/sde';
import {
  checkFinite,
  checkInteger,
  checkPositive,
  FormatError,
  InvalidArgumentError,
  simulate,
} from '@sdekit/sde';
import type * as tf from '@tensorflow/tfjs-core';
import { bandsFromDraws, type CredibleBands } from './bands.js';
import { type FitPosteriorOptions, fitPosterior } from './fitPosterior.js';
import { Posterior, type PosteriorJSON } from './posterior.js';

/** Options of `averagedPosterior`. */
export interface AveragedPosteriorOptions {
  /** Inner fast samples per likelihood evaluation (default 16). */
  L?: number;
  /** Transitions per likelihood evaluation, an unbiased rescaled random subset (default: all). */
  batchSize?: number;
  /** Prior N(centre, s0^2 I): centre 'fitted' (default) or 'zero'; s0 default 1. */
  prior?: { centre?: 'fitted' | 'zero'; std?: number };
  /**
   * Standard deviation of the initial q around theta_hat (default 1e-2). The location is trained
   * relative to the current width (fitPosterior's location: 'relative').
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
  seed: number;
  onProgress?: FitPosteriorOptions['onProgress'];
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

/** Pointwise forecast bands on the saved time grid. */
export interface ForecastBands extends CredibleBands {
  /** Times after x0 of each saved state (0 first). */
  readonly times: Float64Array;
  /** Dimension of the state; outputs are time-major: time k, coordinate j at k * dim + j. */
  readonly dim: number;
}

/**
 * A variational posterior over the flow parameters of an AveragedModel, with bands of bbar and of
 * forecasts. The model's own parameters are left at theta_hat after every call.
 */
export class AveragedPosterior {
  readonly posterior: Posterior;
  readonly model: AveragedModel;
  /** The fitted parameters theta_hat the posterior was centred at. */
  readonly fitted: Float64Array;

  constructor(model: AveragedModel, posterior: Posterior, fitted: Float64Array) {
    if (posterior.dim !== model.numParams) {
      throw new InvalidArgumentError(
        'posterior',
        `has dim ${posterior.dim}, the model ${model.numParams} flow parameters`,
        'pass the posterior fitted for this model',
      );
    }
    this.model = model;
    this.posterior = posterior;
    this.fitted = fitted;
  }

  /** Runs fn(theta) with the model's flow set to theta, restoring theta_hat afterwards. */
  private withParams<T>(theta: Float64Array, fn: () => T): T {
    this.model.setParams(theta);
    try {
      return fn();
    } finally {
      this.model.setParams(this.fitted);
    }
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
        this.withParams(theta, () => this.model.bbar(g, { samples: fastSamples, seed: seed + 1 }).value),
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
    const P = this.posterior.dim;
    const length = totalSteps / saveEvery + 1;
    const outputs = length * d;
    const values = new Float64Array(draws * perDraw * outputs);
    for (let s = 0; s < draws; s++) {
      const bundle = this.withParams(thetas.subarray(s * P, (s + 1) * P), () =>
        simulate(this.model.system({ samples: fastSamples, seed: seed + 1 + s }), {
          x0,
          paths: perDraw,
          h,
          steps: totalSteps,
          saveEvery,
          seed: seed + 1 + s,
        }),
      );
      values.set(bundle.data, s * perDraw * outputs);
    }
    const bands = bandsFromDraws(values, draws * perDraw, outputs, options.levels ?? [0.95]);
    const times = Float64Array.from({ length }, (_, k) => k * h * saveEvery);
    return { ...bands, times, dim: d };
  }

  toJSON(): {
    format: 'sdekit.vi.averaged-posterior';
    version: 1;
    posterior: PosteriorJSON;
    fitted: number[];
  } {
    return {
      format: 'sdekit.vi.averaged-posterior',
      version: 1,
      posterior: this.posterior.toJSON(),
      fitted: Array.from(this.fitted),
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
    return new AveragedPosterior(model, Posterior.fromJSON(json.posterior), Float64Array.from(json.fitted));
  }
}

/**
 * Fits a variational posterior over the flow parameters of an AveragedModel to one slow path
 * (methods.md section 5; U1 of benchmarks.md).
 *
 * @example
 * const model = fitAveraged({ path, coefficients: m1Coefficients({ m: 2 }), iterations: 300, seed: 1 });
 * const post = averagedPosterior(model, path, { steps: 300, seed: 2 });
 * const bands = post.bbarBands(grid, [0.95]);
 */
export function averagedPosterior(
  model: AveragedModel,
  path: TimeSeries,
  options: AveragedPosteriorOptions,
): AveragedPosterior {
  const fitted = model.getParams();
  const dim = fitted.length;
  const centre = options.prior?.centre ?? 'fitted';
  if (centre !== 'fitted' && centre !== 'zero') {
    throw new InvalidArgumentError('prior.centre', `unknown value '${centre}'`, "pass 'fitted' or 'zero'");
  }
  const logLik = model.logLikelihoodFunction({
    path,
    L: options.L ?? 32,
    batchSize: options.batchSize,
    seed: options.seed,
  });
  const posterior = fitPosterior({
    dim,
    logLikelihood: (theta: tf.Tensor1D) => logLik(theta),
    prior: { mean: centre === 'fitted' ? fitted : 0, std: options.prior?.std ?? 1 },
    init: { mean: fitted, std: options.initStd ?? 1e-2 },
    flow: { layers: 0, rank: Math.min(dim, 2), ...options.flow },
    samples: options.samples ?? 2,
    steps: options.steps ?? 400,
    adam: {
      lr: warmupCosine({ peak: 3e-2, warmupSteps: 0, totalSteps: options.steps ?? 400, floor: 1e-3 }),
      ...options.adam,
    },
    gaussianWarmup: options.gaussianWarmup,
    location: 'relative',
    seed: options.seed,
    onProgress: options.onProgress,
  });
  return new AveragedPosterior(model, posterior, fitted);
}

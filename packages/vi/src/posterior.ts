/**
 * A fitted variational posterior q_phi(theta) (docs/methods.md section 5): sampling, log-density and
 * pointwise credible bands of any function of theta, all in float64, plus save/load.
 */
import { checkBatch, checkInteger, DimensionError, FormatError, NonFiniteError, Rng } from '@sdekit/sde';
import { bandsFromDraws, type CredibleBands } from './bands.js';
import {
  checkFlowShape,
  flowLogProb,
  flowSampleAndLogProb,
  numFlowParams,
  type PosteriorFlowShape,
} from './posteriorFlow.js';

/** Gaussian prior N(mean, diag(std^2)) over theta, stored per coordinate. */
export interface GaussianPrior {
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/** Serialised form of a Posterior (format 'sdekit.vi.posterior', version 1). */
export interface PosteriorJSON {
  format: 'sdekit.vi.posterior';
  version: 1;
  dim: number;
  layers: number;
  rank: number;
  params: number[];
  prior: { mean: number[]; std: number[] };
  /** ELBO per step; null where the step was skipped (non-finite). */
  elboHistory: (number | null)[];
  nonFiniteSteps: number;
  warnings: string[];
}

const FORMAT = 'sdekit.vi.posterior';
const VERSION = 1;

/** Training record carried by a Posterior. */
export interface PosteriorHistory {
  /** ELBO estimate (mean of the K per-sample values, float64) per step; NaN for skipped steps. */
  readonly elboHistory: Float64Array;
  /** Steps skipped because the log-likelihood, ELBO or gradient was not finite. */
  readonly nonFiniteSteps: number;
  readonly warnings: string[];
}

/**
 * The variational posterior q_phi over a flat parameter vector theta in R^dim.
 *
 * @example
 * const post = fitPosterior({ dim: 2, logLikelihood: (t) => tf.neg(tf.sum(tf.square(t))), seed: 1 });
 * const draws = post.sample(1000, 7);            // 1000 x 2, row-major
 * const lq = post.logProb(draws);                // log q at each draw
 * const b = post.bands((t, g) => g.map((x) => t[0] + t[1] * x), Float64Array.from([0, 1, 2]), [0.9]);
 */
export class Posterior {
  readonly dim: number;
  readonly shape: PosteriorFlowShape;
  /** The flat variational parameters phi (see posteriorFlow.ts for the layout). */
  readonly params: Float64Array;
  readonly prior: GaussianPrior;
  readonly elboHistory: Float64Array;
  readonly nonFiniteSteps: number;
  readonly warnings: string[];

  constructor(
    shape: PosteriorFlowShape,
    params: Float64Array,
    prior: GaussianPrior,
    history?: PosteriorHistory,
  ) {
    checkFlowShape(shape);
    if (params.length !== numFlowParams(shape)) {
      throw new DimensionError(
        'params',
        `length ${params.length} != ${numFlowParams(shape)} for this flow shape`,
        'pass the params of a flow with the same dim, layers and rank',
      );
    }
    if (prior.mean.length !== shape.dim || prior.std.length !== shape.dim) {
      throw new DimensionError(
        'prior',
        `mean/std lengths ${prior.mean.length}/${prior.std.length} != dim ${shape.dim}`,
        'pass per-coordinate prior vectors of length dim',
      );
    }
    this.dim = shape.dim;
    this.shape = { dim: shape.dim, layers: shape.layers, rank: shape.rank };
    this.params = params;
    this.prior = prior;
    this.elboHistory = history?.elboHistory ?? new Float64Array(0);
    this.nonFiniteSteps = history?.nonFiniteSteps ?? 0;
    this.warnings = history?.warnings ?? [];
  }

  /** n draws theta ~ q (n x dim, row-major, float64). Same seed, same draws. */
  sample(n: number, seed: number): Float64Array {
    return this.sampleAndLogProb(n, seed).samples;
  }

  /** n draws with log q at each draw (one pass through the flow). */
  sampleAndLogProb(n: number, seed: number): { samples: Float64Array; logProb: Float64Array } {
    checkInteger('n', n, 1);
    const { theta, logProb } = flowSampleAndLogProb(this.params, this.shape, n, Rng.fromSeed(seed, 0));
    return { samples: theta, logProb };
  }

  /** log q(theta) for a batch of points (n x dim, row-major), by the exact inverse flow. */
  logProb(theta: Float64Array): Float64Array {
    checkBatch('theta', theta, this.dim);
    return flowLogProb(this.params, this.shape, theta);
  }

  /** log p_prior(theta) of the Gaussian prior for a batch of points (n x dim). */
  logPrior(theta: Float64Array): Float64Array {
    const n = checkBatch('theta', theta, this.dim);
    return gaussianPriorLogDensity(this.prior, theta, n);
  }

  /**
   * Pointwise credible bands of fn(theta, grid) over posterior draws: `fn` maps one parameter
   * vector (length dim) and the grid to values (any fixed length, e.g. one per grid point); the
   * result has the pointwise mean, median and the (1 - level)/2, (1 + level)/2 quantiles.
   *
   * @example
   * // bands of a line a + b x on a grid
   * const b = post.bands((t, g) => g.map((x) => t[0] + t[1] * x), grid, [0.5, 0.95], { samples: 500, seed: 3 });
   */
  bands<G>(
    fn: (theta: Float64Array, grid: G) => ArrayLike<number>,
    grid: G,
    levels: readonly number[] = [0.95],
    options: { samples?: number; seed?: number } = {},
  ): CredibleBands {
    const samples = options.samples ?? 200;
    checkInteger('samples', samples, 2);
    const draws = this.sample(samples, options.seed ?? 0);
    let outputs = -1;
    let values = new Float64Array(0);
    for (let s = 0; s < samples; s++) {
      const out = fn(draws.subarray(s * this.dim, (s + 1) * this.dim), grid);
      if (outputs < 0) {
        outputs = out.length;
        values = new Float64Array(samples * outputs);
      } else if (out.length !== outputs) {
        throw new DimensionError(
          'fn',
          `returned ${out.length} values for draw ${s}, ${outputs} for draw 0`,
          'return the same number of values for every parameter vector',
        );
      }
      for (let g = 0; g < outputs; g++) {
        const v = out[g];
        if (!Number.isFinite(v)) throw new NonFiniteError('fn(theta, grid)', g, v);
        values[s * outputs + g] = v;
      }
    }
    return bandsFromDraws(values, samples, outputs, levels);
  }

  toJSON(): PosteriorJSON {
    return {
      format: FORMAT,
      version: VERSION,
      dim: this.dim,
      layers: this.shape.layers,
      rank: this.shape.rank,
      params: Array.from(this.params),
      prior: { mean: Array.from(this.prior.mean), std: Array.from(this.prior.std) },
      elboHistory: Array.from(this.elboHistory, (v) => (Number.isFinite(v) ? v : null)),
      nonFiniteSteps: this.nonFiniteSteps,
      warnings: [...this.warnings],
    };
  }

  /** Loads a Posterior written by toJSON (JSON.parse output or the object itself). */
  static fromJSON(json: PosteriorJSON): Posterior {
    if (!json || json.format !== FORMAT) {
      throw new FormatError('Posterior.fromJSON', `format is ${json?.format}, expected '${FORMAT}'`);
    }
    if (json.version !== VERSION) {
      throw new FormatError(
        'Posterior.fromJSON',
        `version ${json.version} is not supported (expected ${VERSION})`,
      );
    }
    const shape = { dim: json.dim, layers: json.layers, rank: json.rank };
    return new Posterior(
      shape,
      Float64Array.from(json.params),
      { mean: Float64Array.from(json.prior.mean), std: Float64Array.from(json.prior.std) },
      {
        elboHistory: Float64Array.from(json.elboHistory, (v) => (v === null ? Number.NaN : v)),
        nonFiniteSteps: json.nonFiniteSteps,
        warnings: [...json.warnings],
      },
    );
  }
}

/** log N(theta; mean, diag(std^2)) for n points, float64. */
export function gaussianPriorLogDensity(prior: GaussianPrior, theta: Float64Array, n: number): Float64Array {
  const d = prior.mean.length;
  let constant = -0.5 * d * Math.log(2 * Math.PI);
  for (let i = 0; i < d; i++) constant -= Math.log(prior.std[i]);
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let q = 0;
    for (let i = 0; i < d; i++) {
      const r = (theta[s * d + i] - prior.mean[i]) / prior.std[i];
      q += r * r;
    }
    out[s] = constant - 0.5 * q;
  }
  return out;
}

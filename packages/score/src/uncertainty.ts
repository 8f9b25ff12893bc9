/**
 * Standard errors and intervals of Phi, Phi_S, Phi_A and the diffusion Sigma Sigma^T by a block
 * bootstrap of the Cdot and V estimates with the score (and the partition) held fixed
 * (docs/methods.md, "How sure").
 *
 * The series is cut into blocks of several integrated autocorrelation times (or whole runs), and the
 * per-block sufficient statistics of Cdot (lag products or cell-to-cell increments) and of V
 * (s(x) x^T) are re-weighted with multinomial block counts: a replicate costs O(blocks D^2 + D^3),
 * never a pass over the data. Intervals are percentile intervals of the replicates, moved by the
 * difference between the point estimate and the replicates' full-data value of the same linear form
 * (they differ only when the generator's finite-dt correction is used).
 */
import { segmentBounds } from '@sdekit/partition';
import {
  autocorrelationTimeOf,
  type BootstrapBlocks,
  bootstrapBlocks,
  bootstrapCounts,
  columnQuantiles,
  columnStd,
  frobeniusNorm,
  InvalidArgumentError,
  Matrix,
  Rng,
  symmetricPart,
  weightedBlockMean,
} from '@sdekit/sde';
import type { CdotEstimate } from './cdot.js';
import { checkUncertaintyOption } from './checks.js';
import type { StandardizedSeries } from './langevin-data.js';
import { type LangevinCoefficients, langevinCoefficients } from './phi.js';
import type { SteinGroupSums } from './stein.js';

/** Fewest blocks the bootstrap is run with; the default block length aims at MIN_BLOCKS_TARGET. */
const MIN_BLOCKS = 10;
const MIN_BLOCKS_TARGET = 20;
/** RNG stream (of the pipeline's seed) of the bootstrap's block draws. */
const BOOTSTRAP_STREAM = 7;

/** Standard error and interval of every entry of a matrix. */
export interface MatrixUncertainty {
  se: Matrix;
  lower: Matrix;
  upper: Matrix;
}

/** Uncertainty of the Langevin coefficients (z units unless said otherwise). */
export interface PhiUncertainty {
  method: 'block-bootstrap';
  /** Replicates that gave a finite Phi (V invertible). */
  replicates: number;
  blocks: number;
  /** Block length in samples (the target; blocks at the end of a run may be longer). */
  blockLength: number;
  /** True when every run is one block. */
  runsAsBlocks: boolean;
  /** Largest integrated autocorrelation time of the coordinates, in samples. */
  autocorrelationTime: number;
  /** Coverage of the intervals (0.95). */
  level: number;
  phi: MatrixUncertainty;
  /** Of the unshifted Phi_S. */
  phiS: MatrixUncertainty;
  phiA: MatrixUncertainty;
  /** Of Sigma Sigma^T (Phi_S after the positive-definiteness shift, replicate by replicate). */
  diffusion: MatrixUncertainty;
  /** ||SE(Phi_S)||_F / ||Phi_S||_F. */
  phiSRelativeSE: number;
  /** Fraction of replicates whose unshifted Phi_S is not positive definite. */
  nonPositiveDefiniteFraction: number;
  /** Factor applied to the replicates' deviations (small-sample correction, module comment). */
  inflation: number;
}

/** Bootstrap inputs: the Cdot estimate (with `replicate`) and the per-block sums of V. */
export interface PhiBootstrapInput {
  cdot: CdotEstimate;
  stein: SteinGroupSums;
  point: LangevinCoefficients;
  blocks: BootstrapBlocks;
  autocorrelationTime: number;
  replicates: number;
  rng: Rng;
  level?: number;
}

/** V from the per-block Stein sums with block weights w. */
function weightedV(stein: SteinGroupSums, d: number, w: Float64Array): Matrix {
  return new Matrix(d, d, weightedBlockMean(stein.sums, stein.counts, d * d, w));
}

/** Block-bootstrap uncertainty of Phi = Cdot V^{-1} and of the derived matrices. */
export function bootstrapPhi(input: PhiBootstrapInput): PhiUncertainty {
  const { cdot, stein, point, blocks } = input;
  const d = point.phi.rows;
  const dd = d * d;
  const B = blocks.bounds.length - 1;
  const level = input.level ?? 0.95;
  const replicate = cdot.replicate;
  if (!replicate) {
    throw new InvalidArgumentError(
      'cdot',
      'has no replicate function (the estimate was made without bootstrap blocks)',
      'estimate Cdot with input.blocks set',
    );
  }
  const ones = new Float64Array(B).fill(1);
  // The replicates' full-data value of the same linear forms (equal to the point estimate except for
  // the generator's finite-dt correction).
  const center = langevinCoefficients(replicate(ones), weightedV(stein, d, ones));
  const centerMats = [center.phiRaw, symmetricPart(center.phiRaw), center.phiA, center.phiS];
  const edgeLoss = blocks.runsAsBlocks
    ? 0
    : Math.min(0.5, input.autocorrelationTime / (2 * blocks.blockLength));
  const inflation = 1 / Math.sqrt((1 - edgeLoss) * (1 - 1 / B));
  const names = ['phi', 'phiS', 'phiA', 'diffusion'] as const;
  const reps = names.map(() => new Float64Array(input.replicates * dd));
  const w = new Float64Array(B);
  let good = 0;
  let notPd = 0;
  for (let r = 0; r < input.replicates; r++) {
    bootstrapCounts(B, input.rng, w);
    let c: LangevinCoefficients;
    try {
      c = langevinCoefficients(replicate(w), weightedV(stein, d, w));
    } catch {
      continue; // V singular in this replicate
    }
    if (!(c.lambdaMin > 0)) notPd++;
    const rawS = symmetricPart(c.phiRaw);
    const mats = [c.phiRaw, rawS, c.phiA, c.phiS];
    for (let m = 0; m < 4; m++) {
      const row = reps[m].subarray(good * dd, (good + 1) * dd);
      const c0 = centerMats[m].data;
      const x = mats[m].data;
      for (let k = 0; k < dd; k++) row[k] = c0[k] + inflation * (x[k] - c0[k]);
    }
    good++;
  }
  const alpha = (1 - level) / 2;
  const pointMats = [point.phiRaw, symmetricPart(point.phiRaw), point.phiA, point.phiS];
  const out = {} as Record<(typeof names)[number], MatrixUncertainty>;
  for (let m = 0; m < 4; m++) {
    const rows = reps[m].subarray(0, good * dd);
    const se = new Matrix(d, d, columnStd(rows, dd));
    const [qlo, qhi] = columnQuantiles(rows, dd, [alpha, 1 - alpha]);
    const lower = new Matrix(d, d);
    const upper = new Matrix(d, d);
    for (let k = 0; k < dd; k++) {
      const shift = pointMats[m].data[k] - centerMats[m].data[k];
      lower.data[k] = qlo[k] + shift;
      upper.data[k] = qhi[k] + shift;
    }
    out[names[m]] = { se, lower, upper };
  }
  const phiSNorm = frobeniusNorm(symmetricPart(point.phiRaw));
  return {
    method: 'block-bootstrap',
    replicates: good,
    blocks: B,
    blockLength: blocks.blockLength,
    runsAsBlocks: blocks.runsAsBlocks,
    autocorrelationTime: input.autocorrelationTime,
    level,
    ...out,
    phiSRelativeSE: phiSNorm > 0 ? frobeniusNorm(out.phiS.se) / phiSNorm : Number.POSITIVE_INFINITY,
    nonPositiveDefiniteFraction: good > 0 ? notPd / good : 1,
    inflation,
  };
}

/**
 * The uncertainty in data units: entry (i, j) of every matrix scaled by s_i s_j (Phi_x = S Phi_y S).
 * Relative quantities are unchanged.
 */
export function uncertaintyInDataUnits(u: PhiUncertainty, std: Float64Array): PhiUncertainty {
  const d = std.length;
  const scale = (a: Matrix) => {
    const out = a.clone();
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.data[i * d + j] *= std[i] * std[j];
    return out;
  };
  const each = (m: MatrixUncertainty): MatrixUncertainty => ({
    se: scale(m.se),
    lower: scale(m.lower),
    upper: scale(m.upper),
  });
  return { ...u, phi: each(u.phi), phiS: each(u.phiS), phiA: each(u.phiA), diffusion: each(u.diffusion) };
}

/** JSON form of a PhiUncertainty (matrices as nested arrays). */
export type PhiUncertaintyJSON = Omit<PhiUncertainty, 'phi' | 'phiS' | 'phiA' | 'diffusion'> &
  Record<'phi' | 'phiS' | 'phiA' | 'diffusion', { se: number[][]; lower: number[][]; upper: number[][] }>;

export function uncertaintyToJSON(u: PhiUncertainty): PhiUncertaintyJSON {
  const each = (m: MatrixUncertainty) => ({
    se: m.se.toArray(),
    lower: m.lower.toArray(),
    upper: m.upper.toArray(),
  });
  return { ...u, phi: each(u.phi), phiS: each(u.phiS), phiA: each(u.phiA), diffusion: each(u.diffusion) };
}

export function uncertaintyFromJSON(j: PhiUncertaintyJSON): PhiUncertainty {
  const each = (m: { se: number[][]; lower: number[][]; upper: number[][] }) => ({
    se: Matrix.from(m.se),
    lower: Matrix.from(m.lower),
    upper: Matrix.from(m.upper),
  });
  return { ...j, phi: each(j.phi), phiS: each(j.phiS), phiA: each(j.phiA), diffusion: each(j.diffusion) };
}

/**
 * Block-bootstrap options: false skips the bootstrap; `replicates` (default 200, at least 20),
 * `blockLength` in samples (default 5 integrated autocorrelation times, down to 2 to reach 20
 * blocks), `required: false` to warn instead of throwing when the series is too short.
 */
export type UncertaintyOption = false | { replicates?: number; blockLength?: number; required?: boolean };

/** The blocks and size of the block bootstrap of a series: the result of `planBootstrap`. */
export interface BootstrapPlan {
  /** The blocks, or null when the bootstrap is skipped or the series is too short for it. */
  blocks: BootstrapBlocks | null;
  /** Number of bootstrap replicates (0 when skipped). */
  replicates: number;
  /** Largest integrated autocorrelation time of the coordinates, in samples (NaN when skipped). */
  autocorrelationTime: number;
  /** "series too short for error bars" when the default bootstrap cannot run. */
  warnings: string[];
}

/**
 * Plans the block bootstrap of the Langevin pipeline on the standardized series `data`: blocks of 5
 * integrated autocorrelation times (down to 2 to reach 20 blocks; `blockLength` samples when given),
 * runs shorter than a block being whole blocks. A series too short for 10 blocks is a typed error
 * when `options` is given (unless `required: false`) and a warning (no blocks) when it is left out;
 * `false` skips the bootstrap. Run before the score, so that a failure costs no training; its blocks
 * go to `estimateStein` and `estimateCdot` (per-block sums) and the plan to `estimateUncertainty`.
 *
 * @example
 * const data = standardize(series);
 * const plan = planBootstrap(data);                        // 200 replicates, default blocks
 * plan.blocks?.bounds.length;                              // blocks + 1, or no blocks (plan.warnings says why)
 * planBootstrap(data, { replicates: 50, blockLength: 400 });
 */
export function planBootstrap(data: StandardizedSeries, options?: UncertaintyOption): BootstrapPlan {
  const option = options ?? {};
  const replicates = checkUncertaintyOption(option);
  const plan: BootstrapPlan = { blocks: null, replicates, autocorrelationTime: Number.NaN, warnings: [] };
  if (option === false) return plan;
  const n = data.length;
  const bounds = segmentBounds(data.segmentStarts, n);
  const tau = autocorrelationTimeOf(data.y, data.dim, bounds).tau;
  plan.autocorrelationTime = tau;
  const given = option.blockLength;
  const length = given ?? Math.max(1, Math.ceil(Math.min(5 * tau, Math.max(2 * tau, n / MIN_BLOCKS_TARGET))));
  const candidate = bootstrapBlocks(bounds, length);
  const count = candidate.bounds.length - 1;
  if (count >= MIN_BLOCKS) {
    plan.blocks = candidate;
    return plan;
  }
  if (given !== undefined) {
    throw new InvalidArgumentError(
      'uncertainty.blockLength',
      `${given} samples leaves ${count} blocks; the bootstrap needs at least ${MIN_BLOCKS}`,
      'pass a shorter blockLength, a longer series, or uncertainty: false',
    );
  }
  const what =
    `it spans ${(n / tau).toFixed(1)} integrated autocorrelation times ` +
    `(${tau.toFixed(1)} samples each) in ${bounds.length - 1} run${bounds.length > 2 ? 's' : ''}, ` +
    `and the block bootstrap of Phi needs at least ${MIN_BLOCKS} blocks of 2 or more (or ${MIN_BLOCKS} runs)`;
  // Asked for explicitly, the bootstrap must run: a typed error. By default the fit goes on without
  // error bars and says so (a slowly decorrelating field such as KS can have an autocorrelation time
  // of hundreds of time units).
  if (options !== undefined && option.required !== false) {
    throw new InvalidArgumentError(
      'series',
      `is too short for error bars: ${what}; Phi is not determined by these data`,
      'pass a longer series or more runs, uncertainty: { required: false } to fit with a warning instead, or uncertainty: false (sdekit fit-langevin --bootstrap 0) to fit without error bars',
    );
  }
  plan.warnings.push(
    `series too short for error bars: ${what}, so Phi comes without standard errors and is not determined by these data. Use a longer series or more runs`,
  );
  return plan;
}

/** What `estimateUncertainty` re-weights: the steps' estimates with their per-block sums. */
export interface UncertaintyInput {
  /** Cdot estimated with the plan's blocks (it has `replicate`). */
  cdot: CdotEstimate;
  /** The Stein sums kept per block of the plan (`estimateStein` with the plan's blocks). */
  stein: SteinGroupSums;
  /** Phi and Sigma from that Cdot and V (`langevinCoefficients`). */
  coefficients: LangevinCoefficients;
  /** The pipeline's seed: the block draws come from its stream 7, a stream of their own. Default 0. */
  seed?: number;
}

/**
 * The last estimation step of the Langevin pipeline: block-bootstrap standard errors and 95 %
 * intervals of Phi, Phi_S, Phi_A and Sigma Sigma^T (`bootstrapPhi`, score held fixed) as `plan`
 * (`planBootstrap`) says; null when the plan has no blocks.
 *
 * @example
 * const plan = planBootstrap(data);
 * const stein = estimateStein(data, score, { blocks: plan.blocks, seed: 1 });
 * const cdot = estimateCdot(data, selectCdotEstimator(data), { blocks: plan.blocks, seed: 1 });
 * const coefficients = langevinCoefficients(cdot.cdot, stein.v);
 * const u = estimateUncertainty(plan, { cdot, stein, coefficients, seed: 1 });
 * u?.phi.se;     // standard error of every entry of Phi (z units)
 */
export function estimateUncertainty(plan: BootstrapPlan, input: UncertaintyInput): PhiUncertainty | null {
  if (!plan.blocks) return null;
  return bootstrapPhi({
    cdot: input.cdot,
    stein: input.stein,
    point: input.coefficients,
    blocks: plan.blocks,
    autocorrelationTime: plan.autocorrelationTime,
    replicates: plan.replicates,
    rng: Rng.fromSeed(input.seed ?? 0, BOOTSTRAP_STREAM),
  });
}

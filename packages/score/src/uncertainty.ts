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
import {
  type BootstrapBlocks,
  bootstrapCounts,
  columnQuantiles,
  columnStd,
  frobeniusNorm,
  InvalidArgumentError,
  Matrix,
  type Rng,
  symmetricPart,
  weightedBlockMean,
} from '@sdekit/sde';
import type { CdotEstimate } from './cdot.js';
import { type LangevinCoefficients, langevinCoefficients } from './phi.js';
import type { SteinGroupSums } from './stein.js';

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

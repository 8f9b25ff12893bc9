/**
 * The fitted Langevin model dx = Phi s(x) dt + sqrt(2) Sigma dW (docs/methods.md section 1): its
 * matrices in z-scored and original units, diagnostics, data range and tail box, its SdeSystem in
 * original units, and its JSON format (v2; v1 files are still read).
 */
import { type Partition, partitionFromJSON } from '@sdekit/partition';
import {
  BlowUpError,
  DimensionError,
  FormatError,
  InvalidArgumentError,
  Matrix,
  type SdeSystem,
  ZScore,
} from '@sdekit/sde';
import type { SeriesCdotEstimate } from './cdot-selection.js';
import { checkTailQuantile } from './checks.js';
import { type StandardizedSeries, tailBoxOf } from './langevin-data.js';
import { NetworkScore, type NetworkScoreJSON } from './network-score.js';
import type { LangevinCoefficients } from './phi.js';
import type { IncrementScaling } from './regime.js';
import type { ScoreEstimate } from './score-estimate.js';
import type { ScoreModel } from './score-model.js';
import type { SteinEstimate } from './stein.js';
import {
  type BootstrapPlan,
  type PhiUncertainty,
  type PhiUncertaintyJSON,
  uncertaintyFromJSON,
  uncertaintyInDataUnits,
  uncertaintyToJSON,
} from './uncertainty.js';

/** The model warns ("series too short") when ||SE(Phi_S)||_F / ||Phi_S||_F exceeds this. */
export const PHI_S_RELATIVE_SE_WARN = 0.1;

/** The results of the pipeline's steps that `LangevinModel.fromSteps` puts together. */
export interface LangevinSteps {
  /** Step 1: the standardized series (`standardize`). */
  data: StandardizedSeries;
  /** Step 2: the score in z units (`estimateScore`); the model takes it over (`dispose`). */
  score: ScoreEstimate;
  /** Step 3: the Stein matrix V (`estimateStein`). */
  stein: SteinEstimate;
  /** Step 4: Cdot (`estimateCdot`). */
  cdot: SeriesCdotEstimate;
  /** Step 5: Phi = Cdot V^{-1}, its shift and Sigma (`langevinCoefficients(cdot.cdot, stein.v)`). */
  coefficients: LangevinCoefficients;
  /** The bootstrap plan (`planBootstrap`), for its warnings; none when no bootstrap was planned. */
  bootstrap?: BootstrapPlan;
  /** Step 6: the block-bootstrap uncertainty (`estimateUncertainty`); null or none when skipped. */
  uncertainty?: PhiUncertainty | null;
  /** Tail quantile q of `system()`'s score continuation (`TailBox`). Default 1e-3 / D; 0 for none. */
  tailQuantile?: number;
}

/** Warnings on the coefficients: the shift of Phi_S. */
function coefficientWarnings(c: LangevinCoefficients): string[] {
  return c.shift > 0
    ? [
        `Phi_S was not positive definite (lambda_min = ${c.lambdaMin.toExponential(3)}); shifted by ${c.shift.toExponential(3)} I in drift and noise`,
      ]
    : [];
}

/** Warnings on the bootstrap: Phi_S not determined to PHI_S_RELATIVE_SE_WARN, or not surely positive definite. */
function uncertaintyWarnings(u: PhiUncertainty | null): string[] {
  const warnings: string[] = [];
  if (!u) return warnings;
  if (u.phiSRelativeSE > PHI_S_RELATIVE_SE_WARN) {
    warnings.push(
      `series too short: Phi_S has a relative standard error of ${(100 * u.phiSRelativeSE).toFixed(0)} % ` +
        `(block bootstrap, ${u.blocks} blocks), above ${100 * PHI_S_RELATIVE_SE_WARN} %; the dissipation and the noise ` +
        'of the model are not determined to better than that. Use a longer series or more runs',
    );
  }
  if (u.nonPositiveDefiniteFraction > (1 - u.level) / 2) {
    warnings.push(
      `series too short: ${(100 * u.nonPositiveDefiniteFraction).toFixed(0)} % of the bootstrap replicates give a ` +
        'Phi_S that is not positive definite, so its 95 % interval contains models without dissipation in some direction. ' +
        'Use a longer series or more runs',
    );
  }
  return warnings;
}

/** Diagnostics of a fitted Langevin model. */
export interface LangevinDiagnostics {
  /** ||V + I||_F / sqrt(D): 0 when the score satisfies Stein's identity exactly. */
  steinError: number;
  /**
   * Smallest singular value of V (1 for an exact score). Phi = Cdot V^{-1} multiplies Cdot by up to
   * its inverse along the direction where the learned score barely responds; below 0.5 a warning
   * is given. NaN in files written before this diagnostic existed.
   */
  steinMinSingularValue: number;
  /** The Stein matrix V (z units). */
  stein: Matrix;
  /** The Cdot used for Phi (z units). */
  cdot: Matrix;
  /** Estimator that produced `cdot` ('richardson' only in files of format version 1). */
  cdotEstimator: 'lag' | 'generator' | 'richardson';
  /** What was asked for: 'auto', 'lag', 'generator' or 'custom' (an estimator object). */
  cdotChoice: 'auto' | 'lag' | 'generator' | 'custom';
  /** Why that estimator was used, in words. */
  cdotReason: string;
  /** Order in dt of the estimator's leading bias for a diffusion. */
  cdotBiasOrder: number;
  /** Estimator-specific numbers (lag, cells, leave fraction, bias estimate). */
  cdotDetails: Record<string, number>;
  /** Regime of the (z-scored, unperturbed) series: increment-moment slopes. Null in version-1 files. */
  regime: IncrementScaling | null;
  /** Diagonal shift added to Phi_S (0 when it was positive definite). */
  shift: number;
  /** True when the shift rule was applied. */
  shifted: boolean;
  /** Smallest eigenvalue of the unshifted Phi_S. */
  lambdaMin: number;
  /** Fraction of steps on which the cell label changes (generator estimator; null otherwise). */
  leaveFraction: number | null;
  /** True when Cdot came from a perturbed series (`perturbSeries`). */
  perturbedSeries: boolean;
  /** Noise level (z units) of that perturbation: the score's sigma, sigma_c, or 0 when unperturbed. */
  perturbSigma: number;
  /** Number of partition cells (0 when no partition was used). */
  cells: number;
  /** Number of independent series the model was fitted to (1 for a single series). */
  segments: number;
  /**
   * Block-bootstrap standard errors and intervals (z units; `LangevinModel.original.uncertainty` in
   * data units). Null when skipped or when the series is too short for it (then a warning says so).
   */
  uncertainty: PhiUncertainty | null;
  /** ||Phi_S||_F^2 / ||Phi||_F^2 and ||Phi_A||_F^2 / ||Phi||_F^2. */
  energyShareS: number;
  energyShareA: number;
  /** Held-out DSM loss when the score was trained by DSM. */
  heldOutLoss: number | null;
  /** Non-fatal problems: non-stationary-looking input, coarse sampling, shift applied, ... */
  warnings: string[];
}

interface MatrixSet {
  phi: Matrix;
  phiS: Matrix;
  phiA: Matrix;
  sigma: Matrix;
}

/** The matrices in data units, with their uncertainty. */
export interface OriginalUnits extends MatrixSet {
  /** Block-bootstrap uncertainty in data units (null when none was computed). */
  uncertainty: PhiUncertainty | null;
}

/** Per-coordinate range [lo, hi] of the data (original units). */
export interface DataRange {
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * Per-coordinate box [lo_j, hi_j] (z units) outside which `system()` continues the learned score.
 * A learned score is only trustworthy where the data put mass; beyond that a network or KGMM
 * interpolant extrapolates freely and can point outward, so simulated paths escape (seen with KGMM
 * on T1: docs/findings.md, score). The box holds the q and 1 - q quantiles of the z-scored data; outside it
 *     s(y) = s(P y) - (y - P y),   P = projection onto the box,
 * the score at the nearest box point plus a unit-variance Gaussian restoring term: continuous on the
 * boundary, and confining because Phi_S is positive definite.
 */
export interface TailBox {
  /** The tail quantile q the box was built with. */
  quantile: number;
  lo: Float64Array;
  hi: Float64Array;
}

type Nested = number[][];

/** Serialised LangevinModel, format version 2: matrices in data units, z-unit ones under `zUnits`. */
export interface LangevinModelJSON {
  format: 'sdekit.langevin-model';
  version: 2;
  dim: number;
  dt: number;
  zscore: ReturnType<ZScore['toJSON']>;
  /** Phi, Phi_S, Phi_A and Sigma in the units of the data (drift Phi s_x(x), noise sqrt(2) Sigma dW). */
  phi: Nested;
  phiS: Nested;
  phiA: Nested;
  sigma: Nested;
  /** The same matrices in z-scored units (Phi_x = S Phi_z S, Sigma_x = S Sigma_z). */
  zUnits: { phi: Nested; phiS: Nested; phiA: Nested; sigma: Nested };
  /** Block-bootstrap uncertainty in data units, or null. */
  uncertainty: PhiUncertaintyJSON | null;
  /** Per-coordinate data range (original units), watched by simulations for runaway paths. */
  dataRange: { lo: number[]; hi: number[] };
  /** Diagnostics (z units); the uncertainty is stored once, above. */
  diagnostics: Omit<LangevinDiagnostics, 'stein' | 'cdot' | 'uncertainty'> & { stein: Nested; cdot: Nested };
  scoreSigma: number;
  score: NetworkScoreJSON | { format: 'external'; units: 'original' | 'z' };
  /** The partition of the generator estimator, or null when none was used. */
  partition: ReturnType<Partition['toJSON']> | null;
  tailBox: { quantile: number; lo: number[]; hi: number[] } | null;
}

/** Format version 1 (z-unit matrices at the top level, always a partition); read by `fromJSON`. */
export interface LangevinModelJSONv1 {
  format: 'sdekit.langevin-model';
  version: 1;
  dim: number;
  dt: number;
  zscore: ReturnType<ZScore['toJSON']>;
  phi: Nested;
  phiS: Nested;
  phiA: Nested;
  sigma: Nested;
  diagnostics: Record<string, unknown> & {
    stein: Nested;
    cdot: Nested;
    warnings: string[];
    cdotEstimator: 'richardson' | 'generator';
  };
  scoreSigma: number;
  score: NetworkScoreJSON | { format: 'external'; units: 'original' | 'z' };
  partition: ReturnType<Partition['toJSON']>;
  tailBox?: { quantile: number; lo: number[]; hi: number[] } | null;
}

/** s_y(y) = S s_x(m + S y): a score in original units seen in z-scored units (docs/methods.md section 1). */
export class ZUnitsScore implements ScoreModel {
  readonly dim: number;
  constructor(
    readonly inner: ScoreModel,
    private readonly mean: Float64Array,
    private readonly std: Float64Array,
  ) {
    this.dim = inner.dim;
  }
  score(points: Float64Array): Float64Array {
    const d = this.dim;
    const x = new Float64Array(points.length);
    for (let i = 0; i < points.length; i++) x[i] = this.mean[i % d] + this.std[i % d] * points[i];
    const s = this.inner.score(x);
    for (let i = 0; i < s.length; i++) s[i] *= this.std[i % d];
    return s;
  }
}

function toOriginal(m: MatrixSet, std: Float64Array): MatrixSet {
  const d = std.length;
  const scale = (a: Matrix, left: boolean, right: boolean) => {
    const out = a.clone();
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) out.data[i * d + j] *= (left ? std[i] : 1) * (right ? std[j] : 1);
    return out;
  };
  // Phi_x = S Phi_y S; Sigma_x = S Sigma_y (so that Sigma_x Sigma_x^T = S Phi_S,y S).
  return {
    phi: scale(m.phi, true, true),
    phiS: scale(m.phiS, true, true),
    phiA: scale(m.phiA, true, true),
    sigma: scale(m.sigma, true, false),
  };
}

/**
 * A fitted score-based Langevin model. The matrices `phi`, `phiS`, `phiA`, `sigma` and the score are
 * in z-scored units (where they were estimated); `original` holds Phi_x = S Phi_y S and
 * Sigma_x = S Sigma_y, and `system()` simulates in original units.
 *
 * @example
 * const model = fitLangevin(series, { score: 'dsm-mlp', seed: 1 });
 * const paths = simulate(model.system(), { x0: series.data.slice(0, series.dim), paths: 10, h: 1e-3, T: 100, saveEvery: 10, seed: 2 });
 * const saved = JSON.stringify(model.toJSON());
 * const again = LangevinModel.fromJSON(JSON.parse(saved));
 */
export class LangevinModel {
  readonly dim: number;
  /** Sampling interval of the data the model was fitted to. */
  readonly dt: number;
  readonly phi: Matrix;
  readonly phiS: Matrix;
  readonly phiA: Matrix;
  /** Lower Cholesky factor of Phi_S (z units). */
  readonly sigma: Matrix;
  /** The same matrices in original (data) units, with their block-bootstrap uncertainty. */
  readonly original: OriginalUnits;
  readonly diagnostics: LangevinDiagnostics;
  readonly zscore: ZScore;
  /** Score in z-scored units. */
  readonly score: ScoreModel;
  /** Noise level of the score's smoothed density (z units; 0 for an exact score). */
  readonly scoreSigma: number;
  /** The partition of the generator estimator (null when the lag estimator was used). */
  readonly partition: Partition | null;
  /** Per-coordinate range of the data (original units). */
  readonly dataRange: DataRange;
  /** Where `system()` continues the score with a restoring term (null: raw score everywhere). */
  readonly tailBox: TailBox | null;
  private readonly externalUnits: 'original' | 'z' | null;

  constructor(args: {
    dim: number;
    dt: number;
    matrices: MatrixSet;
    diagnostics: LangevinDiagnostics;
    zscore: ZScore;
    score: ScoreModel;
    scoreSigma: number;
    partition: Partition | null;
    dataRange: DataRange;
    externalUnits: 'original' | 'z' | null;
    tailBox: TailBox | null;
    /** The data-unit uncertainty as stored (so that a JSON round trip is exact); else scaled from z. */
    originalUncertainty?: PhiUncertainty | null;
  }) {
    this.dim = args.dim;
    this.dt = args.dt;
    this.phi = args.matrices.phi;
    this.phiS = args.matrices.phiS;
    this.phiA = args.matrices.phiA;
    this.sigma = args.matrices.sigma;
    this.diagnostics = args.diagnostics;
    this.zscore = args.zscore;
    this.score = args.score;
    this.scoreSigma = args.scoreSigma;
    this.partition = args.partition;
    this.externalUnits = args.externalUnits;
    this.tailBox = args.tailBox;
    this.dataRange = args.dataRange;
    const std = Float64Array.from(args.zscore.std);
    const u = args.diagnostics.uncertainty;
    this.original = {
      ...toOriginal(args.matrices, std),
      uncertainty: args.originalUncertainty ?? (u ? uncertaintyInDataUnits(u, std) : null),
    };
  }

  /**
   * The last step of the Langevin pipeline: the model from the results of the steps before it
   * (`LangevinSteps`), with its diagnostics and their warnings in the order of the steps (data,
   * Cdot selection, bootstrap plan, score, Stein matrix, Cdot, shift of Phi_S, uncertainty).
   * `fitLangevin` is this pipeline run in one call; by hand, any step can be replaced (a score of
   * your own through `estimateScore`'s `GivenScore`, a Cdot of your own through a `CdotEstimator`).
   *
   * @example
   * const data = standardize(series);
   * const bootstrap = planBootstrap(data);
   * const selection = selectCdotEstimator(data, { seed: 1 });
   * const score = estimateScore(data, { score: { model: exactScore, units: 'original' }, seed: 1 });
   * const stein = estimateStein(data, score, { blocks: bootstrap.blocks, seed: 1 });
   * const cdot = estimateCdot(data, selection, { scoreSigma: score.sigma, blocks: bootstrap.blocks, seed: 1 });
   * const coefficients = langevinCoefficients(cdot.cdot, stein.v);
   * const uncertainty = estimateUncertainty(bootstrap, { cdot, stein, coefficients, seed: 1 });
   * const model = LangevinModel.fromSteps({ data, bootstrap, score, stein, cdot, coefficients, uncertainty });
   * // === fitLangevin(series, { score: { model: exactScore, units: 'original' }, seed: 1 })
   */
  static fromSteps(steps: LangevinSteps): LangevinModel {
    const { data, score, stein, cdot, coefficients: coeff } = steps;
    const tailQuantile = checkTailQuantile(steps.tailQuantile, data.dim);
    const uncertainty = steps.uncertainty ?? null;
    const warnings = [
      ...data.warnings,
      ...cdot.selection.warnings,
      ...(steps.bootstrap?.warnings ?? []),
      ...score.warnings,
      ...stein.warnings,
      ...cdot.warnings,
      ...coefficientWarnings(coeff),
      ...uncertaintyWarnings(uncertainty),
    ];
    const diagnostics: LangevinDiagnostics = {
      steinError: stein.error,
      steinMinSingularValue: stein.minSingularValue,
      stein: stein.v,
      cdot: cdot.cdot,
      cdotEstimator: cdot.estimator,
      cdotChoice: cdot.selection.choice,
      cdotReason: cdot.reason,
      cdotBiasOrder: cdot.biasOrder,
      cdotDetails: cdot.details,
      regime: data.regime,
      shift: coeff.shift,
      shifted: coeff.shift > 0,
      lambdaMin: coeff.lambdaMin,
      leaveFraction: cdot.details.leaveFraction ?? null,
      perturbedSeries: cdot.perturbSigma > 0,
      perturbSigma: cdot.perturbSigma,
      cells: cdot.partition ? cdot.partition.size : 0,
      segments: (data.segmentStarts?.length ?? 0) + 1,
      energyShareS: coeff.energyShareS,
      energyShareA: coeff.energyShareA,
      heldOutLoss: score.heldOutLoss,
      uncertainty,
      warnings,
    };
    return new LangevinModel({
      tailBox: tailQuantile > 0 ? tailBoxOf(data.y, data.dim, tailQuantile) : null,
      dim: data.dim,
      dt: data.dt,
      matrices: { phi: coeff.phi, phiS: coeff.phiS, phiA: coeff.phiA, sigma: coeff.sigma },
      diagnostics,
      zscore: data.zscore,
      score: score.model,
      scoreSigma: score.sigma,
      partition: cdot.partition,
      dataRange: data.dataRange,
      externalUnits: score.externalUnits,
    });
  }

  /**
   * The box a simulation of this model is watched against (`simulate`'s `watch`, original units):
   * the data's range, widened to the tail box where that reaches further.
   */
  watchBox(): DataRange {
    const lo = Float64Array.from(this.dataRange.lo);
    const hi = Float64Array.from(this.dataRange.hi);
    if (this.tailBox) {
      for (let j = 0; j < this.dim; j++) {
        const m = this.zscore.mean[j];
        const sd = this.zscore.std[j];
        lo[j] = Math.min(lo[j], m + sd * this.tailBox.lo[j]);
        hi[j] = Math.max(hi[j], m + sd * this.tailBox.hi[j]);
      }
    }
    return { lo, hi };
  }

  /**
   * The model as an SdeSystem in original units: f(x) = S Phi_y s_y(S^{-1}(x - m)) (= Phi_x s_x(x)),
   * G = sqrt(2) S Sigma_y (additive, general D x D noise). `driftBatch` evaluates the score once per
   * batch, so integrators advancing many paths call the network once per step. Outside `tailBox`
   * the score is continued by s(P y) - (y - P y) (see `TailBox`).
   */
  system(): SdeSystem {
    const d = this.dim;
    const mean = Float64Array.from(this.zscore.mean);
    const std = Float64Array.from(this.zscore.std);
    const a = new Float64Array(d * d); // A = S Phi_y
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = std[i] * this.phi.data[i * d + j];
    const g = new Float64Array(d * d);
    for (let k = 0; k < d * d; k++) g[k] = Math.SQRT2 * this.original.sigma.data[k];
    const score = this.score;
    const box = this.tailBox;
    const driftBatch = (t: number, x: Float64Array, n: number, out: Float64Array) => {
      const y = new Float64Array(n * d);
      for (let i = 0; i < n * d; i++) {
        const j = i % d;
        y[i] = (x[i] - mean[j]) / std[j];
        // Integrators check the state only when saving; an escaped path must not reach the score.
        if (!Number.isFinite(y[i]))
          throw new BlowUpError(
            t,
            Math.floor(i / d),
            `path index within the drift batch; coordinate ${j} = ${x[i]}`,
          );
      }
      let s: Float64Array;
      if (box === null) s = score.score(y);
      else {
        // Project onto the box, score there, add the restoring term -(y - P y).
        const py = new Float64Array(n * d);
        for (let i = 0; i < n * d; i++) {
          const j = i % d;
          py[i] = Math.min(box.hi[j], Math.max(box.lo[j], y[i]));
        }
        s = score.score(py);
        for (let i = 0; i < n * d; i++) s[i] -= y[i] - py[i];
      }
      for (let p = 0; p < n; p++) {
        const o = p * d;
        for (let i = 0; i < d; i++) {
          let acc = 0;
          for (let j = 0; j < d; j++) acc += a[i * d + j] * s[o + j];
          out[o + i] = acc;
        }
      }
    };
    return {
      dim: d,
      noiseDim: d,
      noise: 'general',
      additive: true,
      drift: (t, x, out) => driftBatch(t, x, 1, out),
      driftBatch,
      diffusion: (_t, _x, out) => out.set(g),
    };
  }

  toJSON(): LangevinModelJSON {
    const score: LangevinModelJSON['score'] =
      this.externalUnits === null
        ? (this.score as NetworkScore).toJSON()
        : { format: 'external', units: this.externalUnits };
    const { stein, cdot: c, uncertainty: _z, ...rest } = this.diagnostics;
    const o = this.original;
    return {
      format: 'sdekit.langevin-model',
      version: 2,
      dim: this.dim,
      dt: this.dt,
      zscore: this.zscore.toJSON(),
      phi: o.phi.toArray(),
      phiS: o.phiS.toArray(),
      phiA: o.phiA.toArray(),
      sigma: o.sigma.toArray(),
      zUnits: {
        phi: this.phi.toArray(),
        phiS: this.phiS.toArray(),
        phiA: this.phiA.toArray(),
        sigma: this.sigma.toArray(),
      },
      uncertainty: o.uncertainty ? uncertaintyToJSON(o.uncertainty) : null,
      dataRange: { lo: Array.from(this.dataRange.lo), hi: Array.from(this.dataRange.hi) },
      diagnostics: {
        ...rest,
        warnings: [...rest.warnings],
        stein: stein.toArray(),
        cdot: c.toArray(),
      },
      scoreSigma: this.scoreSigma,
      score,
      partition: this.partition ? this.partition.toJSON() : null,
      tailBox:
        this.tailBox === null
          ? null
          : {
              quantile: this.tailBox.quantile,
              lo: Array.from(this.tailBox.lo),
              hi: Array.from(this.tailBox.hi),
            },
    };
  }

  /**
   * Restores a model written by `toJSON()` (format version 2, or version 1 of earlier releases),
   * network weights included. A model fitted with a caller-supplied score stores no score; pass the
   * same score model (same units) as `options.score`.
   */
  static fromJSON(
    json: LangevinModelJSON | LangevinModelJSONv1,
    options: { score?: ScoreModel } = {},
  ): LangevinModel {
    if (json?.format !== 'sdekit.langevin-model' || (json.version !== 1 && json.version !== 2)) {
      throw new FormatError(
        'LangevinModel',
        `expected format sdekit.langevin-model version 1 or 2, got ${json?.format} ${json?.version}`,
      );
    }
    checkModelJson(json);
    const zscore = ZScore.fromJSON(json.zscore);
    const std = Float64Array.from(zscore.std);
    let score: ScoreModel;
    let externalUnits: 'original' | 'z' | null = null;
    if (json.score.format === 'external') {
      if (!options.score) {
        throw new InvalidArgumentError(
          'options.score',
          'this model was fitted with a caller-supplied score, which is not stored',
          'pass the same score model as options.score',
        );
      }
      if (options.score.dim !== json.dim) {
        throw new DimensionError(
          'options.score',
          `has dim ${options.score.dim}, the model has ${json.dim}`,
          'pass the score model the model was fitted with',
        );
      }
      externalUnits = json.score.units;
      score =
        externalUnits === 'z'
          ? options.score
          : new ZUnitsScore(options.score, Float64Array.from(zscore.mean), Float64Array.from(zscore.std));
    } else {
      score = NetworkScore.fromJSON(json.score);
    }
    const tailBox = json.tailBox
      ? {
          quantile: json.tailBox.quantile,
          lo: Float64Array.from(json.tailBox.lo),
          hi: Float64Array.from(json.tailBox.hi),
        }
      : null;
    const common = {
      dim: json.dim,
      dt: json.dt,
      zscore,
      score,
      scoreSigma: json.scoreSigma,
      partition: json.partition ? partitionFromJSON(json.partition) : null,
      externalUnits,
      tailBox,
    };
    if (json.version === 1) return LangevinModel.fromVersion1(json, common);
    const { stein, cdot: c, ...rest } = json.diagnostics;
    const ux = json.uncertainty ? uncertaintyFromJSON(json.uncertainty) : null;
    const uz = ux
      ? uncertaintyInDataUnits(
          ux,
          std.map((v) => 1 / v),
        )
      : null;
    return new LangevinModel({
      ...common,
      originalUncertainty: ux,
      matrices: {
        phi: Matrix.from(json.zUnits.phi),
        phiS: Matrix.from(json.zUnits.phiS),
        phiA: Matrix.from(json.zUnits.phiA),
        sigma: Matrix.from(json.zUnits.sigma),
      },
      dataRange: { lo: Float64Array.from(json.dataRange.lo), hi: Float64Array.from(json.dataRange.hi) },
      diagnostics: {
        ...rest,
        warnings: [...rest.warnings],
        stein: Matrix.from(stein),
        cdot: Matrix.from(c),
        uncertainty: uz,
      },
    });
  }

  /** Version-1 files: z-unit matrices at the top level, no regime, no uncertainty, no data range. */
  private static fromVersion1(
    json: LangevinModelJSONv1,
    common: Omit<ConstructorParameters<typeof LangevinModel>[0], 'matrices' | 'diagnostics' | 'dataRange'>,
  ): LangevinModel {
    const r = json.diagnostics as Record<string, unknown>;
    const num = (k: string, fallback: number) => (typeof r[k] === 'number' ? (r[k] as number) : fallback);
    const zscore = common.zscore;
    // No data range was stored: the 5-sigma box around the mean stands in for it.
    const lo = Float64Array.from(zscore.mean, (m, j) => m - 5 * zscore.std[j]);
    const hi = Float64Array.from(zscore.mean, (m, j) => m + 5 * zscore.std[j]);
    const estimator = json.diagnostics.cdotEstimator;
    return new LangevinModel({
      ...common,
      matrices: {
        phi: Matrix.from(json.phi),
        phiS: Matrix.from(json.phiS),
        phiA: Matrix.from(json.phiA),
        sigma: Matrix.from(json.sigma),
      },
      dataRange: { lo, hi },
      diagnostics: {
        steinError: num('steinError', Number.NaN),
        steinMinSingularValue: num('steinMinSingularValue', Number.NaN),
        stein: Matrix.from(json.diagnostics.stein),
        cdot: Matrix.from(json.diagnostics.cdot),
        cdotEstimator: estimator,
        cdotChoice: estimator === 'generator' ? 'generator' : 'auto',
        cdotReason: 'read from a format-version-1 file',
        cdotBiasOrder: estimator === 'generator' ? 1 : 2,
        cdotDetails: {},
        regime: null,
        shift: num('shift', 0),
        shifted: r.shifted === true,
        lambdaMin: num('lambdaMin', Number.NaN),
        leaveFraction: num('leaveFraction', Number.NaN),
        perturbedSeries: r.perturbedSeries === true,
        perturbSigma: num('perturbSigma', r.perturbedSeries === true ? json.scoreSigma : 0),
        cells: num('cells', 0),
        segments: num('segments', 1),
        energyShareS: num('energyShareS', Number.NaN),
        energyShareA: num('energyShareA', Number.NaN),
        heldOutLoss: typeof r.heldOutLoss === 'number' ? r.heldOutLoss : null,
        uncertainty: null,
        warnings: [...json.diagnostics.warnings],
      },
    });
  }

  /** Frees the network weights of a learned score (no-op for a caller-supplied score). */
  dispose(): void {
    if (this.externalUnits === null) (this.score as NetworkScore).dispose();
  }
}

/**
 * Checks the fields of a saved model that `fromJSON` reads: a file edited by hand or cut short must
 * give a FormatError naming the field, not a TypeError or a model with NaN inside.
 */
function checkModelJson(json: LangevinModelJSON | LangevinModelJSONv1): void {
  const bad = (field: string, detail: string) => new FormatError('LangevinModel', `${field} ${detail}`);
  const d = json.dim;
  if (!Number.isInteger(d) || d < 1) throw bad('dim', `must be a positive integer, got ${String(d)}`);
  if (typeof json.dt !== 'number' || !(json.dt > 0) || !Number.isFinite(json.dt))
    throw bad('dt', `must be a finite number > 0, got ${String(json.dt)}`);
  if (json.zscore === null || typeof json.zscore !== 'object') throw bad('zscore', 'is missing');
  const matrix = (field: string, m: unknown) => {
    if (!Array.isArray(m) || m.length !== d) throw bad(field, `must be a ${d} x ${d} array of numbers`);
    for (const row of m) {
      if (
        !Array.isArray(row) ||
        row.length !== d ||
        row.some((v) => typeof v !== 'number' || !Number.isFinite(v))
      )
        throw bad(field, `must be a ${d} x ${d} array of finite numbers (found ${JSON.stringify(row)})`);
    }
  };
  const z = json.version === 2 ? json.zUnits : json;
  if (z === null || typeof z !== 'object') throw bad('zUnits', 'is missing');
  for (const k of ['phi', 'phiS', 'phiA', 'sigma'] as const)
    matrix(json.version === 2 ? `zUnits.${k}` : k, z[k]);
  if (json.score === null || typeof json.score !== 'object' || typeof json.score.format !== 'string')
    throw bad(
      'score',
      "is missing (a network score, or { format: 'external', units } for a caller-supplied one)",
    );
  if (typeof json.scoreSigma !== 'number' || !(json.scoreSigma >= 0))
    throw bad('scoreSigma', `must be a number >= 0, got ${String(json.scoreSigma)}`);
  if (json.diagnostics === null || typeof json.diagnostics !== 'object')
    throw bad('diagnostics', 'is missing');
  matrix('diagnostics.stein', json.diagnostics.stein);
  matrix('diagnostics.cdot', json.diagnostics.cdot);
  if (!Array.isArray(json.diagnostics.warnings))
    throw bad('diagnostics.warnings', 'must be an array of strings');
  if (json.version === 2) {
    const r = json.dataRange;
    const ok = (a: unknown) =>
      Array.isArray(a) && a.length === d && a.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (r === null || typeof r !== 'object' || !ok(r.lo) || !ok(r.hi))
      throw bad('dataRange', `must hold lo and hi, ${d} finite numbers each`);
  }
}

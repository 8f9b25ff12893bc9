/**
 * Step 2 of the Langevin pipeline: the score s = grad log p of the z-scored series, learned by
 * denoising score matching (MLP or periodic U-Net), by KGMM, or given by the caller
 * (docs/methods.md sections 1-3).
 */
import type { TrainingProgress, TrainingRecord } from '@sdekit/nn';
import { checkPositive } from '@sdekit/sde';
import { checkScoreChoice } from './checks.js';
import { type DsmOptions, trainDsm } from './dsm.js';
import { type KgmmOptions, kgmm } from './kgmm.js';
import type { StandardizedSeries } from './langevin-data.js';
import { ZUnitsScore } from './langevin-model.js';
import type { NetworkScore } from './network-score.js';
import type { ScoreModel } from './score-model.js';

/** Default score noise levels (z units) for diffusive and for smooth data. */
const DIFFUSIVE_SIGMA = 0.05;
const SMOOTH_SIGMA = 0.1;

/** A score supplied by the caller, in original data units or in z-scored units. */
export interface GivenScore {
  model: ScoreModel;
  units: 'original' | 'z';
  /**
   * Noise level of the density the model is the score of, in z units (0 for an exact score). V is
   * evaluated on samples perturbed with it. Default 0.
   */
  sigma?: number;
}

/** How the score is obtained: learned by DSM (MLP or U-Net) or KGMM, or given by the caller. */
export type ScoreChoice = 'dsm-mlp' | 'dsm-unet' | 'kgmm' | GivenScore;

/** Options of `estimateScore` (the score options of `fitLangevin`). */
export interface ScoreOptions {
  /** How to obtain the score. Default 'dsm-mlp'. */
  score?: ScoreChoice;
  /**
   * Noise level of DSM/KGMM in z-scored units. Default 0.05 for diffusive data and 0.1 for smooth data
   * (`data.regime`): the density of a chaotic flow concentrates near its attractor, and its score
   * needs the stronger smoothing (on Lorenz-63 sigma 0.05 gave a runaway model: docs/findings.md,
   * score).
   */
  sigma?: number;
  /** Extra DSM options (network sizes, steps, batch size, learning rate). */
  dsm?: Partial<Omit<DsmOptions, 'sigma' | 'network' | 'seed' | 'onProgress'>>;
  /** Extra KGMM options. */
  kgmm?: Partial<Omit<KgmmOptions, 'sigma' | 'seed' | 'onProgress'>>;
  /** Seed of the network's initialisation and of the training noise. */
  seed: number;
  /** Training progress of DSM or KGMM. */
  onProgress?: (p: TrainingProgress) => void;
}

/** The score of a standardized series, in z units: the result of `estimateScore`. */
export interface ScoreEstimate {
  /** The score in z-scored units. */
  model: ScoreModel;
  /** Noise level (z units) of the density it is the score of: the DSM/KGMM sigma, 0 for an exact score. */
  sigma: number;
  /** Held-out DSM loss when the score was trained by DSM, else null. */
  heldOutLoss: number | null;
  /** The training records of DSM or KGMM (empty for a given score). */
  history: TrainingRecord[];
  /** Units of a caller-supplied score; null for one learned here (a network this estimate owns). */
  externalUnits: 'original' | 'z' | null;
  /** KGMM that did not converge. */
  warnings: string[];
  /** Frees the network of a learned score (no-op for a caller-supplied one). */
  dispose(): void;
}

/**
 * Step 2 of the Langevin pipeline: the score of the z-scored series `data` (from `standardize`).
 * 'dsm-mlp' and 'dsm-unet' train a network by denoising score matching at noise level sigma
 * (`trainDsm`), 'kgmm' fits one to KGMM's cell averages (`kgmm`), and a `GivenScore` is used as it
 * is: a score in original units is seen in z units as s_y(y) = S s_x(m + S y). Pass the result to
 * `estimateStein` and `LangevinModel.fromSteps`; `dispose()` it when the pipeline fails before a
 * model holds it.
 *
 * @example
 * const data = standardize(series);
 * const learned = estimateScore(data, { score: 'dsm-mlp', dsm: { steps: 500 }, seed: 1 });
 * const exact = estimateScore(data, { score: { model: myScore, units: 'original' }, seed: 1 });
 * learned.sigma;        // 0.05 (diffusive data); exact.sigma is 0
 */
export function estimateScore(data: StandardizedSeries, options: ScoreOptions): ScoreEstimate {
  const choice = options.score ?? 'dsm-mlp';
  if (options.sigma !== undefined) checkPositive('sigma', options.sigma);
  checkScoreChoice(choice, data.dim);
  if (typeof choice === 'object') {
    const model =
      choice.units === 'z'
        ? choice.model
        : new ZUnitsScore(
            choice.model,
            Float64Array.from(data.zscore.mean),
            Float64Array.from(data.zscore.std),
          );
    return {
      model,
      sigma: choice.sigma ?? 0,
      heldOutLoss: null,
      history: [],
      externalUnits: choice.units,
      warnings: [],
      dispose: () => {},
    };
  }
  const sigma = options.sigma ?? (data.regime.regime === 'smooth' ? SMOOTH_SIGMA : DIFFUSIVE_SIGMA);
  const { y, dim } = data;
  const owned = (model: NetworkScore, rest: Pick<ScoreEstimate, 'heldOutLoss' | 'history' | 'warnings'>) => ({
    model,
    sigma,
    ...rest,
    externalUnits: null,
    dispose: () => model.dispose(),
  });
  if (choice === 'kgmm') {
    const r = kgmm(y, dim, { ...options.kgmm, sigma, seed: options.seed, onProgress: options.onProgress });
    const warnings = r.converged
      ? []
      : [
          `KGMM stopped after ${r.passes} passes with relative change ${r.relativeChange.toExponential(2)} above tol`,
        ];
    return owned(r.model, { heldOutLoss: null, history: r.history, warnings });
  }
  const r = trainDsm(y, dim, {
    ...options.dsm,
    sigma,
    network: choice === 'dsm-unet' ? 'unet' : 'mlp',
    seed: options.seed,
    onProgress: options.onProgress,
  });
  return owned(r.model, { heldOutLoss: r.heldOutLoss, history: r.history, warnings: [] });
}

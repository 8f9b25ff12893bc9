/**
 * Option checks shared by `fitLangevin` (which runs them all before any work, so that a bad option
 * is reported before a network is trained) and by the pipeline steps that read the same options.
 * Internal: not exported from the package.
 */
import { checkInteger, checkPositive, DimensionError, InvalidArgumentError } from '@sdekit/sde';
import type { CdotEstimator } from './cdot.js';
import type { CdotEstimatorOption } from './cdot-selection.js';
import type { ScoreChoice } from './score-estimate.js';
import type { UncertaintyOption } from './uncertainty.js';

/** Checks a score choice against the series dimension. */
export function checkScoreChoice(choice: ScoreChoice, dim: number): void {
  if (typeof choice === 'object') {
    if (!choice.model || typeof choice.model.score !== 'function') {
      throw new InvalidArgumentError(
        'options.score.model',
        'must implement ScoreModel',
        'pass { model, units }',
      );
    }
    if (choice.model.dim !== dim) {
      throw new DimensionError(
        'options.score.model',
        `has dim ${choice.model.dim}, the series has dim ${dim}`,
        "pass a score model of the series' dimension",
      );
    }
    if (choice.units !== 'original' && choice.units !== 'z') {
      throw new InvalidArgumentError(
        'options.score.units',
        `must be 'original' or 'z', got ${choice.units}`,
        "pass 'original' or 'z'",
      );
    }
  } else if (choice !== 'dsm-mlp' && choice !== 'dsm-unet' && choice !== 'kgmm') {
    throw new InvalidArgumentError(
      'options.score',
      `unknown choice '${choice}'`,
      "pass 'dsm-mlp', 'dsm-unet', 'kgmm' or { model, units }",
    );
  }
}

/** Checks a Cdot estimator option and its pairing with the finite-dt correction. */
export function checkCdotEstimatorOption(option: CdotEstimatorOption, correction: string): void {
  const isObject = typeof option === 'object' && option !== null;
  if (isObject && typeof (option as CdotEstimator).estimate !== 'function') {
    throw new InvalidArgumentError(
      'cdotEstimator',
      'is an object without an estimate(input) method',
      "pass 'auto', 'lag', 'generator' or a CdotEstimator such as new LagCdot({ lag: 2 })",
    );
  }
  if (!isObject && option !== 'auto' && option !== 'lag' && option !== 'generator') {
    throw new InvalidArgumentError(
      'cdotEstimator',
      `unknown estimator '${String(option)}'${String(option) === 'richardson' ? " (the within-cell-restored 'richardson' estimator was removed: 'lag' is more accurate on diffusive data)" : ''}`,
      "pass 'auto', 'lag' or 'generator'",
    );
  }
  if (option === 'lag' && correction !== 'none') {
    throw new InvalidArgumentError(
      'correction',
      `'${correction}' applies to the generator estimator only`,
      "use cdotEstimator: 'generator' or correction: 'none'",
    );
  }
}

/** Checks the bootstrap options; returns the number of replicates (0 when skipped). */
export function checkUncertaintyOption(option: UncertaintyOption): number {
  if (option !== false && (typeof option !== 'object' || option === null)) {
    throw new InvalidArgumentError(
      'uncertainty',
      `must be false or { replicates?, blockLength?, required? }, got ${String(option)}`,
      'pass false to skip the bootstrap, or an object',
    );
  }
  const replicates = option === false ? 0 : (option.replicates ?? 200);
  if (option !== false) {
    checkInteger('uncertainty.replicates', replicates, 20);
    if (option.blockLength !== undefined) checkInteger('uncertainty.blockLength', option.blockLength, 1);
  }
  return replicates;
}

/** Checks `perturbSeries`: a boolean or a noise level > 0. */
export function checkPerturbSeries(option: boolean | number | undefined): void {
  if (typeof option === 'number') checkPositive('perturbSeries', option);
  else if (option !== undefined && typeof option !== 'boolean') {
    throw new InvalidArgumentError(
      'perturbSeries',
      `must be a boolean or a noise level > 0, got ${String(option)}`,
      "pass true (the score's sigma), a number sigma_c > 0 in z units, or false",
    );
  }
}

/** The tail quantile of `system()`'s score continuation: default 1e-3 / D, checked to lie in [0, 0.5). */
export function checkTailQuantile(option: number | undefined, dim: number): number {
  const q = option ?? 1e-3 / dim;
  if (!(q >= 0 && q < 0.5)) {
    throw new InvalidArgumentError(
      'tailQuantile',
      `must lie in [0, 0.5), got ${q}`,
      'pass a small tail quantile such as 1e-3, or 0 to simulate with the raw score',
    );
  }
  return q;
}

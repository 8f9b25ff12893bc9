/**
 * The training loop of sdekit: Adam over a problem's variables for a number of steps, with the
 * bookkeeping every fit needs written once: a record of the mean training loss every
 * `evaluateEvery` steps (and at the last), a held-out loss at the same steps, early stopping that
 * restores the best parameters, checkpoints that resume bit for bit, progress, cancellation, and no
 * tensor left behind on any exit (normal, error, abort).
 *
 * A problem says what is trained and on what: its variables, the loss of step k (it draws its own
 * mini-batch from its own random stream), and optionally a held-out loss, an after-step hook (a
 * weight average, a running statistic) and the state a checkpoint must carry besides the weights and
 * the optimiser (random streams, averages). The loop owns the optimiser.
 *
 * Resuming: a checkpoint holds the weights, the optimiser's moments and step count, the problem's
 * state, the records and the partial window of losses; `resume` restores all of them, so the resumed
 * run produces the same bits as an uninterrupted one.
 */

import { checkInteger, InvalidArgumentError } from '@sdekit/sde';
import type * as tf from '@tensorflow/tfjs-core';
import { Adam, type AdamOptions, type AdamState } from './adam.js';
import { assignFlat, flatten } from './flat.js';

/** The loss of one step and the step's tensors to free once it ran. */
export interface TrainingStep {
  /** The scalar to minimise, built inside the optimiser's gradient tape. */
  loss: () => tf.Scalar;
  /** Frees what `TrainingProblem.step` created for this step (its mini-batch tensors). */
  release?: () => void;
}

/** What a `train` run optimises. */
export interface TrainingProblem {
  /** Trainable variables (their order is the checkpoint's weight layout). */
  readonly variables: readonly tf.Variable[];
  /** Prepares step `step` (1-based): draws its mini-batch and returns its loss. */
  step(step: number): TrainingStep;
  /** Runs after every optimiser update with that step's loss (NaN or infinite when skipped). */
  afterStep?(step: number, loss: number): void;
  /**
   * Held-out loss of the current parameters, asked at every record; `undefined` skips this record
   * (a fit that validates less often than it records).
   */
  evaluate?(step: number): number | undefined;
  /**
   * Further numbers of this record (e.g. the two terms of a penalised loss, a schedule's value),
   * asked after `evaluate`; they go in `TrainingRecord.metrics`.
   */
  metrics?(step: number): Record<string, number>;
  /** State besides weights and optimiser that a checkpoint must hold (JSON-serialisable). */
  saveState?(): unknown;
  /** Restores what `saveState` returned. */
  restoreState?(state: unknown): void;
}

/** One record of a training run. */
export interface TrainingRecord {
  /** Steps completed. */
  step: number;
  /** Mean training loss over the finite steps since the previous record (NaN when none). */
  loss: number;
  /** Held-out loss after this step, when the problem evaluates one. */
  heldOutLoss?: number;
  /** The problem's further numbers at this record (`TrainingProblem.metrics`). */
  metrics?: Record<string, number>;
}

/** What a fit's `onProgress` receives: a record and the steps of the run. */
export type TrainingProgress = TrainingRecord & { steps: number };

/** Why a `train` run ended. */
export type StopReason = 'steps' | 'patience' | 'converged';

/** The history of a training run. */
export interface TrainingHistory {
  records: TrainingRecord[];
  /** Steps run in all (fewer than asked when stopped early). */
  stepsRun: number;
  /** Step of the best held-out loss, whose parameters were restored (the last step without one). */
  bestStep: number;
  /** Best held-out loss (NaN without a held-out loss). */
  bestHeldOutLoss: number;
  /** Whether early stopping (patience) or a convergence test (`stopWhen`) ended the run. */
  stoppedEarly: boolean;
  /** What ended the run: all steps run, patience ran out, or `stopWhen` held. */
  stopReason: StopReason;
  /** Steps the optimiser skipped because the loss or its gradient was not finite. */
  skippedSteps: number;
}

/** State of a `train` run after `step` steps (see `TrainOptions.checkpoint`). */
export interface TrainingCheckpoint {
  format: 'sdekit.training-checkpoint';
  version: 1;
  /** Steps completed. */
  step: number;
  /** The steps the run was asked for (a resumed run must ask for the same). */
  steps: number;
  /** The variables, flattened in order (float32 values). */
  weights: number[];
  optimizer: AdamState;
  /** `TrainingProblem.saveState()`. */
  problem: unknown;
  records: TrainingRecord[];
  /** Loss bookkeeping since the last record. */
  window: { sum: number; count: number };
  /** Set when the run ended here before its last step (patience or `stopWhen`): resuming it runs no step. */
  stopped?: StopReason;
  /** Early-stopping bookkeeping (the best weights are held only when they differ from `weights`). */
  best: { loss: number | null; step: number; since: number; weights: number[] | null };
}

/** Options of `train`. */
export interface TrainOptions {
  /** Optimisation steps (in all, including those a resumed run already did). */
  steps: number;
  /** Adam's settings: learning rate or schedule, betas, eps, clipping. */
  optimizer: AdamOptions;
  /** Record (and evaluate) every this many steps and after the last. Default max(1, floor(steps / 10)). */
  evaluateEvery?: number;
  /**
   * Stop after this many records without a better held-out loss and restore the best parameters
   * (needs `evaluate`). Default: no early stopping (the last parameters are kept).
   */
  patience?: number;
  /** Hand a checkpoint to `save` every `every` steps and after the last (synchronously). */
  checkpoint?: { every: number; save: (c: TrainingCheckpoint) => void };
  /** Continue from a checkpoint of a run of the same problem and options. */
  resume?: TrainingCheckpoint;
  /**
   * A convergence test, asked after every record with the records so far: true ends the run
   * (`stopReason` 'converged'; the last parameters are kept unless patience holds better ones).
   */
  stopWhen?: (records: readonly TrainingRecord[]) => boolean;
  /** Called with every record; may throw to stop the run (the throw propagates). */
  onRecord?: (record: TrainingRecord, steps: number) => void;
  /** Checked before every step: an aborted signal ends the run by throwing its reason. */
  signal?: AbortSignal;
}

function copyRecord(r: TrainingRecord): TrainingRecord {
  return r.metrics ? { ...r, metrics: { ...r.metrics } } : { ...r };
}

function checkResume(c: TrainingCheckpoint, steps: number, size: number): void {
  if (c?.format !== 'sdekit.training-checkpoint' || c.version !== 1) {
    throw new InvalidArgumentError(
      'resume',
      `expected format sdekit.training-checkpoint version 1, got ${c?.format} ${c?.version}`,
      'pass a checkpoint written by train',
    );
  }
  if (c.steps !== steps || !(Number.isInteger(c.step) && c.step >= 0 && c.step <= steps)) {
    throw new InvalidArgumentError(
      'resume',
      `is a checkpoint at step ${c.step} of a ${c.steps}-step run, this run has ${steps} steps`,
      'resume with the options of the checkpointed run',
    );
  }
  if (c.weights?.length !== size) {
    throw new InvalidArgumentError(
      'resume',
      `holds ${c.weights?.length} weights, the problem has ${size}`,
      'resume the same problem (architecture) that wrote the checkpoint',
    );
  }
}

/**
 * Trains `problem` with Adam (module comment). Returns the history; the problem's variables hold the
 * final parameters (the best ones under early stopping).
 *
 * @example
 * const w = tf.variable(tf.tensor1d([3, -2]));
 * const history = train(
 *   { variables: [w], step: () => ({ loss: () => tf.sum(tf.square(w)) as tf.Scalar }) },
 *   { steps: 200, optimizer: { lr: 0.1 } },
 * );
 * history.records.at(-1)?.loss; // close to 0
 * w.dispose();
 */
export function train(problem: TrainingProblem, options: TrainOptions): TrainingHistory {
  const { steps } = options;
  checkInteger('steps', steps, 1);
  const evaluateEvery = options.evaluateEvery ?? Math.max(1, Math.floor(steps / 10));
  checkInteger('evaluateEvery', evaluateEvery, 1);
  const patience = options.patience;
  if (patience !== undefined) {
    checkInteger('patience', patience, 1);
    if (!problem.evaluate)
      throw new InvalidArgumentError(
        'patience',
        'needs a held-out loss, and the problem has no evaluate',
        'give the problem an evaluate method, or leave patience out',
      );
  }
  const checkpointEvery = options.checkpoint?.every;
  if (options.checkpoint !== undefined) {
    checkInteger('checkpoint.every', checkpointEvery as number, 1);
    if (typeof options.checkpoint.save !== 'function')
      throw new InvalidArgumentError(
        'checkpoint.save',
        'must be a function',
        'pass save: (c) => writeFileSync(path, JSON.stringify(c))',
      );
  }
  const variables = problem.variables;
  const size = variables.reduce((a, v) => a + v.size, 0);
  const resume = options.resume;
  if (resume) checkResume(resume, steps, size);

  const adam = new Adam(variables, options.optimizer);
  try {
    if (resume) {
      assignFlat(variables, resume.weights, 'resume.weights');
      adam.restore(resume.optimizer);
      problem.restoreState?.(resume.problem);
    }
    const records: TrainingRecord[] = resume ? resume.records.map(copyRecord) : [];
    let sum = resume?.window.sum ?? 0;
    let count = resume?.window.count ?? 0;
    let bestLoss = resume?.best.loss ?? Number.POSITIVE_INFINITY;
    let bestStep = resume?.best.step ?? 0;
    let since = resume?.best.since ?? 0;
    let bestWeights: Float32Array | null = resume?.best.weights
      ? Float32Array.from(resume.best.weights)
      : null;
    let stepsRun = resume?.step ?? 0;
    let stopReason: StopReason = resume?.stopped ?? 'steps';
    const save = (step: number) =>
      options.checkpoint!.save({
        format: 'sdekit.training-checkpoint',
        version: 1,
        step,
        steps,
        weights: Array.from(flatten(variables)),
        optimizer: adam.state(),
        problem: problem.saveState?.() ?? null,
        records: records.map(copyRecord),
        window: { sum, count },
        ...(stopReason !== 'steps' ? { stopped: stopReason } : {}),
        best: {
          loss: Number.isFinite(bestLoss) ? bestLoss : null,
          step: bestStep,
          since,
          weights: bestWeights ? Array.from(bestWeights) : null,
        },
      });

    for (let step = stepsRun + 1; step <= steps && stopReason === 'steps'; step++) {
      // The signal's reason (an AbortError unless the caller gave one), as fetch and streams do.
      options.signal?.throwIfAborted();
      const { loss: lossOf, release } = problem.step(step);
      let loss: number;
      try {
        loss = adam.step(lossOf);
      } finally {
        release?.();
      }
      stepsRun = step;
      problem.afterStep?.(step, loss);
      if (Number.isFinite(loss)) {
        sum += loss;
        count++;
      }
      if (step % evaluateEvery === 0 || step === steps) {
        const record: TrainingRecord = { step, loss: count > 0 ? sum / count : Number.NaN };
        const heldOut = problem.evaluate?.(step);
        if (heldOut !== undefined) record.heldOutLoss = heldOut;
        const metrics = problem.metrics?.(step);
        if (metrics !== undefined) record.metrics = { ...metrics };
        records.push(record);
        sum = 0;
        count = 0;
        options.onRecord?.(copyRecord(record), steps);
        if (patience !== undefined && record.heldOutLoss !== undefined) {
          if (record.heldOutLoss < bestLoss) {
            bestLoss = record.heldOutLoss;
            bestStep = step;
            bestWeights = flatten(variables);
            since = 0;
          } else if (++since >= patience) {
            stopReason = 'patience';
          }
        }
        if (stopReason === 'steps' && options.stopWhen?.(records)) stopReason = 'converged';
        if (stopReason !== 'steps') {
          if (checkpointEvery !== undefined) save(step);
          break;
        }
      }
      if (checkpointEvery !== undefined && (step % checkpointEvery === 0 || step === steps)) save(step);
    }
    if (bestWeights) assignFlat(variables, bestWeights, 'best weights');
    else bestStep = stepsRun;
    return {
      records,
      stepsRun,
      bestStep,
      bestHeldOutLoss: Number.isFinite(bestLoss) ? bestLoss : Number.NaN,
      stoppedEarly: stopReason !== 'steps',
      stopReason,
      skippedSteps: adam.skippedSteps,
    };
  } finally {
    adam.dispose();
  }
}

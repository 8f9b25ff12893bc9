/**
 * The ELBO convergence test of variational inference: compare the mean ELBO of the last 10 % of the
 * steps with that of the 10 % of steps ending at 75 % of the run. Stochastic-gradient VI never stops
 * moving in a strict sense; the question the test answers is whether the ELBO still changes by more
 * than its own step-to-step noise over the last quarter of the run. The standard error of the change
 * comes from the scatter of the per-step ELBO estimates in the two windows (treated as independent,
 * which understates it when consecutive estimates are correlated, so the test is conservative about
 * calling a run converged).
 */

/** Fewest steps the test can judge: two windows of at least 2 steps each. */
export const MIN_CONVERGENCE_STEPS = 20;

/** Result of `elboConvergence`. */
export interface ElboConvergence {
  /** Steps judged (the length of the trace). */
  readonly steps: number;
  /** Mean finite ELBO of the last 10 % of the steps minus that of the 10 % ending at 75 %. */
  readonly drift: number;
  /** Standard error of `drift` from the scatter of the per-step ELBOs of the two windows. */
  readonly stdError: number;
  /** Mean ELBO of the last 10 % of the steps. */
  readonly finalElbo: number;
  /** |drift| <= tolerance * stdError passes. */
  readonly tolerance: number;
  readonly converged: boolean;
  /** Why the test failed, null when it passed. */
  readonly reason: string | null;
}

const fmt = (v: number, digits = 3) =>
  Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v);

/**
 * The ELBO convergence test (module comment) on a per-step ELBO trace (NaN where a step was
 * skipped): converged when the change over the last quarter lies within `tolerance` standard errors
 * of zero. A trace shorter than MIN_CONVERGENCE_STEPS, or windows with fewer than 2 finite values,
 * cannot pass.
 *
 * @example
 * const post = fitPosterior({ ... });
 * elboConvergence(post.elboHistory).converged; // true when the last quarter is flat within 3 SE
 */
export function elboConvergence(history: Float64Array, tolerance = 3): ElboConvergence {
  const n = history.length;
  const w = Math.max(1, Math.floor(n / 10));
  const stats = (from: number) => {
    let count = 0;
    let sum = 0;
    const end = Math.max(0, from + w);
    for (let i = Math.max(0, from); i < end; i++)
      if (Number.isFinite(history[i])) {
        sum += history[i];
        count++;
      }
    const mean = sum / count;
    let ss = 0;
    for (let i = Math.max(0, from); i < end; i++)
      if (Number.isFinite(history[i])) ss += (history[i] - mean) ** 2;
    return { mean, se2: ss / Math.max(1, count - 1) / count, count };
  };
  const late = stats(n - w);
  const early = stats(Math.floor(0.75 * n) - w);
  const drift = late.mean - early.mean;
  const stdError = Math.sqrt(late.se2 + early.se2);
  let reason: string | null = null;
  if (n < MIN_CONVERGENCE_STEPS)
    reason = `${n} step${n === 1 ? '' : 's'} are too few to test (at least ${MIN_CONVERGENCE_STEPS})`;
  else if (late.count < 2 || early.count < 2 || !Number.isFinite(drift))
    reason = 'the test windows hold too few finite ELBO values';
  else if (!(Math.abs(drift) <= tolerance * stdError))
    reason = `the ELBO still moves over the last quarter: ${fmt(drift)} +- ${fmt(stdError, 2)} nats (more than ${fmt(tolerance)} standard errors)`;
  return { steps: n, drift, stdError, finalElbo: late.mean, tolerance, converged: reason === null, reason };
}

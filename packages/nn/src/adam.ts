/**
 * Adam (Kingma & Ba 2015, "Adam: A method for stochastic optimization", Algorithm 1) over a list of
 * tf.Variables, with a learning-rate schedule and optional global-norm gradient clipping
 * (Pascanu et al. 2013): g <- g * min(1, clipNorm / ||g||_2) with ||g|| over all variables together.
 *
 *   m_t = b1 m_{t-1} + (1 - b1) g_t,   v_t = b2 v_{t-1} + (1 - b2) g_t^2,
 *   p_t = p_{t-1} - lr_t * mhat_t / (sqrt(vhat_t) + eps),  mhat = m / (1 - b1^t), vhat = v / (1 - b2^t).
 *
 * Every intermediate tensor is freed inside the step, so tf.memory().numTensors does not grow.
 */

import { checkOpenInterval, checkPositive, InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** A learning rate: constant or a function of the 0-based step index. */
export type LearningRate = number | ((step: number) => number);

/** Options of Adam. */
export interface AdamOptions {
  /** Learning rate or schedule (e.g. warmupCosine). */
  lr: LearningRate;
  /** First-moment decay (default 0.9). */
  beta1?: number;
  /** Second-moment decay (default 0.999). */
  beta2?: number;
  /** Denominator offset (default 1e-8). */
  eps?: number;
  /** Clip the global gradient norm to this value (default: no clipping). */
  clipNorm?: number;
}

/** Serialisable state of `Adam`, for checkpoints (`Adam.state()` / `Adam.restore()`). */
export interface AdamState {
  /** Updates applied so far (the schedule's step index and the bias-correction exponent). */
  t: number;
  skippedSteps: number;
  /** First and second moments, flattened in the order of the variables (float32 values). */
  m: number[];
  v: number[];
}

/**
 * Adam optimiser.
 *
 * @example
 * const w = tf.variable(tf.tensor1d([3, -2]));
 * const opt = new Adam([w], { lr: warmupCosine({ peak: 0.1, warmupSteps: 10, totalSteps: 500 }), clipNorm: 10 });
 * for (let i = 0; i < 500; i++) opt.step(() => tf.sum(tf.square(w)));
 * opt.dispose();
 */
/**
 * Frees the tensors the gradient tape saved for the backward pass of a loss that threw. tfjs keeps
 * them (so `tidy` does not free them) and frees them only after a completed backward pass; after a
 * throw the tape is dropped with them still held. Reads the engine's tape (tfjs-core 4.x
 * `engine().state.activeTape`, nodes with `saved` tensors); a no-op where that is absent.
 */
function disposeTapeSaved(): void {
  const state = (
    tf.engine() as unknown as {
      state?: { activeTape?: { saved?: tf.Tensor[] }[] | null; gradientDepth?: number };
    }
  ).state;
  if (!state || (state.gradientDepth ?? 0) !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
  state.activeTape = [];
}

export class Adam {
  readonly variables: readonly tf.Variable[];
  private readonly lr: (step: number) => number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly clipNorm: number | undefined;
  /** First and second moments of all variables, flattened and concatenated (one update kernel each). */
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private readonly sizes: number[];
  private t = 0;
  /** Steps skipped because the loss or the gradient was not finite (nothing updated). */
  skippedSteps = 0;
  /** Global gradient norm (before clipping) of the latest step; NaN before the first. */
  lastGradNorm = Number.NaN;

  constructor(variables: readonly tf.Variable[], options: AdamOptions) {
    if (variables.length === 0) {
      throw new InvalidArgumentError('variables', 'is empty', 'pass the trainable tf.Variables of the model');
    }
    const lr = options.lr;
    if (typeof lr === 'number') checkPositive('lr', lr);
    else if (typeof lr !== 'function')
      throw new InvalidArgumentError('lr', 'must be a number or a function of the step', 'pass e.g. 1e-3');
    this.lr = typeof lr === 'number' ? () => lr : lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    checkOpenInterval('beta1', this.beta1, 0, 1);
    checkOpenInterval('beta2', this.beta2, 0, 1);
    checkPositive('eps', this.eps);
    if (options.clipNorm !== undefined) checkPositive('clipNorm', options.clipNorm);
    this.clipNorm = options.clipNorm;
    this.variables = [...variables];
    this.sizes = this.variables.map((p) => p.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.tidy(() => tf.variable(tf.zeros([total]), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros([total]), false));
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.t;
  }

  /**
   * Evaluates the loss and its gradient, applies one update, and returns the loss as a number.
   * A non-finite loss, or a finite loss with a non-finite gradient, leaves the parameters and the
   * moment estimates unchanged, increments `skippedSteps`, and returns the loss (NaN when only the
   * gradient was non-finite). `lastGradNorm` holds the global gradient norm before clipping.
   */
  step(loss: () => tf.Scalar): number {
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      result = tf.variableGrads(loss, this.variables as tf.Variable[]);
    } catch (err) {
      disposeTapeSaved();
      throw err;
    }
    const { value, grads } = result;
    // one flat gradient (zeros for variables the loss does not depend on)
    const g = tf.tidy(() =>
      tf.concat(
        this.variables.map((p) => (grads[p.name] ? tf.reshape(grads[p.name], [-1]) : tf.zeros([p.size]))),
      ),
    );
    // loss and squared gradient norm read back together (one synchronisation per step)
    const [lossValue, normSq] = tf.tidy(() =>
      tf.stack([tf.reshape(value, []), tf.sum(tf.square(g))]).dataSync(),
    );
    tf.dispose(value);
    tf.dispose(grads);
    this.lastGradNorm = Math.sqrt(normSq);
    if (!Number.isFinite(lossValue) || !Number.isFinite(normSq)) {
      this.skippedSteps++;
      g.dispose();
      return Number.isFinite(lossValue) ? Number.NaN : lossValue;
    }
    const lrNow = this.lr(this.t);
    if (!Number.isFinite(lrNow) || lrNow < 0) {
      g.dispose();
      throw new InvalidArgumentError(
        'lr',
        `schedule returned ${lrNow} at step ${this.t}`,
        'return a finite learning rate >= 0',
      );
    }
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const alpha = (lrNow * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    const epsHat = this.eps * Math.sqrt(1 - b2 ** this.t);
    const scale =
      this.clipNorm !== undefined && this.lastGradNorm > this.clipNorm
        ? this.clipNorm / this.lastGradNorm
        : 1;
    tf.tidy(() => {
      const gs = scale === 1 ? g : tf.mul(g, scale);
      const m = tf.add(tf.mul(b1, this.m), tf.mul(1 - b1, gs));
      const v = tf.add(tf.mul(b2, this.v), tf.mul(1 - b2, tf.square(gs)));
      this.m.assign(m);
      this.v.assign(v);
      const delta = tf.split(tf.mul(alpha, tf.div(m, tf.add(tf.sqrt(v), epsHat))), this.sizes);
      this.variables.forEach((p, i) => {
        p.assign(tf.sub(p, tf.reshape(delta[i], p.shape)));
      });
    });
    g.dispose();
    return lossValue;
  }

  /**
   * The optimiser's state (step count, skipped steps, moments). With the model's weights and the
   * caller's random stream it resumes training exactly: `restore(state())` on an optimiser over the
   * same variables continues bit for bit.
   */
  state(): AdamState {
    return {
      t: this.t,
      skippedSteps: this.skippedSteps,
      m: Array.from(this.m.dataSync()),
      v: Array.from(this.v.dataSync()),
    };
  }

  /** Restores a state from `state()` of an optimiser over variables of the same sizes. */
  restore(state: AdamState): void {
    const total = this.m.size;
    if (
      !state ||
      !Number.isInteger(state.t) ||
      state.t < 0 ||
      !Number.isInteger(state.skippedSteps) ||
      state.skippedSteps < 0
    ) {
      throw new InvalidArgumentError(
        'state',
        'needs integer t >= 0 and skippedSteps >= 0',
        'pass the value returned by Adam.state()',
      );
    }
    if (state.m?.length !== total || state.v?.length !== total) {
      throw new InvalidArgumentError(
        'state',
        `holds moments of length ${state.m?.length} / ${state.v?.length}, this optimiser has ${total} parameters`,
        'restore into an optimiser over the same variables',
      );
    }
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(state.m));
      this.v.assign(tf.tensor1d(state.v));
    });
    this.t = state.t;
    this.skippedSteps = state.skippedSteps;
  }

  /** Frees the moment estimates (not the model's variables). */
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}

/** Options of warmupCosine. */
export interface WarmupCosineOptions {
  /** Learning rate at the end of the warm-up. */
  peak: number;
  /** Steps of linear warm-up from peak / warmupSteps to peak (0 for none). */
  warmupSteps: number;
  /** Total steps; after it the rate stays at `floor`. */
  totalSteps: number;
  /** Final learning rate (default 0). */
  floor?: number;
}

/**
 * Linear warm-up then cosine decay (Loshchilov & Hutter 2017, SGDR, without restarts):
 * lr(s) = peak (s + 1) / W for s < W, then floor + (peak - floor) (1 + cos(pi p)) / 2 with
 * p = (s - W) / (T - W) clamped to [0, 1].
 *
 * @example
 * const lr = warmupCosine({ peak: 1e-3, warmupSteps: 100, totalSteps: 5000, floor: 1e-5 });
 * lr(0); // 1e-5,  lr(99) = 1e-3,  lr(5000) = 1e-5
 */
export function warmupCosine(options: WarmupCosineOptions): (step: number) => number {
  const { peak, warmupSteps, totalSteps } = options;
  const floor = options.floor ?? 0;
  checkPositive('peak', peak);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new InvalidArgumentError(
      'warmupSteps',
      `must be an integer >= 0, got ${warmupSteps}`,
      'pass 0 for no warm-up',
    );
  }
  if (!Number.isInteger(totalSteps) || totalSteps <= warmupSteps) {
    throw new InvalidArgumentError(
      'totalSteps',
      `must be an integer > warmupSteps (${warmupSteps}), got ${totalSteps}`,
      'pass the planned number of steps',
    );
  }
  if (!(floor >= 0 && floor <= peak)) {
    throw new InvalidArgumentError(
      'floor',
      `must lie in [0, peak], got ${floor}`,
      'pass a final rate below the peak',
    );
  }
  return (step: number) => {
    if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
    const p = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * p));
  };
}

/**
 * Periodic 1-D U-Net on the coordinate index (docs/methods.md section 2), the noise predictor
 * eps_theta for spatially extended fields such as Kuramoto-Sivashinsky (docs/benchmarks.md T3).
 *
 * Architecture, input [N, W] read as [N, W, 1]:
 *   encoder level l (l = 0..L-1): ConvBlock(C_{l-1} -> base * mult[l]) then a strided conv (k = 2, s = 2)
 *   bottleneck: ConvBlock(C_{L-1} -> 2 C_{L-1}) ("bottleneck doubling channels")
 *   decoder level l (l = L-1..0): nearest-neighbour up-sampling, concatenation with the encoder
 *   output of level l (skip), ConvBlock(-> base * mult[l])
 *   head: 1 x 1 convolution to one channel.
 * ConvBlock = [conv(k = 5) -> batch norm -> Swish] x 2. Only the head has a bias: every other
 * convolution is followed, directly or through the down-sampling, by a convolution and a batch norm,
 * which removes a constant per channel, so a bias there has zero gradient and Adam would only turn
 * its rounding noise into steps of size lr (the PyTorch trajectory test found this; docs/findings.md,
 * score). Every convolution is circular
 * (`conv1dCircular` of @sdekit/nn), so the network commutes with circular shifts of the input by
 * multiples of 2^L (the down-sampling stride product): the coordinate lives on a periodic domain.
 *
 * Batch norm: in training mode, batch statistics over (batch, width) and an exponential running
 * average (momentum 0.9, i.e. PyTorch's 0.1) of them, with the unbiased variance; in evaluation mode,
 * the running averages.
 */

import { conv1dCircular } from '@sdekit/nn';
import { checkInteger, FormatError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Configuration of `UNet1d`. */
export interface UNet1dConfig {
  /** Input width W (number of coordinates); must be divisible by 2^levels. */
  width: number;
  /** Base channel count (16 for KS in docs/methods.md section 2). Default 16. */
  baseChannels?: number;
  /** Channel multipliers per level. Default [1, 2, 4] (three levels). */
  multipliers?: number[];
  /** Kernel size of the ConvBlock convolutions. Default 5. */
  kernelSize?: number;
  /** Running-average momentum of batch norm. Default 0.9. */
  bnMomentum?: number;
}

type Resolved = Required<UNet1dConfig>;

const BN_EPS = 1e-5;

/** Serialised U-Net. */
export interface UNet1dJSON {
  format: 'sdekit.unet1d';
  version: 1;
  config: Resolved;
  /** Parameter name -> float32 values (row-major), running statistics included. */
  weights: Record<string, number[]>;
}

interface ParamSpec {
  name: string;
  shape: number[];
  /** 'fan-in': U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (PyTorch's Conv1d default, for filters and biases). */
  init: 'fan-in' | 'zeros' | 'ones';
  trainable: boolean;
  /** Inputs per output of the filter this parameter belongs to (kernel size x input channels). */
  fanIn: number;
}

function resolve(config: UNet1dConfig): Resolved {
  const r: Resolved = {
    width: config.width,
    baseChannels: config.baseChannels ?? 16,
    multipliers: config.multipliers ?? [1, 2, 4],
    kernelSize: config.kernelSize ?? 5,
    bnMomentum: config.bnMomentum ?? 0.9,
  };
  checkInteger('width', r.width, 1);
  checkInteger('baseChannels', r.baseChannels, 1);
  checkInteger('kernelSize', r.kernelSize, 1);
  if (r.multipliers.length < 1 || r.multipliers.some((m) => !Number.isInteger(m) || m < 1)) {
    throw new InvalidArgumentError(
      'multipliers',
      `must be a non-empty list of positive integers, got [${r.multipliers}]`,
      'pass e.g. [1, 2, 4]',
    );
  }
  const factor = 2 ** r.multipliers.length;
  if (r.width % factor !== 0) {
    throw new InvalidArgumentError(
      'width',
      `${r.width} is not divisible by 2^levels = ${factor}`,
      'use fewer levels (shorter multipliers) or a width that is a multiple of 2^levels',
    );
  }
  if (!(r.bnMomentum >= 0 && r.bnMomentum < 1)) {
    throw new InvalidArgumentError('bnMomentum', `must lie in [0, 1), got ${r.bnMomentum}`, 'pass e.g. 0.9');
  }
  return r;
}

function parameterSpecs(c: Resolved): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const k = c.kernelSize;
  const block = (prefix: string, cin: number, cout: number) => {
    for (const [i, ci] of [
      [1, cin],
      [2, cout],
    ] as const) {
      specs.push({
        name: `${prefix}.conv${i}`,
        shape: [k, ci, cout],
        init: 'fan-in',
        trainable: true,
        fanIn: k * ci,
      });
      specs.push({
        name: `${prefix}.bn${i}.gamma`,
        shape: [cout],
        init: 'ones',
        trainable: true,
        fanIn: 0,
      });
      specs.push({
        name: `${prefix}.bn${i}.beta`,
        shape: [cout],
        init: 'zeros',
        trainable: true,
        fanIn: 0,
      });
      specs.push({
        name: `${prefix}.bn${i}.mean`,
        shape: [cout],
        init: 'zeros',
        trainable: false,
        fanIn: 0,
      });
      specs.push({
        name: `${prefix}.bn${i}.var`,
        shape: [cout],
        init: 'ones',
        trainable: false,
        fanIn: 0,
      });
    }
  };
  const chans = c.multipliers.map((m) => m * c.baseChannels);
  let cin = 1;
  chans.forEach((ch, l) => {
    block(`enc${l}`, cin, ch);
    specs.push({
      name: `down${l}.w`,
      shape: [2, ch, ch],
      init: 'fan-in',
      trainable: true,
      fanIn: 2 * ch,
    });
    cin = ch;
  });
  const bott = 2 * cin;
  block('bottleneck', cin, bott);
  let below = bott;
  for (let l = chans.length - 1; l >= 0; l--) {
    block(`dec${l}`, below + chans[l], chans[l]);
    below = chans[l];
  }
  specs.push({
    name: 'head.w',
    shape: [1, below, 1],
    init: 'fan-in',
    trainable: true,
    fanIn: below,
  });
  specs.push({ name: 'head.b', shape: [1], init: 'fan-in', trainable: true, fanIn: below });
  return specs;
}

/**
 * Weights written before the down-sampling convolutions lost their bias (`down{l}.b`, see the module
 * comment), with each bias folded exactly into the batch norm that follows: a constant b added before
 * the next circular convolution W adds c[o] = sum_{t, i} W[t, i, o] b[i] to every position of output
 * channel o, which the batch statistics remove in training mode and `mean -= c` removes in evaluation
 * mode. Returns the weights unchanged when they hold no such bias.
 */
function foldDownSamplingBiases(
  c: Resolved,
  weights: Record<string, ArrayLike<number>>,
): Record<string, ArrayLike<number>> {
  const levels = c.multipliers.length;
  if (!Array.from({ length: levels }, (_, l) => `down${l}.b`).some((name) => name in weights)) return weights;
  const out: Record<string, ArrayLike<number>> = { ...weights };
  for (let l = 0; l < levels; l++) {
    const bias = weights[`down${l}.b`];
    if (!bias) continue;
    const next = l + 1 < levels ? `enc${l + 1}` : 'bottleneck';
    const filter = weights[`${next}.conv1`];
    const mean = weights[`${next}.bn1.mean`];
    const cin = bias.length;
    if (!filter || !mean || filter.length !== c.kernelSize * cin * mean.length)
      throw new FormatError(
        'UNet1d weights',
        `parameter ${next}.conv1 or ${next}.bn1.mean missing or of wrong size`,
      );
    const cout = mean.length;
    const folded = Float64Array.from(mean);
    for (let t = 0; t < c.kernelSize; t++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) folded[o] -= filter[(t * cin + i) * cout + o] * bias[i];
    out[`${next}.bn1.mean`] = folded;
    delete out[`down${l}.b`];
  }
  return out;
}

/**
 * Periodic 1-D U-Net (see the module comment for the architecture and its source).
 *
 * @example
 * const net = new UNet1d({ width: 32, baseChannels: 16 }, 7);
 * const eps = tf.tidy(() => net.apply(tf.randomNormal([4, 32]) as tf.Tensor2D, false)); // [4, 32]
 * net.dispose();
 */
export class UNet1d {
  readonly config: Resolved;
  /** Trainable variables (convolution filters, biases, batch-norm scales and offsets). */
  readonly variables: tf.Variable[];
  private readonly params = new Map<string, tf.Variable>();
  private readonly specs: ParamSpec[];

  /**
   * Initialises weights from `Rng.fromSeed(seed)` in float64: every filter and bias
   * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = kernel size x input channels (PyTorch's Conv1d
   * default, the rule of every network of sdekit; docs/methods.md section 2), batch-norm scales 1 and
   * offsets 0. The ConvBlock convolutions have no bias, since the batch norm after them removes it.
   */
  constructor(config: UNet1dConfig, seed: number, weights?: Record<string, ArrayLike<number>>) {
    this.config = resolve(config);
    this.specs = parameterSpecs(this.config);
    if (weights) weights = foldDownSamplingBiases(this.config, weights);
    const rng = Rng.fromSeed(seed, 0);
    for (const s of this.specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      let values: Float32Array;
      if (weights) {
        const w = weights[s.name];
        if (!w || w.length !== size)
          throw new FormatError('UNet1d weights', `parameter ${s.name} missing or of wrong size`);
        values = Float32Array.from(w);
      } else {
        values = new Float32Array(size);
        if (s.init === 'ones') values.fill(1);
        else if (s.init === 'fan-in') {
          const a = 1 / Math.sqrt(s.fanIn);
          for (let i = 0; i < size; i++) values[i] = a * (2 * rng.uniform() - 1);
        }
      }
      const init = tf.tensor(values, s.shape);
      this.params.set(s.name, tf.variable(init, s.trainable));
      init.dispose();
    }
    this.variables = this.specs.filter((s) => s.trainable).map((s) => this.params.get(s.name)!);
  }

  /** Number of trainable scalars. */
  get numParams(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  private batchNorm(x: tf.Tensor3D, prefix: string, training: boolean): tf.Tensor3D {
    const gamma = this.p(`${prefix}.gamma`);
    const beta = this.p(`${prefix}.beta`);
    const runMean = this.p(`${prefix}.mean`);
    const runVar = this.p(`${prefix}.var`);
    if (!training) {
      return tf.add(tf.mul(tf.sub(x, runMean), tf.mul(tf.rsqrt(tf.add(runVar, BN_EPS)), gamma)), beta);
    }
    const { mean, variance } = tf.moments(x, [0, 1]);
    const m = this.config.bnMomentum;
    // Running averages for evaluation mode; not on the path to the loss, so no gradient flows here.
    // The running variance averages the unbiased batch variance (factor n / (n - 1), n = N W values
    // per channel), as PyTorch's BatchNorm1d does; the normalisation itself uses the biased one.
    const n = x.shape[0] * x.shape[1];
    const unbiased = n > 1 ? n / (n - 1) : 1;
    runMean.assign(tf.add(tf.mul(runMean, m), tf.mul(mean, 1 - m)));
    runVar.assign(tf.add(tf.mul(runVar, m), tf.mul(variance, (1 - m) * unbiased)));
    return tf.add(tf.mul(tf.sub(x, mean), tf.mul(tf.rsqrt(tf.add(variance, BN_EPS)), gamma)), beta);
  }

  private convBlock(x: tf.Tensor3D, prefix: string, training: boolean): tf.Tensor3D {
    let h = x;
    for (const i of [1, 2]) {
      h = conv1dCircular(h, this.p(`${prefix}.conv${i}`) as tf.Tensor3D, 1);
      h = this.batchNorm(h, `${prefix}.bn${i}`, training);
      h = tf.mul(h, tf.sigmoid(h)); // Swish
    }
    return h;
  }

  /**
   * eps_theta(x) for x [N, W]; returns [N, W]. `training` selects batch statistics (and updates the
   * running averages) or the running averages. Call inside tf.tidy.
   */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const [n, w] = x.shape;
    if (w !== this.config.width) {
      throw new InvalidArgumentError(
        'x',
        `has width ${w}, the U-Net was built for ${this.config.width}`,
        'pass [N, width] inputs',
      );
    }
    const levels = this.config.multipliers.length;
    let h = tf.reshape(x, [n, w, 1]) as tf.Tensor3D;
    const skips: tf.Tensor3D[] = [];
    for (let l = 0; l < levels; l++) {
      h = this.convBlock(h, `enc${l}`, training);
      skips.push(h);
      h = conv1dCircular(h, this.p(`down${l}.w`) as tf.Tensor3D, 2);
    }
    h = this.convBlock(h, 'bottleneck', training);
    for (let l = levels - 1; l >= 0; l--) {
      const [b, wl, c] = h.shape;
      // Nearest-neighbour up-sampling: every position repeated twice.
      const h4 = tf.reshape(h, [b, wl, 1, c]);
      const up = tf.reshape(tf.concat([h4, h4], 2), [b, 2 * wl, c]) as tf.Tensor3D;
      h = this.convBlock(tf.concat([up, skips[l]], 2), `dec${l}`, training);
    }
    const out = tf.add(conv1dCircular(h, this.p('head.w') as tf.Tensor3D, 1), this.p('head.b'));
    return tf.reshape(out, [n, w]) as tf.Tensor2D;
  }

  toJSON(): UNet1dJSON {
    const weights: Record<string, number[]> = {};
    for (const s of this.specs) weights[s.name] = Array.from(this.p(s.name).dataSync());
    return { format: 'sdekit.unet1d', version: 1, config: { ...this.config }, weights };
  }

  static fromJSON(json: UNet1dJSON): UNet1d {
    if (json?.format !== 'sdekit.unet1d' || json.version !== 1) {
      throw new FormatError(
        'UNet1d',
        `expected format sdekit.unet1d version 1, got ${json?.format} ${json?.version}`,
      );
    }
    return new UNet1d(json.config, 0, json.weights);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

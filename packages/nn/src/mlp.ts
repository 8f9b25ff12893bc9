/**
 * Multilayer perceptron with seeded initialisation and a functional (flat-parameter) form.
 *
 * Layer l computes h_{l+1} = act(h_l W_l + b_l) (no activation after the last layer). Two
 * initialisations, drawn in float64 from `Rng` and rounded to float32, so the same seed gives the same
 * network everywhere:
 * - 'fan-in' (default): W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the default of PyTorch's
 *   nn.Linear (Kaiming-uniform with a = sqrt(5) for the weights, the same bound for the biases). For
 *   narrow inputs (fan_in 1-4: a 2-D score, a flow conditioner) its first layer is several times wider
 *   than Glorot's, so the network does not start almost linear; on the two-moons references it is what
 *   brings DSM and RealNVP to PyTorch's loss in the same steps (docs/findings.md, nn);
 * - 'glorot': W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010), biases 0.
 * Weights are drawn before biases, layer by layer. `zeroInitOutput` zeroes the last layer, so the network outputs exactly 0 at
 * initialisation (used by flow couplings to start at the identity).
 *
 * Flat layout (getFlat, setFlat, applyFlat): W_0 (row-major [in, out]), b_0, W_1, b_1, ...
 */

import { checkInteger, DimensionError, FormatError, InvalidArgumentError, Rng } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type ActivationName, activation, checkActivation } from './activation.js';
import { dense } from './dense.js';
import { assignFlat, flatten, numElements, unflatten } from './flat.js';

/** Architecture of an Mlp. */
export interface MlpConfig {
  /** Width of the input. */
  inputDim: number;
  /** Widths of the hidden layers (may be empty: an affine map). */
  hiddenDims: readonly number[];
  /** Width of the output. */
  outputDim: number;
  /** Hidden activation (default 'swish'). */
  activation?: ActivationName;
  /** Zero the last layer's weights and bias at initialisation (default false). */
  zeroInitOutput?: boolean;
  /** Initialisation of the weights and biases (module comment; default 'fan-in'). */
  init?: MlpInit;
}

/** Initialisations of an Mlp: PyTorch's fan-in uniform, or Glorot-uniform with zero biases. */
export type MlpInit = 'glorot' | 'fan-in';

/** Serialised Mlp (format 'sdekit.mlp', version 1). */
export interface MlpJSON {
  format: 'sdekit.mlp';
  version: 1;
  /**
   * The architecture. `init` records how the network was first initialised (absent in files written
   * before it existed, whose networks were 'glorot'); it does not affect loading, which sets every
   * weight.
   */
  config: Omit<Required<MlpConfig>, 'init'> & { init?: MlpInit };
  params: number[];
}

/** Parameter shapes of an Mlp with this architecture, in flat-layout order. */
export function mlpParamShapes(config: MlpConfig): number[][] {
  const widths = [config.inputDim, ...config.hiddenDims, config.outputDim];
  const shapes: number[][] = [];
  for (let l = 0; l + 1 < widths.length; l++) shapes.push([widths[l], widths[l + 1]], [widths[l + 1]]);
  return shapes;
}

/**
 * A seeded multilayer perceptron on tf.Variables.
 *
 * @example
 * const net = new Mlp({ inputDim: 2, hiddenDims: [64, 64], outputDim: 1, activation: 'swish' }, 42);
 * const y = net.apply(tf.randn([16, 2]));                 // [16, 1]
 * const theta = tf.tensor1d(net.getFlat());
 * const y2 = net.applyFlat(tf.randn([16, 2]), theta);     // same network, differentiable in theta
 * net.dispose();
 */
export class Mlp {
  readonly config: Required<MlpConfig>;
  /** W_0, b_0, W_1, b_1, ... (trainable). */
  readonly variables: tf.Variable[];
  /** Shapes of `variables`, in flat-layout order. */
  readonly paramShapes: number[][];
  /** Total number of scalar parameters. */
  readonly numParams: number;
  private readonly act: <T extends tf.Tensor>(x: T) => T;

  constructor(config: MlpConfig, seed: number | Rng) {
    checkInteger('inputDim', config.inputDim, 1);
    checkInteger('outputDim', config.outputDim, 1);
    if (!Array.isArray(config.hiddenDims)) {
      throw new InvalidArgumentError(
        'hiddenDims',
        'must be an array of layer widths',
        'pass e.g. [64, 64] (or [] for an affine map)',
      );
    }
    config.hiddenDims.forEach((h, i) => {
      checkInteger(`hiddenDims[${i}]`, h, 1);
    });
    const act = config.activation ?? 'swish';
    checkActivation(act);
    this.config = {
      inputDim: config.inputDim,
      hiddenDims: [...config.hiddenDims],
      outputDim: config.outputDim,
      activation: act,
      zeroInitOutput: config.zeroInitOutput ?? false,
      init: config.init ?? 'fan-in',
    };
    if (this.config.init !== 'glorot' && this.config.init !== 'fan-in')
      throw new InvalidArgumentError(
        'init',
        `unknown initialisation '${String(config.init)}'`,
        "pass 'glorot' or 'fan-in'",
      );
    this.act = activation(act);
    this.paramShapes = mlpParamShapes(this.config);
    this.numParams = numElements(this.paramShapes);
    const rng = typeof seed === 'number' ? Rng.fromSeed(seed) : seed;
    const nLayers = this.paramShapes.length / 2;
    this.variables = this.paramShapes.map((shape, k) => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      const isWeight = k % 2 === 0;
      const isLast = Math.floor(k / 2) === nLayers - 1;
      const fanIn = this.paramShapes[k - (k % 2)][0];
      if (!(isLast && this.config.zeroInitOutput)) {
        const a =
          this.config.init === 'fan-in'
            ? 1 / Math.sqrt(fanIn)
            : isWeight
              ? Math.sqrt(6 / (shape[0] + shape[1]))
              : 0;
        if (a > 0) for (let i = 0; i < values.length; i++) values[i] = a * (2 * rng.uniform() - 1);
      }
      return tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
    });
  }

  /** Forward pass with explicit parameter tensors laid out as `variables`. */
  applyParams(x: tf.Tensor2D, params: readonly tf.Tensor[]): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.config.inputDim) {
      throw new DimensionError(
        'x',
        `shape [${x.shape}] does not match inputDim ${this.config.inputDim}`,
        'pass a [batch, inputDim] tensor',
      );
    }
    return tf.tidy(() => {
      let h = x;
      const nLayers = params.length / 2;
      for (let l = 0; l < nLayers; l++) {
        h = dense(h, params[2 * l] as tf.Tensor2D, params[2 * l + 1] as tf.Tensor1D);
        if (l < nLayers - 1) h = this.act(h);
      }
      return h;
    });
  }

  /** Output for a batch x: [N, inputDim] -> [N, outputDim]. Differentiable in `variables`. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.applyParams(x, this.variables);
  }

  /**
   * Functional form: the same network with parameters theta[offset, offset + numParams) in the flat
   * layout. Differentiable in theta.
   */
  applyFlat(x: tf.Tensor2D, theta: tf.Tensor1D, offset = 0): tf.Tensor2D {
    return tf.tidy(() => this.applyParams(x, unflatten(theta, this.paramShapes, offset)));
  }

  /** Current parameters in the flat layout. */
  getFlat(): Float32Array {
    return flatten(this.variables);
  }

  /** Overwrites the parameters from a flat vector of length numParams. */
  setFlat(values: ArrayLike<number>): void {
    assignFlat(this.variables, values, 'values');
  }

  toJSON(): MlpJSON {
    return {
      format: 'sdekit.mlp',
      version: 1,
      config: { ...this.config, hiddenDims: [...this.config.hiddenDims] },
      params: Array.from(this.getFlat()),
    };
  }

  /** Restores an Mlp written by toJSON(). Throws FormatError for another format or version. */
  static fromJSON(json: MlpJSON): Mlp {
    if (json?.format !== 'sdekit.mlp')
      throw new FormatError('Mlp.fromJSON', `format is '${json?.format}', expected 'sdekit.mlp'`);
    if (json.version !== 1)
      throw new FormatError('Mlp.fromJSON', `version ${json.version} is not supported (expected 1)`);
    // A file without `init` predates the record, when every Mlp started Glorot-uniform.
    const net = new Mlp({ ...json.config, init: json.config.init ?? 'glorot' }, 0);
    net.setFlat(json.params);
    return net;
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

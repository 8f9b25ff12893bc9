/**
 * Noise-prediction networks eps_theta and the score model they define, s_sigma(x) = -eps_theta(x) / sigma
 * (docs/methods.md section 2). Shared by denoising score matching (`trainDsm`) and KGMM (`kgmm`), whose
 * interpolating MLP is fitted to cell averages of the same noise vectors.
 */

import { Mlp, type MlpInit, type MlpJSON } from '@sdekit/nn';
import { checkBatch, DimensionError, FormatError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { ScoreModelJSON, SerializableScoreModel } from './score-model.js';
import { UNet1d, type UNet1dJSON } from './unet.js';

/** A network predicting the noise z from a perturbed point x~ = x + sigma z. */
export interface EpsNetwork {
  readonly kind: 'mlp' | 'unet';
  readonly variables: readonly tf.Variable[];
  readonly numParams: number;
  /** eps_theta(x) for x [N, D]; `training` matters for batch norm only. Call inside tf.tidy. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D;
  toJSON(): MlpJSON | UNet1dJSON;
  dispose(): void;
}

/** Swish MLP eps_theta (docs/methods.md section 2: "an MLP for D <= ~8"). */
export class MlpEpsNetwork implements EpsNetwork {
  readonly kind = 'mlp' as const;
  readonly mlp: Mlp;
  constructor(mlp: Mlp) {
    this.mlp = mlp;
  }
  static create(dim: number, hiddenDims: readonly number[], seed: number, init?: MlpInit): MlpEpsNetwork {
    return new MlpEpsNetwork(
      new Mlp(
        { inputDim: dim, hiddenDims: [...hiddenDims], outputDim: dim, activation: 'swish', init },
        seed,
      ),
    );
  }
  get variables(): readonly tf.Variable[] {
    return this.mlp.variables;
  }
  get numParams(): number {
    return this.mlp.numParams;
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.mlp.apply(x);
  }
  toJSON(): MlpJSON {
    return this.mlp.toJSON();
  }
  dispose(): void {
    this.mlp.dispose();
  }
}

/** Periodic 1-D U-Net eps_theta (docs/methods.md section 2, for spatially extended fields). */
export class UNetEpsNetwork implements EpsNetwork {
  readonly kind = 'unet' as const;
  readonly unet: UNet1d;
  constructor(unet: UNet1d) {
    this.unet = unet;
  }
  get variables(): readonly tf.Variable[] {
    return this.unet.variables;
  }
  get numParams(): number {
    return this.unet.numParams;
  }
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return this.unet.apply(x, training);
  }
  toJSON(): UNet1dJSON {
    return this.unet.toJSON();
  }
  dispose(): void {
    this.unet.dispose();
  }
}

/** Restores an eps network written by `EpsNetwork.toJSON()` (MLP or U-Net, with its running statistics). */
export function epsNetworkFromJSON(json: MlpJSON | UNet1dJSON): EpsNetwork {
  return json.format === 'sdekit.unet1d'
    ? new UNetEpsNetwork(UNet1d.fromJSON(json))
    : new MlpEpsNetwork(Mlp.fromJSON(json as MlpJSON));
}

/** Serialised `NetworkScore`. */
export interface NetworkScoreJSON extends ScoreModelJSON {
  format: 'sdekit.network-score';
  version: 1;
  method: 'dsm' | 'kgmm';
  dim: number;
  sigma: number;
  network: MlpJSON | UNet1dJSON;
  heldOutLoss: number | null;
}

/** Points per network evaluation in `score` (bounds tensor memory). */
const SCORE_CHUNK = 8192;

/**
 * The score of the smoothed density p_sigma represented by a noise-prediction network:
 * s_sigma(x) = -eps_theta(x) / sigma (docs/methods.md section 2). Returned by `trainDsm` and `kgmm`.
 *
 * @example
 * const { model } = trainDsm(data, 2, { sigma: 0.05, network: 'mlp', steps: 2000, seed: 1 });
 * const s = model.score(Float64Array.of(0, 0));   // s_sigma at the origin
 * const copy = NetworkScore.fromJSON(model.toJSON());
 */
export class NetworkScore implements SerializableScoreModel {
  readonly dim: number;
  readonly sigma: number;
  readonly method: 'dsm' | 'kgmm';
  readonly network: EpsNetwork;
  /** Final held-out loss (mean squared noise error per coordinate), when one was computed. */
  readonly heldOutLoss: number | null;

  constructor(
    dim: number,
    sigma: number,
    method: 'dsm' | 'kgmm',
    network: EpsNetwork,
    heldOutLoss: number | null = null,
  ) {
    this.dim = dim;
    this.sigma = sigma;
    this.method = method;
    this.network = network;
    this.heldOutLoss = heldOutLoss;
  }

  /** s_sigma(x) as a tensor (eval mode), for differentiable use. Call inside tf.tidy. */
  scoreTensor(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(this.network.apply(x, false), -1 / this.sigma);
  }

  score(points: Float64Array): Float64Array {
    const d = this.dim;
    const n = checkBatch('points', points, d);
    const out = new Float64Array(n * d);
    const scale = -1 / this.sigma;
    for (let start = 0; start < n; start += SCORE_CHUNK) {
      const count = Math.min(SCORE_CHUNK, n - start);
      const x32 = new Float32Array(count * d);
      for (let i = 0; i < count * d; i++) x32[i] = points[start * d + i];
      const eps = tf.tidy(() => this.network.apply(tf.tensor2d(x32, [count, d]), false).dataSync());
      for (let i = 0; i < count * d; i++) out[start * d + i] = scale * eps[i];
    }
    return out;
  }

  toJSON(): NetworkScoreJSON {
    return {
      format: 'sdekit.network-score',
      version: 1,
      method: this.method,
      dim: this.dim,
      sigma: this.sigma,
      network: this.network.toJSON(),
      heldOutLoss: this.heldOutLoss,
    };
  }

  static fromJSON(json: NetworkScoreJSON): NetworkScore {
    if (json?.format !== 'sdekit.network-score' || json.version !== 1) {
      throw new FormatError(
        'NetworkScore',
        `expected format sdekit.network-score version 1, got ${json?.format} ${json?.version}`,
      );
    }
    const net = epsNetworkFromJSON(json.network);
    if (net.kind === 'unet' && (net as UNetEpsNetwork).unet.config.width !== json.dim) {
      throw new DimensionError(
        'network',
        `U-Net width ${(net as UNetEpsNetwork).unet.config.width} != dim ${json.dim}`,
        'load a consistent file',
      );
    }
    return new NetworkScore(json.dim, json.sigma, json.method, net, json.heldOutLoss);
  }

  dispose(): void {
    this.network.dispose();
  }
}

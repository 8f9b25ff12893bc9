/**
 * The transform interface shared by every layer of a flow.
 *
 * Direction convention (used throughout @sdekit/flows): a flow maps base noise z ~ N(0, I) to data x.
 * A transform's `forward` is the generative direction (base side u -> data side v) and returns
 * log|det dv/du| per row; `inverse` maps v -> u and returns log|det du/dv| = -log|det dv/du|.
 * Both directions are analytic for every transform here, so sampling and density evaluation cost the
 * same (unlike autoregressive flows).
 *
 * Parameters are passed explicitly (`params`), so one implementation serves the variable API
 * (params = the transform's own tf.Variables) and the functional API (params = slices of a flat
 * theta; docs/methods.md §4-5 need derivatives in theta).
 */

import type { ActivationName, MlpInit } from '@sdekit/nn';
import type * as tf from '@tensorflow/tfjs-core';

/** Output of a transform: the mapped batch and log|det Jacobian| per row (null when identically 0). */
export interface TransformResult {
  y: tf.Tensor2D;
  logDet: tf.Tensor1D | null;
}

/** Serialised configuration of a transform (its parameters are stored by the Flow). */
export type TransformJSON =
  | {
      type: 'AffineCoupling';
      dim: number;
      contextDim: number;
      identityDims: number;
      hiddenDims: number[];
      activation: ActivationName;
      init?: MlpInit;
      logScaleBound: number;
    }
  | {
      type: 'RationalQuadraticSplineCoupling';
      dim: number;
      contextDim: number;
      identityDims: number;
      hiddenDims: number[];
      activation: ActivationName;
      init?: MlpInit;
      bins: number;
      bound: number;
    }
  | { type: 'ElementwiseAffine'; dim: number; dataInit: boolean; initialized: boolean }
  | { type: 'SinhArcsinh'; dim: number }
  | { type: 'LowRankMixing'; dim: number; rank: number }
  | { type: 'Permutation'; dim: number; permutation: number[] }
  | { type: 'OrthogonalMixing'; dim: number; matrix: number[] };

/** An invertible map of R^dim with a tractable log-determinant, optionally conditioned on a context. */
export interface Transform {
  /** Width of the points it maps. */
  readonly dim: number;
  /** Width of the context input (0: unconditional). */
  readonly contextDim: number;
  /** Trainable parameters, in flat-layout order. Empty for fixed transforms. */
  readonly variables: readonly tf.Variable[];
  /** Shapes of `variables`. */
  readonly paramShapes: readonly number[][];
  /** Number of scalar parameters. */
  readonly numParams: number;
  /** Base side -> data side with log|det dv/du|. */
  forward(u: tf.Tensor2D, params: readonly tf.Tensor[], context: tf.Tensor2D | null): TransformResult;
  /** Data side -> base side with log|det du/dv|. */
  inverse(v: tf.Tensor2D, params: readonly tf.Tensor[], context: tf.Tensor2D | null): TransformResult;
  /** Data-dependent initialisation from a batch of data-side inputs (ActNorm); optional. */
  initializeFromData?(v: tf.Tensor2D): void;
  toJSON(): TransformJSON;
  /** Frees the variables. */
  dispose(): void;
}

/**
 * Ready-made flows. Generative order (base -> data):
 *
 *   z -> C_1 -> P_1 -> C_2 -> P_2 -> ... -> C_L -> ElementwiseAffine (data-initialised) -> x
 *
 * with C_l couplings and P_l fixed permutations / orthogonal mixings between them. The final
 * ElementwiseAffine standardises the data at the start of fit (so the coupling layers, and the spline
 * interval [-B, B], see unit-scale inputs). At construction every layer is the identity or volume
 * preserving, so the flow's density is exactly the standard normal until trained.
 */
import type { ActivationName, MlpInit } from '@sdekit/nn';
import { checkInteger, InvalidArgumentError, Rng } from '@sdekit/sde';
import { AffineCoupling, RationalQuadraticSplineCoupling } from './coupling.js';
import { ElementwiseAffine } from './elementwise.js';
import { Flow } from './flow.js';
import { OrthogonalMixing, Permutation } from './linear.js';
import type { Transform } from './transform.js';

/** Options shared by the factories. */
export interface FlowFactoryOptions {
  /** Dimension of the data. */
  dim: number;
  /** Number of coupling layers (>= 1; default 6). */
  layers?: number;
  /** Hidden width (two hidden layers of this width) or explicit hidden widths (default 64). */
  hidden?: number | readonly number[];
  /** Conditioner activation (default 'swish'). */
  activation?: ActivationName;
  /** Initialisation of the conditioners (@sdekit/nn `MlpInit`; default the Mlp's). */
  init?: MlpInit;
  /** Context width for conditional flows (default 0). */
  contextDim?: number;
  /** Mixing between couplings: 'reverse' (default), 'random' permutation, or 'orthogonal'. */
  mixing?: 'reverse' | 'random' | 'orthogonal';
  /** Append a data-initialised ElementwiseAffine at the data end (default true). */
  actNorm?: boolean;
  /** Seed of the weight initialisation and random mixings. */
  seed: number;
}

function hiddenDims(hidden: number | readonly number[] | undefined): number[] {
  if (hidden === undefined) return [64, 64];
  if (typeof hidden === 'number') {
    checkInteger('hidden', hidden, 1);
    return [hidden, hidden];
  }
  return [...hidden];
}

function build(o: FlowFactoryOptions, coupling: (rng: Rng) => Transform): Flow {
  checkInteger('dim', o.dim, 1);
  const layers = o.layers ?? 6;
  if (!Number.isInteger(layers) || layers < 1) {
    throw new InvalidArgumentError(
      'layers',
      `must be an integer >= 1, got ${layers}`,
      'pass the number of coupling layers, e.g. 6',
    );
  }
  const mixing = o.mixing ?? 'reverse';
  if (!['reverse', 'random', 'orthogonal'].includes(mixing)) {
    throw new InvalidArgumentError(
      'mixing',
      `unknown mixing '${mixing}'`,
      "use 'reverse', 'random' or 'orthogonal'",
    );
  }
  const rng = Rng.fromSeed(o.seed);
  const transforms: Transform[] = [];
  for (let l = 0; l < layers; l++) {
    transforms.push(coupling(rng));
    if (l < layers - 1 && o.dim > 1) {
      if (mixing === 'reverse') transforms.push(Permutation.reverse(o.dim));
      else if (mixing === 'random') transforms.push(Permutation.random(o.dim, rng));
      else transforms.push(OrthogonalMixing.random(o.dim, rng));
    }
  }
  if (o.actNorm ?? true) transforms.push(new ElementwiseAffine({ dim: o.dim, dataInit: true }));
  return new Flow(transforms);
}

/**
 * RealNVP (Dinh et al. 2017): affine couplings with tanh-bounded log-scales.
 *
 * @example
 * const flow = realNvp({ dim: 8, layers: 6, hidden: 64, seed: 1 });
 * flow.fit(data, { seed: 2, steps: 3000 });
 */
export function realNvp(options: FlowFactoryOptions & { logScaleBound?: number }): Flow {
  const hd = hiddenDims(options.hidden);
  return build(
    options,
    (rng) =>
      new AffineCoupling(
        {
          dim: options.dim,
          contextDim: options.contextDim,
          hiddenDims: hd,
          activation: options.activation,
          init: options.init,
          logScaleBound: options.logScaleBound,
        },
        rng,
      ),
  );
}

/**
 * Neural spline flow (Durkan et al. 2019): rational-quadratic spline couplings with K bins on [-B, B].
 *
 * @example
 * const flow = splineFlow({ dim: 2, layers: 4, hidden: 64, bins: 8, bound: 5, seed: 1 });
 * flow.fit(data, { seed: 2, steps: 2000 });
 */
export function splineFlow(options: FlowFactoryOptions & { bins?: number; bound?: number }): Flow {
  const hd = hiddenDims(options.hidden);
  return build(
    options,
    (rng) =>
      new RationalQuadraticSplineCoupling(
        {
          dim: options.dim,
          contextDim: options.contextDim,
          hiddenDims: hd,
          activation: options.activation,
          init: options.init,
          bins: options.bins,
          bound: options.bound,
        },
        rng,
      ),
  );
}

/**
 * Pointwise activations by name, so a network's activation can be stored in JSON.
 *
 * swish(x) = x sigmoid(x) (Ramachandran et al. 2017, "Searching for activation functions"),
 * softplus(x) = log(1 + e^x), tanh, relu, and the identity ('linear').
 */

import { InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Names of the supported activations. */
export type ActivationName = 'swish' | 'tanh' | 'relu' | 'softplus' | 'linear';

/** All supported activation names, for validation and documentation. */
export const ACTIVATIONS: readonly ActivationName[] = ['swish', 'tanh', 'relu', 'softplus', 'linear'];

// swish with its derivative s(x) (1 + x (1 - s(x))) as one tape node: fewer kernels than the
// composed sigmoid-multiply gradient.
const swishWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const s = tf.sigmoid(x);
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, ss] = saved;
      return [tf.mul(dy, tf.mul(ss, tf.add(1, tf.mul(sx, tf.sub(1, ss)))))];
    },
  };
});

/** Throws InvalidArgumentError unless `name` is a supported activation. */
export function checkActivation(name: string): asserts name is ActivationName {
  if (!(ACTIVATIONS as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(
      'activation',
      `unknown activation '${name}'`,
      `use one of ${ACTIVATIONS.join(', ')}`,
    );
  }
}

/**
 * The activation function called `name`.
 *
 * @example
 * const f = activation('swish');
 * const y = f(tf.tensor1d([-1, 0, 1])); // [-0.2689, 0, 0.7311]
 */
export function activation(name: ActivationName): <T extends tf.Tensor>(x: T) => T {
  checkActivation(name);
  switch (name) {
    case 'swish':
      return <T extends tf.Tensor>(x: T) => swishWithGrad(x) as T;
    case 'tanh':
      return <T extends tf.Tensor>(x: T) => tf.tanh(x);
    case 'relu':
      return <T extends tf.Tensor>(x: T) => tf.relu(x);
    case 'softplus':
      return <T extends tf.Tensor>(x: T) => tf.softplus(x);
    case 'linear':
      return <T extends tf.Tensor>(x: T) => x;
  }
}

// A point-like posterior at c = delta e_1 of a subspace posterior, for the likelihood-check tests:
// same shape and prior, location delta along the top Gauss-Newton direction, scale 1e-6.
import type { TimeSeries } from '@sdekit/sde';
import { AveragedPosterior, Posterior } from '../src/index.js';

/** The likelihoodCheck of the point-like posterior at c = delta e_1 (2 draws, fixed fast samples). */
export function pointLikeCheck(
  post: AveragedPosterior,
  slow: TimeSeries,
  delta: number,
  fastSamples: number,
) {
  const shape = post.posterior.shape;
  // Layout [mu | logScale | U | V] (layers = 0): mu = delta e_1, scale 1e-6, q's own mixing.
  const params = Float64Array.from(post.posterior.params);
  params.fill(0, 0, shape.dim);
  params[0] = delta;
  params.fill(Math.log(1e-6), shape.dim, 2 * shape.dim);
  const q = new Posterior(shape, params, post.posterior.prior);
  const moved = new AveragedPosterior(post.model, q, post.fitted, post.basis, post.eigenvalues);
  return moved.likelihoodCheck(slow, { draws: 2, fastSamples, seed: 2 });
}

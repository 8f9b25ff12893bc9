/**
 * @sdekit/flows: normalizing flows on TensorFlow.js (imports only @tensorflow/tfjs-core).
 */
export type { Transform, TransformJSON, TransformResult } from './transform.js';
export {
  AffineCoupling,
  RationalQuadraticSplineCoupling,
  type AffineCouplingOptions,
  type CouplingOptions,
  type SplineCouplingOptions,
} from './coupling.js';
export { ElementwiseAffine, ElementwiseAffine as ActNorm, type ElementwiseAffineOptions } from './elementwise.js';
export { Permutation, OrthogonalMixing } from './linear.js';
export { rqsForward, rqsInverse } from './spline.js';
export { Flow, type FitHistory, type FitOptions, type FitProgress, type FlowJSON } from './flow.js';
export { realNvp, splineFlow, type FlowFactoryOptions } from './factories.js';

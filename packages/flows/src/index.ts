/**
 * @sdekit/flows: normalizing flows on TensorFlow.js (imports only @tensorflow/tfjs-core).
 */

export {
  AffineCoupling,
  type AffineCouplingOptions,
  type CouplingOptions,
  RationalQuadraticSplineCoupling,
  type SplineCouplingOptions,
} from './coupling.js';
export {
  ElementwiseAffine,
  ElementwiseAffine as ActNorm,
  type ElementwiseAffineOptions,
} from './elementwise.js';
export { type FlowFactoryOptions, realNvp, splineFlow } from './factories.js';
export { type FitHistory, type FitOptions, Flow, type FlowJSON } from './flow.js';
export { OrthogonalMixing, Permutation } from './linear.js';
export { LowRankMixing, type LowRankMixingOptions } from './lowrank.js';
export { SinhArcsinh, type SinhArcsinhOptions } from './sinharcsinh.js';
export { rqsForward, rqsInverse } from './spline.js';
export type { Transform, TransformJSON, TransformResult } from './transform.js';

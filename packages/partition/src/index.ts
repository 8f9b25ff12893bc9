/**
 * @sdekit/partition: data-adaptive partitions of state space (bisecting 2-means trees, k-means),
 * label sequences, Markov generators and the finite-volume Cdot of docs/methods.md §1 and §3.
 */

export { type CellCentroidsOptions, cdot, cellCentroids } from './cdot.js';
export type {
  FiniteDtCorrection,
  GeneratorEstimate,
  GeneratorEstimator,
  GeneratorOptions,
} from './generator.js';
export { generatorFromLabels, LEAVE_FRACTION_WARNING } from './generator.js';
export type { KMeansOptions, KMeansPartitionJSON } from './kmeans.js';
export { KMeansPartition, kmeansPartition } from './kmeans.js';
export { checkLabels, segmentBounds, stationaryDistribution, transitionMatrix } from './labels.js';
export type { Partition } from './partition.js';
export { partitionFromJSON } from './partition.js';
export type { SparseColumnJSON } from './sparse.js';
export { Generator, SparseColumnMatrix } from './sparse.js';
export type { AutocorrelationOptions, NullVectorOptions, RelaxationSpectrum } from './spectral.js';
export {
  generatorAutocorrelation,
  generatorExpAction,
  generatorNullVector,
  relaxationRates,
} from './spectral.js';
export type { TreePartitionJSON, TreePartitionOptions } from './tree.js';
export { buildTreePartition, TreePartition } from './tree.js';

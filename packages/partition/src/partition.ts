/**
 * The common interface of state-space partitions (docs/methods.md §3) and a loader for serialised ones.
 */
import { FormatError } from '@sdekit/sde';
import { KMeansPartition, type KMeansPartitionJSON } from './kmeans.js';
import { TreePartition, type TreePartitionJSON } from './tree.js';

/**
 * A partition of R^dim into `size` cells numbered 0..size-1.
 *
 * @example
 * const labels: Int32Array = partition.assign(series.data); // one cell index per point
 */
export interface Partition {
  /** Number of cells K. */
  readonly size: number;
  /** Dimension D of the points. */
  readonly dim: number;
  /** Cell representatives (size x dim, row-major): means of the points the partition was built on. */
  readonly centroids: Float64Array;
  /** Fraction of the build points in each cell. */
  readonly masses: Float64Array;
  /** Cell index of every point of a row-major batch (N*dim values). */
  assign(points: Float64Array): Int32Array;
  /** Plain-JSON form with `format` and `version`. */
  toJSON(): TreePartitionJSON | KMeansPartitionJSON;
}

/**
 * Restores a TreePartition or KMeansPartition from its toJSON() output (dispatch on `format`).
 *
 * @example
 * const again = partitionFromJSON(JSON.parse(JSON.stringify(tree)));
 */
export function partitionFromJSON(json: TreePartitionJSON | KMeansPartitionJSON): Partition {
  if (json?.format === 'sdekit.partition.tree') return TreePartition.fromJSON(json);
  if (json?.format === 'sdekit.partition.kmeans') return KMeansPartition.fromJSON(json);
  throw new FormatError('Partition', `unknown format '${(json as { format?: string })?.format}'`);
}

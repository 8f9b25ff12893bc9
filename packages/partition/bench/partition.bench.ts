// Partition build and labelling at the scale: `npx vitest bench --run` in packages/partition.
// Data: 1e6 i.i.d. standard normal points in 32 dimensions (256 MB), pMin = 1e-4 (~7400 leaves).
// The tree is built on a 200 000-point random subsample (the default maxBuildPoints; threshold
// 2 pMin Nb = 40 build points per node), then all 1e6 points are labelled by descent.
// vitest reports hz = operations per second: for `assign`, points/s = 1e6 * hz.
import { Rng } from '@sdekit/sde';
import { bench, describe } from 'vitest';
import {
  buildTreePartition,
  cdot,
  cellCentroids,
  generatorFromLabels,
  stationaryDistribution,
  type TreePartition,
} from '../src/index.js';

const N = 1_000_000;
const D = 32;
const points = Rng.fromSeed(1).fillNormal(new Float64Array(N * D));
const options = { iterations: 3, warmupIterations: 1, time: 0 };
let tree: TreePartition = buildTreePartition(points, D, { pMin: 1e-4, seed: 1 });
const labels = tree.assign(points);

describe('tree partition, 1e6 x 32, pMin = 1e-4', () => {
  bench(
    'build on a 200k subsample (default)',
    () => {
      tree = buildTreePartition(points, D, { pMin: 1e-4, seed: 1 });
    },
    options,
  );
  bench(
    'assign 1e6 points by descent',
    () => {
      tree.assign(points);
    },
    options,
  );
});

describe('generator and Cdot from the 1e6 labels (K ~ 7400)', () => {
  bench(
    'generatorFromLabels (counts)',
    () => {
      generatorFromLabels(labels, tree.size, 0.01);
    },
    options,
  );
  bench(
    'cellCentroids + stationaryDistribution + cdot (D = 32)',
    () => {
      const { Q } = generatorFromLabels(labels, tree.size, 0.01);
      cdot(cellCentroids(points, labels, D, tree.size), Q, stationaryDistribution(labels, tree.size));
    },
    options,
  );
});

/**
 * The registry of benchmark cases (docs/benchmarks.md), in run order. Each case is loaded lazily, so a
 * case whose package is broken or missing is reported as an error without stopping the others.
 */
import type { BenchCase } from '../context.js';

export interface CaseEntry {
  readonly id: string;
  readonly title: string;
  readonly load: () => Promise<BenchCase>;
}

export const CASES: readonly CaseEntry[] = [
  {
    id: 'T1',
    title: '1-D SDE with multiplicative noise (score-based Langevin)',
    load: async () => (await import('./t1.js')).t1Case,
  },
  {
    id: 'T2',
    title: '2-D asymmetric four-well with rotation (score-based Langevin)',
    load: async () => (await import('./t2.js')).t2Case,
  },
  {
    id: 'T3',
    title: 'Kuramoto-Sivashinsky, partially observed (score-based Langevin)',
    load: async () => (await import('./t3.js')).t3Case,
  },
  {
    id: 'M1',
    title: 'Multiscale double-well (averaging with a flow) vs MLP baseline',
    load: async () => (await import('./m1.js')).m1Case,
  },
  {
    id: 'M2',
    title: 'Tagged particle in a solvent (averaging with a flow) vs MLP baseline',
    load: async () => (await import('./m2.js')).m2Case,
  },
  {
    id: 'U1',
    title: 'Variational credible bands on M1 and M2',
    load: async () => (await import('./u1.js')).u1Case,
  },
];

export const CASE_IDS = CASES.map((c) => c.id);

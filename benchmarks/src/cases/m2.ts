/**
 * M2 (docs/benchmarks.md): a tagged particle X in R^d among N solvent particles that are fast (scale n)
 * and Gaussian-distributed at equilibrium. pi_0 is learned as a flow from the slow path only
 * (docs/methods.md section 4) and compared with the exact bbar (exact Gaussian samples of pi_0) and the
 * unstructured MLP baseline. The full profile fills the [SG] Table 1 layout: rows (d, N), columns n.
 */
import { m2Coefficients } from '@sdekit/averaging';
import * as systems from '@sdekit/systems';
import type { BenchCase, CaseContext } from '../context.js';
import { averagingCase } from './averaging-common.js';
import { averagingFits, slowPathOf } from './averaging-fits.js';

const COMMON = {
  Delta: 0.01,
  L: 64,
  simPaths: 8,
  acfT: 5,
  gridPoints: 31,
  truthSamples: 100000,
  simSamples: 128,
};
const PROFILES = {
  quick: {
    ds: [1],
    Ns: [10],
    ns: [100],
    // T = 2000: at T = 500 the exact maximum-likelihood bbar of the model class (any pi_0) missed the
    // stationary-density KL 0.02 on 8 of 16 windows, at T = 2000 on none of 4; the flow needs about
    // 2000 steps to approach that optimum (benchmarks README, 2026-12-08). The reference run stays
    // 8000 time units (T * refFactor), so the data cost is unchanged.
    T: 2000,
    iterations: 2000,
    baselineIterations: 800,
    simT: 1000,
    refFactor: 4,
    nMax: 100,
  },
  full: {
    ds: [1, 2],
    Ns: [10, 15, 20],
    ns: [100, 1000, 15000],
    T: 1000,
    iterations: 3000,
    baselineIterations: 3000,
    simT: 2000,
    refFactor: 2,
    // Sub-grids: --set M2.nMax=1000 leaves out the n = 15000 column (one slow-fast path at fast step
    // 0.02 / 15000 is hours on 2 cores).
    nMax: 15000,
  },
};

/** Upper end of the drift MSE range reported by [SG] for this experiment family. */
const SG_MSE_UPPER = 2.5e-2;

export const m2Case: BenchCase = {
  id: 'M2',
  title: 'Tagged particle in a solvent (averaging with a flow) vs MLP baseline',
  description:
    'Slow particle in a double-well V with Gaussian-bump interactions with N fast solvent particles.',
  async run(ctx: CaseContext) {
    const p = PROFILES[ctx.profile];
    const s0 = ctx.resolveSizes({
      T: p.T,
      iterations: p.iterations,
      baselineIterations: p.baselineIterations,
      simT: p.simT,
      refFactor: p.refFactor,
      nMax: p.nMax,
      nMin: 0,
      dMin: 1,
      dMax: 2,
      NMin: 0,
      NMax: 1000,
      ...COMMON,
    });
    // --set M2.nMin=15000 --set M2.dMax=1 --set M2.NMax=10 runs one part of the grid
    // (n in [nMin, nMax], N in [NMin, NMax], d in [dMin, dMax]).
    const ns = p.ns.filter((n) => n <= s0.nMax && n >= s0.nMin);
    const configs = p.ds
      .filter((d) => d >= s0.dMin && d <= s0.dMax)
      .flatMap((d) =>
        p.Ns.filter((N) => N >= s0.NMin && N <= s0.NMax).flatMap((N) => ns.map((n) => ({ d, N, n }))),
      );
    for (const [i, { d, N, n }] of configs.entries()) {
      const tag = configs.length > 1 ? `d=${d} N=${N} n=${n}` : '';
      const s = { ...s0, n, m: N * d };
      ctx.recordSizes({ [`config${configs.length > 1 ? ` ${i}` : ''}`]: `d=${d} N=${N} n=${n}` });
      await averagingCase(ctx, s, {
        label: 'x',
        sigma: 0.5,
        gridLo: -1.5,
        gridHi: 1.5,
        mseTarget: SG_MSE_UPPER,
        ratioTarget: null,
        // docs/benchmarks.md sets no ACF criterion for M2, and at these lags the ACF measures how often
        // the particle visits the shallow right well (rarely: a handful of excursions in the quick
        // reference run, benchmarks README), so the error is reported with its noise floor, not judged.
        acfTarget: null,
        slowDim: d,
        tag,
        plots: i === 0 || d === 2 ? true : n === ns[0],
        generate: slowPathOf(
          systems.taggedParticleSystem({ d, N, n }),
          (rng) => systems.sampleTaggedParticleFast(rng, 1, { d, N }),
          n,
          s.Delta,
        ),
        trueDrift: (grid) => systems.taggedParticleAveragedDrift(grid, { d, N }),
        ...averagingFits(() => m2Coefficients({ d, N }), 0.5, s),
      });
    }
  },
};

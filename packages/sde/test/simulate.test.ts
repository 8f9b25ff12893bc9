import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  fourWellSystem,
  multiscaleDoubleWellSystem,
  ouCorrelation,
  ouStationaryCovariance,
  ouSystem,
  reducedTriadSystem,
} from '@sdekit/systems';
import { describe, expect, it } from 'vitest';
import {
  acf,
  BlowUpError,
  cholesky,
  concatSeries,
  DimensionError,
  eulerMaruyama,
  InvalidArgumentError,
  laggedCovariance,
  Matrix,
  matmul,
  milstein,
  NOISE_BLOCK,
  NonFiniteError,
  pathOf,
  Rng,
  type SdeSystem,
  simulate,
  simulateParallel,
  slowFastSde,
  sra1,
  stackState,
  timeSeries,
  transpose,
} from '../src/index.js';
import { correlation } from './helpers.js';
import { systemsBuilt, systemsDist, systemsModule } from './systems-module.js';

const square: SdeSystem = {
  dim: 1,
  noiseDim: 1,
  noise: 'scalar',
  additive: true,
  drift: (_t, x, out) => {
    out[0] = x[0] * x[0];
  },
  diffusion: (_t, _x, out) => {
    out[0] = 0;
  },
};

describe('simulate', () => {
  it('returns a bundle with the documented layout, times and saved states', () => {
    const b = simulate(fourWellSystem(), {
      x0: Float64Array.of(0.1, -0.2),
      paths: 3,
      h: 0.01,
      steps: 20,
      saveEvery: 5,
      burnIn: 10,
      seed: 1,
    });
    expect(b.dim).toBe(2);
    expect(b.paths).toBe(3);
    expect(b.length).toBe(5);
    expect(b.dt).toBeCloseTo(0.05, 15);
    expect(b.t0).toBeCloseTo(0.1, 15);
    expect(b.data.length).toBe(3 * 5 * 2);
    // save k of path p equals a fresh run with steps = burnIn + k * saveEvery (same noise).
    const shorter = simulate(fourWellSystem(), {
      x0: Float64Array.of(0.1, -0.2),
      paths: 3,
      h: 0.01,
      steps: 10,
      saveEvery: 5,
      burnIn: 10,
      seed: 1,
    });
    for (let p = 0; p < 3; p++) {
      for (let k = 0; k < 3; k++) {
        for (let j = 0; j < 2; j++)
          expect(b.data[(p * 5 + k) * 2 + j]).toBe(shorter.data[(p * 3 + k) * 2 + j]);
      }
    }
    // Progress: monotone, ends at burnIn + steps.
    const seen: [number, number][] = [];
    simulate(fourWellSystem(), {
      x0: Float64Array.of(0, 0),
      h: 0.01,
      steps: 300,
      burnIn: 100,
      seed: 1,
      onProgress: (d, t) => seen.push([d, t]),
    });
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every(([d, t], i) => t === 400 && (i === 0 || d >= seen[i - 1][0]))).toBe(true);
    expect(seen[seen.length - 1][0]).toBe(400);
    const ts = pathOf(b, 2);
    expect(ts.length).toBe(5);
    expect(ts.data[0]).toBe(b.data[2 * 5 * 2]);
    expect(() => pathOf(b, 3)).toThrow(InvalidArgumentError);
  });

  it('same seed gives bit-identical output; paths in different noise blocks are independent', () => {
    const opts = {
      x0: Float64Array.of(0, 0),
      paths: 2 * NOISE_BLOCK,
      h: 1e-2,
      steps: 400,
      saveEvery: 1,
      seed: 42,
    };
    const a = simulate(fourWellSystem(), opts);
    const b = simulate(fourWellSystem(), opts);
    expect(a.data.every((v, i) => v === b.data[i])).toBe(true);
    // Chunking (paths advanced per solver call) does not change a bit.
    for (const chunkPaths of [1, 300, 10_000]) {
      const other = simulate(fourWellSystem(), { ...opts, steps: 40, chunkPaths });
      const ref = simulate(fourWellSystem(), { ...opts, steps: 40 });
      expect(other.data.every((v, i) => v === ref.data[i])).toBe(true);
    }
    const c = simulate(fourWellSystem(), { ...opts, seed: 43 });
    expect(c.data[c.data.length - 1]).not.toBe(a.data[a.data.length - 1]);
    // Increments of path 0 (block 0) and path NOISE_BLOCK (block 1) are uncorrelated: |r| < 4/sqrt(n).
    const inc = (p: number) => {
      const out = new Float64Array(opts.steps);
      for (let k = 0; k < opts.steps; k++)
        out[k] = a.data[(p * a.length + k + 1) * 2] - a.data[(p * a.length + k) * 2];
      return out;
    };
    expect(Math.abs(correlation(inc(0), inc(NOISE_BLOCK)))).toBeLessThan(4 / Math.sqrt(opts.steps));
    expect(Math.abs(correlation(inc(0), inc(1)))).toBeLessThan(4 / Math.sqrt(opts.steps));
  });

  it('simulateParallel on 1 and 2 worker threads is bit-identical to simulate', async () => {
    const opts = {
      x0: Float64Array.of(0.3, -0.1),
      paths: 3 * NOISE_BLOCK + 17,
      h: 1e-3,
      steps: 200,
      saveEvery: 50,
      burnIn: 20,
      seed: 9,
    };
    const serial = simulate(fourWellSystem(), opts);
    const spec = { module: systemsModule, exportName: 'fourWellSystem' };
    const progress: number[] = [];
    const one = await simulateParallel(spec, { ...opts, threads: 1 });
    const two = await simulateParallel(spec, {
      ...opts,
      threads: 2,
      onProgress: (done) => progress.push(done),
    });
    expect(two.length).toBe(serial.length);
    expect(two.t0).toBe(serial.t0);
    expect(one.data.every((v, i) => v === serial.data[i])).toBe(true);
    expect(two.data.every((v, i) => v === serial.data[i])).toBe(true);
    expect(progress[progress.length - 1]).toBe(220);
    // observe: the saved coordinates only, the same values, serially and on workers.
    const second = simulate(fourWellSystem(), { ...opts, observe: [1] });
    const secondOnTwo = await simulateParallel(spec, { ...opts, observe: [1], threads: 2 });
    expect([second.dim, secondOnTwo.dim]).toEqual([1, 1]);
    expect(second.data.length).toBe(opts.paths * serial.length);
    expect(second.data.every((v, i) => v === serial.data[2 * i + 1])).toBe(true);
    expect(secondOnTwo.data.every((v, i) => v === serial.data[2 * i + 1])).toBe(true);
    expect(() => simulate(fourWellSystem(), { ...opts, observe: [] })).toThrow(/observe/);
    // A slow-fast factory is stacked by slowFastSde in the workers as in the caller: the slow paths
    // of 300 M1 paths on 2 threads equal those of simulate, bit for bit.
    const m1 = { m: 2, n: 100 };
    const sfOpts = {
      x0: stackState(Float64Array.of(-1), Float64Array.of(0.3, -0.2)),
      paths: NOISE_BLOCK + 44,
      h: 2e-4,
      steps: 100,
      saveEvery: 50,
      seed: 4,
      observe: [0],
    };
    const slowSerial = simulate(slowFastSde(multiscaleDoubleWellSystem(m1)), sfOpts);
    const slowOnTwo = await simulateParallel(
      { module: systemsModule, exportName: 'multiscaleDoubleWellSystem', args: [m1] },
      { ...sfOpts, threads: 2 },
    );
    expect(slowOnTwo.dim).toBe(1);
    expect(slowOnTwo.data.every((v, i) => v === slowSerial.data[i])).toBe(true);
    expect(() => simulate(fourWellSystem(), { ...opts, observe: [2] })).toThrow(/observe/);
    // A factory with arguments (ouSystem(theta, noise)) and a non-default solver.
    const theta = Matrix.from([
      [1, 0.5],
      [-0.5, 2],
    ]);
    const ouOpts = {
      x0: Float64Array.of(1, -1),
      paths: 100,
      h: 0.01,
      steps: 30,
      saveEvery: 10,
      seed: 3,
      solver: sra1,
    };
    const ou = await simulateParallel(
      { module: systemsModule, exportName: 'ouSystem', args: [theta, Matrix.identity(2)] },
      { ...ouOpts, threads: 2 },
    ); // one noise block shared by both workers
    const ouSerial = simulate(ouSystem(theta, Matrix.identity(2)), ouOpts);
    expect(ou.data.every((v, i) => v === ouSerial.data[i])).toBe(true);
  });

  it('simulateParallel splits fewer blocks than threads inside blocks, bit-identical to simulate', async () => {
    const fourWell = { module: systemsModule, exportName: 'fourWellSystem' };
    // 50 paths (one block) on 2 and 3 threads; 266 paths on 3 threads: the last worker's paths
    // [177, 266) take the end of block 0 and the start of block 1. sra1 draws two sets per step,
    // so each share is cut from both sets; dim 2 x 50 paths > 64 normals per step, 1 path < 64.
    for (const [paths, threads] of [
      [50, 2],
      [50, 3],
      [NOISE_BLOCK + 10, 3],
      [3, 2],
    ] as const) {
      const opts = {
        x0: Float64Array.of(0.2, 0.1),
        paths,
        h: 1e-3,
        steps: 120,
        saveEvery: 40,
        seed: 4,
        solver: sra1,
      };
      const serial = simulate(fourWellSystem(), opts);
      const split = await simulateParallel(fourWell, { ...opts, threads });
      expect(split.data.length).toBe(serial.data.length);
      expect(split.data.every((v, i) => v === serial.data[i])).toBe(true);
    }
    // An async factory is awaited (in the caller and in every worker); the caller's copy, used only
    // for planning, is disposed.
    const fixture = new URL('./async-system.ts', import.meta.url).href;
    const { disposals } = (await import(fixture)) as { disposals: { count: number } };
    const opts = { x0: Float64Array.of(0.5, -0.5), paths: 20, h: 1e-3, steps: 50, saveEvery: 25, seed: 8 };
    const delayed = await simulateParallel(
      { module: fixture, exportName: 'fourWellAfterDelay', args: [20] },
      { ...opts, threads: 2 },
    );
    const serial = simulate(fourWellSystem(), opts);
    expect(delayed.data.every((v, i) => v === serial.data[i])).toBe(true);
    expect(disposals.count).toBe(1);
  });

  // The built package (dist/, made by `npx tsup` / the monorepo build) must find its worker entry
  // without tsx: a plain Node process compares simulateParallel with simulate from dist (the model
  // from the built @sdekit/systems, named to the workers by its absolute path).
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  it.skipIf(!existsSync(dist) || !systemsBuilt)(
    'simulateParallel from the built dist (plain Node, ESM and CJS) matches simulate',
    () => {
      const script = (load: string) => `
      ${load}
      const opts = { x0: new Float64Array(2), paths: 600, h: 1e-3, steps: 40, saveEvery: 20, seed: 5 };
      const a = lib.simulate(systems.fourWellSystem(), opts);
      lib.simulateParallel({ module: ${JSON.stringify(systemsDist)}, exportName: 'fourWellSystem' }, { ...opts, threads: 2 })
        .then((b) => console.log(a.data.length > 0 && a.data.every((v, i) => v === b.data[i]) ? 'identical' : 'different'));`;
      const esm = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          script(
            `const lib = await import(${JSON.stringify(dist)}); const systems = await import(${JSON.stringify(systemsDist)});`,
          ),
        ],
        { encoding: 'utf8' },
      );
      expect(esm.trim()).toBe('identical');
      const cjs = execFileSync(
        process.execPath,
        [
          '-e',
          script(
            `const lib = require(${JSON.stringify(dist.replace(/\.js$/, '.cjs'))}); const systems = require(${JSON.stringify(systemsDist.replace(/\.js$/, '.cjs'))});`,
          ),
        ],
        { encoding: 'utf8' },
      );
      expect(cjs.trim()).toBe('identical');
    },
  );

  it('throws BlowUpError naming the time and the (global) path that left the finite numbers', async () => {
    // dx = x^2 dt from x0 = 1 blows up at t = 1; only path 260 (in noise block 1) starts at 1.
    const paths = 300;
    const x0 = new Float64Array(paths);
    x0[260] = 1;
    let err: unknown;
    try {
      simulate(square, { x0, paths, h: 1e-3, steps: 3000, saveEvery: 10, seed: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BlowUpError);
    expect((err as BlowUpError).path).toBe(260);
    // Euler's blow-up time for x' = x^2 with h = 1e-3 is within a few hundred steps of t = 1.
    expect((err as BlowUpError).time).toBeGreaterThan(1);
    expect((err as BlowUpError).time).toBeLessThan(1.5);
    // During burn-in too.
    expect(() => simulate(square, { x0, paths, h: 1e-3, steps: 10, burnIn: 3000, seed: 1 })).toThrow(
      BlowUpError,
    );
  });

  it('rejects bad input with typed errors', () => {
    const sys = fourWellSystem();
    const base = { x0: Float64Array.of(0, 0), paths: 2, h: 0.01, steps: 10, seed: 1 };
    expect(() => simulate(sys, { ...base, h: 0 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sys, { ...base, h: -1 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sys, { ...base, h: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => simulate(sys, { ...base, x0: Float64Array.of(0, Number.NaN) })).toThrow(NonFiniteError);
    expect(() => simulate(sys, { ...base, x0: Float64Array.of(0, 0, 0) })).toThrow(DimensionError);
    expect(() => simulate(sys, { ...base, steps: 10, saveEvery: 3 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sys, { ...base, steps: undefined, T: 0.015 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sys, { ...base, T: 1 })).toThrow(InvalidArgumentError); // both steps and T
    expect(() => simulate(sys, { ...base, paths: 0 })).toThrow(InvalidArgumentError);
    expect(() => simulate(sys, { ...base, seed: -3 })).toThrow(InvalidArgumentError);
    // Solver requirements: SRA1 needs additive noise, Milstein diagonal noise.
    expect(() => simulate(reducedTriadSystem(), { ...base, x0: Float64Array.of(0), solver: sra1 })).toThrow(
      InvalidArgumentError,
    );
    const general = ouSystem(Matrix.identity(2), Matrix.identity(2));
    expect(() => simulate({ ...general, additive: false }, { ...base, solver: milstein })).toThrow(
      InvalidArgumentError,
    );
    expect(() => simulate({ ...sys, noiseDim: 3 }, base)).toThrow(InvalidArgumentError);
    expect(simulate(sys, { ...base, steps: undefined, T: 0.1 }).length).toBe(11);
  });

  it('timeSeries validates its input', () => {
    expect(timeSeries(Float64Array.of(1, 2, 3, 4), 2, 0.1).length).toBe(2);
    expect(() => timeSeries(Float64Array.of(1, 2, 3), 2, 0.1)).toThrow(DimensionError);
    expect(() => timeSeries(Float64Array.of(1, 2), 1, 0)).toThrow(InvalidArgumentError);
    expect(() => timeSeries(Float64Array.of(1, 2), 1, -0.1)).toThrow(InvalidArgumentError);
    expect(() => timeSeries(Float64Array.of(1, Number.NaN), 1, 0.1)).toThrow(NonFiniteError);
    expect(() => timeSeries(new Float64Array(0), 1, 0.1)).toThrow(DimensionError);
  });

  it('OU from its exact stationary law: covariance and C(tau) of the ensemble match the Lyapunov solution and expm', () => {
    const theta = Matrix.from([
      [1, -0.6],
      [0.6, 1.5],
    ]);
    const noise = Matrix.from([
      [1, 0],
      [0.3, 0.8],
    ]);
    const c0 = ouStationaryCovariance(theta, noise);
    const paths = 20000;
    // Exact stationary start: x0 = L z with C0 = L L^T.
    const L = cholesky(c0);
    const z = Rng.fromSeed(77).fillNormal(new Float64Array(2 * paths));
    const x0 = new Float64Array(2 * paths);
    for (let p = 0; p < paths; p++) {
      x0[2 * p] = L.get(0, 0) * z[2 * p];
      x0[2 * p + 1] = L.get(1, 0) * z[2 * p] + L.get(1, 1) * z[2 * p + 1];
    }
    const tau = 0.5;
    // SRA1 (weak order 2): the discretisation bias of the covariance at h = 0.01 is ~1e-4.
    const b = simulate(ouSystem(theta, noise), {
      x0,
      paths,
      h: 0.01,
      steps: 50,
      saveEvery: 50,
      seed: 5,
      solver: sra1,
    });
    const cEnd = new Matrix(2, 2);
    const cLag = new Matrix(2, 2);
    for (let p = 0; p < paths; p++) {
      const a0 = b.data[p * 2 * 2];
      const a1 = b.data[p * 2 * 2 + 1];
      const e0 = b.data[(p * 2 + 1) * 2];
      const e1 = b.data[(p * 2 + 1) * 2 + 1];
      const start = [a0, a1];
      const end = [e0, e1];
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          cEnd.data[i * 2 + j] += (end[i] * end[j]) / paths;
          cLag.data[i * 2 + j] += (end[i] * start[j]) / paths;
        }
      }
    }
    const cTau = ouCorrelation(theta, noise, tau);
    // sd of a product-moment estimate from M independent pairs: sqrt((C_ii C_jj + C_ij^2) / M) <= 2 max C / sqrt M.
    const tol = (4 * 2 * Math.max(c0.get(0, 0), c0.get(1, 1))) / Math.sqrt(paths);
    for (let k = 0; k < 4; k++) {
      expect(Math.abs(cEnd.data[k] - c0.data[k])).toBeLessThan(tol);
      expect(Math.abs(cLag.data[k] - cTau.data[k])).toBeLessThan(tol);
    }
    // The non-normal drift makes C(tau) non-symmetric; the check above sees it:
    expect(Math.abs(cTau.get(0, 1) - cTau.get(1, 0))).toBeGreaterThan(3 * tol);
    // Lyapunov identity and C(0) = C0.
    const res = matmul(theta, c0).data.map((v, i) => v + matmul(c0, transpose(theta)).data[i]);
    const q = matmul(noise, transpose(noise));
    for (let k = 0; k < 4; k++) expect(res[k]).toBeCloseTo(q.data[k], 12);
    expect(ouCorrelation(theta, noise, 0).data.every((v, i) => Math.abs(v - c0.data[i]) < 1e-14)).toBe(true);
    expect(() => ouStationaryCovariance(Matrix.from([[-1]]), Matrix.from([[1]]))).toThrow(
      InvalidArgumentError,
    );
    // Eigenvalues -0.5 +- 1i (unstable focus) and +-1i (centre, singular Lyapunov operator).
    expect(() =>
      ouStationaryCovariance(
        Matrix.from([
          [-0.5, -1],
          [1, -0.5],
        ]),
        Matrix.identity(2),
      ),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      ouStationaryCovariance(
        Matrix.from([
          [0, -1],
          [1, 0],
        ]),
        Matrix.identity(2),
      ),
    ).toThrow(InvalidArgumentError);
    // Eigenvalues 1 and -0.1 with a large off-diagonal coupling.
    expect(() =>
      ouStationaryCovariance(
        Matrix.from([
          [1, 5],
          [0, -0.1],
        ]),
        Matrix.identity(2),
      ),
    ).toThrow(InvalidArgumentError);
  });

  it('OU time series: acf() of simulated paths matches exp(-theta t) and laggedCovariance matches C(tau)', () => {
    const theta = 1.3;
    const sys = ouSystem(Matrix.from([[theta]]), Matrix.from([[Math.SQRT2]]));
    const paths = 16;
    const dt = 0.1;
    const b = simulate(sys, {
      x0: Float64Array.of(0),
      paths,
      h: 0.01,
      T: 1000,
      saveEvery: 10,
      burnIn: 1000,
      seed: 12,
      solver: sra1,
    });
    const maxLag = 30; // 3 time units
    const mean = new Float64Array(maxLag + 1);
    const c1 = new Float64Array(paths);
    for (let p = 0; p < paths; p++) {
      const ts = pathOf(b, p);
      const rho = acf(ts.data, 1, maxLag);
      for (let k = 0; k <= maxLag; k++) mean[k] += rho[k] / paths;
      c1[p] = laggedCovariance(ts.data, 1, 5).get(0, 0);
    }
    // Bartlett for an AR(1) with phi = exp(-theta dt): var(rho_k) <= (1 + phi^2) / ((1 - phi^2) N)
    // per path, divided by the number of paths; 5 sigma.
    const phi = Math.exp(-theta * dt);
    const tol = 5 * Math.sqrt((1 + phi * phi) / ((1 - phi * phi) * b.length * paths));
    for (let k = 0; k <= maxLag; k++) expect(Math.abs(mean[k] - Math.exp(-theta * k * dt))).toBeLessThan(tol);
    // C(0.5) = exp(-theta 0.5) sigma^2 / (2 theta); sd of the path average ~ var sqrt(tau / N) per path.
    const exactC = ouCorrelation(Matrix.from([[theta]]), Matrix.from([[Math.SQRT2]]), 0.5).get(0, 0);
    expect(exactC).toBeCloseTo(Math.exp(-theta * 0.5) / theta, 12);
    const avg = c1.reduce((x, y) => x + y, 0) / paths;
    expect(Math.abs(avg - exactC)).toBeLessThan(
      5 * (1 / theta) * Math.sqrt((1 + phi) / (1 - phi) / (b.length * paths)),
    );
  });

  it('accepts systems without batched functions and general noise (per-point fallback equals batched)', () => {
    const theta = Matrix.from([
      [1, 0.2],
      [0, 1],
    ]);
    const batched = ouSystem(
      theta,
      Matrix.from([
        [1, 0.5, 0],
        [0, 1, 0.2],
      ]),
    );
    const plain: SdeSystem = {
      ...batched,
      driftBatch: undefined,
      diffusionBatch: undefined,
      additive: false,
    };
    const opts = {
      x0: Float64Array.of(0.5, -0.5),
      paths: 5,
      h: 0.01,
      steps: 20,
      seed: 2,
      solver: eulerMaruyama,
    };
    const a = simulate(batched, opts);
    const b = simulate(plain, opts);
    for (let i = 0; i < a.data.length; i++) expect(b.data[i]).toBeCloseTo(a.data[i], 13);
  });
});

describe('concatSeries', () => {
  it('joins series and records where each begins; mismatches are typed errors naming the series', () => {
    const a = timeSeries(Float64Array.of(1, 2, 3, 4), 2, 0.1, 5);
    const b = timeSeries(Float64Array.of(5, 6), 2, 0.1);
    const c = timeSeries(Float64Array.of(7, 8, 9, 10, 11, 12), 2, 0.1);
    const { series, segmentStarts } = concatSeries([a, b, c]);
    expect(Array.from(series.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect([series.length, series.dim, series.dt, series.t0]).toEqual([6, 2, 0.1, 5]);
    expect(Array.from(segmentStarts)).toEqual([2, 3]);
    expect(concatSeries([a]).segmentStarts.length).toBe(0);
    expect(() => concatSeries([a, timeSeries(Float64Array.of(1, 2, 3), 3, 0.1)])).toThrow(DimensionError);
    expect(() => concatSeries([a, timeSeries(Float64Array.of(1, 2), 2, 0.2)])).toThrow(/series\[1\].*dt/s);
    expect(() => concatSeries([])).toThrow(InvalidArgumentError);
  });
});

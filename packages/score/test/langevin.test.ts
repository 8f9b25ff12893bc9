import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  addScaled,
  BlowUpError,
  cholesky,
  concatSeries,
  DimensionError,
  frobeniusNorm,
  InvalidArgumentError,
  Matrix,
  matmul,
  NonFiniteError,
  pathOf,
  Rng,
  simulate,
  solve,
  timeSeries,
} from '@sdekit/sde';
import { fourWellPhi, fourWellScore, fourWellSystem, ouSystem } from '@sdekit/systems';
import { describe, expect, it } from 'vitest';
import { analyticScore, fitLangevin, LagCdot, LangevinModel } from '../src';

const relErr = (a: Matrix, b: Matrix) => frobeniusNorm(addScaled(a, 1, b, -1)) / frobeniusNorm(b);

// OU process written in Langevin form: p = N(0, C0), drift -Phi C0^{-1} x, noise sqrt(2) chol(Phi_S);
// its stationary covariance is C0 because Theta C0 + C0 Theta^T = Phi + Phi^T = 2 Phi_S.
const PHI_OU = Matrix.from([
  [1, -0.5],
  [0.5, 0.7],
]);
const C0 = Matrix.from([
  [1, 0.3],
  [0.3, 0.5],
]);
const C0_INV = solve(C0, Matrix.identity(2));
const ouScore = analyticScore(2, (x, out) => {
  out[0] = -(C0_INV.data[0] * x[0] + C0_INV.data[1] * x[1]);
  out[1] = -(C0_INV.data[2] * x[0] + C0_INV.data[3] * x[1]);
});

/** The OU process above as an SdeSystem: drift -Phi C0^{-1} x, noise sqrt(2) chol(Phi_S). */
function ouLangevinSystem() {
  const noise = cholesky(
    Matrix.from([
      [1, 0],
      [0, 0.7],
    ]),
  );
  for (let k = 0; k < 4; k++) noise.data[k] *= Math.SQRT2;
  return ouSystem(matmul(PHI_OU, C0_INV), noise);
}

function ouSeries(T: number, seed: number) {
  const bundle = simulate(ouLangevinSystem(), {
    x0: new Float64Array(2),
    h: 1e-3,
    T,
    saveEvery: 10,
    burnIn: 2000,
    seed,
  });
  return pathOf(bundle, 0);
}

describe('fitLangevin with exact scores', () => {
  const ou = ouSeries(4000, 1);
  const ouModel = fitLangevin(ou, { score: { model: ouScore, units: 'original' }, seed: 2 });

  it('recovers Phi of a 2-D OU process within a few per cent', () => {
    const model = ouModel;
    // Diffusive data: 'auto' takes the direct two-lag estimator (no partition). Its statistical
    // error over T = 4000 (~4000 relaxation times) is ~2 %; the bootstrap says how large.
    expect(model.diagnostics.regime?.regime).toBe('diffusive');
    expect(Math.abs((model.diagnostics.regime?.slope ?? 0) - 1)).toBeLessThan(0.1);
    expect(model.diagnostics.cdotEstimator).toBe('lag');
    expect(model.diagnostics.cdotReason).toMatch(/diffusive/);
    expect(model.diagnostics.cells).toBe(0);
    expect(model.partition).toBeNull();
    expect(relErr(model.original.phi, PHI_OU)).toBeLessThan(0.05);
    expect(model.diagnostics.shifted).toBe(false);
    expect(model.diagnostics.steinError).toBeLessThan(0.05);
    expect(model.diagnostics.energyShareS + model.diagnostics.energyShareA).toBeCloseTo(1, 10);
    const u = model.original.uncertainty!;
    expect(u.blocks).toBeGreaterThanOrEqual(20);
    for (let k = 0; k < 4; k++) {
      expect(Math.abs(model.original.phi.data[k] - PHI_OU.data[k])).toBeLessThan(4 * u.phi.se.data[k] + 0.01);
    }
    expect(u.phiSRelativeSE).toBeLessThan(0.1);
    expect(model.diagnostics.warnings.some((w) => w.includes('too short'))).toBe(false);
  });

  it('reports the smallest singular value of V and warns when the score barely responds along a direction', () => {
    // Exact score: V = -I up to sampling (||V + I|| < 0.05 above), so its smallest singular value is ~1.
    expect(Math.abs(ouModel.diagnostics.steinMinSingularValue - 1)).toBeLessThan(0.05);
    expect(ouModel.diagnostics.warnings.some((w) => w.includes('singular value'))).toBe(false);
    // A score (z units) scaled by 0.2 along the second coordinate: s(y) = -diag(1, 0.2) R^{-1} y with
    // R the correlation matrix of C0, so V = -diag(1, 0.2) R^{-1} R_hat, R_hat the sample correlation
    // (|R_hat - R| ~ 0.02 over ~4000 relaxation times): smallest singular value 0.2 within 0.03.
    const r = C0.get(0, 1) / Math.sqrt(C0.get(0, 0) * C0.get(1, 1));
    const rInv = solve(
      Matrix.from([
        [1, r],
        [r, 1],
      ]),
      Matrix.identity(2),
    );
    const flawed = analyticScore(2, (y, out) => {
      out[0] = -(rInv.data[0] * y[0] + rInv.data[1] * y[1]);
      out[1] = -0.2 * (rInv.data[2] * y[0] + rInv.data[3] * y[1]);
    });
    const model = fitLangevin(ou, { score: { model: flawed, units: 'z' }, seed: 2 });
    expect(Math.abs(model.diagnostics.steinMinSingularValue - 0.2)).toBeLessThan(0.03);
    expect(model.diagnostics.warnings.some((w) => w.includes('singular value'))).toBe(true);
    // A score off by a factor 5 fails Stein's identity (||V + I|| = 4 sqrt(2) / sqrt(2) = 4): warned.
    const scaled = analyticScore(2, (x, out) => {
      const s = ouScore.score(x);
      out[0] = 5 * s[0];
      out[1] = 5 * s[1];
    });
    const off = fitLangevin(ou, { score: { model: scaled, units: 'original' }, seed: 2 });
    expect(off.diagnostics.steinError).toBeGreaterThan(3);
    expect(off.diagnostics.warnings.some((w) => w.startsWith("the score fails Stein's identity"))).toBe(true);
    expect(ouModel.diagnostics.warnings.some((w) => w.startsWith("the score fails Stein's identity"))).toBe(
      false,
    );
    const restored = LangevinModel.fromJSON(model.toJSON(), { score: flawed });
    expect(restored.diagnostics.steinMinSingularValue).toBe(model.diagnostics.steinMinSingularValue);
  });

  it('fits an ensemble of short independent runs: no transition across runs', () => {
    // 1000 runs of 4 time units (401 samples, 4e5 in all, as the single series above), started from
    // exact stationary draws. Joined naively, the 999 jumps between independent states (each
    // E|dx|^2 = 2 tr C0 = 3, against 0.034 for a step of dt = 0.01) read as extra diffusion
    // (measured errors of both: docs/findings.md, score).
    const paths = 1000;
    const l = cholesky(C0);
    const rng = Rng.fromSeed(12);
    const x0 = new Float64Array(2 * paths);
    for (let p = 0; p < paths; p++) {
      const z0 = rng.normal();
      const z1 = rng.normal();
      x0[2 * p] = l.get(0, 0) * z0;
      x0[2 * p + 1] = l.get(1, 0) * z0 + l.get(1, 1) * z1;
    }
    const bundle = simulate(ouLangevinSystem(), {
      x0,
      paths,
      h: 1e-3,
      T: 4,
      saveEvery: 10,
      seed: 13,
    });
    const runs = Array.from({ length: paths }, (_, p) => pathOf(bundle, p));
    const score = { model: ouScore, units: 'original' as const };
    const model = fitLangevin(runs, { score, seed: 2 });
    expect(model.diagnostics.segments).toBe(paths);
    expect(relErr(model.original.phi, PHI_OU)).toBeLessThan(0.05);
    const naive = fitLangevin(concatSeries(runs).series, { score, seed: 2 });
    expect(naive.diagnostics.segments).toBe(1);
    expect(relErr(naive.original.phi, PHI_OU)).toBeGreaterThan(0.15);
    expect(() =>
      fitLangevin([runs[0], timeSeries(Float64Array.of(0, 0, 1, 1), 2, 0.01)], { score, seed: 2 }),
    ).toThrow(/series\[1\].*at least 3/s);
  });

  it('recovers Phi of T2 (four wells with rotation) within 5 % in original units', () => {
    const bundle = simulate(fourWellSystem(), {
      x0: new Float64Array(2),
      h: 1e-3,
      T: 8000,
      saveEvery: 10,
      burnIn: 1000,
      seed: 3,
    });
    const score = analyticScore(2, (x, out) => out.set(fourWellScore(x)));
    const model = fitLangevin(pathOf(bundle, 0), { score: { model: score, units: 'original' }, seed: 4 });
    // Default partition: ~15000 cells for 8e5 points; measured 0.014-0.024 at T = 4000 (cdot.ts), the
    // plain generator gives ~5 %.
    expect(relErr(model.original.phi, fourWellPhi())).toBeLessThan(0.05);
    expect(model.diagnostics.regime?.regime).toBe('diffusive');
    expect(model.diagnostics.cdotEstimator).toBe('lag');
  });

  it('warns in plain words when Phi_S is not determined to 10 % (a short record)', () => {
    // 60 time units of the OU process above: the relative standard error of Phi_S is ~ 1/sqrt(T) ~ 0.15.
    const short = ouSeries(60, 9);
    const model = fitLangevin(short, { score: { model: ouScore, units: 'original' }, seed: 9 });
    const u = model.diagnostics.uncertainty!;
    expect(u.phiSRelativeSE).toBeGreaterThan(0.1);
    expect(
      model.diagnostics.warnings.some((w) =>
        /^series too short: Phi_S has a relative standard error of/.test(w),
      ),
    ).toBe(true);
    // The long record above gives no such warning.
    expect(ouModel.diagnostics.warnings.some((w) => w.startsWith('series too short'))).toBe(false);
  });

  it("classifies a smooth signal as smooth and 'auto' takes the finite-volume generator estimator", () => {
    // A smooth deterministic (quasi-periodic) 2-D signal sampled finely: increments grow like k^2.
    const n = 100_000;
    const dt = 1e-3;
    const data = new Float64Array(2 * n);
    for (let t = 0; t < n; t++) {
      const s = t * dt;
      data[2 * t] = Math.cos(1.3 * s) + 0.5 * Math.cos(3.1 * s + 0.4);
      data[2 * t + 1] = Math.sin(1.3 * s) + 0.5 * Math.sin(2.2 * s);
    }
    const series = { data, dim: 2, dt, length: n, t0: 0 };
    const gauss = analyticScore(2, (x, out) => {
      out[0] = -x[0];
      out[1] = -x[1];
    });
    const model = fitLangevin(series, { score: { model: gauss, units: 'z' }, seed: 5, uncertainty: false });
    expect(model.diagnostics.regime?.regime).toBe('smooth');
    expect(model.diagnostics.regime?.slope).toBeGreaterThan(1.9);
    expect(model.diagnostics.cdotEstimator).toBe('generator');
    expect(model.diagnostics.cells).toBeGreaterThan(100);
    // An exact score has noise level 0, so 'auto' does not perturb the series.
    expect(model.diagnostics.perturbedSeries).toBe(false);
    expect(model.diagnostics.cdotReason).toMatch(/not perturbed/);
    // The removed estimator is named in the error.
    expect(() =>
      fitLangevin(series, {
        score: { model: gauss, units: 'z' },
        seed: 5,
        cdotEstimator: 'richardson' as unknown as 'lag',
      }),
    ).toThrow(/richardson.*removed/);
  });

  it('perturbSeries adds the white-noise dissipation sigma^2 / dt I to Phi (z units)', () => {
    // The perturbed series y + sigma z_t has lag covariances C(tau) + sigma^2 I [tau = 0], so the
    // one-lag generator estimate of Cdot moves by -sigma^2 / dt I, and Phi = Cdot V^{-1} (V = -I for
    // the score of p_sigma) by +sigma^2 / dt I = 0.25 I here; Phi_A is unchanged.
    const sigma = 0.05;
    const dt = ou.dt;
    // Score of p_sigma in z units: N(0, R + sigma^2 I) with R the correlation matrix of C0.
    const r = C0.get(0, 1) / Math.sqrt(C0.get(0, 0) * C0.get(1, 1));
    const cov = Matrix.from([
      [1 + sigma ** 2, r],
      [r, 1 + sigma ** 2],
    ]);
    const prec = solve(cov, Matrix.identity(2));
    const smoothedScore = analyticScore(2, (x, out) => {
      out[0] = -(prec.data[0] * x[0] + prec.data[1] * x[1]);
      out[1] = -(prec.data[2] * x[0] + prec.data[3] * x[1]);
    });
    const fit = (perturbSeries: boolean | number) =>
      fitLangevin(ou, {
        score: { model: smoothedScore, units: 'z', sigma },
        cdotEstimator: 'generator',
        perturbSeries,
        seed: 6,
      });
    const clean = fit(false);
    const perturbed = fit(true);
    const shift = addScaled(perturbed.phi, 1, clean.phi, -1);
    const expected = sigma ** 2 / dt;
    // Measured: diagonal 0.254 and 0.253, off-diagonal 0.0004 and -0.004, Phi_A moved by 0.3 %. The
    // noise's cross term (1/N) sum y_t sigma z_{t+1} / dt has standard deviation sigma / (sqrt(N) dt)
    // = 0.008 for N = 4e5, hence the 0.03 (about 3 standard deviations).
    for (let i = 0; i < 2; i++) expect(Math.abs(shift.get(i, i) - expected)).toBeLessThan(0.03);
    expect(Math.abs(shift.get(0, 1))).toBeLessThan(0.03);
    expect(Math.abs(shift.get(1, 0))).toBeLessThan(0.03);
    expect(relErr(perturbed.phiA, clean.phiA)).toBeLessThan(0.05);
    expect([clean.diagnostics.perturbedSeries, perturbed.diagnostics.perturbedSeries]).toEqual([false, true]);
    expect([clean.diagnostics.perturbSigma, perturbed.diagnostics.perturbSigma]).toEqual([0, sigma]);
    // perturbSeries = sigma_c = 2 sigma: the dissipation is sigma_c^2 / dt = 1.0 I; cross-term sd
    // sigma_c / (sqrt(N) dt) = 0.016, hence 0.06.
    const wider = fit(2 * sigma);
    const shift2 = addScaled(wider.phi, 1, clean.phi, -1);
    for (let i = 0; i < 2; i++) expect(Math.abs(shift2.get(i, i) - (2 * sigma) ** 2 / dt)).toBeLessThan(0.06);
    expect(Math.abs(shift2.get(0, 1))).toBeLessThan(0.06);
    expect(wider.diagnostics.perturbSigma).toBe(2 * sigma);
    for (const bad of [0, -0.1, Number.NaN]) expect(() => fit(bad)).toThrow(/perturbSeries/);
    const restored = LangevinModel.fromJSON(wider.toJSON(), { score: smoothedScore });
    expect(restored.diagnostics.perturbedSeries).toBe(true);
    expect(restored.diagnostics.perturbSigma).toBe(2 * sigma);
    // An exact score (sigma 0) gives nothing to perturb with: a typed error, not a silent no-op.
    expect(() =>
      fitLangevin(ou, { score: { model: ouScore, units: 'original' }, perturbSeries: true, seed: 6 }),
    ).toThrow(/perturbSeries/);
  });

  it('builds an SdeSystem in original units: f = Phi_x s_x, G = sqrt(2) Sigma_x', () => {
    const model = ouModel;
    const sys = model.system();
    const x = Float64Array.of(0.3, -0.8, 1.1, 0.4);
    const f = new Float64Array(4);
    sys.driftBatch!(0, x, 2, f);
    const s = ouScore.score(x);
    const p = model.original.phi.data;
    for (let i = 0; i < 2; i++) {
      for (let a = 0; a < 2; a++) {
        expect(f[2 * i + a]).toBeCloseTo(p[2 * a] * s[2 * i] + p[2 * a + 1] * s[2 * i + 1], 10);
      }
    }
    const g = new Float64Array(4);
    sys.diffusion(0, x, g);
    const gt = new Matrix(2, 2, Float64Array.of(g[0], g[2], g[1], g[3]));
    const ggt = matmul(new Matrix(2, 2, g), gt);
    for (let k = 0; k < 4; k++) expect(ggt.data[k]).toBeCloseTo(2 * model.original.phiS.data[k], 10);
  });

  it('round-trips through JSON (caller-supplied score passed again on load)', () => {
    const model = ouModel;
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    expect(() => LangevinModel.fromJSON(json)).toThrow(InvalidArgumentError);
    const again = LangevinModel.fromJSON(json, { score: ouScore });
    expect(again.phi.toArray()).toEqual(model.phi.toArray());
    expect(again.original.sigma.toArray()).toEqual(model.original.sigma.toArray());
    const x = Float64Array.of(0.2, 0.1);
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    model.system().drift(0, x, a);
    again.system().drift(0, x, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(again.partition).toBeNull();
    expect(again.original.uncertainty!.phi.se.toArray()).toEqual(
      model.original.uncertainty!.phi.se.toArray(),
    );
    expect(again.diagnostics.uncertainty!.phiS.lower.data[0]).toBeCloseTo(
      model.diagnostics.uncertainty!.phiS.lower.data[0],
      12,
    );
    expect(again.diagnostics.regime).toEqual(model.diagnostics.regime);
    // A hand-edited or truncated file is a FormatError naming the field.
    const broken = (edit: (j: Record<string, unknown>) => void) => {
      const j = JSON.parse(JSON.stringify(json));
      edit(j);
      return () => LangevinModel.fromJSON(j, { score: ouScore });
    };
    expect(broken((j) => delete j.score)).toThrow(/LangevinModel: score is missing/);
    expect(broken((j) => (j.dt = -0.01))).toThrow(/LangevinModel: dt must be a finite number > 0/);
    expect(broken((j) => ((j.zUnits as { phi: unknown[][] }).phi[0][1] = null))).toThrow(
      /zUnits.phi must be a 2 x 2 array of finite numbers/,
    );
    expect(broken((j) => delete j.dataRange)).toThrow(/dataRange/);
    // Format version 2 stores Phi in data units and the z-unit matrices under zUnits.
    expect(json.version).toBe(2);
    expect(json.phi).toEqual(model.original.phi.toArray());
    expect(json.zUnits.phi).toEqual(model.phi.toArray());
  });
});

describe('model files of format version 1', () => {
  it('loads a version-1 file (written by the previous release, z-unit matrices) and saves it as version 2', () => {
    const json = JSON.parse(
      readFileSync(fileURLToPath(new URL('./fixtures/langevin-model-v1.json', import.meta.url)), 'utf8'),
    );
    expect(json.version).toBe(1);
    const unit = analyticScore(2, (x, out) => {
      out[0] = -x[0];
      out[1] = -x[1];
    });
    const model = LangevinModel.fromJSON(json, { score: unit });
    expect(model.phi.toArray()).toEqual(json.phi);
    const s = json.zscore.std;
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++)
        expect(model.original.phi.get(i, j)).toBeCloseTo(json.phi[i][j] * s[i] * s[j], 14);
    expect(model.diagnostics.cdotEstimator).toBe('richardson');
    expect(model.diagnostics.regime).toBeNull();
    expect(model.original.uncertainty).toBeNull();
    expect(model.partition?.size).toBeGreaterThan(10);
    const again = model.toJSON();
    expect(again.version).toBe(2);
    expect(again.zUnits.phi).toEqual(json.phi);
    const f = new Float64Array(2);
    model.system().drift(0, Float64Array.of(0.5, -0.2), f);
    expect(f.every(Number.isFinite)).toBe(true);
  });

  it('a lag longer than every run is a typed error naming the lag', () => {
    const [run] = [timeSeries(new Float64Array(2 * 40), 2, 0.01)];
    expect(() => new LagCdot({ lag: 30 }).estimate({ y: run.data, dim: 2, dt: 0.01 })).toThrow(
      /lag: 60 samples/,
    );
    expect(() => new LagCdot({ lag: 0 })).toThrow(/lag/);
  });
});

describe('tail continuation of the score in system()', () => {
  // 1-D OU data (z ~ N(0, 1)) and a score that is right in the bulk but turns outward beyond
  // |y| = 150^(1/4) = 3.5 (as a learned score can where the data put no mass): s(y) = -y + y^5 / 150.
  // The box of the 1e-3 quantiles, about [-3.1, 3.1], lies inside the good region.
  const bundle = simulate(ouSystem(Matrix.from([[1]]), Matrix.from([[Math.SQRT2]])), {
    x0: new Float64Array(1),
    h: 1e-3,
    T: 2000,
    saveEvery: 10,
    burnIn: 2000,
    seed: 21,
  });
  const series = pathOf(bundle, 0);
  const outward = analyticScore(1, (y, out) => {
    out[0] = -y[0] + y[0] ** 5 / 150;
  });
  const start = { x0: new Float64Array(200).fill(4.5), paths: 200, h: 1e-3, T: 20, saveEvery: 100, seed: 3 };

  it('keeps paths started beyond the box confined; the raw score lets them escape', () => {
    const raw = fitLangevin(series, { score: { model: outward, units: 'z' }, tailQuantile: 0, seed: 1 });
    expect(raw.tailBox).toBeNull();
    // At z = 4.5 the raw drift is Phi (-4.5 + 4.5^5 / 150) > 0: finite-time blow-up.
    expect(() => simulate(raw.system(), start)).toThrow(BlowUpError);

    const guarded = fitLangevin(series, { score: { model: outward, units: 'z' }, seed: 1 });
    const box = guarded.tailBox!;
    expect(box.quantile).toBe(1e-3);
    // 1e-3 quantiles of N(0, 1) are -+3.09; from ~2e5 correlated points they are known to ~0.1.
    expect(box.lo[0]).toBeGreaterThan(-3.4);
    expect(box.lo[0]).toBeLessThan(-2.8);
    expect(box.hi[0]).toBeGreaterThan(2.8);
    expect(box.hi[0]).toBeLessThan(3.4);
    const sim = simulate(guarded.system(), start);
    // Exact stationary law of the guarded 1-D model (a gradient system): log p = int s, with
    // s = -y + y^5 / 150 inside the box and s(P y) - (y - P y) outside; its mean and variance by
    // quadrature on [-8, 8]. After 10 relaxation times the 200 paths are stationary; their last 10
    // time units hold ~2000 independent points (correlation time 1 / Phi ~ 1), so the variance has a
    // standard error of ~3 %: tolerance 10 %.
    const sOf = (y: number) => {
      const py = Math.min(box.hi[0], Math.max(box.lo[0], y));
      return -py + py ** 5 / 150 - (y - py);
    };
    const grid = 16001;
    const step = 16 / (grid - 1);
    let logp = 0;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    for (let i = 0; i < grid; i++) {
      const y = -8 + i * step;
      if (i > 0) logp += ((sOf(y - step) + sOf(y)) / 2) * step;
      const w = Math.exp(logp);
      z0 += w;
      z1 += w * y;
      z2 += w * y * y;
    }
    const exactMean = z1 / z0;
    const exactVar = z2 / z0 - exactMean ** 2;
    expect(exactVar).toBeGreaterThan(1.05); // the y^6 / 900 term fattens the tails
    const zs: number[] = [];
    const n = sim.length;
    for (let p = 0; p < 200; p++)
      for (let t = Math.floor(n / 2); t < n; t++)
        zs.push((sim.data[p * n + t] - guarded.zscore.mean[0]) / guarded.zscore.std[0]);
    const m = zs.reduce((a, b) => a + b, 0) / zs.length;
    const v = zs.reduce((a, b) => a + (b - m) ** 2, 0) / zs.length;
    expect(Math.abs(m - exactMean)).toBeLessThan(0.1);
    expect(Math.abs(v / exactVar - 1)).toBeLessThan(0.1);
  });

  it('is continuous on the box boundary and stored in JSON', () => {
    const model = fitLangevin(series, { score: { model: outward, units: 'z' }, seed: 1 });
    const sys = model.system();
    const hi = model.zscore.mean[0] + model.zscore.std[0] * model.tailBox!.hi[0];
    const f = (x: number) => {
      const out = new Float64Array(1);
      sys.drift(0, Float64Array.of(x), out);
      return out[0];
    };
    expect(Math.abs(f(hi + 1e-9) - f(hi - 1e-9))).toBeLessThan(1e-6);
    // Beyond the box: Phi (s(hi) - (y - hi)) in z units, decreasing.
    expect(f(hi + 2) - f(hi + 1)).toBeLessThan(0);
    const again = LangevinModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())), { score: outward });
    expect(Array.from(again.tailBox!.hi)).toEqual(Array.from(model.tailBox!.hi));
    expect(f(hi + 3)).toBeCloseTo(
      (() => {
        const out = new Float64Array(1);
        again.system().drift(0, Float64Array.of(hi + 3), out);
        return out[0];
      })(),
      12,
    );
    expect(() =>
      fitLangevin(series, { score: { model: outward, units: 'z' }, tailQuantile: 0.5, seed: 1 }),
    ).toThrow(/tailQuantile/);
  });
});

describe('fitLangevin input checks', () => {
  const ou = ouSeries(300, 5);

  it('throws typed errors for a series too short for the partition, wrong dimensions, non-finite data', () => {
    const short = timeSeries(ou.data.slice(0, 2 * 500), 2, ou.dt);
    const exact = { model: ouScore, units: 'original' as const };
    expect(() =>
      fitLangevin(short, { score: exact, cdotEstimator: 'generator', pMin: 1e-3, seed: 1 }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      fitLangevin(short, { score: exact, cdotEstimator: 'generator', pMin: 1e-3, seed: 1 }),
    ).toThrow(/too short/);
    // 5 time units (~5 autocorrelation times): no error bars can be had. Asked for, that is a typed
    // error saying how to fit without them; by default the fit goes on and warns in words.
    expect(() => fitLangevin(short, { score: exact, seed: 1, uncertainty: {} })).toThrow(
      /series: is too short for error bars.*uncertainty: false/s,
    );
    const brief = fitLangevin(short, { score: exact, seed: 1 });
    expect(brief.original.uncertainty).toBeNull();
    expect(brief.diagnostics.warnings.some((w) => w.startsWith('series too short for error bars'))).toBe(
      true,
    );
    // required: false asks for the bootstrap where it can be had and takes the warning where not.
    const optional = fitLangevin(short, {
      score: exact,
      seed: 1,
      uncertainty: { replicates: 50, required: false },
    });
    expect(optional.original.uncertainty).toBeNull();
    expect(optional.diagnostics.warnings).toEqual(brief.diagnostics.warnings);
    expect(() => fitLangevin(short, { score: exact, seed: 1, uncertainty: { blockLength: 400 } })).toThrow(
      /uncertainty.blockLength/,
    );
    expect(() => fitLangevin(short, { score: exact, seed: 1, uncertainty: { replicates: 5 } })).toThrow(
      /uncertainty.replicates/,
    );
    const oneD = analyticScore(1, (x, out) => {
      out[0] = -x[0];
    });
    expect(() => fitLangevin(ou, { score: { model: oneD, units: 'original' }, seed: 1 })).toThrow(
      DimensionError,
    );
    const bad = { ...ou, data: ou.data.slice(0, ou.data.length - 1) };
    expect(() => fitLangevin(bad, { score: { model: ouScore, units: 'original' }, seed: 1 })).toThrow(
      DimensionError,
    );
    const nan = ou.data.slice();
    nan[17] = Number.NaN;
    expect(() =>
      fitLangevin({ ...ou, data: nan }, { score: { model: ouScore, units: 'original' }, seed: 1 }),
    ).toThrow(NonFiniteError);
    expect(() =>
      fitLangevin(ou, { score: { model: ouScore, units: 'original' }, correction: 'per-state', seed: 1 }),
    ).toThrow(/generator/);
    // A misspelt option is an error naming the close match, not silently ignored.
    expect(() =>
      fitLangevin(ou, { score: { model: ouScore, units: 'original' }, seed: 1, sigmaa: 0.1 } as never),
    ).toThrow(/unknown option 'sigmaa'.*did you mean 'sigma'/);
  });

  it('returns a warning for a non-stationary-looking series, and none for a stationary one', () => {
    const clean = fitLangevin(ou, { score: { model: ouScore, units: 'original' }, seed: 1 });
    expect(clean.diagnostics.warnings.filter((w) => w.includes('non-stationary'))).toEqual([]);
    // Add a ramp of 3 (in units of the std of x_1) over the record: the half means differ by 1.5.
    // Block means over 15 time units (20 blocks of T = 300) have variance ~ 2 tau var / 15 ~ 0.13
    // (tau ~ 1), so the half-mean difference has a standard error ~ sqrt(2 * 0.13 / 10) ~ 0.16 (in
    // z units, std ~ 1.3 with the ramp): about 7 standard errors, above the threshold of 5.
    const trend = ou.data.slice();
    const n = ou.length;
    for (let t = 0; t < n; t++) trend[2 * t] += (3 * t) / n;
    // (A ramp's autocorrelation time spans the record, so the bootstrap gives no error bars either.)
    const drifting = fitLangevin(
      { ...ou, data: trend },
      { score: { model: ouScore, units: 'original' }, seed: 1 },
    );
    expect(drifting.diagnostics.warnings.some((w) => w.startsWith('series too short for error bars'))).toBe(
      true,
    );
    expect(
      drifting.diagnostics.warnings.some((w) => w.includes('coordinate 0') && w.includes('non-stationary')),
    ).toBe(true);
  });
});

/**
 * Pseudo-spectral ETDRK4 solver of the Kuramoto-Sivashinsky equation
 *   u_t = -u u_x - u_xx - u_xxxx,   x in [0, L) periodic
 * (docs/benchmarks.md T3; Kassam & Trefethen 2005, section 5 and their program kursiv.m).
 *
 * In Fourier space, with k_j = 2 pi j / L and v_j the coefficients of u,
 *   dv_j/dt = (k_j^2 - k_j^4) v_j - (i k_j / 2) FFT(u^2)_j,
 * a diagonal stiff linear part handled exactly by exponential time differencing, and the
 * nonlinear term -(u^2/2)_x evaluated by the pseudo-spectral method with a real FFT.
 *
 * Order: four in h while h max_j |k_j^2 - k_j^4| <~ 1 (self-convergence test). On stiff grids the
 * order before that regime is lower, the stiff order reduction of this ETDRK4 variant (Hochbruck &
 * Ostermann 2005, SIAM J. Numer. Anal. 43(3)), at errors that are already small (measured slopes
 * and errors: docs/findings.md, ks-solver).
 * Storage: the N/2 + 1 non-negative-frequency coefficients; the Nyquist mode gets no nonlinear
 * forcing (its derivative is not representable for real data) and is damped by its linear factor.
 * Optional 2/3 dealiasing (Orszag 1971): the nonlinear term is zeroed for |j| > floor((N - 1)/3).
 */
import {
  BlowUpError,
  checkFinite,
  checkInteger,
  checkPositive,
  DimensionError,
  InvalidArgumentError,
  isPowerOfTwo,
  RealFft,
} from '@sdekit/sde';
import { etdrk4Coefficients } from './etdrk4.js';

/** Options of {@link createKsSolver}. */
export interface KsSolverOptions {
  /** Domain length (period), > 0. */
  readonly L: number;
  /** Number of grid points: a power of two >= 16. */
  readonly N: number;
  /** Time step, > 0. */
  readonly h: number;
  /** Zero the nonlinear term above 2/3 of the resolved wavenumbers (default false). */
  readonly dealias?: boolean;
  /** Points on the contour for the ETDRK4 coefficients (default 32, as in docs/benchmarks.md T3). */
  readonly contourPoints?: number;
}

/** Smallest supported grid. */
export const KS_MIN_N = 16;

/**
 * Checks the common KS options (L > 0, N a power of two >= 16, h > 0) with typed errors.
 */
export function checkKsGrid(L: number, N: number, h: number): void {
  checkPositive('L', L);
  checkPositive('h', h);
  if (!isPowerOfTwo(N) || N < KS_MIN_N) {
    throw new InvalidArgumentError(
      'N',
      `must be a power of two >= ${KS_MIN_N}, got ${N}`,
      'pass N = 16, 32, 64, 128, ...',
    );
  }
}

/**
 * A KS solver: holds the state, the precomputed ETDRK4 multipliers, the FFT plan and all work
 * buffers, so stepping allocates nothing.
 *
 * @example
 * const solver = createKsSolver({ L: 22, N: 64, h: 0.25 });
 * const x = solver.grid();
 * solver.setState(x.map((xi) => Math.cos((2 * Math.PI * xi) / 22)));
 * solver.step(400);           // advance to t = 100
 * const u = solver.state();   // Float64Array(64) on the grid x_j = j L / N
 */
export class KsSolver {
  readonly L: number;
  readonly N: number;
  readonly h: number;
  readonly dealias: boolean;
  /** Number of stored Fourier coefficients, N/2 + 1. */
  readonly bins: number;
  /** Wavenumbers k_j = 2 pi j / L of the stored coefficients, j = 0..N/2. */
  readonly wavenumbers: Float64Array;

  private readonly fft: RealFft;
  private readonly E: Float64Array;
  private readonly E2: Float64Array;
  /**
   * Q, f1, 2 f2, f3 times g_j = -k_j / 2 (times the dealiasing mask; 0 at the Nyquist mode). The
   * nonlinear term is N(v)_j = i g_j F_j with F = FFT(IFFT(v)^2), so each multiplier acting on N
   * becomes (coefficient * g) acting on i F: (i c)(Fr + i Fi) = -c Fi + i c Fr.
   */
  private readonly Qg: Float64Array;
  private readonly f1g: Float64Array;
  private readonly f2g2: Float64Array;
  private readonly f3g: Float64Array;
  private readonly vr: Float64Array;
  private readonly vi: Float64Array;
  private readonly nvr: Float64Array;
  private readonly nvi: Float64Array;
  private readonly ar: Float64Array;
  private readonly ai: Float64Array;
  private readonly nar: Float64Array;
  private readonly nai: Float64Array;
  private readonly br: Float64Array;
  private readonly bi: Float64Array;
  private readonly nbr: Float64Array;
  private readonly nbi: Float64Array;
  private readonly cr: Float64Array;
  private readonly ci: Float64Array;
  private readonly ncr: Float64Array;
  private readonly nci: Float64Array;
  /** Packed physical values u[2j] + i u[2j+1] (see RealFft.inversePacked). */
  private readonly packedRe: Float64Array;
  private readonly packedIm: Float64Array;
  private t0 = 0;
  private stepsSinceSet = 0;
  private hasState = false;

  constructor(options: KsSolverOptions) {
    const { L, N, h, dealias = false, contourPoints = 32 } = options;
    checkKsGrid(L, N, h);
    this.L = L;
    this.N = N;
    this.h = h;
    this.dealias = dealias;
    const bins = N / 2 + 1;
    this.bins = bins;
    this.fft = new RealFft(N);
    this.wavenumbers = new Float64Array(bins);
    const linear = new Float64Array(bins);
    const g = new Float64Array(bins);
    const cutoff = dealias ? Math.floor((N - 1) / 3) : N / 2 - 1;
    for (let j = 0; j < bins; j++) {
      const k = (2 * Math.PI * j) / L;
      this.wavenumbers[j] = k;
      linear[j] = k * k - k * k * k * k;
      g[j] = j <= cutoff ? -0.5 * k : 0;
    }
    const c = etdrk4Coefficients(linear, h, contourPoints);
    this.E = c.E;
    this.E2 = c.E2;
    this.Qg = c.Q.map((q, j) => q * g[j]);
    this.f1g = c.f1.map((f, j) => f * g[j]);
    this.f2g2 = c.f2.map((f, j) => 2 * f * g[j]);
    this.f3g = c.f3.map((f, j) => f * g[j]);
    const buf = () => new Float64Array(bins);
    this.vr = buf();
    this.vi = buf();
    this.nvr = buf();
    this.nvi = buf();
    this.ar = buf();
    this.ai = buf();
    this.nar = buf();
    this.nai = buf();
    this.br = buf();
    this.bi = buf();
    this.nbr = buf();
    this.nbi = buf();
    this.cr = buf();
    this.ci = buf();
    this.ncr = buf();
    this.nci = buf();
    this.packedRe = new Float64Array(N / 2);
    this.packedIm = new Float64Array(N / 2);
  }

  /** Current time: t0 of the last setState plus h times the steps taken since. */
  get time(): number {
    return this.t0 + this.stepsSinceSet * this.h;
  }

  /** Grid points x_j = j L / N, j < N. */
  grid(): Float64Array {
    const x = new Float64Array(this.N);
    for (let j = 0; j < this.N; j++) x[j] = (j * this.L) / this.N;
    return x;
  }

  /** Sets u(x_j) (length N, finite) at time t0 (default 0). */
  setState(u: Float64Array, t0 = 0): void {
    if (!(u instanceof Float64Array)) {
      throw new InvalidArgumentError('u', 'must be a Float64Array', 'convert with Float64Array.from(values)');
    }
    if (u.length !== this.N) {
      throw new DimensionError(
        'u',
        `has length ${u.length}, expected N = ${this.N}`,
        'pass the field on the N grid points',
      );
    }
    checkFinite('u', u);
    if (!Number.isFinite(t0))
      throw new InvalidArgumentError('t0', `must be finite, got ${t0}`, 'pass a finite start time');
    this.fft.forward(u, this.vr, this.vi);
    this.t0 = t0;
    this.stepsSinceSet = 0;
    this.hasState = true;
  }

  /** Writes u(x_j) into out (length N; allocated when omitted) and returns it. */
  state(out?: Float64Array): Float64Array {
    this.requireState();
    const u = out ?? new Float64Array(this.N);
    this.fft.inverse(this.vr, this.vi, u);
    return u;
  }

  /**
   * Copies the Fourier coefficients v_j = sum_x u(x) exp(-i k_j x) (unnormalised, j = 0..N/2)
   * into re, im (length N/2 + 1).
   */
  modes(re: Float64Array, im: Float64Array): void {
    this.requireState();
    if (re.length !== this.bins || im.length !== this.bins) {
      throw new DimensionError(
        're, im',
        `have lengths ${re.length}, ${im.length}, expected ${this.bins}`,
        'pass arrays of length N/2 + 1',
      );
    }
    re.set(this.vr);
    im.set(this.vi);
  }

  /**
   * Advances nSteps ETDRK4 steps of size h (default 1). Throws BlowUpError (with the time of the
   * first non-finite coefficient) when the state leaves the finite numbers.
   */
  step(nSteps = 1): void {
    this.requireState();
    checkInteger('nSteps', nSteps, 0);
    // n*: F = FFT(u^2) of the stage values; the factor i g is folded into Qg, f1g, f2g2, f3g.
    const {
      E,
      E2,
      Qg,
      f1g,
      f2g2,
      f3g,
      vr,
      vi,
      nvr,
      nvi,
      ar,
      ai,
      nar,
      nai,
      br,
      bi,
      nbr,
      nbi,
      cr,
      ci,
      ncr,
      nci,
    } = this;
    const bins = this.bins;
    for (let s = 0; s < nSteps; s++) {
      this.squareTransform(vr, vi, nvr, nvi);
      for (let j = 0; j < bins; j++) {
        ar[j] = E2[j] * vr[j] - Qg[j] * nvi[j];
        ai[j] = E2[j] * vi[j] + Qg[j] * nvr[j];
      }
      this.squareTransform(ar, ai, nar, nai);
      for (let j = 0; j < bins; j++) {
        br[j] = E2[j] * vr[j] - Qg[j] * nai[j];
        bi[j] = E2[j] * vi[j] + Qg[j] * nar[j];
      }
      this.squareTransform(br, bi, nbr, nbi);
      for (let j = 0; j < bins; j++) {
        cr[j] = E2[j] * ar[j] - Qg[j] * (2 * nbi[j] - nvi[j]);
        ci[j] = E2[j] * ai[j] + Qg[j] * (2 * nbr[j] - nvr[j]);
      }
      this.squareTransform(cr, ci, ncr, nci);
      let check = 0;
      for (let j = 0; j < bins; j++) {
        const re = E[j] * vr[j] - f1g[j] * nvi[j] - f2g2[j] * (nai[j] + nbi[j]) - f3g[j] * nci[j];
        const im = E[j] * vi[j] + f1g[j] * nvr[j] + f2g2[j] * (nar[j] + nbr[j]) + f3g[j] * ncr[j];
        vr[j] = re;
        vi[j] = im;
        check += re * 0 + im * 0; // NaN when any coefficient is NaN or infinite
      }
      this.stepsSinceSet++;
      if (check !== 0) {
        throw new BlowUpError(
          this.time,
          0,
          `KS state not finite after step ${this.stepsSinceSet} (L = ${this.L}, N = ${this.N}, h = ${this.h})`,
        );
      }
    }
  }

  /**
   * out = FFT(IFFT(v)^2), the transform of u^2 (the nonlinear term is -(u^2/2)_x = i g FFT(u^2)).
   * The square is taken on the packed physical values, which is the same pointwise square of u.
   */
  private squareTransform(
    inRe: Float64Array,
    inIm: Float64Array,
    outRe: Float64Array,
    outIm: Float64Array,
  ): void {
    const pr = this.packedRe;
    const pi = this.packedIm;
    this.fft.inversePacked(inRe, inIm, pr, pi);
    for (let j = 0; j < pr.length; j++) {
      pr[j] *= pr[j];
      pi[j] *= pi[j];
    }
    this.fft.forwardPacked(pr, pi, outRe, outIm);
  }

  private requireState(): void {
    if (!this.hasState) {
      throw new InvalidArgumentError(
        'state',
        'no initial condition set',
        'call setState(u0) before stepping or reading the state',
      );
    }
  }
}

/**
 * Creates a KS solver for u_t = -u u_x - u_xx - u_xxxx on [0, L) with N points and step h
 * (ETDRK4, Kassam & Trefethen 2005). Set an initial condition with `setState` before stepping.
 *
 * @example
 * const solver = createKsSolver({ L: 34, N: 64, h: 0.05, dealias: true });
 * solver.setState(randomSmoothField({ N: 64, seed: 1 }));
 * solver.step(20000); // t = 1000
 */
export function createKsSolver(options: KsSolverOptions): KsSolver {
  return new KsSolver(options);
}

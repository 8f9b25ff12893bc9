/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna 2018, period 2^128 - 1) for uniform
 * bits and Doornik's ZIGNOR ziggurat (Doornik 2005, "An Improved Ziggurat Method to Generate Normal
 * Random Samples") for normals. All arithmetic is 32-bit integer, so the same seed gives bit-identical
 * streams on every machine.
 *
 * Streams: `Rng.fromSeed(seed, stream)` hashes (seed, stream) into the state; `jump()` advances by
 * 2^64 draws for provably non-overlapping sub-sequences.
 *
 * @example
 * const rng = Rng.fromSeed(42);
 * const z = new Float64Array(1000);
 * rng.fillNormal(z);
 */
import { InvalidArgumentError } from './errors.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_52 = 4503599627370496;
const TWO_POW_M32 = 1 / TWO_POW_32;

/** murmur3 finaliser: a bijective 32-bit mixer used to expand seeds into states. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of a name, then mixed: a 52-bit integer id of the name. */
function nameId(name: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ 0x5bd1e995, 0x01000193) >>> 0;
  }
  return (fmix32(b ^ name.length) & 0xfffff) * TWO_POW_32 + fmix32(a);
}

function checkName(argument: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidArgumentError(
      argument,
      'must be a non-empty string',
      "name the purpose, e.g. 'stein-samples'",
    );
}

/**
 * The stream index of a named purpose (`Rng.fromSeed(seed, streamOf('dsm-batches'))`, or
 * `Rng.named`): a 52-bit hash of the name, so each purpose of a seeded computation draws from a
 * stream of its own without the arithmetic on seeds or stream numbers (seed + 1, stream 11) that
 * lets two purposes, or a user's neighbouring seeds, meet.
 */
export function streamOf(name: string): number {
  checkName('name', name);
  return nameId(name);
}

/**
 * The seed of a named sub-computation, for functions that take a seed (not an Rng): a 52-bit hash
 * of (seed, name), in the spirit of numpy's SeedSequence.spawn. Unlike seed + k, a seed's children
 * and a neighbouring seed's children never coincide by construction (only by a 2^-52 accident).
 *
 * @example
 * model.bbar(grid, { fastSamples: 1024, seed: childSeed(seed, 'bbar-points') });
 */
export function childSeed(seed: number, name: string): number {
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_53)
    throw new InvalidArgumentError(
      'seed',
      `must be an integer in [0, 2^53), got ${seed}`,
      'pass a non-negative integer seed',
    );
  checkName('name', name);
  const id = nameId(name);
  const lo = fmix32(fmix32((seed >>> 0) ^ 0x2545f491) ^ (id >>> 0));
  const hi = fmix32(
    lo ^ (Math.floor(seed / TWO_POW_32) >>> 0) ^ (Math.floor(id / TWO_POW_32) >>> 0) ^ 0x9e3779b9,
  );
  return (hi & 0xfffff) * TWO_POW_32 + lo;
}

// ZIGNOR tables: 128 layers, right-most layer edge R and layer area V (Doornik 2005, Listing 2).
const ZIG_C = 128;
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_X = new Float64Array(ZIG_C + 1);
const ZIG_RATIO = new Float64Array(ZIG_C);
/** ZIG_F[i] = exp(-ZIG_X[i]^2 / 2), the density at the layer edges (unnormalised). */
const ZIG_F = new Float64Array(ZIG_C + 1);
/**
 * Integer forms of the fast test: a candidate is the signed 53-bit integer j in [-2^52, 2^52)
 * (u = j / 2^52 uniform on [-1, 1)); |u| < ZIG_RATIO[i] iff |j| < ZIG_KN[i], and u ZIG_X[i] =
 * j ZIG_WN[i] exactly (the scalings are powers of two).
 */
const ZIG_KN = new Float64Array(ZIG_C);
const ZIG_WN = new Float64Array(ZIG_C);
{
  let f = Math.exp(-0.5 * ZIG_R * ZIG_R);
  ZIG_X[0] = ZIG_V / f;
  ZIG_X[1] = ZIG_R;
  ZIG_X[ZIG_C] = 0;
  for (let i = 2; i < ZIG_C; i++) {
    ZIG_X[i] = Math.sqrt(-2 * Math.log(ZIG_V / ZIG_X[i - 1] + f));
    f = Math.exp(-0.5 * ZIG_X[i] * ZIG_X[i]);
  }
  for (let i = 0; i < ZIG_C; i++) ZIG_RATIO[i] = ZIG_X[i + 1] / ZIG_X[i];
  for (let i = 0; i <= ZIG_C; i++) ZIG_F[i] = Math.exp(-0.5 * ZIG_X[i] * ZIG_X[i]);
  for (let i = 0; i < ZIG_C; i++) {
    ZIG_KN[i] = ZIG_RATIO[i] * TWO_POW_52;
    ZIG_WN[i] = ZIG_X[i] / TWO_POW_52;
  }
}

// xoshiro128** jump polynomial: equivalent to 2^64 calls of next().
const JUMP = [0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(s0: number, s1: number, s2: number, s3: number) {
    // Words are stored as signed 32-bit integers (V8 keeps them unboxed); only their bits matter.
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** The generator of a named purpose of `seed`: `Rng.fromSeed(seed, streamOf(name))`. */
  static named(seed: number, name: string): Rng {
    return Rng.fromSeed(seed, streamOf(name));
  }

  /**
   * A generator for (seed, stream). Seeds are integers in [0, 2^53); different streams of one seed
   * are statistically independent (their states are hashed apart).
   */
  static fromSeed(seed: number, stream = 0): Rng {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_53) {
      throw new InvalidArgumentError(
        'seed',
        `must be an integer in [0, 2^53), got ${seed}`,
        'pass a non-negative integer seed',
      );
    }
    if (!Number.isInteger(stream) || stream < 0 || stream >= TWO_POW_53) {
      throw new InvalidArgumentError(
        'stream',
        `must be an integer in [0, 2^53), got ${stream}`,
        'pass a non-negative integer stream index',
      );
    }
    const sLo = seed >>> 0;
    const sHi = Math.floor(seed / TWO_POW_32) >>> 0;
    const tLo = stream >>> 0;
    const tHi = Math.floor(stream / TWO_POW_32) >>> 0;
    // Chain the mixer over all inputs with distinct constants for each state word.
    let h = fmix32(sLo ^ 0x9e3779b9);
    h = fmix32(h ^ sHi ^ 0x7f4a7c15);
    h = fmix32(h ^ tLo ^ 0x85ebca77);
    h = fmix32(h ^ tHi ^ 0xc2b2ae3d);
    const a = fmix32(h ^ 0x27d4eb2f);
    const b = fmix32(a ^ 0x165667b1);
    const c = fmix32(b ^ 0xd3a2646c);
    const d = fmix32(c ^ 0xfd7046c5);
    const rng = new Rng(a, b, c, d);
    // Discard a few outputs so that nearby seeds decorrelate fully.
    for (let i = 0; i < 8; i++) rng.nextUint32();
    return rng;
  }

  /** Restores a generator from `state()`. */
  static fromState(state: Uint32Array): Rng {
    if (state.length !== 4) {
      throw new InvalidArgumentError(
        'state',
        `must have 4 words, got ${state.length}`,
        'pass the value returned by rng.state()',
      );
    }
    return new Rng(state[0], state[1], state[2], state[3]);
  }

  /** The 128-bit state, for checkpointing. */
  state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** An independent copy with the same state. */
  clone(): Rng {
    return new Rng(this.s0, this.s1, this.s2, this.s3);
  }

  /** Next 32 uniform bits as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform integer in [0, n), without modulo bias (Lemire-style rejection on 32 bits). */
  integer(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new InvalidArgumentError(
        'n',
        `must be an integer in [1, 2^32], got ${n}`,
        'pass a positive integer range',
      );
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /**
   * Standard normal by the ZIGNOR ziggurat; about two 32-bit draws per sample on average. Gives the
   * same sequence as `fillNormal` (one sample per call instead of a block).
   */
  normal(): number {
    for (;;) {
      const a = this.nextUint32() | 0;
      const b = this.nextUint32() >>> 4;
      const i = a & 0x7f;
      // Signed 53-bit integer from the top 25 bits of a (with sign) and 28 bits of b.
      const j = (a >> 7) * 268435456 + b;
      if (Math.abs(j) < ZIG_KN[i]) return j * ZIG_WN[i];
      const u = j / TWO_POW_52;
      const x = this.zigguratEdge(i, u);
      if (!Number.isNaN(x)) return x; // accepted
    }
  }

  /**
   * The rare (~1.2 %) slow branch of the ziggurat: the base strip's tail (i = 0) or the wedge test of
   * layer i. Returns NaN when the candidate is rejected (the caller draws a fresh candidate).
   */
  private zigguratEdge(i: number, u: number): number {
    if (i === 0) return this.normalTail(u < 0);
    const x = u * ZIG_X[i];
    // Accept when a uniform point in the wedge between the layer edges lies under exp(-x^2/2).
    const v = this.nextUint32() * TWO_POW_M32;
    return ZIG_F[i + 1] + v * (ZIG_F[i] - ZIG_F[i + 1]) < Math.exp(-0.5 * x * x) ? x : Number.NaN;
  }

  /** Marsaglia's tail sampler beyond ZIG_R. */
  private normalTail(negative: boolean): number {
    let x: number;
    let y: number;
    do {
      x = Math.log(1 - this.uniform()) / ZIG_R;
      y = Math.log(1 - this.uniform());
    } while (-2 * y < x * x);
    return negative ? x - ZIG_R : ZIG_R - x;
  }

  /**
   * Fills `out` with uniforms on [lo, hi) (53 random bits each; the same sequence as repeated
   * `uniform()`). The generator state lives in local variables inside the loop, which is several
   * times faster than calling `uniform()` per element. Returns `out`.
   */
  fillUniform(out: Float64Array, lo = 0, hi = 1): Float64Array {
    const w = (hi - lo) / TWO_POW_53;
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const n = out.length;
    for (let k = 0; k < n; k++) {
      // xoshiro128** inlined twice (see nextUint32).
      const r1 = Math.imul(s1, 5);
      const a = Math.imul((r1 << 7) | (r1 >>> 25), 9) >>> 5;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const r2 = Math.imul(s1, 5);
      const b = Math.imul((r2 << 7) | (r2 >>> 25), 9) >>> 6;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[k] = lo + w * (a * 67108864 + b);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }

  /**
   * Fills `out` with N(mean, std^2) samples; the same sequence as repeated `normal()`. The xoshiro
   * state is kept in local variables across the ziggurat's fast branch (taken ~98.8 % of the time);
   * only the slow branch goes through the object. Returns `out`.
   */
  fillNormal(out: Float64Array, mean = 0, std = 1): Float64Array {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const n = out.length;
    for (let k = 0; k < n; k++) {
      for (;;) {
        const r1 = Math.imul(s1, 5);
        const a = Math.imul((r1 << 7) | (r1 >>> 25), 9);
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const r2 = Math.imul(s1, 5);
        const b = Math.imul((r2 << 7) | (r2 >>> 25), 9) >>> 4;
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const i = a & 0x7f;
        const j = (a >> 7) * 268435456 + b;
        if (Math.abs(j) < ZIG_KN[i]) {
          out[k] = mean + std * (j * ZIG_WN[i]);
          break;
        }
        const u = j / TWO_POW_52;
        if (i !== 0) {
          // Wedge test of layer i, inlined (same draws as zigguratEdge).
          const x = u * ZIG_X[i];
          const r3 = Math.imul(s1, 5);
          const c = Math.imul((r3 << 7) | (r3 >>> 25), 9) >>> 0;
          t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = (s3 << 11) | (s3 >>> 21);
          if (ZIG_F[i + 1] + c * TWO_POW_M32 * (ZIG_F[i] - ZIG_F[i + 1]) < Math.exp(-0.5 * x * x)) {
            out[k] = mean + std * x;
            break;
          }
          continue;
        }
        // Base strip beyond R (about 1 in 4000 draws): hand the state to the object and back.
        this.s0 = s0;
        this.s1 = s1;
        this.s2 = s2;
        this.s3 = s3;
        const x = this.normalTail(u < 0);
        s0 = this.s0;
        s1 = this.s1;
        s2 = this.s2;
        s3 = this.s3;
        out[k] = mean + std * x;
        break;
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }

  /** Fills out[0..n) with a uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(out: Int32Array | Uint32Array): typeof out {
    const n = out.length;
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** Advances the state by 2^64 draws (non-overlapping sub-streams). */
  jump(): void {
    let t0 = 0;
    let t1 = 0;
    let t2 = 0;
    let t3 = 0;
    for (let w = 0; w < 4; w++) {
      for (let b = 0; b < 32; b++) {
        if ((JUMP[w] >>> b) & 1) {
          t0 ^= this.s0;
          t1 ^= this.s1;
          t2 ^= this.s2;
          t3 ^= this.s3;
        }
        this.nextUint32();
      }
    }
    this.s0 = t0 | 0;
    this.s1 = t1 | 0;
    this.s2 = t2 | 0;
    this.s3 = t3 | 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

import type { Rng } from './rng.js';

/** Paths per noise stream: block b of paths draws from `Rng.fromSeed(seed, b)`. */
export const NOISE_BLOCK = 256;

/**
 * The standard normals of one noise block, step after step: set 0 of its paths, then set 1, ...
 * from the block's own stream, written to `views` (one per set: the share [offset, offset +
 * view length) of the set's `perSet` normals that this range of paths uses). A whole block of more
 * than 64 normals per step fills its views directly. Small blocks (e.g. one long path) draw many
 * steps ahead in one `fillNormal` call, and a block shared with another range draws whole steps, to
 * copy out their share; as the stream is sequential, the values are exactly those of one fill per
 * set and step.
 */
export class BlockNoise {
  private readonly rng: Rng;
  private readonly views: Float64Array[];
  private readonly perSet: number;
  private readonly offset: number;
  private readonly ahead: Float64Array | undefined;
  private pos: number;

  constructor(rng: Rng, views: Float64Array[], perSet: number, offset: number) {
    this.rng = rng;
    this.views = views;
    this.perSet = perSet;
    this.offset = offset;
    const perStep = perSet * views.length;
    const whole = offset === 0 && views[0].length === perSet;
    this.ahead =
      perStep <= 64
        ? new Float64Array(perStep * Math.ceil(4096 / perStep))
        : whole
          ? undefined
          : new Float64Array(perStep);
    this.pos = this.ahead ? this.ahead.length : 0;
  }

  /** Writes the next step's normals into the views. */
  next(): void {
    const ahead = this.ahead;
    if (!ahead) {
      for (let s = 0; s < this.views.length; s++) this.rng.fillNormal(this.views[s]);
      return;
    }
    if (this.pos === ahead.length) {
      this.rng.fillNormal(ahead);
      this.pos = 0;
    }
    for (let s = 0; s < this.views.length; s++) {
      const v = this.views[s];
      const from = this.pos + this.offset;
      for (let i = 0; i < v.length; i++) v[i] = ahead[from + i];
      this.pos += this.perSet;
    }
  }
}

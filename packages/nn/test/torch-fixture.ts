// What the exact-trajectory tests of nn, flows and score share: reading a fixture written by
// tools/torch-parity/trajectories.py, its two optimiser settings, and the distance between parameter
// vectors. The flows and score tests import it from here (test code, not part of the package).
import { readFileSync } from 'node:fs';
import { type AdamOptions, warmupCosine } from '../src/index.js';

/** A fixture file of tools/torch-parity/trajectories.py (JSON). */
// biome-ignore lint/suspicious/noExplicitAny: the fixture's fields differ by network.
export function readFixture(url: URL): any {
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** A base64 array of little-endian float32 values (the fixtures' encoding). */
export function f32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** ||a - b|| / ||b|| in float64. */
export function relativeDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

/**
 * The fixture's Adam settings: 'constant' is PyTorch's default (lr 1e-3, no clipping), 'schedule'
 * the script's warm-up over 10 steps to 2e-3, cosine decay to 1e-5 at the last step, clipped at the
 * fixture's clipNorm.
 */
export function fixtureOptimizer(
  setting: 'constant' | 'schedule',
  fixture: { steps: number; clipNorm: number },
): AdamOptions {
  return setting === 'constant'
    ? { lr: 1e-3 }
    : {
        lr: warmupCosine({ peak: 2e-3, warmupSteps: 10, totalSteps: fixture.steps, floor: 1e-5 }),
        clipNorm: fixture.clipNorm,
      };
}

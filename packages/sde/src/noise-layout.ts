import type { NoiseKind, SdeSystem } from './types.js';

/**
 * Values a diffusion matrix G (dim x noiseDim) takes in the layout `kind`: 1 (scalar g I), dim
 * (diagonal), dim * noiseDim (general, row-major). The one definition of the layout's size, for
 * systems, slow-fast blocks, averaged coefficients and their covariances (kind of S, noiseDim = dim).
 */
export function noiseLayoutSize(kind: NoiseKind, dim: number, noiseDim: number): number {
  if (kind === 'scalar') return 1;
  if (kind === 'diagonal') return dim;
  return dim * noiseDim;
}

/** Values `diffusion` writes per point: 1 (scalar), dim (diagonal) or dim * noiseDim (general). */
export function diffusionSize(system: SdeSystem): number {
  return noiseLayoutSize(system.noise, system.dim, system.noiseDim);
}

/** x += scale * G w for n points; w holds n * noiseDim values; G per point or constant. */
export function addNoise(
  system: SdeSystem,
  x: Float64Array,
  n: number,
  g: Float64Array,
  constantG: boolean,
  w: Float64Array,
  scale: number,
): void {
  const d = system.dim;
  const m = system.noiseDim;
  if (system.noise === 'scalar') {
    if (constantG) {
      const c = g[0] * scale;
      for (let i = 0; i < n * d; i++) x[i] += c * w[i];
    } else {
      for (let p = 0; p < n; p++) {
        const c = g[p] * scale;
        for (let j = 0; j < d; j++) x[p * d + j] += c * w[p * d + j];
      }
    }
  } else if (system.noise === 'diagonal') {
    if (constantG) {
      for (let p = 0; p < n; p++) for (let j = 0; j < d; j++) x[p * d + j] += scale * g[j] * w[p * d + j];
    } else {
      for (let i = 0; i < n * d; i++) x[i] += scale * g[i] * w[i];
    }
  } else {
    const gs = d * m;
    for (let p = 0; p < n; p++) {
      const go = constantG ? 0 : p * gs;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += g[go + i * m + k] * w[p * m + k];
        x[p * d + i] += scale * s;
      }
    }
  }
}

/** addNoise with the noise vector read from w starting at offset (constant G). */
export function addNoiseFrom(
  system: SdeSystem,
  x: Float64Array,
  n: number,
  g: Float64Array,
  w: Float64Array,
  offset: number,
  scale: number,
): void {
  const d = system.dim;
  const m = system.noiseDim;
  if (system.noise === 'scalar') {
    const c = g[0] * scale;
    for (let i = 0; i < n * d; i++) x[i] += c * w[offset + i];
  } else if (system.noise === 'diagonal') {
    for (let p = 0; p < n; p++)
      for (let j = 0; j < d; j++) x[p * d + j] += scale * g[j] * w[offset + p * d + j];
  } else {
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += g[i * m + k] * w[offset + p * m + k];
        x[p * d + i] += scale * s;
      }
    }
  }
}

// FFT throughput: `npx vitest bench --run bench/fft.bench.ts` in packages/sde. Each iteration is one
// transform (or one forward + inverse pair for the round trips); vitest reports hz = transforms per second.
import { bench, describe } from 'vitest';
import { ComplexFft, RealFft } from '../src/fft.js';
import { Rng } from '../src/rng.js';

function normals(n: number, stream: number): Float64Array {
  const v = new Float64Array(n);
  Rng.fromSeed(11, stream).fillNormal(v);
  return v;
}

for (const n of [64, 1024, 65536]) {
  describe(`complex FFT, n = ${n}`, () => {
    const plan = new ComplexFft(n);
    const re = normals(n, 1);
    const im = normals(n, 2);
    bench('forward + inverse', () => {
      plan.forward(re, im);
      plan.inverse(re, im);
    });
  });
  describe(`real FFT, n = ${n}`, () => {
    const plan = new RealFft(n);
    const x = normals(n, 3);
    const re = new Float64Array(n / 2 + 1);
    const im = new Float64Array(n / 2 + 1);
    bench('forward + inverse', () => {
      plan.forward(x, re, im);
      plan.inverse(re, im, x);
    });
  });
}

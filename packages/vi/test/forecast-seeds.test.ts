import { Rng } from '@sdekit/sde';
import { expect, it } from 'vitest';
import { forecastSeeds } from '../src/index.js';

it('forecast draws get distinct seeds for fast samples and path noise, the same for the same seed', () => {
  const a = forecastSeeds(3, 200);
  const all = [...a.fast, ...a.noise];
  expect(new Set(all).size).toBe(400);
  expect(forecastSeeds(3, 200)).toEqual(a);
  expect(forecastSeeds(4, 200).fast).not.toEqual(a.fast);
  // What the distinct seeds prevent: one seed gives the flow's base normals and the first Brownian
  // increments (stream 0 of each) as the same numbers.
  const same = Rng.fromSeed(a.fast[0]).fillNormal(new Float64Array(8));
  const shared = Rng.fromSeed(a.fast[0], 0).fillNormal(new Float64Array(8));
  const own = Rng.fromSeed(a.noise[0], 0).fillNormal(new Float64Array(8));
  expect(Array.from(shared)).toEqual(Array.from(same));
  expect(Array.from(own)).not.toEqual(Array.from(same));
});

/**
 * The saved-model factory that simulateParallel's workers call: every kind of bad input is a typed
 * error naming the argument, and a backend name maps back to the preference that selects it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@sdekit/sde';
import { describe, expect, it } from 'vitest';
import { backendPreference } from '../src/backend';
import { loadSavedModel, savedModelSystemSpec } from '../src/model-system';

describe('loadSavedModel', () => {
  it('refuses what it cannot rebuild, naming the argument', async () => {
    const refused = async (json: unknown, options = {}) => {
      try {
        await loadSavedModel(json as Record<string, unknown>, options);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError);
        return (e as InvalidArgumentError).argument;
      }
      throw new Error('accepted');
    };
    expect(await refused(null)).toBe('json');
    expect(await refused({ format: 'sdekit.dsm-checkpoint' })).toBe('json.format');
    expect(await refused({ format: 'sdekit.langevin-model', score: { format: 'external' } })).toBe('json');
    expect(
      await refused({ format: 'sdekit.averaged-model', coefficients: null, slowDim: 1, fastDim: 1 }),
    ).toBe('coefficientsModule');
  });

  it('names its own module and factory in the worker spec', () => {
    const spec = savedModelSystemSpec({ format: 'sdekit.langevin-model' }, { backend: 'cpu' });
    expect(spec.exportName).toBe('savedModelSystem');
    expect(spec.module).toBe(new URL('../src/model-system.ts', import.meta.url).href);
    expect(spec.args).toEqual([{ format: 'sdekit.langevin-model' }, { backend: 'cpu' }]);
  });

  // The built package names the ESM module next to its bundles, from the ESM and the CJS build alike.
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  it.skipIf(!existsSync(dist))('the built package names dist/model-system.js, which exists', () => {
    const script = (load: string) => `${load}
      const { fileURLToPath } = require('node:url');
      console.log(fileURLToPath(lib.savedModelSystemSpec({}).module));`;
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script(`import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
          const lib = await import(${JSON.stringify(dist)});`),
      ],
      { encoding: 'utf8' },
    ).trim();
    const cjs = execFileSync(
      process.execPath,
      ['-e', script(`const lib = require(${JSON.stringify(dist.replace(/\.js$/, '.cjs'))});`)],
      { encoding: 'utf8' },
    ).trim();
    const expected = fileURLToPath(new URL('../dist/model-system.js', import.meta.url));
    expect(esm).toBe(expected);
    expect(cjs).toBe(expected);
    expect(existsSync(expected)).toBe(true);
  });
});

describe('backendPreference', () => {
  it('maps backend names to the preference that selects them again', () => {
    expect(backendPreference('tensorflow')).toBe('node');
    expect(backendPreference('wasm')).toBe('wasm');
    expect(backendPreference('cpu')).toBe('cpu');
    expect(() => backendPreference('webgl')).toThrow(InvalidArgumentError);
  });
});

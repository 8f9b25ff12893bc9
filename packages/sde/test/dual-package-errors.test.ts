// Errors across the two builds of this package. A program can load both dist/index.js (ESM) and
// dist/index.cjs (CJS), e.g. one dependency imports @sdekit/sde and another requires it: two copies of
// every class. An error thrown by one copy is not an `instanceof` the other copy's classes;
// `isSdekitError` (the brand Symbol.for('sdekit.error')) recognises it in both.
//
// The test reads the built files: `pnpm test` builds every package before it tests (turbo, and
// packages/sde/turbo.json makes this package's test depend on its own build).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const esmPath = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const cjsPath = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

type Sde = typeof import('../src/index.js');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('sdekit errors across the ESM and the CJS build', () => {
  it('dist holds both builds (run `pnpm build` in packages/sde first)', () => {
    expect(existsSync(esmPath), `${esmPath} is missing: build @sdekit/sde before testing`).toBe(true);
    expect(existsSync(cjsPath), `${cjsPath} is missing: build @sdekit/sde before testing`).toBe(true);
  });

  it('an error of the CJS copy is an sdekit error in the ESM copy; instanceof is not', async () => {
    const esm = (await import(pathToFileURL(esmPath).href)) as Sde;
    const cjs = createRequire(import.meta.url)(cjsPath) as Sde;
    // Two distinct copies of every class.
    expect(cjs.SdekitError).not.toBe(esm.SdekitError);
    expect(cjs.SDEKIT_ERROR).toBe(esm.SDEKIT_ERROR);
    expect(esm.SDEKIT_ERROR).toBe(Symbol.for('sdekit.error'));

    const fromCjs = thrown(() => cjs.checkPositive('dt', 0));
    expect(fromCjs).toBeInstanceOf(cjs.InvalidArgumentError);
    // instanceof fails across the copies: this is why isSdekitError exists.
    expect(fromCjs instanceof esm.InvalidArgumentError).toBe(false);
    expect(fromCjs instanceof esm.SdekitError).toBe(false);
    // The brand works in both directions, with and without a class name.
    expect(esm.isSdekitError(fromCjs)).toBe(true);
    expect(esm.isSdekitError(fromCjs, 'InvalidArgumentError')).toBe(true);
    expect(esm.isSdekitError(fromCjs, 'SdekitError')).toBe(true);
    expect(esm.isSdekitError(fromCjs, 'DimensionError')).toBe(false);
    expect((fromCjs as Error).name).toBe('InvalidArgumentError');

    const fromEsm = thrown(() => esm.Matrix.from([[1, Number.NaN]]));
    expect(fromEsm instanceof cjs.SdekitError).toBe(false);
    expect(cjs.isSdekitError(fromEsm)).toBe(true);
    expect(cjs.isSdekitError(fromEsm, (fromEsm as Error).name)).toBe(true);
  });

  it('class names survive the builds (esbuild keepNames)', async () => {
    const esm = (await import(pathToFileURL(esmPath).href)) as Sde;
    const cjs = createRequire(import.meta.url)(cjsPath) as Sde;
    for (const copy of [esm, cjs]) {
      expect(copy.Matrix.name).toBe('Matrix');
      expect(copy.Rng.name).toBe('Rng');
      expect(copy.RealFft.name).toBe('RealFft');
      expect(new copy.BlowUpError(1, 0).name).toBe('BlowUpError');
    }
  });

  it('plain errors and look-alikes are not sdekit errors', async () => {
    const esm = (await import(pathToFileURL(esmPath).href)) as Sde;
    expect(esm.isSdekitError(new Error('x'))).toBe(false);
    expect(esm.isSdekitError({ name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT' })).toBe(false);
    expect(esm.isSdekitError(null)).toBe(false);
    expect(esm.isSdekitError('InvalidArgumentError')).toBe(false);
  });
});

describe('isSdekitError on the sources', () => {
  it('matches a subclass by its own name and by every class above it', async () => {
    const { ConvergenceError, SdekitError, isSdekitError } = await import('../src/errors.js');
    class StalledError extends ConvergenceError {}
    const e = new StalledError('lr', 'stalled', 'lower lr');
    expect(e.name).toBe('StalledError');
    expect(isSdekitError(e, 'StalledError')).toBe(true);
    expect(isSdekitError(e, 'ConvergenceError')).toBe(true);
    expect(isSdekitError(e, 'SdekitError')).toBe(true);
    expect(isSdekitError(e, 'Error')).toBe(false);
    expect(isSdekitError(new SdekitError('X', 'x'), 'ConvergenceError')).toBe(false);
    // The brand is not enumerable: it does not show in Object.keys or a spread.
    expect(Object.getOwnPropertySymbols(e)).toContain(Symbol.for('sdekit.error'));
    expect(Object.getOwnPropertyDescriptor(e, Symbol.for('sdekit.error'))?.enumerable).toBe(false);
    expect(Object.getOwnPropertySymbols({ ...e })).not.toContain(Symbol.for('sdekit.error'));
  });
});

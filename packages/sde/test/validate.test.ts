import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { checkNonNegative, differingSettings, wholeMultiple } from '../src/validate.js';

describe('checkNonNegative', () => {
  it('accepts finite numbers >= 0, including 0', () => {
    for (const v of [0, 1e-300, 2.5, 1e300]) expect(() => checkNonNegative('t', v)).not.toThrow();
  });

  it('rejects negatives, NaN, infinities and non-numbers with an error naming the argument and the fix', () => {
    for (const v of [-1e-300, -2, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => checkNonNegative('t', v)).toThrow(InvalidArgumentError);
    }
    expect(() => checkNonNegative('t', '1' as unknown as number)).toThrow(InvalidArgumentError);
    expect(() => checkNonNegative('spinUp', -1, 'pass spinUp >= 0')).toThrow(
      /spinUp.*must be a finite number >= 0, got -1.*pass spinUp >= 0/s,
    );
  });
});

describe('wholeMultiple', () => {
  it('returns round(value / unit) for whole multiples, tolerating float round-off', () => {
    expect(wholeMultiple('T', 0.3, 0.1, 'h')).toBe(3); // 0.3 / 0.1 = 2.9999999999999996
    expect(wholeMultiple('T', 1000, 0.01, 'h')).toBe(100000);
    expect(wholeMultiple('spinUp', 0, 0.25, 'h', { min: 0 })).toBe(0);
  });

  it('rejects non-multiples and counts below min with an error naming the argument and the fix', () => {
    expect(() => wholeMultiple('T', 1.05, 0.1, 'h')).toThrow(/T = 1.05 is not a whole number of h = 0.1/);
    expect(() => wholeMultiple('T', 0.1 * (1 + 1e-6), 0.1, 'h')).toThrow(InvalidArgumentError);
    expect(() => wholeMultiple('T', 0, 0.1, 'h')).toThrow(InvalidArgumentError); // min 1 by default
    expect(() => wholeMultiple('T', Number.NaN, 0.1, 'h')).toThrow(InvalidArgumentError);
    expect(() => wholeMultiple('dt', 0.15, 0.1, 'h', { fix: 'pass dt = m * h' })).toThrow(/pass dt = m \* h/);
  });
});

describe('differingSettings', () => {
  it('lists the keys whose saved value differs, every key when nothing was saved', () => {
    const expected = { steps: 10, seed: 1, model: 'abc', chunked: true };
    expect(differingSettings(expected, { ...expected })).toEqual([]);
    expect(differingSettings(expected, { ...expected, seed: 2, model: 'abd' })).toEqual(['seed', 'model']);
    expect(differingSettings(expected, { steps: 10 })).toEqual(['seed', 'model', 'chunked']);
    expect(differingSettings(expected, null)).toEqual(['steps', 'seed', 'model', 'chunked']);
    // strict: a number saved as a string is another setting
    expect(differingSettings(expected, { ...expected, steps: '10' as unknown as number })).toEqual(['steps']);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { checkNonNegative } from '../src/validate.js';

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

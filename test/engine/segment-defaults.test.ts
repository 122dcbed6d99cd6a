import { describe, expect, it } from 'vitest';
import {
  isAllowedK,
  isScaling,
  K_RANGE,
  K_RANGE_TEXT,
  kNotAllowed,
  readK,
  SEGMENT_DEFAULTS,
} from '../../src/engine/segment-defaults.ts';

describe('segment defaults', () => {
  it('allows whole k from 2 to 12 and nothing else', () => {
    expect(K_RANGE).toEqual({ min: 2, max: 12 });
    expect(K_RANGE_TEXT).toBe('2..12');
    expect([2, 7, 12].every(isAllowedK)).toBe(true);
    expect([1, 13, 2.5, Number.NaN].some(isAllowedK)).toBe(false);
  });

  it('reads k=auto or an allowed k, and refuses the rest in one line', () => {
    expect(readK('auto')).toBe('auto');
    expect(readK('4')).toBe(4);
    expect(readK('13')).toBeUndefined();
    expect(readK('')).toBeUndefined();
    expect(kNotAllowed('13')).toBe('k=13 is not allowed: use k=auto or a whole number from 2 to 12');
  });

  it('defaults to z-scores, seed 1 and k=auto over 2..8', () => {
    expect(SEGMENT_DEFAULTS.scaling).toBe('zscore');
    expect(SEGMENT_DEFAULTS.seed).toBe(1);
    expect(SEGMENT_DEFAULTS.autoRange).toEqual([2, 8]);
    expect(isScaling('log-zscore')).toBe(true);
    expect(isScaling('minmax')).toBe(false);
  });
});

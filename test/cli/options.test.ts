import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseShare, parseWholeNumber } from '../../src/cli/options.ts';

describe('CLI option parsers', () => {
  it('reads a share as a fraction or a percentage, above 0 and at most 1', () => {
    expect(parseShare('0.03')).toBe(0.03);
    expect(parseShare('3%')).toBeCloseTo(0.03, 12);
    expect(parseShare(' 1 ')).toBe(1);
    expect(parseShare('100%')).toBe(1);
    for (const bad of ['0', '0%', '-0.1', '1.5', '150%', 'many', '', '%'])
      expect(() => parseShare(bad), bad).toThrow(InvalidArgumentError);
  });

  it('reads whole numbers only', () => {
    expect(parseWholeNumber('42')).toBe(42);
    for (const bad of ['-1', '1.5', 'x']) expect(() => parseWholeNumber(bad), bad).toThrow(/whole number/);
  });
});

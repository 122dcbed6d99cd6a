import { describe, expect, it } from 'vitest';
import { formatChange, formatCompact, formatMoney, formatPercent } from '../../src/domain/format.ts';

describe('dashboard number formats', () => {
  it('compacts large numbers', () => {
    expect(formatCompact(999)).toBe('999');
    expect(formatCompact(12_345)).toBe('12.3k');
    expect(formatCompact(1_234_567)).toBe('1.2M');
    expect(formatCompact(999_999)).toBe('1M');
    expect(formatCompact(150_000)).toBe('150k');
    expect(formatCompact(3.14)).toBe('3.1');
    expect(formatCompact(Number.NaN)).toBe('–');
  });

  it('formats money with the configured currency', () => {
    expect(formatMoney(12_345, 'USD')).toBe('$12.3k');
    expect(formatMoney(10.2, 'EUR')).toBe('€10.20');
    expect(formatMoney(500, 'CHF')).toBe('500.00 CHF');
  });

  it('formats shares and signed changes', () => {
    expect(formatPercent(0.4123)).toBe('41.2%');
    expect(formatChange(110, 100)).toBe('+10%');
    expect(formatChange(95.9, 100)).toBe('−4.1%');
    expect(formatChange(100, 100)).toBe('±0%');
    expect(formatChange(5, 0)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatChange,
  formatCompact,
  formatCount,
  formatMoney,
  formatPercent,
  formatUtcDate,
  formatUtcMinute,
  isCurrencyCode,
  minorUnits,
} from '../../src/domain/format.ts';

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

describe('currencies, small shares, counts and times', () => {
  it("shows money in the currency's minor units", () => {
    expect(formatMoney(500, 'JPY')).toBe('¥500');
    expect(formatMoney(225.42, 'USD')).toBe('$225.42');
    expect(formatMoney(12.5, 'KWD')).toBe('12.500 KWD');
    expect(formatMoney(-4.5, 'EUR')).toBe('−€4.50');
    expect(minorUnits('JPY')).toBe(0);
    expect(isCurrencyCode('XYZ')).toBe(false);
    expect(isCurrencyCode('EUR')).toBe(true);
  });

  it('never rounds a share that is there to 0%', () => {
    expect(formatPercent(0.0004)).toBe('<0.1%');
    expect(formatPercent(0.003, 0)).toBe('<1%');
    expect(formatPercent(0)).toBe('0%');
  });

  it('says person for one and people for more', () => {
    expect(formatCount(1, 'person', 'people')).toBe('1 person');
    expect(formatCount(12_345, 'person', 'people')).toBe('12.3k people');
  });

  it('writes times in UTC whatever the machine time zone', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(formatUtcMinute(Date.parse('2026-06-01T12:00:00Z'))).toBe('2026-06-01 12:00');
      expect(formatUtcDate(Date.parse('2026-06-01T01:00:00Z'))).toBe('2026-06-01');
    } finally {
      process.env.TZ = tz;
    }
  });
});

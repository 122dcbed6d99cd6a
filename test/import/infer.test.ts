import { describe, expect, it } from 'vitest';
import type { AttributeKind } from '../../src/domain/types.ts';
import {
  coerceAttribute,
  coerceBoolean,
  coerceList,
  coerceNumber,
  coerceTimestamp,
  KindInference,
  parseIsoDate,
} from '../../src/import/infer.ts';

/** The kind KindInference settles on for a column of these raw values. */
function inferKind(values: Iterable<unknown>): AttributeKind | null {
  const inference = new KindInference();
  for (const v of values) inference.add(v);
  return inference.result();
}

describe('parseIsoDate', () => {
  it('reads dates and date-times as UTC unless an offset is given', () => {
    expect(parseIsoDate('2024-05-31')).toBe(Date.UTC(2024, 4, 31));
    expect(parseIsoDate('2024-05-31T14:00:00Z')).toBe(Date.UTC(2024, 4, 31, 14));
    expect(parseIsoDate('2024-05-31T14:00')).toBe(Date.UTC(2024, 4, 31, 14));
    expect(parseIsoDate('2024-05-31 14:00:00.250')).toBe(Date.UTC(2024, 4, 31, 14, 0, 0, 250));
    expect(parseIsoDate('2024-05-31T14:00:00+02:00')).toBe(Date.UTC(2024, 4, 31, 12));
    expect(parseIsoDate('2024-05-31T14:00:00-0530')).toBe(Date.UTC(2024, 4, 31, 19, 30));
  });

  it('rejects impossible or non-ISO dates', () => {
    for (const bad of [
      '2024-02-30',
      '2024-13-01',
      '31/05/2024',
      '2024-5-1',
      'May 31 2024',
      '2024-05-31T25:00',
    ]) {
      expect(parseIsoDate(bad)).toBeNull();
    }
  });

  it('reads the usual export shape (…T08:15:00Z, …T08:15:00.123Z) by hand with the same answers', () => {
    expect(parseIsoDate('2026-11-30T08:15:09Z')).toBe(Date.UTC(2026, 10, 30, 8, 15, 9));
    expect(parseIsoDate('2026-11-30T08:15:09.123Z')).toBe(Date.UTC(2026, 10, 30, 8, 15, 9, 123));
    expect(parseIsoDate('2024-02-29T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseIsoDate('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    // The general reader's answers for the near misses: lower-case letters, a space, other digits of seconds.
    expect(parseIsoDate('2026-11-30t08:15:09z')).toBe(Date.UTC(2026, 10, 30, 8, 15, 9));
    expect(parseIsoDate('2026-11-30 08:15:09Z')).toBe(Date.UTC(2026, 10, 30, 8, 15, 9));
    expect(parseIsoDate('2026-11-30T08:15:09.5Z')).toBe(Date.UTC(2026, 10, 30, 8, 15, 9, 500));
    expect(parseIsoDate('2026-11-30T08:15:09+00:00')).toBe(Date.UTC(2026, 10, 30, 8, 15, 9));
    for (const bad of [
      '2023-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-11-30T24:00:00Z',
      '2026-11-30T23:60:00Z',
      '2026-11-30T23:59:60Z',
      '2026-11-30T23:5a:00Z',
      '2026-11-30T23:59:00.12xZ',
    ]) {
      expect(parseIsoDate(bad), bad).toBeNull();
    }
    expect(parseIsoDate('2026-11-30T23:59:00,123Z')).toBe(Date.UTC(2026, 10, 30, 23, 59, 0, 123));
  });
});

describe('coercers', () => {
  it('numbers: plain only, empty is null (never 0)', () => {
    expect(coerceNumber(' 12.5 ')).toEqual({ ok: true, value: 12.5 });
    expect(coerceNumber('')).toEqual({ ok: true, value: null });
    expect(coerceNumber(null)).toEqual({ ok: true, value: null });
    expect(coerceNumber('12k')).toEqual({ ok: false, message: 'expected a number, got "12k"' });
    expect(coerceNumber('1,200').ok).toBe(false);
  });

  it('timestamps: ISO, epoch seconds and epoch ms all become epoch ms', () => {
    const t = Date.UTC(2024, 4, 1, 10);
    expect(coerceTimestamp('2024-05-01T10:00:00Z')).toEqual({ ok: true, value: t });
    expect(coerceTimestamp(String(t / 1000))).toEqual({ ok: true, value: t });
    expect(coerceTimestamp(t)).toEqual({ ok: true, value: t });
    expect(coerceTimestamp('yesterday').ok).toBe(false);
    // 1e15 ms is the year 33658: a unit mistake, reported instead of stored.
    expect(coerceTimestamp(1e15).ok).toBe(false);
  });

  it('booleans: words, 1/0, and stock counts only where asked', () => {
    expect(coerceBoolean('Yes')).toEqual({ ok: true, value: true });
    expect(coerceBoolean('0')).toEqual({ ok: true, value: false });
    expect(coerceBoolean('12').ok).toBe(false);
    expect(coerceBoolean('12', true)).toEqual({ ok: true, value: true });
    expect(coerceBoolean(0, true)).toEqual({ ok: true, value: false });
  });

  it('lists: | or ; or a JSON array, trimmed, blanks and repeats dropped', () => {
    expect(coerceList('a | b|a||c')).toEqual({ ok: true, value: ['a', 'b', 'c'] });
    expect(coerceList('a;b')).toEqual({ ok: true, value: ['a', 'b'] });
    expect(coerceList(['x', ' y ', 3])).toEqual({ ok: true, value: ['x', 'y', '3'] });
    expect(coerceList('')).toEqual({ ok: true, value: null });
    expect(coerceList([{ a: 1 }]).ok).toBe(false);
  });

  it('attribute dates may predate 1970 (birthdays), event times may not', () => {
    expect(coerceAttribute('date', '1960-03-01')).toEqual({ ok: true, value: Date.UTC(1960, 2, 1) });
    expect(coerceTimestamp('1960-03-01').ok).toBe(false);
  });
});

describe('inferKind', () => {
  it('numbers, including 0/1-only columns', () => {
    expect(inferKind(['1', '2.5', '', '-3'])).toBe('number');
    expect(inferKind(['0', '1', '1'])).toBe('number');
    expect(inferKind([1, 2, null])).toBe('number');
  });

  it('codes with leading zeros stay categories', () => {
    expect(inferKind(['02134', '10001'])).toBe('category');
  });

  it('booleans need at least one flag word', () => {
    expect(inferKind(['yes', 'no', ''])).toBe('boolean');
    expect(inferKind(['true', '0', '1'])).toBe('boolean');
    expect(inferKind([true, false])).toBe('boolean');
    expect(inferKind(['Y', 'N'])).toBe('boolean');
  });

  it('ISO dates and date-times', () => {
    expect(inferKind(['2024-01-01', '2024-02-03T10:00:00Z'])).toBe('date');
    expect(inferKind(['2024-01-01', 'soon'])).toBe('category');
  });

  it('lists: JSON arrays, or one separator used in at least half the values', () => {
    expect(inferKind([['a'], ['b', 'c']])).toBe('list');
    expect(inferKind(['a|b', 'c', 'd|e'])).toBe('list');
    expect(inferKind(['a;b', 'c;d'])).toBe('list');
    expect(inferKind(['a|b', 'c;d'])).toBe('category');
    expect(inferKind(['a|b', 'c', 'd', 'e'])).toBe('category');
  });

  it('everything else is a category; an all-empty column has no kind', () => {
    expect(inferKind(['gold', 'silver', '3'])).toBe('category');
    expect(inferKind(['', null, undefined])).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { validateRow } from '../../src/import/schema.ts';

describe('validateRow', () => {
  it('profiles: coerces text to typed fields; absent columns stay absent, empty cells become null', () => {
    const r = validateRow('profiles', {
      id: ' u1 ',
      followers: '42',
      created_at: '2024-01-02',
      interests: 'a;b',
      country: '',
    });
    expect(r).toEqual({
      ok: true,
      row: {
        id: 'u1',
        followers: 42,
        created_at: Date.UTC(2024, 0, 2),
        interests: ['a', 'b'],
        country: null,
      },
    });
  });

  it('profiles: says what was expected and what was found', () => {
    expect(validateRow('profiles', { id: 'u1', followers: '12k' })).toEqual({
      ok: false,
      issues: [{ field: 'followers', message: 'expected a number, got "12k"' }],
    });
    expect(validateRow('profiles', { id: 'u1', followers: '-3' })).toEqual({
      ok: false,
      issues: [{ field: 'followers', message: 'expected a whole number >= 0, got -3' }],
    });
    expect(validateRow('profiles', { id: '  ' })).toEqual({
      ok: false,
      issues: [{ field: 'id', message: 'missing value: expected a user id' }],
    });
    expect(validateRow('profiles', { id: true }).ok).toBe(false);
  });

  it('products: price >= 0, stock as words or counts', () => {
    expect(validateRow('products', { id: 'p', price: '-1' })).toEqual({
      ok: false,
      issues: [{ field: 'price', message: 'expected a price >= 0, got -1' }],
    });
    expect(validateRow('products', { id: 'p', price: '0', in_stock: '3' })).toEqual({
      ok: true,
      row: { id: 'p', price: 0, in_stock: true },
    });
    expect(validateRow('products', { id: 'p', in_stock: 'maybe' }).ok).toBe(false);
  });

  it('interactions: type, timestamp and value rules', () => {
    const base = { user_id: 'u', timestamp: '2024-05-01' };
    expect(validateRow('interactions', { ...base, type: ' VIEW ' })).toMatchObject({
      ok: true,
      row: { type: 'view' },
    });
    expect(validateRow('interactions', { ...base, type: '' })).toEqual({
      ok: false,
      issues: [
        {
          field: 'type',
          message: 'missing value: expected one of view, like, share, comment, click, purchase, rating',
        },
      ],
    });
    expect(validateRow('interactions', { ...base, type: 'rating' })).toEqual({
      ok: false,
      issues: [{ field: 'value', message: 'a rating needs a value from 0.5 to 10' }],
    });
    expect(validateRow('interactions', { ...base, type: 'rating', value: '0' }).ok).toBe(false);
    // Half stars and 1-10 scales are ratings too; quarter stars and 0 are not.
    expect(validateRow('interactions', { ...base, type: 'rating', value: '0.5' }).ok).toBe(true);
    expect(validateRow('interactions', { ...base, type: 'rating', value: '8' }).ok).toBe(true);
    expect(validateRow('interactions', { ...base, type: 'rating', value: '3.25' }).ok).toBe(false);
    expect(validateRow('interactions', { ...base, type: 'purchase', value: '-5' })).toEqual({
      ok: false,
      issues: [{ field: 'value', message: 'expected a purchase amount >= 0, got -5' }],
    });
    expect(validateRow('interactions', { ...base, type: 'purchase' })).toMatchObject({ ok: true });
    expect(validateRow('interactions', { user_id: 'u', type: 'view' })).toEqual({
      ok: false,
      issues: [
        { field: 'timestamp', message: 'missing value: expected an ISO-8601 date or epoch seconds/ms' },
      ],
    });
  });
});

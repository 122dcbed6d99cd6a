import { describe, expect, it } from 'vitest';
import { emptyAudienceData } from '../../src/domain/types.ts';
import { memoized } from '../../src/queries/memo.ts';
import { markAudienceChanged } from '../../src/store/store.ts';

describe('memoized', () => {
  it('computes once per key while the audience is unchanged', () => {
    const owner = {};
    const data = emptyAudienceData(1);
    let calls = 0;
    const compute = () => ({ n: ++calls });
    const first = memoized(owner, data, 'a', compute);
    expect(memoized(owner, data, 'a', compute)).toBe(first);
    expect(memoized(owner, data, 'b', compute)).toEqual({ n: 2 });
    expect(calls).toBe(2);
    // Remembered per owner (one store's results never answer for another's).
    expect(memoized({}, data, 'a', compute)).toEqual({ n: 3 });
  });

  it('forgets everything when the data version moves, the arrays are replaced or appended to', () => {
    const owner = {};
    const data = emptyAudienceData(1);
    let calls = 0;
    const compute = () => ++calls;
    memoized(owner, data, 'k', compute);
    markAudienceChanged(data, new Date('2026-06-01T00:00:00Z'));
    expect(memoized(owner, data, 'k', compute)).toBe(2);
    data.interactions = [];
    expect(memoized(owner, data, 'k', compute)).toBe(3);
    data.profiles.push({ id: 'u1' } as never);
    expect(memoized(owner, data, 'k', compute)).toBe(4);
    expect(memoized(owner, data, 'k', compute)).toBe(4);
  });

  it('keeps the 64 most recently used results', () => {
    const owner = {};
    const data = emptyAudienceData(1);
    for (let i = 0; i < 64; i++) memoized(owner, data, `k${i}`, () => i);
    memoized(owner, data, 'k0', () => -1); // used again: now the most recent
    memoized(owner, data, 'k64', () => 64);
    // A remembered key answers with its stored result; a forgotten one computes again.
    expect(memoized(owner, data, 'k0', () => -2)).toBe(0);
    expect(memoized(owner, data, 'k64', () => -2)).toBe(64);
    expect(memoized(owner, data, 'k1', () => -2)).toBe(-2);
  });

  it('does not remember a computation that threw', () => {
    const owner = {};
    const data = emptyAudienceData(1);
    expect(() =>
      memoized(owner, data, 'x', () => {
        throw new Error('thin data');
      }),
    ).toThrow('thin data');
    expect(memoized(owner, data, 'x', () => 7)).toBe(7);
  });
});

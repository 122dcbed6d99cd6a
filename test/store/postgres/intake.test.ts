import { describe, expect, it } from 'vitest';
import type { Interaction } from '../../../src/domain/types.ts';
import { KeyHashes, keyHash } from '../../../src/store/postgres/intake.ts';

const event = (n: number, over: Partial<Interaction> = {}): Interaction => ({
  user_id: `u${n % 977}`,
  item_id: n % 3 === 0 ? null : `p${n % 101}`,
  type: n % 2 === 0 ? 'view' : 'like',
  value: null,
  timestamp: Date.UTC(2026, 10, 1) + n * 1000,
  ...over,
});

describe('KeyHashes (whether an intake needs SQL to find repeats)', () => {
  it('sees no repeat among distinct events, across chunks of its store', () => {
    const keys = new KeyHashes();
    for (let n = 0; n < 1_100_000; n++) keys.add(event(n));
    expect(keys.repeats()).toBe(false);
  });

  it('sees a repeat however far apart, and ignores the value (not part of the key)', () => {
    const keys = new KeyHashes();
    for (let n = 0; n < 5000; n++) keys.add(event(n));
    keys.add(event(17, { value: 4.5 }));
    expect(keys.repeats()).toBe(true);
  });

  it('stops hashing past its row limit and leaves the repeats to SQL, so memory stays bounded', () => {
    const keys = new KeyHashes(1000);
    for (let n = 0; n < 999; n++) keys.add(event(n));
    expect(keys.repeats()).toBe(false);
    for (let n = 999; n < 3000; n++) keys.add(event(n));
    expect(keys.repeats()).toBe(true);
  });

  it('hashes every field of the key, and ids split differently apart', () => {
    const base = keyHash(event(1));
    expect(keyHash(event(1, { user_id: 'u2' }))).not.toBe(base);
    expect(keyHash(event(1, { item_id: null }))).not.toBe(base);
    expect(keyHash(event(1, { type: 'click' }))).not.toBe(base);
    expect(keyHash(event(1, { timestamp: event(1).timestamp + 1 }))).not.toBe(base);
    expect(keyHash(event(1, { user_id: 'ab', item_id: 'c' }))).not.toBe(
      keyHash(event(1, { user_id: 'a', item_id: 'bc' })),
    );
    expect(Number.isSafeInteger(base)).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Interaction, InteractionType, Profile } from '../../src/domain/types.ts';
import { applyFilter, FilterError, parseWhere } from '../../src/engine/filter.ts';
import { computeStats } from '../../src/engine/stats.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function profile(id: string, over: Partial<Profile> = {}): Profile {
  return {
    id,
    platform: 'instagram',
    country: 'US',
    created_at: NOW - 100 * DAY,
    last_active_at: null,
    followers: 100,
    interests: [],
    attrs: {},
    ...over,
  };
}

function event(
  user: string,
  type: InteractionType,
  daysAgo: number,
  value: number | null = null,
): Interaction {
  return {
    user_id: user,
    item_id: type === 'purchase' ? 'p1' : null,
    type,
    value,
    timestamp: NOW - daysAgo * DAY,
  };
}

const profiles = [
  profile('a', { country: 'DE', platform: 'tiktok', interests: ['fitness', 'travel'], attrs: { age: 24 } }),
  profile('b', { country: 'DE', interests: ['fitness'], created_at: NOW - 3 * DAY, attrs: { age: 41 } }),
  profile('c', { created_at: NOW - 10 * DAY, attrs: { age: 35 } }),
  profile('d', { last_active_at: NOW - 2 * DAY }),
];
const interactions = [
  event('a', 'view', 1),
  event('a', 'view', 2),
  event('a', 'like', 1),
  event('a', 'purchase', 3, 40),
  event('b', 'view', 20),
  event('b', 'comment', 20),
  event('b', 'purchase', 20, 10),
  event('c', 'click', 10),
  event('c', 'purchase', 45, 99),
  event('zz', 'purchase', 1, 1000), // not in the audience
  event('a', 'purchase', -1, 500), // after asOf: ignored
];

describe('computeStats', () => {
  it('counts the audience, newcomers, actives, engagement and revenue relative to asOf', () => {
    const s = computeStats(profiles, interactions, { asOf: NOW });
    expect(s.total).toBe(4);
    expect(s.totalWeekAgo).toBe(3);
    expect(s.newThisWeek).toBe(1);
    expect(s.newLastWeek).toBe(1);
    expect(s.active7d).toBe(2); // a by events, d by last_active_at
    expect(s.activePrevWeek).toBe(1); // c
    expect(s.active30d).toBe(4);
    expect(s.views30d).toBe(3);
    expect(s.engagements30d).toBe(3);
    // a, b and c each engaged once; c's click had no view but still means c saw the content.
    expect(s.reach30d).toBe(3);
    expect(s.engaged30d).toBe(3);
    expect(s.engagementRate).toBe(1);
    expect(s.engagementBase).toBe('reach');
    expect(s.purchasers30d).toBe(2);
    expect(s.revenue30d).toBe(50);
    expect(s.revenuePrev30d).toBe(99);
    expect(s.revenuePerUser).toBeCloseTo(12.5);
    expect(s.top.countries[0]).toEqual({ value: 'DE', count: 2, share: 0.5 });
    expect(s.top.interests.map((t) => t.value)).toEqual(['fitness', 'travel']);
    expect(s.latestInteraction).toBe(NOW - DAY);
  });

  it('handles an empty audience', () => {
    const s = computeStats([], interactions, { asOf: NOW });
    expect(s.total).toBe(0);
    expect(s.revenuePerUser).toBe(0);
    expect(s.engagementRate).toBeNull();
  });

  it("reports the filtered people's latest activity, none when they have none", () => {
    const old = [...interactions, event('a', 'view', 90), event('b', 'view', 200)];
    // d has no interactions at all: the store's old events of others are not d's latest activity.
    expect(computeStats([profile('d')], old, { asOf: NOW }).latestInteraction).toBeNull();
    expect(computeStats([profile('b')], old, { asOf: NOW }).latestInteraction).toBe(NOW - 20 * DAY);
    expect(
      computeStats([profile('b')], [event('b', 'view', 200), event('a', 'view', 100)], { asOf: NOW })
        .latestInteraction,
    ).toBe(NOW - 200 * DAY);
  });
});

describe('engagement rate', () => {
  it('divides engaged people by people reached, each person once', () => {
    const events = [
      ...Array.from({ length: 5 }, () => event('a', 'like', 1)), // one person, five likes
      event('a', 'view', 1),
      event('b', 'view', 2),
      event('b', 'view', 3),
      event('c', 'view', 4),
      event('d', 'comment', 40), // outside the window
    ];
    const s = computeStats(profiles, events, { asOf: NOW });
    expect(s.engagements30d).toBe(5);
    expect(s.views30d).toBe(4);
    expect(s.reach30d).toBe(3);
    expect(s.engaged30d).toBe(1);
    expect(s.engagementRate).toBeCloseTo(1 / 3, 12);
    expect(s.engagementBase).toBe('reach');
  });

  it('divides by the audience (followers) when no views are recorded, and has no rate without engagement', () => {
    const likes = [event('a', 'like', 1), event('a', 'share', 2), event('b', 'click', 3)];
    const s = computeStats(profiles, likes, { asOf: NOW });
    expect(s.views30d).toBe(0);
    expect(s.engagementRate).toBeCloseTo(2 / 4, 12);
    expect(s.engagementBase).toBe('followers');
    const none = computeStats(profiles, [event('a', 'purchase', 1, 5)], { asOf: NOW });
    expect(none.engagementRate).toBeNull();
    expect(none.engagementBase).toBeNull();
  });

  it('is never above 100% whatever the events (property)', () => {
    const types: InteractionType[] = ['view', 'like', 'share', 'comment', 'click', 'purchase', 'rating'];
    const arbEvent = fc.record({
      user: fc.constantFrom('a', 'b', 'c', 'd', 'zz'),
      type: fc.constantFrom(...types),
      daysAgo: fc.double({ min: -5, max: 70, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 60 }), fc.subarray(profiles), (raw, audience) => {
        const events = raw.map((e) => event(e.user, e.type, e.daysAgo, e.type === 'purchase' ? 1 : null));
        const s = computeStats(audience, events, { asOf: NOW });
        if (s.engagementRate === null) return s.engaged30d === 0 || s.total === 0;
        return (
          s.engagementRate >= 0 &&
          s.engagementRate <= 1 &&
          s.engaged30d <= s.reach30d &&
          s.reach30d <= s.total
        );
      }),
      { numRuns: 500, seed: 12 },
    );
  });
});

describe('where= filters', () => {
  const attributes = { age: 'number' as const };
  it('filters by common fields, interests, custom attributes and comparisons', () => {
    const ids = (where: string) => applyFilter(profiles, parseWhere(where, attributes)).map((p) => p.id);
    expect(ids('country:DE')).toEqual(['a', 'b']);
    expect(ids('country:de|us,platform:tiktok')).toEqual(['a']);
    expect(ids('interest:fitness')).toEqual(['a', 'b']);
    expect(ids('age<30')).toEqual(['a']);
    expect(ids('age>=35')).toEqual(['b', 'c']);
    expect(ids('country!=DE')).toEqual(['c', 'd']);
  });

  it('reads field:>=value like field>=value', () => {
    const ids = (where: string) => applyFilter(profiles, parseWhere(where, attributes)).map((p) => p.id);
    expect(ids('age:>=35')).toEqual(ids('age>=35'));
    expect(ids('age:<30')).toEqual(['a']);
    expect(ids('age:!=41')).toEqual(ids('age!=41'));
  });

  it('explains what is wrong with a bad filter', () => {
    expect(() => parseWhere('colour:red', attributes)).toThrow(FilterError);
    expect(() => parseWhere('colour:red', attributes)).toThrow(/filter on one of: .*age/);
    expect(() => parseWhere('age>old', attributes)).toThrow(/needs a number/);
    expect(() => parseWhere('country', attributes)).toThrow(/write field:value/);
    expect(() => parseWhere(',', attributes)).toThrow(/empty/);
  });
});

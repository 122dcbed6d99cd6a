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
    expect(s.engagementRate).toBeCloseTo(1);
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

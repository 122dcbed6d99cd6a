import { describe, expect, it } from 'vitest';
import type { Interaction, InteractionType, Profile } from '../../src/domain/types.ts';
import {
  availableFeatures,
  columnMedian,
  computeFeatures,
  DEFAULT_SEGMENT_FEATURES,
  FeatureError,
  type FeatureInput,
  type FeatureTable,
  medianInPlace,
  RECENCY_CAP_DAYS,
  scaleColumns,
} from '../../src/engine/features.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const AS_OF = Date.UTC(2025, 0, 31);
const ago = (days: number) => AS_OF - days * DAY;
const ev = (
  user: string,
  type: InteractionType,
  at: number,
  item: string | null = null,
  value: number | null = null,
) => ({ user_id: user, item_id: item, type, value, timestamp: at }) satisfies Interaction;

function profile(id: string, over: Partial<Profile>): Profile {
  return {
    id,
    platform: 'instagram',
    country: 'US',
    created_at: null,
    last_active_at: null,
    followers: null,
    interests: [],
    attrs: {},
    ...over,
  };
}

/** Three hand-made users: a (long-standing, active), b (joined 10 days ago), c (no data at all). */
function tiny(): FeatureInput {
  return {
    attributes: { age: 'number', vip: 'boolean', signup: 'date', tier: 'category', tags: 'list' },
    products: [
      { id: 'p1', name: 'Jacket', category: 'Fashion', price: 10, in_stock: true },
      { id: 'p2', name: 'Novel', category: 'books', price: 20, in_stock: true },
    ],
    profiles: [
      profile('a', {
        followers: 999,
        created_at: ago(400),
        interests: ['Fashion', 'tech'],
        attrs: { age: 30, vip: true, signup: ago(100), tier: 'gold', tags: ['x'] },
      }),
      profile('b', { created_at: ago(10), attrs: { age: null, vip: false, signup: null } }),
      profile('c', { followers: 0 }),
    ],
    interactions: [
      // a, inside the 56-day window: 7 distinct days (1, 2, 3, 5, 10, 20, 30 days ago)
      ev('a', 'view', ago(1)),
      ev('a', 'view', ago(2)),
      ev('a', 'view', ago(2) + HOUR),
      ev('a', 'view', ago(10)),
      ev('a', 'like', ago(1)),
      ev('a', 'like', ago(3)),
      ev('a', 'share', ago(3)),
      ev('a', 'comment', ago(5)),
      ev('a', 'click', ago(5), 'p1'),
      ev('a', 'click', ago(20), 'p2'),
      ev('a', 'purchase', ago(30), 'p1', 50),
      // a, outside the window but inside the 365-day lookback, and outside both
      ev('a', 'view', ago(100)),
      ev('a', 'purchase', ago(200), 'p2', 30),
      ev('a', 'purchase', ago(400), 'p1', 100),
      // b
      ev('b', 'view', ago(2)),
      ev('b', 'rating', ago(2) + 2 * HOUR, 'p2', 4),
      ev('b', 'purchase', ago(3), 'p2', 12.5),
      // someone not in the profiles
      ev('zzz', 'purchase', ago(1), 'p1', 999),
    ],
  };
}

/** Interactions at or after asOf: they must change nothing. */
function leaks(): Interaction[] {
  return [
    ev('a', 'view', AS_OF),
    ev('a', 'like', AS_OF),
    ev('a', 'purchase', AS_OF, 'p2', 1000),
    ev('b', 'purchase', AS_OF + HOUR, 'p1', 1000),
    ev('c', 'view', AS_OF + DAY),
    ev('c', 'purchase', AS_OF + 2 * DAY, 'p1', 5),
  ];
}

const ALL = [
  'log_followers',
  'followers',
  'engagement',
  'likes_per_week',
  'shares_per_week',
  'comments_per_week',
  'clicks_per_week',
  'views_per_week',
  'engagement_rate',
  'recency_days',
  'frequency',
  'monetary',
  'purchases_per_month',
  'spend_per_month',
  'avg_order_value',
  'active_days_per_week',
  'tenure_days',
  'interest:fashion',
  'interest:tech',
  'category:fashion',
  'category:books',
  'age',
  'vip',
  'signup',
];

function get(table: FeatureTable, feature: string, user: string): number {
  return table.columns[table.names.indexOf(feature)]?.[table.userIds.indexOf(user)] as number;
}

describe('computeFeatures on a hand-made audience', () => {
  const table = computeFeatures(tiny(), ALL, { asOf: AS_OF });
  // History starts at the first interaction (400 days ago), so a's lookback is the full 365 days.
  const monthsA = 365 / 30;

  it('computes every feature for the active user', () => {
    const expected: Record<string, number> = {
      log_followers: 3,
      followers: 999,
      engagement: 6 / 8,
      likes_per_week: 2 / 8,
      shares_per_week: 1 / 8,
      comments_per_week: 1 / 8,
      clicks_per_week: 2 / 8,
      views_per_week: 4 / 8,
      engagement_rate: 6 / 4,
      recency_days: 30,
      frequency: 2,
      monetary: 80,
      purchases_per_month: 2 / monthsA,
      spend_per_month: 80 / monthsA,
      avg_order_value: 40,
      active_days_per_week: 7 / 8,
      tenure_days: 400,
      'interest:fashion': 1,
      'interest:tech': 1,
      'category:fashion': 0.5,
      'category:books': 0.5,
      age: 30,
      vip: 1,
      signup: 100,
    };
    for (const [feature, value] of Object.entries(expected))
      expect(get(table, feature, 'a'), feature).toBeCloseTo(value, 10);
  });

  it('divides rates by the weeks and months a newcomer existed', () => {
    const weeks = 10 / 7;
    const months = 10 / 30;
    expect(get(table, 'views_per_week', 'b')).toBeCloseTo(1 / weeks, 10);
    expect(get(table, 'engagement', 'b')).toBe(0);
    expect(get(table, 'engagement_rate', 'b')).toBe(0);
    expect(get(table, 'active_days_per_week', 'b')).toBeCloseTo(2 / weeks, 10);
    expect(get(table, 'recency_days', 'b')).toBeCloseTo(3, 10);
    expect(get(table, 'frequency', 'b')).toBe(1);
    expect(get(table, 'purchases_per_month', 'b')).toBeCloseTo(1 / months, 10);
    expect(get(table, 'spend_per_month', 'b')).toBeCloseTo(12.5 / months, 10);
    expect(get(table, 'category:books', 'b')).toBe(1);
    expect(get(table, 'category:fashion', 'b')).toBe(0);
    expect(get(table, 'vip', 'b')).toBe(0);
    expect(get(table, 'tenure_days', 'b')).toBeCloseTo(10, 10);
  });

  it('marks missing values as NaN and counts them instead of zeroing', () => {
    expect(get(table, 'log_followers', 'b')).toBeNaN();
    expect(get(table, 'log_followers', 'c')).toBe(0);
    expect(get(table, 'engagement_rate', 'c')).toBeNaN();
    expect(get(table, 'avg_order_value', 'c')).toBeNaN();
    expect(get(table, 'category:fashion', 'c')).toBeNaN();
    expect(get(table, 'tenure_days', 'c')).toBeNaN();
    expect(get(table, 'age', 'b')).toBeNaN();
    expect(get(table, 'signup', 'b')).toBeNaN();
    expect(get(table, 'recency_days', 'c')).toBe(RECENCY_CAP_DAYS);
    expect(get(table, 'frequency', 'c')).toBe(0);
    expect(table.missing).toMatchObject({
      log_followers: 1,
      followers: 1,
      engagement_rate: 1,
      avg_order_value: 1,
      'category:fashion': 1,
      tenure_days: 1,
      age: 2,
      vip: 1,
      signup: 2,
      recency_days: 0,
      monetary: 0,
    });
    expect(table.userIds).toEqual(['a', 'b', 'c']);
    expect(table.names).toEqual(ALL);
    for (const col of table.columns) expect(col).toBeInstanceOf(Float64Array);
  });

  it('ignores interactions at or after asOf (no leakage)', () => {
    const input = tiny();
    const leaky = { ...input, interactions: [...leaks(), ...input.interactions, ...leaks()] };
    const withLeaks = computeFeatures(leaky, ALL, { asOf: AS_OF });
    expect(withLeaks.columns).toEqual(table.columns);
    expect(withLeaks.missing).toEqual(table.missing);
  });

  it('looks only at the past of an earlier asOf', () => {
    const earlier = computeFeatures(tiny(), ['frequency', 'monetary', 'recency_days', 'views_per_week'], {
      asOf: ago(25),
    });
    expect(get(earlier, 'frequency', 'a')).toBe(2);
    // The lookback is now [390, 25) days ago: the purchase 400 days ago stays out.
    expect(get(earlier, 'monetary', 'a')).toBe(80);
    expect(get(earlier, 'recency_days', 'a')).toBeCloseTo(5, 10);
    expect(get(earlier, 'views_per_week', 'a')).toBe(0);
    expect(get(earlier, 'frequency', 'b')).toBe(0);
  });

  it('gives the same column for a feature asked twice or next to features sharing its counters', () => {
    const again = computeFeatures(
      tiny(),
      ['avg_order_value', 'frequency', 'frequency', 'purchases_per_month'],
      {
        asOf: AS_OF,
      },
    );
    expect(again.columns[1]).toEqual(again.columns[2]);
    expect(get(again, 'frequency', 'a')).toBe(2);
    expect(get(again, 'avg_order_value', 'a')).toBe(40);
    expect(get(again, 'purchases_per_month', 'a')).toBeCloseTo(get(table, 'purchases_per_month', 'a'), 12);
  });

  it('gives each column the same values whatever features come before or after it', () => {
    // Columns that are the last to read a counter are written over it: the order must not leak into values.
    const transformsFirst = [
      'purchases_per_month',
      'category:fashion',
      'engagement_rate',
      'engagement',
      'spend_per_month',
      'monetary',
    ];
    for (const features of [ALL, [...ALL].reverse(), [...ALL, ...ALL], transformsFirst]) {
      const mixed = computeFeatures(tiny(), features, { asOf: AS_OF, existingOnly: true });
      features.forEach((feature, j) => {
        const alone = computeFeatures(tiny(), [feature], { asOf: AS_OF, existingOnly: true });
        expect(mixed.userIds).toEqual(alone.userIds);
        expect(Array.from(mixed.columns[j] as Float64Array)).toEqual(
          Array.from(alone.columns[0] as Float64Array),
        );
      });
    }
  });

  it('keeps only profiles that existed before asOf when asked', () => {
    const existing = computeFeatures(tiny(), ['followers'], { asOf: ago(20), existingOnly: true });
    expect(existing.userIds).toEqual(['a', 'c']);
  });

  it('honours a custom engagement window', () => {
    const short = computeFeatures(tiny(), ['views_per_week', 'active_days_per_week'], {
      asOf: AS_OF,
      windowDays: 7,
    });
    expect(get(short, 'views_per_week', 'a')).toBeCloseTo(3, 10);
    expect(get(short, 'active_days_per_week', 'a')).toBeCloseTo(4, 10);
  });

  it('rejects an unknown feature and lists what is available', () => {
    expect(() => computeFeatures(tiny(), ['log_folowers'], { asOf: AS_OF })).toThrow(FeatureError);
    try {
      computeFeatures(tiny(), ['engagment'], { asOf: AS_OF });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('unknown feature "engagment"');
      expect(message).toContain('Did you mean "engagement"');
      for (const name of ['log_followers', 'monetary', 'age', 'vip', 'interest:fashion', 'category:books']) {
        expect(message).toContain(name);
      }
    }
    expect(() => computeFeatures(tiny(), ['interest:golf'], { asOf: AS_OF })).toThrow(/Available:/);
    expect(() => computeFeatures(tiny(), ['tier'], { asOf: AS_OF })).toThrow(/category attribute/);
  });
});

describe('availableFeatures', () => {
  it('lists built-ins, numeric/boolean/date attributes, interests and categories', () => {
    const input = tiny();
    const names = availableFeatures(input.attributes, input.profiles, input.products).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining([...ALL]));
    expect(names).not.toContain('tier');
    expect(names).not.toContain('tags');
    expect(availableFeatures({}).every((f) => f.description.length > 0 && f.unit.length > 0)).toBe(true);
    for (const f of DEFAULT_SEGMENT_FEATURES) expect(availableFeatures({}).map((x) => x.name)).toContain(f);
    expect(DEFAULT_SEGMENT_FEATURES).toHaveLength(6);
  });
});

describe('scaleColumns', () => {
  const table: FeatureTable = {
    userIds: ['a', 'b', 'c', 'd'],
    names: ['x', 'flat', 'big'],
    columns: [
      Float64Array.from([1, 2, 3, Number.NaN]),
      Float64Array.from([5, 5, 5, 5]),
      Float64Array.from([0, 9, 99, 999]),
    ],
    missing: { x: 1, flat: 0, big: 0 },
  };

  it('imputes the median, reports it, and z-scores with the sample sd', () => {
    const scaled = scaleColumns(table, 'zscore');
    expect(scaled.imputed).toEqual({ x: 1, flat: 0, big: 0 });
    expect(scaled.medians[0]).toBe(2);
    expect(scaled.means[0]).toBeCloseTo(2, 12);
    expect(scaled.sds[0]).toBeCloseTo(Math.sqrt(2 / 3), 12);
    const x = scaled.matrix.map((row) => row[0] as number);
    expect(x[0]).toBeCloseTo(-1 / Math.sqrt(2 / 3), 12);
    expect(x[3]).toBeCloseTo(0, 12);
    // A constant column gets sd 1 and becomes all zeros instead of NaN.
    expect(scaled.sds[1]).toBe(1);
    expect(scaled.matrix.map((row) => row[1])).toEqual([0, 0, 0, 0]);
  });

  it('log-zscore applies ln(1 + x) first; none only imputes', () => {
    const logged = scaleColumns(table, 'log-zscore');
    const raw = [0, 9, 99, 999].map(Math.log1p);
    const mean = raw.reduce((a, b) => a + b, 0) / 4;
    expect(logged.means[2]).toBeCloseTo(mean, 12);
    const none = scaleColumns(table, 'none');
    expect(none.matrix.map((row) => row[0])).toEqual([1, 2, 3, 2]);
    expect(none.imputed.x).toBe(1);
    // The input table is not modified.
    expect(table.columns[0]?.[3]).toBeNaN();
  });

  it('computes medians without NaN, odd and even', () => {
    expect(columnMedian(Float64Array.from([3, Number.NaN, 1, 2]))).toBe(2);
    expect(columnMedian(Float64Array.from([4, 1, 3, 2]))).toBe(2.5);
    expect(columnMedian(Float64Array.from([Number.NaN]))).toBe(0);
    const big = Float64Array.from({ length: 10_001 }, (_, i) => (i * 7919) % 10_001);
    expect(columnMedian(big)).toBe(5000);
  });

  it('selects medians in place, keeping every value, and maps them through an increasing function', () => {
    const cases = [[3, Number.NaN, 1, 2], [4, 1, 3, 2], [Number.NaN], [5, Number.NaN, Number.NaN, 1, 9, 2]];
    for (const values of cases) {
      const buffer = Float64Array.from(values);
      expect(medianInPlace(buffer)).toBe(columnMedian(Float64Array.from(values)));
      // A reordering of the input, missing values last: the buffer can be selected in again.
      // Typed-array sort puts NaN last, so equal multisets sort equal.
      const sorted = (xs: ArrayLike<number>) => Array.from(Float64Array.from(xs).sort());
      expect(sorted(buffer)).toEqual(sorted(values));
      expect(Number.isNaN(buffer[buffer.length - 1] as number)).toBe(values.some(Number.isNaN));
      const log = Float64Array.from(values, (v) => Math.log10(1 + v));
      const direct = columnMedian(Float64Array.from(log, (x) => 10 ** x - 1));
      expect(medianInPlace(log, (x) => 10 ** x - 1)).toBe(direct);
    }
  });
});

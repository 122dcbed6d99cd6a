import { describe, expect, it } from 'vitest';
import type { Interaction, InteractionType, Product, Profile } from '../../src/domain/types.ts';
import {
  buildRecommendModel,
  DEFAULT_RECOMMEND_PARAMS,
  RecommendError,
  type RecommendInput,
  type RecommendModel,
  recommendForSegment,
  recommendForUser,
  withSegments,
} from '../../src/engine/recommend.ts';

const DAY = 86_400_000;
const AS_OF = Date.UTC(2026, 5, 1);

function profile(id: string): Profile {
  return {
    id,
    platform: null,
    country: null,
    created_at: AS_OF - 400 * DAY,
    last_active_at: null,
    followers: null,
    interests: [],
    attrs: {},
  };
}

function product(id: string, name: string, category: string, inStock = true): Product {
  return { id, name, category, price: 10, in_stock: inStock };
}

function event(
  user: string,
  item: string,
  type: InteractionType,
  daysAgo: number,
  value: number | null = null,
): Interaction {
  return { user_id: user, item_id: item, type, value, timestamp: AS_OF - daysAgo * DAY };
}

/**
 * Runners buy Trail Runner X with Trail socks (5 of them) or with the Camp tent (2, now out of stock);
 * a separate crowd buys Yoga mats, more recently; alice bought only the shoes, bob viewed and liked them,
 * carol did nothing.
 */
/** The fixture with mutable arrays, so tests can add events. */
interface Fixture extends RecommendInput {
  interactions: Interaction[];
}

function catalogue(): Fixture {
  const products = [
    product('A', 'Trail Runner X', 'shoes'),
    product('S', 'Trail socks', 'socks'),
    product('T', 'Camp tent', 'outdoor', false),
    product('M', 'Yoga mat', 'fitness'),
    product('H', 'Sun hat', 'hats'),
  ];
  const interactions: Interaction[] = [];
  const runners = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
  runners.forEach((r, k) => {
    interactions.push(event(r, 'A', 'purchase', 20 + k, 120));
    interactions.push(event(r, k < 5 ? 'S' : 'T', 'purchase', 10 + k, 12));
  });
  const yogis = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
  for (const [k, m] of yogis.entries()) interactions.push(event(m, 'M', 'purchase', 5 + k, 30));
  interactions.push(event('h1', 'H', 'purchase', 3, 15), event('h1', 'M', 'purchase', 4, 30));
  interactions.push(event('alice', 'A', 'purchase', 2, 120));
  interactions.push(event('bob', 'A', 'view', 1), event('bob', 'A', 'like', 1));
  interactions.sort((a, b) => a.timestamp - b.timestamp);
  const ids = [...runners, ...yogis, 'h1', 'alice', 'bob', 'carol'];
  return { profiles: ids.map(profile), products, interactions };
}

function row(model: RecommendModel, itemId: string): Map<string, number> {
  const j = model.itemIds.indexOf(itemId);
  const out = new Map<string, number>();
  for (let p = model.neighbourStart[j] as number; p < (model.neighbourStart[j + 1] as number); p++) {
    out.set(model.itemIds[model.neighbourItems[p] as number] as string, model.neighbourWeights[p] as number);
  }
  return out;
}

const runnersSegment = {
  userIds: [
    'r1',
    'r2',
    'r3',
    'r4',
    'r5',
    'r6',
    'r7',
    'alice',
    'carol',
    'm1',
    'm2',
    'm3',
    'm4',
    'm5',
    'm6',
    'h1',
    'bob',
  ],
  labels: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
  names: ['Runners', 'Yogis'],
};

describe('buildRecommendModel: co-occurrence', () => {
  it('P(i|j) is the share of purchases by people who engaged with j, without damping', () => {
    const model = buildRecommendModel(catalogue(), { asOf: AS_OF, params: { popularityDamping: 0 } });
    // Engagers of A: r1-r7 and alice (bought) and bob (viewed). Their other purchases: S five times, T twice.
    const a = row(model, 'A');
    expect([...a.keys()].sort()).toEqual(['S', 'T']);
    expect(a.get('S')).toBeCloseTo(5 / 7, 8);
    expect(a.get('T')).toBeCloseTo(2 / 7, 8);
    // From socks' side the only other purchase of their buyers is the shoes.
    expect(row(model, 'S')).toEqual(new Map([['A', 1]]));
    // H and M were bought together once: each points at the other only.
    expect(row(model, 'H')).toEqual(new Map([['M', 1]]));
    const m = row(model, 'M');
    expect(m.get('H')).toBeCloseTo(1, 8);
    const j = model.itemIds.indexOf('A');
    const s = model.itemIds.indexOf('S');
    const p = model.neighbourItems.findIndex((i, k) => i === s && k >= (model.neighbourStart[j] as number));
    expect(model.neighbourCoBought[p]).toBe(5);
    expect(model.neighbourCoEngaged[p]).toBe(5);
    expect(model.buyers[j]).toBe(8);
    expect(model.engagers[j]).toBe(9);
  });

  it('damps each target by (buyers + 1)^-γ before normalising the row', () => {
    const gamma = DEFAULT_RECOMMEND_PARAMS.popularityDamping;
    const model = buildRecommendModel(catalogue(), { asOf: AS_OF });
    const socks = 5 * (5 + 1) ** -gamma;
    const tent = 2 * (2 + 1) ** -gamma;
    const a = row(model, 'A');
    expect(a.get('S')).toBeCloseTo(socks / (socks + tent), 6);
    expect(a.get('T')).toBeCloseTo(tent / (socks + tent), 6);
  });

  it('weights engagement by type: a view counts less than a purchase in C(j,i)', () => {
    const input = catalogue();
    // Two extra people only viewed the tent and then bought socks.
    input.interactions.push(event('v1', 'T', 'view', 9), event('v1', 'S', 'purchase', 8));
    input.interactions.push(event('v2', 'T', 'purchase', 9), event('v2', 'M', 'purchase', 8));
    const model = buildRecommendModel(input, { asOf: AS_OF, params: { popularityDamping: 0 } });
    const w = DEFAULT_RECOMMEND_PARAMS.typeWeights;
    // Tent: r6 and r7 bought it with A, v2 bought it with M, v1 viewed it and bought S.
    const t = row(model, 'T');
    const total = 2 * w.purchase + w.purchase + w.view;
    expect(t.get('A')).toBeCloseTo((2 * w.purchase) / total, 8);
    expect(t.get('M')).toBeCloseTo(w.purchase / total, 8);
    expect(t.get('S')).toBeCloseTo(w.view / total, 8);
  });

  it('keeps at most maxNeighbours per item', () => {
    const model = buildRecommendModel(catalogue(), { asOf: AS_OF, maxNeighbours: 1 });
    expect([...row(model, 'A').keys()]).toEqual(['S']);
    expect(row(model, 'A').get('S')).toBe(1);
  });

  it('ignores interactions at or after asOf', () => {
    const input = catalogue();
    input.interactions.push(event('alice', 'M', 'purchase', 0));
    const model = buildRecommendModel(input, { asOf: AS_OF });
    expect(model.buyers[model.itemIds.indexOf('M')]).toBe(7);
    const recs = recommendForUser(model, input, 'alice', 5);
    expect(recs.items.map((i) => i.itemId)).toContain('M');
  });
});

describe('recommendForUser', () => {
  const input = catalogue();
  const model = buildRecommendModel(input, { asOf: AS_OF });

  it('never recommends what the user bought or what is out of stock', () => {
    for (const user of ['alice', 'bob', 'carol', 'r1', 'r6', 'h1']) {
      const ids = recommendForUser(model, input, user, 10).items.map((i) => i.itemId);
      expect(ids).not.toContain('T');
      if (user === 'alice' || user.startsWith('r')) expect(ids).not.toContain('A');
    }
    const r1 = recommendForUser(model, input, 'r1', 10).items.map((i) => i.itemId);
    expect(r1).not.toContain('S');
    expect(r1.sort()).toEqual(['H', 'M']);
  });

  it('puts what people who bought the same thing bought first, with the share as the reason', () => {
    const recs = recommendForUser(model, input, 'alice', 3, { minCohortSize: 5 });
    const first = recs.items[0];
    expect(first?.itemId).toBe('S');
    expect(first?.reasonKind).toBe('together');
    // 5 of the 8 buyers of Trail Runner X bought the socks.
    expect(first?.reason).toBe('bought by 63% of people who bought Trail Runner X');
  });

  it('phrases the share over everyone interested when the user only looked at the anchor', () => {
    const recs = recommendForUser(model, input, 'bob', 3, { minCohortSize: 5 });
    const socks = recs.items.find((i) => i.itemId === 'S');
    expect(socks?.reasonKind).toBe('together');
    // Engagers of A: 8 buyers and bob; 5 of them bought socks.
    expect(socks?.reason).toBe('bought by 56% of people interested in Trail Runner X');
  });

  it('does not quote shares of groups smaller than the minimum cohort', () => {
    const recs = recommendForUser(model, input, 'alice', 3, { minCohortSize: 20 });
    expect(recs.items[0]?.reason).toBe('often bought by people who also chose Trail Runner X');
  });

  it('scores are P(u) · P(i|u), and P(i|u) sums to 1 over what the user can buy', () => {
    const all = recommendForUser(model, input, 'alice', 10);
    expect(all.items.map((i) => i.itemId).sort()).toEqual(['H', 'M', 'S']);
    const total = all.items.reduce((s, i) => s + i.pItemGivenUser, 0);
    expect(total).toBeCloseTo(1, 10);
    for (const item of all.items) expect(item.score).toBeCloseTo(all.propensity * item.pItemGivenUser, 12);
    for (let k = 1; k < all.items.length; k++) {
      expect(all.items[k - 1]?.score).toBeGreaterThanOrEqual(all.items[k]?.score as number);
    }
  });

  it('backs off to popularity for a cold user, and to the segment when there is one', () => {
    const cold = recommendForUser(model, input, 'carol', 3);
    expect(cold.historyWeight).toBe(0);
    // Mats sell more this month (7 recent buyers) than the shoes (8, but weeks ago).
    expect(cold.items[0]?.itemId).toBe('M');
    expect(cold.items[0]?.reasonKind).toBe('popular');
    expect(cold.items[0]?.reason).toBe('a bestseller this month');

    const withSegments = buildRecommendModel(input, { asOf: AS_OF, segments: runnersSegment });
    const runner = recommendForUser(withSegments, input, 'carol', 3);
    expect(runner.segmentName).toBe('Runners');
    expect(runner.items[0]?.itemId).toBe('A');
    expect(runner.items[0]?.reasonKind).toBe('segment');
    expect(runner.items[0]?.reason).toBe("popular in your segment 'Runners'");
    // The segment shifts probability from the yogis' mats to the runners' socks.
    const p = (r: typeof cold, id: string) => r.items.find((i) => i.itemId === id)?.pItemGivenUser ?? 0;
    expect(p(runner, 'S')).toBeGreaterThan(p(cold, 'S'));
    expect(p(runner, 'M')).toBeLessThan(p(cold, 'M'));
  });

  it('trusts history more as it grows', () => {
    expect(recommendForUser(model, input, 'bob', 1).historyWeight).toBeLessThan(
      recommendForUser(model, input, 'alice', 1).historyWeight,
    );
    expect(recommendForUser(model, input, 'r1', 1).historyWeight).toBeGreaterThan(
      recommendForUser(model, input, 'alice', 1).historyWeight,
    );
  });

  it('gives recent buyers a higher propensity than people who never bought, on one scale', () => {
    const busy = catalogue();
    for (let d = 1; d < 80; d += 8) busy.interactions.push(event('alice', 'H', 'purchase', d, 15));
    busy.interactions.sort((a, b) => a.timestamp - b.timestamp);
    const m = buildRecommendModel(busy, { asOf: AS_OF });
    const heavy = recommendForUser(m, busy, 'alice', 1).propensity;
    const light = recommendForUser(m, busy, 'r1', 1).propensity;
    const none = recommendForUser(m, busy, 'carol', 1).propensity;
    expect(heavy).toBeGreaterThan(light);
    expect(light).toBeGreaterThan(none);
    expect(none).toBeGreaterThan(0);
    expect(heavy).toBeLessThan(1);
    // A cold user gets the audience's rate: 1 − exp(−α / (E + β) · 30/7) over the 90-day window.
    const { alpha, beta } = m.propensityPrior;
    expect(none).toBeCloseTo(1 - Math.exp((-alpha / (90 / 7 + beta)) * (30 / 7)), 8);
  });

  it('is deterministic and survives a JSON round trip (the cache)', () => {
    const again = buildRecommendModel(catalogue(), { asOf: AS_OF });
    expect(again).toEqual(model);
    const parsed = JSON.parse(JSON.stringify(model)) as RecommendModel;
    expect(parsed).toEqual(model);
    for (const user of ['alice', 'bob', 'carol']) {
      expect(recommendForUser(parsed, catalogue(), user, 5)).toEqual(recommendForUser(model, input, user, 5));
    }
  });

  it('explains unknown users and empty catalogues', () => {
    expect(() => recommendForUser(model, input, 'nobody', 5)).toThrow(RecommendError);
    expect(() => recommendForUser(model, input, 'nobody', 5)).toThrow(/unknown user 'nobody'.*e\.g\. 'r1'/);
    const empty = { ...input, products: [] };
    const none = buildRecommendModel(empty, { asOf: AS_OF });
    expect(() => recommendForUser(none, empty, 'alice', 5)).toThrow(/catalogue is empty/);
    const sold = { ...input, products: input.products.map((p) => ({ ...p, in_stock: false })) };
    expect(() => recommendForUser(model, sold, 'alice', 5)).toThrow(
      /no product in the catalogue is in stock/,
    );
  });
});

describe('withSegments', () => {
  it('gives exactly the model a full build with those segments gives, without changing its input', () => {
    const input = catalogue();
    const other = {
      userIds: runnersSegment.userIds,
      labels: runnersSegment.labels.map((l) => 1 - l),
      names: ['A', 'B'],
      runId: 'r-2',
    };
    const first = buildRecommendModel(input, {
      asOf: AS_OF,
      builtAt: 1,
      segments: { ...runnersSegment, runId: 'r-1' },
    });
    const snapshot = structuredClone(first);
    const swapped = withSegments(first, input, other, 2);
    expect(swapped).toEqual(buildRecommendModel(input, { asOf: AS_OF, builtAt: 2, segments: other }));
    expect(first).toEqual(snapshot);
    const none = withSegments(first, input, undefined);
    expect(none).toEqual(buildRecommendModel(input, { asOf: AS_OF, builtAt: 1 }));
    expect(none.segmentRunId).toBeUndefined();
  });
});

describe('recommendForSegment', () => {
  const input = catalogue();
  const model = buildRecommendModel(input, { asOf: AS_OF, segments: runnersSegment });

  it('ranks items by expected buyers Σ P(u) · P(i|u) over the members', () => {
    const result = recommendForSegment(model, input, 0, 5);
    expect(result.segmentName).toBe('Runners');
    expect(result.size).toBe(9);
    let expected = new Map<string, number>();
    for (const [k, id] of runnersSegment.userIds.entries()) {
      if (runnersSegment.labels[k] !== 0) continue;
      const recs = recommendForUser(model, input, id, 10);
      for (const item of recs.items) expected.set(item.itemId, (expected.get(item.itemId) ?? 0) + item.score);
    }
    expected = new Map([...expected].sort((a, b) => b[1] - a[1]));
    expect(result.items.map((i) => i.itemId)).toEqual([...expected.keys()]);
    for (const item of result.items) {
      expect(item.expectedBuyers).toBeCloseTo(expected.get(item.itemId) as number, 10);
      expect(item.score).toBeCloseTo(item.expectedBuyers / result.size, 12);
      expect(item.itemId).not.toBe('T');
      expect(item.reason.length).toBeGreaterThan(0);
    }
  });

  it('rejects segments that do not exist, and models without segments', () => {
    expect(() => recommendForSegment(model, input, 2, 5)).toThrow(/segment 2 does not exist/);
    const plain = buildRecommendModel(input, { asOf: AS_OF });
    expect(() => recommendForSegment(plain, input, 0, 5)).toThrow(RecommendError);
  });
});

import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import type { Interaction, InteractionType, Product, Profile } from '../../src/domain/types.ts';
import {
  buildRecommendModel,
  DEFAULT_RECOMMEND_PARAMS,
  interactionWeight,
  RecommendError,
  type RecommendInput,
  type RecommendModel,
  recommendForSegment,
  recommendForUser,
  withSegments,
} from '../../src/engine/recommend.ts';
import { generateCatalogueShape } from '../../src/sample/catalogue-shape.ts';
import { generateShape } from '../../src/sample/shapes.ts';

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

/** EASE's weights by hand: B = −P_ji / P_ii with P = (XᵀX + λI)⁻¹, λ = scale · mean diagonal. */
function easeReference(rows: number[][], lambda: number): Matrix {
  const x = new Matrix(rows);
  const gram = x.transpose().mmul(x);
  const m = gram.rows;
  const p = inverse(gram.add(Matrix.eye(m, m).mul(lambda)));
  const b = new Matrix(m, m);
  for (let j = 0; j < m; j++)
    for (let i = 0; i < m; i++) b.set(j, i, i === j ? 0 : -p.get(j, i) / p.get(i, i));
  return b;
}

describe('buildRecommendModel: the collaborative model', () => {
  it('neighbour weights are EASE on the implicit feedback, strongest interaction per item by type', () => {
    const model = buildRecommendModel(catalogue(), { asOf: AS_OF });
    const w = DEFAULT_RECOMMEND_PARAMS.typeWeights;
    // Users × items (A, S, T, M, H): runners bought A and S or T, yogis M, h1 H and M, alice A, bob viewed and liked A.
    const ids = ['A', 'S', 'T', 'M', 'H'];
    const rows: number[][] = [];
    for (let k = 0; k < 7; k++) rows.push([1, k < 5 ? 1 : 0, k < 5 ? 0 : 1, 0, 0]);
    for (let k = 0; k < 6; k++) rows.push([0, 0, 0, 1, 0]);
    rows.push([0, 0, 0, 1, 1], [1, 0, 0, 0, 0], [Math.fround(Math.max(w.view, w.like)), 0, 0, 0, 0]);
    const b = easeReference(rows, model.collaborative.ridge);
    for (const [j, from] of ids.entries()) {
      for (const [i, to] of ids.entries()) {
        if (i === j) continue;
        const weight = row(model, from).get(to) ?? 0;
        expect(weight).toBeCloseTo(b.get(j, i), 6);
      }
    }
    // Too few people to validate on: the defaults, and popularity over the last 30 days.
    expect(model.collaborative.validation.users).toBeLessThan(30);
    expect(model.params.popularityHalfLifeDays).toBe(30);
  });

  it('counts every kind of feedback: purchase > rating > like/share/comment > click > view', () => {
    const w = DEFAULT_RECOMMEND_PARAMS.typeWeights;
    const order = [w.purchase, w.rating, w.like, w.click, w.view];
    for (let k = 1; k < order.length; k++) expect(order[k - 1]).toBeGreaterThan(order[k] as number);
    expect(w.share).toBe(w.like);
    expect(w.comment).toBe(w.like);
    // Ratings: positive at or above the threshold or the person's own mean; half stars and 1-10 scales.
    const rule = { threshold: 4, userMean: 3.5, lowRatingWeight: 0.5 };
    expect(interactionWeight('rating', 4.5, w, rule)).toBe(w.rating);
    expect(interactionWeight('rating', 3.5, w, rule)).toBe(w.rating);
    expect(interactionWeight('rating', 0.5, w, rule)).toBe(w.rating * 0.5);
    expect(interactionWeight('rating', 7, w, { threshold: 8, userMean: 6.2, lowRatingWeight: 0.5 })).toBe(
      w.rating,
    );
    expect(interactionWeight('rating', 6, w, { threshold: 8, userMean: 6.2, lowRatingWeight: 0.5 })).toBe(
      w.rating / 2,
    );
  });

  it('keeps at most maxNeighbours per item, the strongest', () => {
    const model = buildRecommendModel(catalogue(), { asOf: AS_OF, maxNeighbours: 1 });
    expect([...row(model, 'A').keys()]).toEqual(['S']);
    for (let j = 0; j < model.itemIds.length; j++) {
      expect(
        (model.neighbourStart[j + 1] as number) - (model.neighbourStart[j] as number),
      ).toBeLessThanOrEqual(1);
    }
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
    expect(recs.items[0]?.reason).toBe('chosen by people who also bought Trail Runner X');
  });

  it('does not quote a share too small to persuade', () => {
    // 120 more people looked at the shoes and bought nothing: 5 of the 129 interested bought the socks (4%),
    // and "bought by 4% of people interested in Trail Runner X" reads as a reason against the socks.
    const base = catalogue();
    const wide = {
      ...base,
      profiles: [...base.profiles, ...Array.from({ length: 120 }, (_, k) => profile(`v${k}`))],
    };
    for (let k = 0; k < 120; k++) wide.interactions.push(event(`v${k}`, 'A', 'view', 30 + (k % 20)));
    wide.interactions.sort((a, b) => a.timestamp - b.timestamp);
    const wideModel = buildRecommendModel(wide, { asOf: AS_OF });
    const socks = recommendForUser(wideModel, wide, 'bob', 3, { minCohortSize: 5 }).items.find(
      (i) => i.itemId === 'S',
    );
    expect(socks?.reasonKind).toBe('together');
    expect(socks?.reason).toBe('chosen by people who also showed interest in Trail Runner X');
  });

  it('scores are P(u) · P(i|u), and P(i|u) sums to 1 over what the user can buy', () => {
    const all = recommendForUser(model, input, 'alice', 10);
    expect(all.items.map((i) => i.itemId).sort()).toEqual(['H', 'M', 'S']);
    const total = all.items.reduce((s, i) => s + i.pItemGivenUser, 0);
    expect(total).toBeCloseTo(1, 10);
    for (const item of all.items)
      expect(item.score).toBeCloseTo((all.propensity as number) * item.pItemGivenUser, 12);
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
    const heavy = recommendForUser(m, busy, 'alice', 1).propensity as number;
    const light = recommendForUser(m, busy, 'r1', 1).propensity as number;
    const none = recommendForUser(m, busy, 'carol', 1).propensity as number;
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

describe('stores with one kind of feedback', () => {
  const asOf = Date.UTC(2026, 5, 1);

  /** Items each user already rated, bought or liked, from the data. */
  function knownItems(interactions: readonly Interaction[]): Map<string, Set<string>> {
    const known = new Map<string, Set<string>>();
    for (const it of interactions) {
      if (it.item_id === null || it.type === 'view' || it.type === 'click') continue;
      const set = known.get(it.user_id) ?? new Set<string>();
      set.add(it.item_id);
      known.set(it.user_id, set);
    }
    return known;
  }

  it('ratings only: no purchase to estimate P(u) from, so it says so and ranks by P(i|u), never repeating a rated item', () => {
    const data = generateShape({ kind: 'ratings', seed: 5, users: 400, items: 200, medianEvents: 12 });
    expect(data.interactions.every((it) => it.type === 'rating')).toBe(true);
    expect(data.interactions.some((it) => it.value === 0.5 || (it.value ?? 0) % 1 === 0.5)).toBe(true);
    const model = buildRecommendModel(data, { asOf });
    expect(model.hasPurchases).toBe(false);
    const known = knownItems(data.interactions);
    for (const p of data.profiles.slice(0, 50)) {
      const recs = recommendForUser(model, data, p.id, 10);
      expect(recs.propensity).toBeNull();
      // Ten, unless the person already knows all but a few of the 200 items.
      expect(recs.items.length).toBe(Math.min(10, 200 - (known.get(p.id)?.size ?? 0)));
      for (const item of recs.items) {
        expect(item.score).toBeGreaterThan(0);
        expect(item.score).toBe(item.pItemGivenUser);
        expect(known.get(p.id)?.has(item.itemId)).not.toBe(true);
      }
    }
  });

  it('purchases only: scores are P(u) · P(i|u) > 0, and nothing bought is offered again unless it is repeatable', () => {
    const data = generateShape({ kind: 'purchases', seed: 6, users: 400, items: 200, medianEvents: 12 });
    const model = buildRecommendModel(data, { asOf });
    expect(model.hasPurchases).toBe(true);
    const repeatable = new Set(model.repeatable.map((i) => model.itemIds[i]));
    const known = knownItems(data.interactions);
    for (const p of data.profiles.slice(0, 50)) {
      const recs = recommendForUser(model, data, p.id, 10);
      expect(recs.propensity).toBeGreaterThan(0);
      expect(recs.items.length).toBeGreaterThanOrEqual(Math.min(10, 200 - (known.get(p.id)?.size ?? 0)));
      for (const item of recs.items) {
        expect(item.score).toBeGreaterThan(0);
        if (!repeatable.has(item.itemId)) expect(known.get(p.id)?.has(item.itemId)).not.toBe(true);
      }
    }
  });

  it('learns that a product is repeatable from repeat purchases, and may offer it again', () => {
    const input = catalogue();
    // Every socks buyer buys them again: socks are a consumable here.
    for (const [k, r] of ['r1', 'r2', 'r3', 'r4', 'r5'].entries())
      input.interactions.push(event(r, 'S', 'purchase', 5 + k, 12));
    input.interactions.sort((a, b) => a.timestamp - b.timestamp);
    const model = buildRecommendModel(input, { asOf: AS_OF });
    expect(model.repeatable.map((i) => model.itemIds[i])).toEqual(['S']);
    expect(recommendForUser(model, input, 'r1', 10).items.map((i) => i.itemId)).toContain('S');
    expect(recommendForUser(model, input, 'r1', 10).items.map((i) => i.itemId)).not.toContain('A');
  });
});

describe('short and long histories', () => {
  it('scores a person with at most 10 known items by the λ and blend validated for short queries', () => {
    // Measured on this store: long histories plain EASE at λ 1 (× the mean diagonal), prior k 0.25; short ones
    // the denoising fit at dropout 0.9 (a handful of known items is a history with most items dropped), λ 1, k 1.
    const data = generateCatalogueShape({ kind: 'ratings', seed: 7, users: 800, items: 400 });
    const popular = [...new Set(data.interactions.slice(-200).map((i) => i.item_id as string))].slice(0, 3);
    const input = {
      ...data,
      interactions: [
        ...data.interactions,
        ...popular.map((item, k) => event('newcomer', item, 'rating', 0.00001 * (k + 1), 5)),
      ],
    };
    const model = buildRecommendModel(input, { asOf: AS_OF });
    const short = model.collaborative.short;
    expect(short?.maxLength).toBe(10);
    expect(short?.share).toBe(1);
    expect(short?.dropout).toBeGreaterThan(model.collaborative.dropout);
    // Its own B from the same Gram matrix: λ over the same mean diagonal, so the ridges keep the λs' ratio.
    expect((short?.ridge as number) / model.collaborative.ridge).toBeCloseTo(
      (short?.lambda as number) / model.collaborative.lambda,
      5,
    );
    expect(model.shortNeighbours?.items.length).toBeGreaterThan(1000);
    // The history weight n / (n + k) reveals the prior each query took (n: the summed feedback, 3 × 0.8 here).
    const priorOf = (userId: string, n: number) => {
      const w = recommendForUser(model, input, userId, 10).historyWeight;
      return (n * (1 - w)) / w;
    };
    expect(priorOf('newcomer', 3 * Math.fround(0.8))).toBeCloseTo(short?.historyPrior as number, 2);
    // A long history takes the long choice and trusts its own history almost fully.
    const long = data.profiles.find((p) => data.interactions.filter((i) => i.user_id === p.id).length > 40);
    const recs = recommendForUser(model, input, long?.id as string, 10);
    expect(recs.items).toHaveLength(10);
    expect(recs.historyWeight).toBeGreaterThan(0.9);
  }, 60_000);
});

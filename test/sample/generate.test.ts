import MLR from 'ml-regression-multivariate-linear';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/domain/random.ts';
import { INTERACTION_TYPES, type Profile } from '../../src/domain/types.ts';
import { computeFeatures } from '../../src/engine/features.ts';
import { computeStats } from '../../src/engine/stats.ts';
import { generateSample, type SampleData } from '../../src/sample/generate.ts';
import { expectedSpend, SAMPLE_CATEGORIES, SAMPLE_TRUTH } from '../../src/sample/truth.ts';

const END = new Date('2025-06-02T00:00:00Z');
const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const model = SAMPLE_TRUTH.spendModel;
const planted = Object.keys(model.coefficients);

let data: SampleData;
beforeAll(() => {
  data = generateSample({ end: END });
});

/** Spend per (user, full 30-day window): windows inside both the 26-week period and the user's life. */
function fullWindowSpends(
  sample: SampleData,
  weeks = 26,
): Array<{ user: number; window: number; spend: number }> {
  const end = END.getTime();
  const periodStart = end - weeks * 7 * DAY;
  const windows = Math.floor((end - periodStart) / WINDOW);
  const row = new Map(sample.profiles.map((p, i) => [p.id, i]));
  const sums = new Float64Array(sample.profiles.length * windows);
  for (const it of sample.interactions) {
    if (it.type !== 'purchase') continue;
    const w = Math.floor((end - 1 - it.timestamp) / WINDOW);
    if (w < windows) {
      const r = row.get(it.user_id) as number;
      sums[r * windows + w] = (sums[r * windows + w] as number) + (it.value as number);
    }
  }
  const out: Array<{ user: number; window: number; spend: number }> = [];
  sample.profiles.forEach((p, i) => {
    for (let w = 0; w < windows; w++) {
      if (end - (w + 1) * WINDOW >= (p.created_at as number))
        out.push({ user: i, window: w, spend: sums[i * windows + w] as number });
    }
  });
  return out;
}

describe('seeded random helpers', () => {
  it('repeat for a seed and follow their distributions', () => {
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 20_000 }, () => a.normal(10, 2));
    expect(Array.from({ length: 20_000 }, () => b.normal(10, 2))).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeCloseTo(2, 1);
    const rng = createRng(1);
    const counts = Array.from({ length: 20_000 }, () => rng.poisson(3.5));
    expect(counts.reduce((s, x) => s + x, 0) / counts.length).toBeCloseTo(3.5, 1);
    const big = Array.from({ length: 5000 }, () => rng.poisson(80));
    expect(big.reduce((s, x) => s + x, 0) / big.length).toBeCloseTo(80, 0);
    const picks = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const k = rng.categorical([1, 2, 7]);
      picks[k] = (picks[k] ?? 0) + 1;
    }
    expect((picks[2] as number) / 30_000).toBeCloseTo(0.7, 1);
    const shuffled = rng.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (let i = 0; i < 1000; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
    }
    expect(createRng(8).next()).not.toBe(createRng(7).next());
  });
});

describe('generateSample', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateSample({ end: END, profiles: 600, seed: 3 });
    const b = generateSample({ end: END, profiles: 600, seed: 3 });
    const c = generateSample({ end: END, profiles: 600, seed: 4 });
    expect(b).toEqual(a);
    expect(c.interactions.length).not.toBe(a.interactions.length);
    expect(c.profiles.map((p) => p.followers)).not.toEqual(a.profiles.map((p) => p.followers));
    expect(c.personas).not.toEqual(a.personas);
  });

  it('has the documented shape: 5,000 profiles, ~200 products, exact persona shares', () => {
    expect(data.profiles).toHaveLength(5000);
    expect(data.profiles[0]?.id).toBe('u000001');
    expect(data.profiles[4999]?.id).toBe('u005000');
    expect(new Set(data.profiles.map((p) => p.id)).size).toBe(5000);
    expect(data.products).toHaveLength(200);
    expect(data.products[0]?.id).toBe('p0001');
    expect(new Set(data.products.map((p) => p.category)).size).toBe(8);
    expect(new Set(data.products.map((p) => p.name)).size).toBe(200);
    expect(data.products.every((p) => p.price > 0)).toBe(true);
    expect(data.attributes).toEqual({
      age: 'number',
      app_sessions_per_week: 'number',
      loyalty_member: 'boolean',
      acquisition_channel: 'category',
      last_campaign_at: 'date',
      nps_score: 'number',
    });
    expect(data.personas).toHaveLength(5000);
    const counts: Record<string, number> = {};
    for (const p of data.personas) counts[p] = (counts[p] ?? 0) + 1;
    for (const persona of SAMPLE_TRUTH.personas)
      expect(counts[persona.key]).toBe(Math.round(persona.share * 5000));
    expect(new Set(data.profiles.flatMap((p) => p.interests)).size).toBe(5);
    expect(new Set(data.profiles.map((p) => p.platform)).size).toBe(5);
    expect(new Set(data.profiles.map((p) => p.country)).size).toBeGreaterThanOrEqual(8);
  });

  it('produces valid, time-ordered interactions within the period, 10-40 per profile', () => {
    const end = END.getTime();
    const start = end - 26 * 7 * DAY;
    const users = new Set(data.profiles.map((p) => p.id));
    const products = new Set(data.products.map((p) => p.id));
    const created = new Map(data.profiles.map((p) => [p.id, p.created_at as number]));
    // Plain checks collected into one list: 185k expect() calls would dominate the test time.
    const problems: string[] = [];
    const types = new Set<string>(INTERACTION_TYPES);
    let previous = Number.NEGATIVE_INFINITY;
    for (const it of data.interactions) {
      const bad = (why: string) => problems.push(`${why}: ${JSON.stringify(it)}`);
      if (!types.has(it.type)) bad('type');
      if (!users.has(it.user_id)) bad('user');
      if (it.item_id !== null && !products.has(it.item_id)) bad('item');
      if (!(it.timestamp >= start && it.timestamp < end)) bad('outside period');
      if (it.timestamp < (created.get(it.user_id) as number) - 1000) bad('before the profile existed');
      if (it.timestamp < previous) bad('not time-ordered');
      previous = it.timestamp;
      const v = it.value;
      if (it.type === 'purchase') {
        if (!(typeof v === 'number' && v > 0 && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6))
          bad('amount');
        if (it.item_id === null) bad('purchase without item');
      } else if (it.type === 'rating') {
        if (!(typeof v === 'number' && v >= 0.5 && v <= 5 && Number.isInteger(v * 2))) bad('rating');
      } else if (v !== null) bad('value on a social interaction');
    }
    expect(problems.slice(0, 5)).toEqual([]);
    const perProfile = data.interactions.length / data.profiles.length;
    expect(perProfile).toBeGreaterThan(10);
    expect(perProfile).toBeLessThan(40);
    expect(data.interactions.filter((i) => i.type === 'rating').length).toBeGreaterThan(0);
  });

  it('grows week over week and some profiles churn', () => {
    const end = END.getTime();
    const start = end - 26 * 7 * DAY;
    const joins = new Array(26).fill(0);
    for (const p of data.profiles) {
      const w = Math.floor(((p.created_at as number) - start) / (7 * DAY));
      if (w >= 0) joins[w]++;
    }
    const firstHalf = joins.slice(0, 13).reduce((a, b) => a + b, 0);
    const secondHalf = joins.slice(13).reduce((a, b) => a + b, 0);
    expect(secondHalf).toBeGreaterThan(firstHalf * 1.2);
    expect(data.profiles.filter((p) => (p.created_at as number) < start).length).toBeGreaterThan(2000);
    // Churned: existed for the whole last 8 weeks but showed no social activity in them.
    const quiet = data.profiles.filter(
      (p) =>
        (p.created_at as number) < end - 56 * DAY &&
        (p.last_active_at === null || p.last_active_at < end - 56 * DAY),
    );
    expect(quiet.length).toBeGreaterThan(50);
  });

  it('draws every full window once, clips almost no buying probability, and counts the buyers it drew', () => {
    const windows = fullWindowSpends(data);
    const d = data.diagnostics;
    expect(windows.length).toBe(d.userWindows);
    expect(windows.filter((w) => w.spend > 0).length).toBe(d.buyerWindows);
    // At the planted scale: the coefficients are β itself.
    expect(d.spendScale).toBe(1);
    expect(d.clipRate).toBeLessThan(0.01);
  });

  it('makes every planted x exactly computable by the features module', () => {
    const table = computeFeatures(data, planted, { asOf: END.getTime() });
    data.profiles.forEach((p, i) => {
      let mu = model.intercept;
      planted.forEach((f, j) => {
        mu += (model.coefficients[f] as number) * (table.columns[j]?.[i] as number);
      });
      expect(mu).toBeCloseTo(expectedSpend(p), 9);
    });
    expect(Object.values(table.missing).every((m) => m === 0)).toBe(true);
  });

  it('returns the planted coefficients from least squares on the last window (balanced draw, calibrated)', () => {
    const cutoff = END.getTime() - WINDOW;
    const table = computeFeatures(data, planted, { asOf: cutoff, existingOnly: true });
    const row = new Map(table.userIds.map((u, i) => [u, i]));
    const y = new Float64Array(table.userIds.length);
    for (const it of data.interactions) {
      if (it.type !== 'purchase' || it.timestamp < cutoff) continue;
      const r = row.get(it.user_id);
      if (r !== undefined) y[r] = (y[r] as number) + (it.value as number);
    }
    const fit = new MLR(
      table.userIds.map((_, i) => table.columns.map((col) => col[i] as number)),
      Array.from(y, (v) => [v]),
    );
    // Exact because the buyers' amounts are calibrated (buyers.ts; "Spend model" in data/README.md says what
    // this shows and what an uncalibrated month gives).
    planted.forEach((f, j) => {
      const want = model.coefficients[f] as number;
      expect(Math.abs((fit.weights[j]?.[0] as number) / want - 1), f).toBeLessThan(0.005);
    });
    // The calibration moved the buyers' amounts by about 1.5% on average (seed 42: 1.35%).
    expect(data.diagnostics.meanAmountShift).toBeLessThan(0.03);
    // Buying is the noise: the best R² on one window is about half (seed 42: 0.53).
    expect(data.diagnostics.maxR2).toBeGreaterThan(0.3);
    expect(data.diagnostics.maxR2).toBeLessThan(0.8);
  });

  it('recovers the coefficients within 3% when pooling all full windows', () => {
    const table = computeFeatures(data, planted, { asOf: END.getTime() });
    const windows = fullWindowSpends(data);
    const x = windows.map((w) => table.columns.map((c) => c[w.user] as number));
    const fit = new MLR(
      x,
      windows.map((w) => [w.spend]),
    );
    planted.forEach((f, j) => {
      const estimate = fit.weights[j]?.[0] as number;
      expect(Math.abs(estimate / (model.coefficients[f] as number) - 1), f).toBeLessThan(0.03);
    });
    expect(Math.abs((fit.weights[planted.length]?.[0] as number) - model.intercept)).toBeLessThan(0.05);
  });

  it('plants item preferences: premium for loyal high spenders, cheap for bargain hunters, trends for the young', () => {
    expect(Object.keys(SAMPLE_TRUTH.itemPreferences).sort()).toEqual(
      SAMPLE_TRUTH.personas.map((p) => p.key).sort(),
    );
    const product = new Map(data.products.map((p) => [p.id, p]));
    const median = new Map(SAMPLE_CATEGORIES.map((c) => [c.key, c.medianPrice]));
    const personaOf = new Map(data.profiles.map((p, i) => [p.id, data.personas[i] as string]));
    const trending = new Set(data.items.trending);
    const by = new Map<string, { buys: number; logPrice: number; trending: number }>();
    for (const it of data.interactions) {
      if (it.type !== 'purchase' || it.item_id === null) continue;
      const p = product.get(it.item_id);
      const s = by.get(personaOf.get(it.user_id) as string) ?? { buys: 0, logPrice: 0, trending: 0 };
      s.buys++;
      s.logPrice += Math.log((p?.price as number) / (median.get(p?.category as string) as number));
      if (trending.has(it.item_id)) s.trending++;
      by.set(personaOf.get(it.user_id) as string, s);
    }
    const priceTilt = (k: string) => (by.get(k)?.logPrice as number) / (by.get(k)?.buys as number);
    const trendShare = (k: string) => (by.get(k)?.trending as number) / (by.get(k)?.buys as number);
    const others = (k: string) => SAMPLE_TRUTH.personas.map((p) => p.key).filter((x) => x !== k);
    // Within their categories, loyal high spenders buy the dearest items and bargain hunters the cheapest.
    for (const k of others('loyal_high_spenders'))
      expect(priceTilt('loyal_high_spenders'), k).toBeGreaterThan(priceTilt(k));
    for (const k of others('bargain_hunters'))
      expect(priceTilt('bargain_hunters'), k).toBeLessThan(priceTilt(k));
    expect(priceTilt('loyal_high_spenders') - priceTilt('bargain_hunters')).toBeGreaterThan(0.4);
    // Trend-driven young users put a large share of their purchases on the few trending products.
    for (const k of others('young_trendsetters'))
      expect(trendShare('young_trendsetters'), k).toBeGreaterThan(3 * trendShare(k));
    expect(data.items.trending).toHaveLength(
      SAMPLE_CATEGORIES.length * SAMPLE_TRUTH.catalogue.trendingPerCategory,
    );
  });

  it('plants complements: a cheaper product of the same category, bought far more often after its partner', () => {
    const product = new Map(data.products.map((p) => [p.id, p]));
    const pairs = Object.entries(data.items.complements);
    expect(pairs.length).toBeGreaterThan(0.25 * data.products.length);
    expect(pairs.length).toBeLessThan(0.55 * data.products.length);
    for (const [x, y] of pairs) {
      expect(product.get(y)?.category).toBe(product.get(x)?.category);
      expect(product.get(y)?.price as number).toBeLessThan(product.get(x)?.price as number);
    }
    const firstBuy = new Map<string, Map<string, number>>();
    for (const it of data.interactions) {
      if (it.type !== 'purchase' || it.item_id === null) continue;
      const own = firstBuy.get(it.user_id) ?? new Map<string, number>();
      if (!own.has(it.item_id)) own.set(it.item_id, it.timestamp);
      firstBuy.set(it.user_id, own);
    }
    // Share of X's buyers who later buy Y, against the share of all buyers who ever buy Y.
    let owners = 0;
    let followed = 0;
    let base = 0;
    for (const [x, y] of pairs) {
      let buyersOfY = 0;
      for (const own of firstBuy.values()) {
        if (own.has(y)) buyersOfY++;
        const tx = own.get(x);
        if (tx === undefined) continue;
        owners++;
        if ((own.get(y) ?? Number.NEGATIVE_INFINITY) > tx) followed++;
      }
      base += buyersOfY / firstBuy.size / pairs.length;
    }
    expect(followed / owners).toBeGreaterThan(4 * base);
  });

  it('has the shapes of real exports: half-star ratings, weekday rhythm, repeat purchases, long tail', () => {
    const DAY_MS = 86_400_000;
    const weekday = (t: number) => (Math.floor(t / DAY_MS) + 4) % 7; // 0 = Sunday
    const ratings = data.interactions.filter((i) => i.type === 'rating').map((i) => i.value as number);
    expect(ratings.filter((v) => !Number.isInteger(v)).length / ratings.length).toBeGreaterThan(0.2);
    const buys = new Array(7).fill(0);
    const social = new Array(7).fill(0);
    const pairs = new Map<string, number>();
    let purchases = 0;
    for (const it of data.interactions) {
      if (it.type === 'purchase') {
        buys[weekday(it.timestamp)]++;
        purchases++;
        const key = `${it.user_id} ${it.item_id}`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
      } else if (it.type !== 'rating') social[weekday(it.timestamp)]++;
    }
    // Shopping peaks on Sunday and Monday, social use dips at the weekend (SAMPLE_TRUTH.weekdays).
    expect(buys[0]).toBeGreaterThan(1.4 * buys[6]);
    expect(social[3]).toBeGreaterThan(1.4 * social[6]);
    // Some purchases re-buy a product (consumables run out).
    expect(1 - pairs.size / purchases).toBeGreaterThan(0.05);
    // Long tail: the top fifth of the products takes about half of the purchases, not all of them.
    const perItem = new Map<string, number>();
    for (const it of data.interactions)
      if (it.type === 'purchase')
        perItem.set(it.item_id as string, (perItem.get(it.item_id as string) ?? 0) + 1);
    const sorted = [...perItem.values()].sort((a, b) => b - a);
    const top = sorted.slice(0, 40).reduce((a, b) => a + b, 0) / purchases;
    expect(top).toBeGreaterThan(0.4);
    expect(top).toBeLessThan(0.8);
  });

  it('has realistic monthly figures: 45-65% active, purchasers 3-10% of the active, engagement 0.5-6% of reach', () => {
    const st = computeStats(data.profiles, data.interactions, { asOf: END.getTime() });
    const n = data.profiles.length;
    // Seed 42: 56.7% active, 5.3% of profiles bought (9.3% of the active), 2.4% of the reached engaged.
    expect(st.active30d / n).toBeGreaterThan(0.45);
    expect(st.active30d / n).toBeLessThan(0.65);
    expect(st.purchasers30d / st.active30d).toBeGreaterThan(0.03);
    expect(st.purchasers30d / st.active30d).toBeLessThan(0.1);
    expect(st.engaged30d / st.reach30d).toBeGreaterThan(0.005);
    expect(st.engaged30d / st.reach30d).toBeLessThan(0.06);
  });

  it('makes buying persona-driven: loyal high spenders and bargain hunters buy most months, the others rarely', () => {
    const end = END.getTime();
    const buyers = new Set<string>();
    for (const it of data.interactions)
      if (it.type === 'purchase' && it.timestamp >= end - WINDOW) buyers.add(it.user_id);
    const share = (key: string) => {
      const ids = data.profiles.filter((_, i) => data.personas[i] === key).map((p) => p.id);
      return ids.filter((u) => buyers.has(u)).length / ids.length;
    };
    // Seed 42: 66% and 67% of them bought in the last 30 days, against 0.4-1.3% of the other personas.
    expect(share('loyal_high_spenders')).toBeGreaterThan(0.5);
    expect(share('bargain_hunters')).toBeGreaterThan(0.5);
    for (const key of ['young_trendsetters', 'quiet_followers', 'dormant_followers'])
      expect(share(key), key).toBeLessThan(0.03);
  });

  it('plants a dormant persona: dormant followers typically show no views in 8 weeks, the others do', () => {
    const from = END.getTime() - 56 * DAY;
    const views = new Map<string, number>();
    for (const it of data.interactions)
      if (it.type === 'view' && it.timestamp >= from) views.set(it.user_id, (views.get(it.user_id) ?? 0) + 1);
    const medianViews = (key: string) => {
      const counts = data.profiles
        .filter((p, i) => data.personas[i] === key && (p.created_at as number) < from)
        .map((p) => views.get(p.id) ?? 0)
        .sort((a, b) => a - b);
      return counts[Math.floor(counts.length / 2)] as number;
    };
    expect(medianViews('dormant_followers')).toBe(0);
    for (const key of ['loyal_high_spenders', 'bargain_hunters', 'young_trendsetters', 'quiet_followers'])
      expect(medianViews(key), key).toBeGreaterThan(0);
  });

  it('makes personas differ in spend: loyalty members first, dormant followers last', () => {
    const mu: Record<string, number[]> = {};
    data.profiles.forEach((p, i) => {
      const list = mu[data.personas[i] as string] ?? [];
      list.push(expectedSpend(p));
      mu[data.personas[i] as string] = list;
    });
    const mean = (k: string) => (mu[k] as number[]).reduce((a, b) => a + b, 0) / (mu[k] as number[]).length;
    expect(mean('loyal_high_spenders')).toBeGreaterThan(mean('bargain_hunters'));
    expect(mean('bargain_hunters')).toBeGreaterThan(mean('young_trendsetters'));
    expect(mean('young_trendsetters')).toBeGreaterThan(mean('quiet_followers'));
    expect(mean('quiet_followers')).toBeGreaterThan(mean('dormant_followers'));
  });
});

describe('generateSample with buyerShare: another share of buyers', () => {
  let real: SampleData;
  beforeAll(() => {
    real = generateSample({ end: END, buyerShare: 0.03 });
  });

  /** The last window's spend per profile that existed before it, with the planted features at its start. */
  function lastWindow(sample: SampleData) {
    const cutoff = END.getTime() - WINDOW;
    const table = computeFeatures(sample, planted, { asOf: cutoff, existingOnly: true });
    const row = new Map(table.userIds.map((u, i) => [u, i]));
    const y = new Float64Array(table.userIds.length);
    for (const it of sample.interactions) {
      if (it.type !== 'purchase' || it.timestamp < cutoff) continue;
      const r = row.get(it.user_id);
      if (r !== undefined) y[r] = (y[r] as number) + (it.value as number);
    }
    return { table, y };
  }

  it('is deterministic and refuses a share outside (0, 1]', () => {
    const a = generateSample({ end: END, profiles: 600, seed: 3, buyerShare: 0.05 });
    expect(generateSample({ end: END, profiles: 600, seed: 3, buyerShare: 0.05 })).toEqual(a);
    for (const bad of [0, -0.1, 1.5, Number.NaN])
      expect(() => generateSample({ end: END, profiles: 10, buyerShare: bad })).toThrow(
        /buyerShare must be in/,
      );
  });

  it('has about the asked share of buyers per window, and repeat buyers', () => {
    const d = real.diagnostics;
    expect(d.buyerWindows / d.userWindows).toBeGreaterThan(0.025);
    expect(d.buyerWindows / d.userWindows).toBeLessThan(0.035);
    expect(d.spendScale).toBeGreaterThan(0);
    expect(d.clipRate).toBeLessThan(0.001);
    const { y } = lastWindow(real);
    const buyers = y.filter((v) => v > 0).length;
    expect(buyers / y.length).toBeGreaterThan(0.02);
    expect(buyers / y.length).toBeLessThan(0.04);
    // Some people buy in more than one window of the six (50 of 5,000 on seed 42).
    const windowsOf = new Map<string, Set<number>>();
    for (const it of real.interactions) {
      if (it.type !== 'purchase') continue;
      const set = windowsOf.get(it.user_id) ?? new Set<number>();
      set.add(Math.floor((END.getTime() - 1 - it.timestamp) / WINDOW));
      windowsOf.set(it.user_id, set);
    }
    expect([...windowsOf.values()].filter((s) => s.size > 1).length).toBeGreaterThan(25);
  });

  it("balances the last window: Σ x (spend − c·x'β) is 0 to the cent, so least squares returns c·β", () => {
    const { table, y } = lastWindow(real);
    const c = real.diagnostics.spendScale;
    const byId = new Map<string, Profile>(real.profiles.map((p) => [p.id, p]));
    const mu = table.userIds.map((u) => c * expectedSpend(byId.get(u) as Profile));
    // The balancing equations, per planted feature and for the total: cents of rounding per buyer at most.
    const ones = new Float64Array(table.userIds.length).fill(1);
    const sums = [ones, ...table.columns].map((col) =>
      table.userIds.reduce((s, _, i) => s + (col[i] as number) * ((y[i] as number) - (mu[i] as number)), 0),
    );
    const scale = mu.reduce((a, b) => a + b, 0);
    for (const s of sums) expect(Math.abs(s)).toBeLessThan(1e-3 * scale);
    const fit = new MLR(
      table.userIds.map((_, i) => table.columns.map((col) => col[i] as number)),
      Array.from(y, (v) => [v]),
    );
    planted.forEach((f, j) => {
      const truth = c * (model.coefficients[f] as number);
      expect(Math.abs((fit.weights[j]?.[0] as number) / truth - 1), f).toBeLessThan(0.005);
    });
  });
});

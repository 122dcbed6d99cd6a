/**
 * The sample audience generator: a seeded, realistic social-media audience with planted personas and a planted
 * spend model (see `truth.ts` and `data/README.md`). Pure: options in, data out. The typed columns the events are
 * made from come out with them (`SampleData.columns`), so whoever builds the engine's view of the interactions
 * can build it from those instead of reading the event objects back.
 */

import { cumulative, Rng } from '../domain/random.ts';
import type {
  AttributeKind,
  AttributeValue,
  Interaction,
  InteractionType,
  Product,
  Profile,
} from '../domain/types.ts';
import { type InteractionColumns, packEvent, typeCode } from '../engine/interaction-index.ts';
import { type BuyerDraw, drawBuyers, SPEND_TERMS } from './buyers.ts';
import {
  expectedSpend,
  type ItemPreferenceTruth,
  type PersonaTruth,
  SAMPLE_ATTRIBUTES,
  SAMPLE_CATEGORIES,
  SAMPLE_CHANNELS,
  SAMPLE_COUNTRIES,
  SAMPLE_INTERESTS,
  SAMPLE_PLATFORMS,
  SAMPLE_TRUTH,
  spendFeatures,
} from './truth.ts';

/** How big, which seed, and which period the sample covers. */
export interface SampleOptions {
  /** Number of profiles (default 5000). */
  profiles?: number;
  /** Seed of every random draw (default 42). */
  seed?: number;
  /** The last instant covered: every timestamp is < end. */
  end: Date;
  /** Length of the period in weeks (default 26). */
  weeks?: number;
  /**
   * Share of the profiles that buy in a 30-day window. Unset: the planted scale (about 4%; see "Spend model" in
   * data/README.md). Set: the planted spend model is scaled so that about this share buys, and the planted
   * coefficients are `diagnostics.spendScale` · β. Meant for a few percent: towards 1, more and more windows'
   * buying probabilities clip at 1 (`diagnostics.clipRate`).
   */
  buyerShare?: number;
  /**
   * False: leave the buyers' amounts as the balanced draw made them, without the calibration that makes least
   * squares return the planted coefficients exactly (default true; `npm run bench -- hurdle` compares the two).
   */
  calibrate?: boolean;
}

/** Facts about one generated population, for tests and the README. */
export interface SampleDiagnostics {
  /** 30-day windows lying entirely inside both the period and a profile's life (each gets one buying draw). */
  userWindows: number;
  /** Of those, windows whose buying probability c · x'β / amount was clipped to [0, 1]. */
  clippedWindows: number;
  clipRate: number;
  /** Mean and population variance of the planted expected spend mu = c · x'β over the profiles. */
  meanMu: number;
  varMu: number;
  /** varMu / (varMu + mean Var(spend | x)): the best R² any model can reach on one window of this population. */
  maxR2: number;
  /** Full windows with a purchase. */
  buyerWindows: number;
  /** The factor c of the planted model, E[spend | x] = c · x'β: 1 unless `buyerShare` is set. */
  spendScale: number;
  /** Mean relative change of a buyer's amount by the calibration (see `buyers.ts`). */
  meanAmountShift: number;
}

/** The item structure drawn for one catalogue (the rules are in `SAMPLE_TRUTH.catalogue`). */
export interface SampleItemTruth {
  /** Ids of the trending products (`trendingPerCategory` per category). */
  trending: string[];
  /** Product id -> id of its complement, for the products that have one. */
  complements: Record<string, string>;
}

/** The generated audience; `personas[i]` is the planted persona key of `profiles[i]`. */
export interface SampleData {
  profiles: Profile[];
  products: Product[];
  interactions: Interaction[];
  /** The same interactions as typed columns (see `handInteractionColumns` in engine/interaction-index.ts). */
  columns: InteractionColumns;
  attributes: Record<string, AttributeKind>;
  personas: string[];
  /** Trending products and complements planted in this catalogue. */
  items: SampleItemTruth;
  diagnostics: SampleDiagnostics;
}

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const SOCIAL_TYPES = ['view', 'like', 'share', 'comment', 'click'] as const;
/** Share of non-click social interactions that concern a product (the rest are about plain posts). */
const PRODUCT_POST_SHARE = 0.4;

const PRODUCT_WORDS: Record<string, { adjectives: string[]; nouns: string[] }> = {
  fashion: {
    adjectives: ['Classic', 'Oversized', 'Linen', 'Denim', 'Vintage', 'Slim', 'Cropped'],
    nouns: ['Jacket', 'T-shirt', 'Sneakers', 'Dress', 'Hoodie', 'Jeans', 'Scarf', 'Cap'],
  },
  beauty: {
    adjectives: ['Hydrating', 'Matte', 'Glow', 'Vegan', 'Night', 'Mineral'],
    nouns: ['Serum', 'Lipstick', 'Moisturizer', 'Mascara', 'Face mask', 'Perfume'],
  },
  electronics: {
    adjectives: ['Wireless', 'Smart', 'Portable', 'Pro', 'Noise-cancelling', 'Compact'],
    nouns: ['Earbuds', 'Speaker', 'Watch', 'Camera', 'Tablet', 'Charger', 'Headphones'],
  },
  home: {
    adjectives: ['Ceramic', 'Oak', 'Cozy', 'Minimal', 'Scandi', 'Woven'],
    nouns: ['Lamp', 'Throw', 'Vase', 'Mug set', 'Cushion', 'Shelf', 'Rug'],
  },
  sports: {
    adjectives: ['Trail', 'Performance', 'Ultralight', 'Training', 'Yoga'],
    nouns: ['Running shoes', 'Mat', 'Water bottle', 'Backpack', 'Leggings', 'Dumbbells'],
  },
  books: {
    adjectives: ['Bestselling', 'Illustrated', 'Pocket', 'Collector'],
    nouns: ['Cookbook', 'Novel', 'Travel guide', 'Biography', 'Comic', 'Planner'],
  },
  food: {
    adjectives: ['Organic', 'Spicy', 'Artisan', 'Protein', 'Cold-brew'],
    nouns: ['Coffee', 'Granola', 'Hot sauce', 'Tea box', 'Snack pack', 'Chocolate'],
  },
  toys: {
    adjectives: ['Wooden', 'Puzzle', 'Family', 'Retro', 'Building'],
    nouns: ['Board game', 'Block set', 'Card game', 'Plush', 'Puzzle'],
  },
};

/** Generates the sample audience; the same options always give deep-equal output. */
export function generateSample(options: SampleOptions): SampleData {
  const period = periodOf(options);
  const { seed, n } = period;
  // Separate streams so the catalogue does not depend on the number of profiles, and so the complement choices
  // do not shift the draws of everything else (spend, timing and traits are the same with or without them).
  const productRng = new Rng(seed * 7919 + 1);
  const rng = new Rng(seed);
  const complementRng = new Rng(seed * 7919 + 2);
  const repeatRng = new Rng(seed * 7919 + 3);

  const world = makeWorld(productRng);
  const personaOf = assignPersonas(n, rng);
  const run: Run = {
    period,
    world,
    rng,
    complementRng,
    repeatRng,
    events: new EventBuffer(),
    buys: new PurchaseScratch(period.windows, world.products.length),
    tally: { sumMu: 0, sumMu2: 0 },
  };
  const buyerRng = new Rng(seed * 7919 + 4);
  const { profiles, personas, draw } = someBuy(run, personaOf, options, buyerRng);
  // The typed columns go out with the data, for whoever builds the engine's view of the interactions.
  const { interactions, columns } = run.events.materialize(profiles, world.products);
  return {
    profiles,
    products: world.products,
    interactions,
    columns,
    attributes: { ...SAMPLE_ATTRIBUTES },
    personas,
    items: itemTruth(world),
    diagnostics: diagnosticsOf(run.tally, n, draw),
  };
}

/** Profiles and, per profile, its persona key; and the buyers' draw. */
interface People {
  profiles: Profile[];
  personas: string[];
  draw: BuyerDraw;
}

/**
 * Every profile first (the buyers of a window are drawn for the whole population at once), then each profile's
 * social events and the purchases that pay its window amounts.
 */
function someBuy(run: Run, personaOf: Int32Array, options: SampleOptions, buyerRng: Rng): People {
  const n = personaOf.length;
  const { end, windows, windowMs } = run.period;
  const profiles: Profile[] = new Array(n);
  const lives: Life[] = new Array(n);
  const x = new Float64Array(n * SPEND_TERMS);
  const input = {
    mus: new Float64Array(n),
    x,
    createdAt: new Float64Array(n),
    windowSpend: new Float64Array(n),
    end,
    windows,
    windowMs,
    buyerShare: options.buyerShare,
    amountLogSd: SAMPLE_TRUTH.spendModel.amountLogSd,
    calibrate: options.calibrate !== false,
  };
  for (let i = 0; i < n; i++) {
    const persona = SAMPLE_TRUTH.personas[personaOf[i] as number] as PersonaTruth;
    const life = drawLife(run, persona);
    const profile = drawProfile(run, i, persona, life);
    input.mus[i] = expectedSpend(profile, SAMPLE_TRUTH.spendModel);
    x.set(spendFeatures(profile), i * SPEND_TERMS);
    input.createdAt[i] = life.createdAt;
    input.windowSpend[i] = persona.windowSpend;
    lives[i] = life;
    profiles[i] = profile;
  }
  const draw = drawBuyers(input, buyerRng);
  for (let i = 0; i < n; i++) {
    const pi = personaOf[i] as number;
    const persona = SAMPLE_TRUTH.personas[pi] as PersonaTruth;
    const mu = draw.scale * (input.mus[i] as number);
    run.tally.sumMu += mu;
    run.tally.sumMu2 += mu * mu;
    const life = lives[i] as Life;
    (profiles[i] as Profile).last_active_at = drawSocial(
      run,
      i,
      pi,
      persona,
      life,
      (profiles[i] as Profile).platform,
    );
    emitPurchases(run, i, pi, paySpend(run, persona, draw.amounts, i, life.createdAt));
  }
  const personas = Array.from(personaOf, (pi) => (SAMPLE_TRUTH.personas[pi] as PersonaTruth).key);
  return { profiles, personas, draw };
}

/** The purchases that pay one profile's window amounts (1–3 each, by persona), into the purchase scratch. */
function paySpend(
  run: Run,
  persona: PersonaTruth,
  amounts: Float64Array,
  i: number,
  createdAt: number,
): number {
  const { rng } = run;
  const { end, windows, windowMs } = run.period;
  let buys = 0;
  for (let w = 0; w < windows; w++) {
    const cents = Math.round((amounts[i * windows + w] as number) * 100);
    if (cents <= 0) continue;
    const wEnd = end - w * windowMs;
    const from = Math.max(wEnd - windowMs, createdAt);
    const count = Math.min(1 + rng.categorical(persona.purchasesPerWindow), cents);
    for (const part of splitCents(rng, cents, count))
      drawPurchase(run, persona, buys++, weekdayTime(rng, from, wEnd, PURCHASE_WEEKDAYS), part / 100);
  }
  return buys;
}

/** The period the sample covers, from the options (checked). */
interface Period {
  n: number;
  seed: number;
  end: number;
  periodStart: number;
  /** Spend windows (SAMPLE_TRUTH.windowDays long) that fit in the period, aligned to `end`. */
  windows: number;
  windowMs: number;
}

function periodOf(options: SampleOptions): Period {
  const n = options.profiles ?? 5000;
  const seed = options.seed ?? 42;
  const weeks = options.weeks ?? 26;
  const end = options.end.getTime();
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`profiles must be a non-negative integer, got ${n}`);
  if (!Number.isFinite(end)) throw new RangeError('end must be a valid date');
  if (!(weeks > 0)) throw new RangeError(`weeks must be positive, got ${weeks}`);
  const share = options.buyerShare;
  if (share !== undefined && !(share > 0 && share <= 1))
    throw new RangeError(`buyerShare must be in (0, 1], got ${share}`);
  const periodStart = end - weeks * WEEK;
  const windowMs = SAMPLE_TRUTH.windowDays * DAY;
  return { n, seed, end, periodStart, windows: Math.floor((end - periodStart) / windowMs), windowMs };
}

/** The catalogue and, per persona, the cumulative weights its picks are drawn from. */
interface World extends Catalogue {
  personaPrefs: ItemPreferenceTruth[];
  /** Per persona, per category: cumulative item weights (see `itemWeights`). */
  personaItemCum: Float64Array[][];
  personaCategoryCum: Float64Array[];
  countryCum: Float64Array;
  /** Category index of each product, and 1 for the categories whose products people buy again. */
  categoryOf: Int32Array;
  consumable: Uint8Array;
}

function makeWorld(productRng: Rng): World {
  const catalogue = makeProducts(productRng);
  const { products, byCategory, trending } = catalogue;
  const personaDefs = SAMPLE_TRUTH.personas;
  const personaPrefs = personaDefs.map((p) => SAMPLE_TRUTH.itemPreferences[p.key] ?? NEUTRAL_PREFERENCES);
  const categoryKeys = SAMPLE_CATEGORIES.map((c) => c.key);
  return {
    ...catalogue,
    personaPrefs,
    personaItemCum: personaPrefs.map((pref) =>
      byCategory.map((cat) => itemWeights(cat, pref, products, trending)),
    ),
    personaCategoryCum: personaDefs.map((p) =>
      cumulative(categoryKeys.map((k) => SAMPLE_TRUTH.categoryAffinity[p.key]?.[k] ?? 0)),
    ),
    countryCum: cumulative(SAMPLE_COUNTRIES.map((c) => c.weight)),
    categoryOf: categoryIndex(byCategory, products.length),
    consumable: Uint8Array.from(categoryKeys, (k) =>
      SAMPLE_TRUTH.repurchase.categories.includes(k) ? 1 : 0,
    ),
  };
}

function categoryIndex(byCategory: readonly CategoryProducts[], products: number): Int32Array {
  const out = new Int32Array(products);
  byCategory.forEach((cat, c) => {
    for (const j of cat.indices) out[j] = c;
  });
  return out;
}

/** Sums behind `SampleDiagnostics`, kept while generating. */
interface Tally {
  sumMu: number;
  sumMu2: number;
}

/** Everything one generation run shares between its steps. */
interface Run {
  period: Period;
  world: World;
  rng: Rng;
  complementRng: Rng;
  /** Draws whether a consumable is bought again (its own stream, so nothing else shifts). */
  repeatRng: Rng;
  events: EventBuffer;
  buys: PurchaseScratch;
  tally: Tally;
}

/** When a profile joined and the part of the period in which it is active. */
interface Life {
  createdAt: number;
  activeFrom: number;
  activeTo: number;
}

function drawLife(run: Run, persona: PersonaTruth): Life {
  const { rng } = run;
  const { periodStart, end } = run.period;
  let createdAt: number;
  if (rng.bernoulli(persona.preExistingRate)) {
    // Skewed towards the recent past: most of an established audience joined in the last year or so.
    const back = SAMPLE_TRUTH.growth.preExistingSpanDays * DAY * rng.next() ** 1.5;
    createdAt = Math.floor(periodStart - 1 - back);
  } else {
    // Join time with density proportional to exp(growth * t): weekly sign-ups grow through the period.
    const growth = Math.log(SAMPLE_TRUTH.growth.weeklyJoinGrowth) / WEEK;
    const t = Math.log(1 + rng.next() * Math.expm1(growth * (end - periodStart))) / growth;
    createdAt = Math.min(end - 1, Math.floor(periodStart + t));
  }
  const activeFrom = Math.max(createdAt, periodStart);
  const churnAt = rng.bernoulli(persona.churnRate) ? Math.floor(rng.uniform(activeFrom, end)) : null;
  return { createdAt, activeFrom, activeTo: churnAt ?? end };
}

/** The profile's fields and custom attributes, drawn from its persona (`last_active_at` is set later). */
function drawProfile(run: Run, i: number, persona: PersonaTruth, life: Life): Profile {
  const { rng } = run;
  const age = clamp(Math.round(rng.normal(persona.age.mean, persona.age.sd)), 16, 75);
  const followers = Math.max(
    0,
    Math.round(10 ** rng.normal(persona.logFollowers.mean, persona.logFollowers.sd) - 1),
  );
  const sessions = clamp(
    Math.round(persona.sessions.median * Math.exp(rng.normal(0, persona.sessions.logSd)) * 10) / 10,
    0.1,
    40,
  );
  const loyal = rng.bernoulli(persona.loyaltyRate);
  const interests: string[] = [];
  for (const interest of SAMPLE_INTERESTS)
    if (rng.bernoulli(persona.interests[interest])) interests.push(interest);
  const platform = SAMPLE_PLATFORMS[rng.categorical(persona.platforms)] ?? null;
  const country = rng.bernoulli(0.01)
    ? null
    : (SAMPLE_COUNTRIES[rng.fromCumulative(run.world.countryCum)]?.code ?? null);
  const channel = rng.bernoulli(0.05) ? null : (SAMPLE_CHANNELS[rng.categorical(persona.channels)] ?? null);
  const campaignAt = rng.bernoulli(persona.campaignRate)
    ? Math.floor(rng.uniform(life.activeFrom, run.period.end))
    : null;
  const nps = rng.bernoulli(0.3) ? clamp(Math.round(rng.normal(persona.npsMean, 1.8)), 0, 10) : null;
  const attrs: Record<string, AttributeValue> = {
    age,
    app_sessions_per_week: sessions,
    loyalty_member: loyal,
    acquisition_channel: channel,
    last_campaign_at: campaignAt,
    nps_score: nps,
  };
  return {
    id: `u${String(i + 1).padStart(6, '0')}`,
    platform,
    country,
    created_at: life.createdAt,
    last_active_at: null,
    followers,
    interests,
    attrs,
  };
}

/** Social engagement: a Poisson process per type while the profile is active; returns the last event's time. */
function drawSocial(
  run: Run,
  i: number,
  pi: number,
  persona: PersonaTruth,
  life: Life,
  platform: string | null,
): number | null {
  const { rng, world, events } = run;
  const reacts =
    platform === null ? 1 : ((SAMPLE_TRUTH.platformEngagement as Record<string, number>)[platform] ?? 1);
  const activity = Math.exp(rng.normal(0, 0.2));
  const activeWeeks = Math.max(0, life.activeTo - life.activeFrom) / WEEK;
  const catCum = world.personaCategoryCum[pi] as Float64Array;
  const itemCum = world.personaItemCum[pi] as Float64Array[];
  let lastSocial = -1;
  for (const type of SOCIAL_TYPES) {
    // Likes, shares and comments follow the platform; views and clicks do not.
    const platformFactor = type === 'view' || type === 'click' ? 1 : reacts;
    const count = rng.poisson(persona.weeklyRates[type] * platformFactor * activity * activeWeeks);
    for (let c = 0; c < count; c++) {
      const ts = toSecond(weekdayTime(rng, life.activeFrom, life.activeTo, SOCIAL_WEEKDAYS));
      const withProduct = type === 'click' || rng.bernoulli(PRODUCT_POST_SHARE);
      const item = withProduct ? pickProduct(rng.next(), rng.next(), catCum, itemCum, world.byCategory) : -1;
      events.push(i, item, TYPE_CODE[type], Number.NaN, ts);
      if (ts > lastSocial) lastSocial = ts;
    }
  }
  return lastSocial >= 0 ? lastSocial : null;
}

/**
 * One profile's purchases, collected so that items can be chosen in time order (complements follow what was
 * bought before), with the uniform draws that pick them taken where they always were in the main stream.
 * Reused from profile to profile.
 */
class PurchaseScratch {
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly u1: Float64Array;
  readonly u2: Float64Array;
  /** The rating's time (NaN for none) and stars, doubled (half stars are whole numbers here). */
  readonly ratingTs: Float64Array;
  readonly stars: Uint8Array;
  readonly order: Int32Array;
  /** Complements still owed, most recent last. */
  readonly pending: Int32Array;
  /** The last profile that bought each product (-1 for none yet). */
  readonly ownedBy: Int32Array;
  /** The product the current profile bought last in each category (-1 for none). */
  readonly lastInCategory: Int32Array;

  constructor(windows: number, products: number) {
    const max = windows * Math.max(...SAMPLE_TRUTH.personas.map((p) => p.purchasesPerWindow.length));
    this.ts = new Float64Array(max);
    this.value = new Float64Array(max);
    this.u1 = new Float64Array(max);
    this.u2 = new Float64Array(max);
    this.ratingTs = new Float64Array(max);
    this.stars = new Uint8Array(max);
    this.order = new Int32Array(max);
    this.pending = new Int32Array(max);
    this.ownedBy = new Int32Array(products).fill(-1);
    this.lastInCategory = new Int32Array(SAMPLE_CATEGORIES.length).fill(-1);
  }
}

/** Purchase b of the scratch: its time, amount, the draws that will pick its item, and maybe a rating. */
function drawPurchase(run: Run, persona: PersonaTruth, b: number, at: number, value: number): void {
  const { rng, buys } = run;
  buys.ts[b] = toSecond(at);
  buys.value[b] = value;
  buys.u1[b] = rng.next();
  buys.u2[b] = rng.next();
  buys.ratingTs[b] = Number.NaN;
  if (rng.bernoulli(persona.rating.rate)) {
    const rts = toSecond((buys.ts[b] as number) + rng.exponential(1 / (3 * DAY)));
    // Half stars, as most shops and review sites allow; kept doubled in the scratch (0.5 stars = 1).
    const halves = clamp(Math.round(rng.normal(persona.rating.mean, 0.9) * 2), 1, 10);
    if (rts < run.period.end) {
      buys.ratingTs[b] = rts;
      buys.stars[b] = halves;
    }
  }
}

/**
 * Items in time order: a purchase may be the complement still owed for an earlier one; otherwise it is a
 * fresh pick from the persona's own ranking of the category. Emits each purchase and its rating.
 */
function emitPurchases(run: Run, i: number, pi: number, count: number): void {
  const { buys, world, events } = run;
  const { order, pending, ownedBy } = buys;
  const pref = world.personaPrefs[pi] as ItemPreferenceTruth;
  const catCum = world.personaCategoryCum[pi] as Float64Array;
  const itemCum = world.personaItemCum[pi] as Float64Array[];
  sortByTime(buys, count);
  const lastInCategory = buys.lastInCategory.fill(-1);
  let owed = 0;
  for (let k = 0; k < count; k++) {
    const b = order[k] as number;
    let item: number;
    if (owed > 0 && run.complementRng.bernoulli(pref.complementRate)) item = pending[--owed] as number;
    else {
      item = pickProduct(buys.u1[b] as number, buys.u2[b] as number, catCum, itemCum, world.byCategory);
      // Consumables run out: some purchases re-buy what the person bought in the category last time.
      const c = world.categoryOf[item] as number;
      const last = lastInCategory[c] as number;
      if (world.consumable[c] && last >= 0 && run.repeatRng.bernoulli(SAMPLE_TRUTH.repurchase.rate))
        item = last;
    }
    lastInCategory[world.categoryOf[item] as number] = item;
    if (ownedBy[item] !== i) {
      ownedBy[item] = i;
      owed = removeFrom(pending, owed, item);
      const complement = world.complementOf[item] as number;
      if (complement >= 0 && ownedBy[complement] !== i && !contains(pending, owed, complement))
        pending[owed++] = complement;
    }
    events.push(i, item, TYPE_CODE.purchase, buys.value[b] as number, buys.ts[b] as number);
    const rts = buys.ratingTs[b] as number;
    if (!Number.isNaN(rts)) events.push(i, item, TYPE_CODE.rating, (buys.stars[b] as number) / 2, rts);
  }
}

/** `order[0..count)` = the purchases by time (a stable insertion sort: a profile has a few dozen at most). */
function sortByTime(buys: PurchaseScratch, count: number): void {
  const { order, ts } = buys;
  for (let b = 0; b < count; b++) order[b] = b;
  for (let b = 1; b < count; b++) {
    const x = order[b] as number;
    let k = b - 1;
    while (k >= 0 && (ts[order[k] as number] as number) > (ts[x] as number)) {
      order[k + 1] = order[k] as number;
      k--;
    }
    order[k + 1] = x;
  }
}

/** The trending products and complement pairs planted in the catalogue, by product id. */
function itemTruth(world: World): SampleItemTruth {
  const { products, trending, complementOf } = world;
  return {
    trending: products.filter((_, j) => trending[j] === 1).map((p) => p.id),
    complements: Object.fromEntries(
      products.flatMap((p, j) => {
        const c = complementOf[j] as number;
        return c >= 0 ? [[p.id, (products[c] as Product).id]] : [];
      }),
    ),
  };
}

function diagnosticsOf(tally: Tally, n: number, draw: BuyerDraw): SampleDiagnostics {
  const { sumMu, sumMu2 } = tally;
  const meanMu = n > 0 ? sumMu / n : 0;
  const varMu = n > 0 ? Math.max(0, sumMu2 / n - meanMu * meanMu) : 0;
  const { userWindows, clippedWindows, meanNoise } = draw;
  return {
    userWindows,
    clippedWindows,
    clipRate: userWindows > 0 ? clippedWindows / userWindows : 0,
    meanMu,
    varMu,
    // With no full window, no noise was measured: no R² to promise.
    maxR2: userWindows > 0 && varMu + meanNoise > 0 ? varMu / (varMu + meanNoise) : 0,
    buyerWindows: draw.buyerWindows,
    spendScale: draw.scale,
    meanAmountShift: draw.meanAmountShift,
  };
}

/** Persona index per profile with exact shares (largest remainder), in a seeded random order. */
function assignPersonas(n: number, rng: Rng): Int32Array {
  const defs = SAMPLE_TRUTH.personas;
  const exact = defs.map((p) => p.share * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  const out = new Int32Array(n);
  let pos = 0;
  counts.forEach((count, p) => {
    out.fill(p, pos, pos + count);
    pos += count;
  });
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = out[i] as number;
    out[i] = out[j] as number;
    out[j] = tmp;
  }
  return out;
}

interface CategoryProducts {
  indices: number[];
  /** Popularity rank inside the category per product (0 = bestseller), aligned with `indices`. */
  ranks: number[];
  medianPrice: number;
}

/** A persona that was given no item preferences picks by plain popularity. */
const NEUTRAL_PREFERENCES: ItemPreferenceTruth = {
  popularityExponent: 1,
  priceAffinity: 0,
  trendingBoost: 1,
  complementRate: 0,
};

interface Catalogue {
  products: Product[];
  byCategory: CategoryProducts[];
  /** 1 for the trending products, by product index. */
  trending: Uint8Array;
  /** Product index of each product's complement, -1 for none. */
  complementOf: Int32Array;
}

/**
 * ~200 products over the categories, with log-normal prices and Zipf-like popularity within a category; then a
 * few trending products per category and a complement for some products.
 */
function makeProducts(rng: Rng): Catalogue {
  const products: Product[] = [];
  const byCategory: CategoryProducts[] = [];
  const usedNames = new Set<string>();
  for (const category of SAMPLE_CATEGORIES) {
    const words = PRODUCT_WORDS[category.key] ?? { adjectives: ['Basic'], nouns: ['Item'] };
    const indices: number[] = [];
    const ranks = rng.shuffle(Array.from({ length: category.products }, (_, r) => r));
    for (let j = 0; j < category.products; j++) {
      const id = `p${String(products.length + 1).padStart(4, '0')}`;
      let name = `${rng.pick(words.adjectives)} ${rng.pick(words.nouns).toLowerCase()}`;
      for (let suffix = 2; usedNames.has(name); suffix++) name = `${name.replace(/ \d+$/, '')} ${suffix}`;
      usedNames.add(name);
      const price = Math.max(
        0.99,
        Math.round(category.medianPrice * Math.exp(rng.normal(0, SAMPLE_TRUTH.catalogue.priceLogSd))) - 0.01,
      );
      indices.push(products.length);
      products.push({ id, name, category: category.key, price, in_stock: rng.bernoulli(0.93) });
    }
    byCategory.push({ indices, ranks, medianPrice: category.medianPrice });
  }
  // Drawn after the whole catalogue, so names, prices and stock are what they were before this structure existed.
  const { trendingPerCategory, trendingSkipTop, complementShare } = SAMPLE_TRUTH.catalogue;
  const trending = new Uint8Array(products.length);
  const complementOf = new Int32Array(products.length).fill(-1);
  for (const cat of byCategory) {
    // Trending products are rising ones, not the established bestsellers at the top of the category.
    const candidates = cat.indices.filter((_, k) => (cat.ranks[k] as number) >= trendingSkipTop);
    for (const j of rng.shuffle(candidates).slice(0, trendingPerCategory)) trending[j] = 1;
    for (const j of cat.indices) {
      if (!rng.bernoulli(complementShare)) continue;
      const price = (products[j] as Product).price;
      const cheaper = cat.indices.filter((k) => (products[k] as Product).price < price);
      if (cheaper.length > 0) complementOf[j] = rng.pick(cheaper);
    }
  }
  return { products, byCategory, trending, complementOf };
}

/** Cumulative pick weights of a category's products for one persona: popularity^a · price tilt · trend boost. */
function itemWeights(
  cat: CategoryProducts,
  pref: ItemPreferenceTruth,
  products: Product[],
  trending: Uint8Array,
): Float64Array {
  const { popularityExponent, priceLogSd } = SAMPLE_TRUTH.catalogue;
  return cumulative(
    cat.indices.map((j, k) => {
      const rank = (cat.ranks[k] as number) + 1;
      const z = Math.log((products[j] as Product).price / cat.medianPrice) / priceLogSd;
      const boost = trending[j] === 1 ? pref.trendingBoost : 1;
      return (
        rank ** (-popularityExponent * pref.popularityExponent) * Math.exp(pref.priceAffinity * z) * boost
      );
    }),
  );
}

/** Index (into `products`) of a product drawn by category affinity, then the persona's ranking in the category. */
function pickProduct(
  u1: number,
  u2: number,
  categoryCum: Float64Array,
  itemCum: Float64Array[],
  byCategory: CategoryProducts[],
): number {
  const c = fromUniform(categoryCum, u1);
  return (byCategory[c] as CategoryProducts).indices[fromUniform(itemCum[c] as Float64Array, u2)] as number;
}

/** The index `Rng.fromCumulative` would return for the uniform draw `u`. */
function fromUniform(cum: Float64Array, u: number): number {
  const x = u * (cum[cum.length - 1] as number);
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cum[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Whether `item` is among the first `length` entries of `list`. */
function contains(list: Int32Array, length: number, item: number): boolean {
  for (let k = 0; k < length; k++) if (list[k] === item) return true;
  return false;
}

/** Removes `item` from the first `length` entries of `list` (order kept); returns the new length. */
function removeFrom(list: Int32Array, length: number, item: number): number {
  let out = 0;
  for (let k = 0; k < length; k++) if (list[k] !== item) list[out++] = list[k] as number;
  return out;
}

/** Splits `cents` into `count` positive parts that sum exactly to it. */
function splitCents(rng: Rng, cents: number, count: number): number[] {
  if (count <= 1) return [cents];
  const weights = Array.from({ length: count }, () => 0.5 + rng.next());
  const total = weights.reduce((a, b) => a + b, 0);
  const parts: number[] = [];
  let left = cents;
  for (let k = 0; k < count - 1; k++) {
    const part = clamp(Math.round((cents * (weights[k] as number)) / total), 1, left - (count - 1 - k));
    parts.push(part);
    left -= part;
  }
  parts.push(left);
  return parts;
}

const SOCIAL_WEEKDAYS = weekdayAcceptance(SAMPLE_TRUTH.weekdays.social);
const PURCHASE_WEEKDAYS = weekdayAcceptance(SAMPLE_TRUTH.weekdays.purchase);

/** Per UTC weekday (Sunday first), the probability of keeping a uniform draw: the weights over their maximum. */
function weekdayAcceptance(weights: readonly number[]): Float64Array {
  const max = Math.max(...weights);
  return Float64Array.from(weights, (w) => w / max);
}

/**
 * A time in [from, to) whose UTC weekday follows the weights (rejection sampling; a span shorter than a week
 * is drawn uniformly, so its events stay inside it and the weekday pattern is left to longer spans).
 */
function weekdayTime(rng: Rng, from: number, to: number, accept: Float64Array): number {
  if (!(to - from >= WEEK)) return rng.uniform(from, to);
  for (;;) {
    const t = rng.uniform(from, to);
    // 1970-01-01 was a Thursday: day 0 of the epoch has weekday 4.
    const weekday = (Math.floor(t / DAY) + 4) % 7;
    if (rng.next() < (accept[weekday] as number)) return t;
  }
}

/** Floors an instant to the whole second, like most exports; it also makes the fast sort below possible. */
function toSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

const TYPE_NAMES: InteractionType[] = ['view', 'like', 'share', 'comment', 'click', 'purchase', 'rating'];
const TYPE_CODE = Object.fromEntries(TYPE_NAMES.map((t, i) => [t, i])) as Record<InteractionType, number>;

/**
 * Interactions as growable columns while generating; `materialize` sorts them by time and only then builds the
 * objects, so the array order matches memory order (a single pass over millions of events stays cache-friendly).
 */
class EventBuffer {
  length = 0;
  private user = new Int32Array(1 << 16);
  private item = new Int32Array(1 << 16);
  private type = new Uint8Array(1 << 16);
  private value = new Float64Array(1 << 16);
  private time = new Float64Array(1 << 16);

  push(user: number, item: number, type: number, value: number, time: number): void {
    if (this.length === this.time.length) this.grow();
    const k = this.length++;
    this.user[k] = user;
    this.item[k] = item;
    this.type[k] = type;
    this.value[k] = value;
    this.time[k] = time;
  }

  /**
   * Objects in time order, ties in generation order (deterministic); NaN value and item -1 become null. The same
   * events come out as typed columns too, for the engine's view (see `InteractionColumns`).
   */
  materialize(
    profiles: Profile[],
    products: Product[],
  ): { interactions: Interaction[]; columns: InteractionColumns } {
    const userIds = profiles.map((p) => p.id);
    const productIds = products.map((p) => p.id);
    const order = this.timeOrder();
    const m = order.length;
    const out: Interaction[] = new Array(m);
    const user = new Int32Array(m);
    const ts = new Float64Array(m);
    const event = new Int32Array(m);
    let nValues = 0;
    for (let k = 0; k < m; k++) if (!Number.isNaN(this.value[k] as number)) nValues++;
    const values = new Float64Array(nValues);
    const codes = TYPE_NAMES.map((t) => typeCode(t));
    let v = 0;
    for (let k = 0; k < m; k++) {
      const j = order[k] as number;
      const u = this.user[j] as number;
      const item = this.item[j] as number;
      const type = this.type[j] as number;
      const value = this.value[j] as number;
      const time = this.time[j] as number;
      out[k] = {
        user_id: userIds[u] as string,
        item_id: item >= 0 ? (productIds[item] as string) : null,
        type: TYPE_NAMES[type] as InteractionType,
        value: Number.isNaN(value) ? null : value,
        timestamp: time,
      };
      const hasValue = !Number.isNaN(value);
      if (hasValue) values[v++] = value;
      user[k] = u;
      ts[k] = time;
      event[k] = packEvent(item, codes[type] as number, hasValue);
    }
    // The ids are made distinct (u000001, u000002, …).
    const columns = {
      profiles,
      distinctProfileIds: userIds,
      user,
      otherUsers: [],
      ts,
      event,
      itemIds: productIds,
      values,
    };
    return { interactions: out, columns };
  }

  /** Packs (second offset, index) into one exact float key so a native typed-array sort does the work. */
  private timeOrder(): Uint32Array {
    const m = this.length;
    const order = new Uint32Array(m);
    if (m === 0) return order;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < m; k++) {
      const t = this.time[k] as number;
      if (t < min) min = t;
      if (t > max) max = t;
    }
    const scale = 2 ** Math.max(1, Math.ceil(Math.log2(m + 1)));
    if (((max - min) / 1000) * scale < Number.MAX_SAFE_INTEGER) {
      const keys = new Float64Array(m);
      for (let k = 0; k < m; k++) keys[k] = (((this.time[k] as number) - min) / 1000) * scale + k;
      keys.sort();
      for (let k = 0; k < m; k++) order[k] = (keys[k] as number) % scale;
      return order;
    }
    const idx = Array.from({ length: m }, (_, k) => k);
    idx.sort((a, b) => (this.time[a] as number) - (this.time[b] as number) || a - b);
    order.set(idx);
    return order;
  }

  private grow(): void {
    const size = this.time.length * 2;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.user = grown(this.user, (n) => new Int32Array(n));
    this.item = grown(this.item, (n) => new Int32Array(n));
    this.type = grown(this.type, (n) => new Uint8Array(n));
    this.value = grown(this.value, (n) => new Float64Array(n));
    this.time = grown(this.time, (n) => new Float64Array(n));
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

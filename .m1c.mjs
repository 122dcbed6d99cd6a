// ../../tmp/work/m1c.ts
import { Session } from "node:inspector/promises";
import fs from "node:fs";

// src/sample/random.ts
import { xoroshiro128plus } from "pure-rand";
var TWO_POW_27 = 134217728;
var TWO_POW_53 = 9007199254740992;
var Rng = class {
  gen;
  spareNormal = null;
  constructor(seed) {
    this.gen = xoroshiro128plus(mixSeed(seed));
    for (let i = 0; i < 8; i++) this.gen.unsafeNext();
  }
  /** A float in [0, 1) with 53 random bits. */
  next() {
    const hi = this.gen.unsafeNext() >>> 6;
    const lo = this.gen.unsafeNext() >>> 5;
    return (hi * TWO_POW_27 + lo) / TWO_POW_53;
  }
  /** A float uniform in [min, max). */
  uniform(min = 0, max = 1) {
    return min + (max - min) * this.next();
  }
  /** An integer uniform in [min, max] (both inclusive). */
  int(min, max) {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** True with probability `p`. */
  bernoulli(p) {
    return this.next() < p;
  }
  /** A normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, sd = 1) {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }
  /** A Poisson count with mean `lambda` (Knuth below 30, rounded normal approximation above). */
  poisson(lambda) {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
  }
  /** An exponential draw with the given rate. */
  exponential(rate) {
    return -Math.log(1 - this.next()) / rate;
  }
  /** An index drawn with probability proportional to `weights` (need not sum to 1). */
  categorical(weights) {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }
  /** An index drawn from a cumulative weight table (see `cumulative`), by binary search. */
  fromCumulative(cum) {
    const u = this.next() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = lo + hi >>> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  /** One element of a non-empty array, uniformly. */
  pick(items) {
    return items[Math.floor(this.next() * items.length)];
  }
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle(items) {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
  /** `count` distinct indices from [0, n), in increasing order (partial Fisher-Yates). */
  sampleIndices(n, count) {
    const m = Math.min(n, count);
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      const tmp = pool[i];
      pool[i] = pool[j];
      pool[j] = tmp;
    }
    return pool.subarray(0, m).sort();
  }
};
function cumulative(weights) {
  const out = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i];
    out[i] = total;
  }
  return out;
}
function mixSeed(seed) {
  let h = Math.floor(seed) ^ 2654435769 | 0;
  h = Math.imul(h ^ h >>> 16, 2246822507);
  h = Math.imul(h ^ h >>> 13, 3266489909);
  return h ^ h >>> 16 | 0;
}

// src/sample/truth.ts
var SAMPLE_PLATFORMS = ["instagram", "tiktok", "x", "youtube", "facebook"];
var SAMPLE_COUNTRIES = [
  { code: "US", weight: 0.3 },
  { code: "GB", weight: 0.1 },
  { code: "DE", weight: 0.1 },
  { code: "FR", weight: 0.07 },
  { code: "BR", weight: 0.1 },
  { code: "IN", weight: 0.12 },
  { code: "CA", weight: 0.05 },
  { code: "ES", weight: 0.05 },
  { code: "MX", weight: 0.06 },
  { code: "JP", weight: 0.05 }
];
var SAMPLE_INTERESTS = ["fashion", "tech", "fitness", "travel", "food"];
var SAMPLE_CHANNELS = [
  "organic",
  "paid_social",
  "influencer",
  "referral",
  "email",
  "search"
];
var SAMPLE_CATEGORIES = [
  { key: "fashion", name: "Fashion", products: 35, medianPrice: 45 },
  { key: "beauty", name: "Beauty", products: 25, medianPrice: 28 },
  { key: "electronics", name: "Electronics", products: 30, medianPrice: 180 },
  { key: "home", name: "Home & living", products: 30, medianPrice: 60 },
  { key: "sports", name: "Sports", products: 20, medianPrice: 50 },
  { key: "books", name: "Books", products: 20, medianPrice: 16 },
  { key: "food", name: "Food & drink", products: 25, medianPrice: 12 },
  { key: "toys", name: "Toys & games", products: 15, medianPrice: 30 }
];
var SAMPLE_ATTRIBUTES = {
  age: "number",
  app_sessions_per_week: "number",
  loyalty_member: "boolean",
  acquisition_channel: "category",
  last_campaign_at: "date",
  nps_score: "number"
};
var PERSONAS = [
  {
    key: "loyal_high_spenders",
    name: "Loyal high spenders",
    share: 0.15,
    description: "Older, long-standing customers in the loyalty club who open the app often and buy premium electronics and home goods.",
    age: { mean: 50, sd: 9 },
    logFollowers: { mean: 2.4, sd: 0.45 },
    sessions: { median: 12, logSd: 0.3 },
    loyaltyRate: 0.95,
    preExistingRate: 0.85,
    churnRate: 0.02,
    weeklyRates: { view: 0.4, like: 0.15, share: 0.02, comment: 0.05, click: 0.1 },
    purchasesPerWindow: [0.6, 0.3, 0.1],
    rating: { rate: 0.25, mean: 4.4 },
    interests: { fashion: 0.25, tech: 0.55, fitness: 0.3, travel: 0.55, food: 0.3 },
    platforms: [0.3, 0.03, 0.15, 0.15, 0.37],
    channels: [0.25, 0.05, 0.02, 0.23, 0.3, 0.15],
    campaignRate: 0.75,
    npsMean: 8.8
  },
  {
    key: "bargain_hunters",
    name: "Bargain hunters",
    share: 0.25,
    description: "Deal seekers who click on offers and buy often, in small baskets of food, home goods and toys.",
    age: { mean: 37, sd: 9 },
    logFollowers: { mean: 2.1, sd: 0.45 },
    sessions: { median: 5, logSd: 0.3 },
    loyaltyRate: 0.5,
    preExistingRate: 0.6,
    churnRate: 0.04,
    weeklyRates: { view: 0.4, like: 0.1, share: 0.03, comment: 0.03, click: 0.6 },
    purchasesPerWindow: [0.05, 0.25, 0.7],
    rating: { rate: 0.12, mean: 3.6 },
    interests: { fashion: 0.3, tech: 0.25, fitness: 0.15, travel: 0.15, food: 0.6 },
    platforms: [0.22, 0.13, 0.1, 0.15, 0.4],
    channels: [0.1, 0.35, 0.03, 0.1, 0.17, 0.25],
    campaignRate: 0.8,
    npsMean: 6.8
  },
  {
    key: "young_trendsetters",
    name: "Trend-driven young users",
    share: 0.2,
    description: "Young, well-followed creators on TikTok and Instagram who like, share and comment a lot and buy fashion and beauty.",
    age: { mean: 23, sd: 3.5 },
    logFollowers: { mean: 3.5, sd: 0.45 },
    sessions: { median: 8, logSd: 0.3 },
    loyaltyRate: 0.12,
    preExistingRate: 0.5,
    churnRate: 0.04,
    weeklyRates: { view: 0.8, like: 1.1, share: 0.4, comment: 0.35, click: 0.12 },
    purchasesPerWindow: [0.55, 0.4, 0.05],
    rating: { rate: 0.15, mean: 4 },
    interests: { fashion: 0.8, tech: 0.35, fitness: 0.5, travel: 0.3, food: 0.25 },
    platforms: [0.37, 0.45, 0.05, 0.11, 0.02],
    channels: [0.15, 0.25, 0.5, 0.08, 0, 0.02],
    campaignRate: 0.5,
    npsMean: 7.5
  },
  {
    key: "quiet_followers",
    name: "Quiet followers",
    share: 0.2,
    description: "Lurkers with small accounts who watch a lot of content but rarely react; steady, modest buyers of books and home goods.",
    age: { mean: 40, sd: 10 },
    logFollowers: { mean: 1.1, sd: 0.45 },
    sessions: { median: 3, logSd: 0.3 },
    loyaltyRate: 0.3,
    preExistingRate: 0.6,
    churnRate: 0.04,
    weeklyRates: { view: 2.2, like: 0.02, share: 5e-3, comment: 5e-3, click: 0.03 },
    purchasesPerWindow: [0.85, 0.12, 0.03],
    rating: { rate: 0.08, mean: 3.9 },
    interests: { fashion: 0.15, tech: 0.35, fitness: 0.15, travel: 0.25, food: 0.3 },
    platforms: [0.2, 0.08, 0.25, 0.37, 0.1],
    channels: [0.4, 0.15, 0, 0.15, 0, 0.3],
    campaignRate: 0.2,
    npsMean: 6.5
  },
  {
    key: "casual_browsers",
    name: "Casual browsers",
    share: 0.2,
    description: "Occasional visitors who rarely open the app or interact and spend the least; the most likely to drop off.",
    age: { mean: 30, sd: 9 },
    logFollowers: { mean: 2, sd: 0.45 },
    sessions: { median: 1.5, logSd: 0.3 },
    loyaltyRate: 0.05,
    preExistingRate: 0.55,
    churnRate: 0.2,
    weeklyRates: { view: 0.1, like: 0.04, share: 5e-3, comment: 5e-3, click: 0.02 },
    purchasesPerWindow: [0.85, 0.12, 0.03],
    rating: { rate: 0.05, mean: 3.4 },
    interests: { fashion: 0.25, tech: 0.25, fitness: 0.2, travel: 0.2, food: 0.35 },
    platforms: [0.3, 0.2, 0.15, 0.2, 0.15],
    channels: [0.3, 0.4, 0.1, 0, 0, 0.2],
    campaignRate: 0.3,
    npsMean: 5.5
  }
];
var CATEGORY_AFFINITY = {
  loyal_high_spenders: {
    fashion: 0.1,
    beauty: 0.1,
    electronics: 0.3,
    home: 0.25,
    sports: 0.1,
    books: 0.1,
    food: 0.03,
    toys: 0.02
  },
  bargain_hunters: {
    fashion: 0.12,
    beauty: 0.05,
    electronics: 0.05,
    home: 0.2,
    sports: 0.05,
    books: 0.05,
    food: 0.3,
    toys: 0.18
  },
  young_trendsetters: {
    fashion: 0.38,
    beauty: 0.3,
    electronics: 0.12,
    home: 0.02,
    sports: 0.1,
    books: 0.02,
    food: 0.05,
    toys: 0.01
  },
  quiet_followers: {
    fashion: 0.05,
    beauty: 0.05,
    electronics: 0.1,
    home: 0.2,
    sports: 0.05,
    books: 0.35,
    food: 0.15,
    toys: 0.05
  },
  casual_browsers: {
    fashion: 0.15,
    beauty: 0.1,
    electronics: 0.1,
    home: 0.1,
    sports: 0.1,
    books: 0.1,
    food: 0.25,
    toys: 0.1
  }
};
var ITEM_PREFERENCES = {
  loyal_high_spenders: { popularityExponent: 1, priceAffinity: 1, trendingBoost: 1, complementRate: 0.6 },
  bargain_hunters: { popularityExponent: 1, priceAffinity: -1, trendingBoost: 1, complementRate: 0.15 },
  young_trendsetters: { popularityExponent: 0.5, priceAffinity: 0, trendingBoost: 8, complementRate: 0.15 },
  quiet_followers: { popularityExponent: 1.6, priceAffinity: 0, trendingBoost: 1, complementRate: 0.3 },
  casual_browsers: { popularityExponent: 1, priceAffinity: 0, trendingBoost: 1, complementRate: 0.1 }
};
var CATALOGUE = {
  popularityExponent: 0.8,
  priceLogSd: 0.4,
  trendingPerCategory: 3,
  trendingSkipTop: 3,
  complementShare: 0.4
};
var SPEND_MODEL = {
  target: "spend_next_30d",
  intercept: -50,
  coefficients: { log_followers: 30, age: 1.8, app_sessions_per_week: 6, loyalty_member: 45 },
  noiseSd: 20,
  // Measured on 240,000 generated profiles (seeds 101-104): Var(mu) = 3393 (sd 58.2, mean 131.0), so
  // R² max = 3393 / (3393 + 20²) = 0.895; mu + eps < 0 in 0.19% of full windows. `SampleData.diagnostics` gives
  // the same numbers for one generated population.
  maxR2: 0.895,
  clipRate: 19e-4
};
var SAMPLE_TRUTH = {
  personas: PERSONAS,
  spendModel: SPEND_MODEL,
  categoryAffinity: CATEGORY_AFFINITY,
  /** Which products a persona picks inside a category; the same for purchases and product interactions. */
  itemPreferences: ITEM_PREFERENCES,
  catalogue: CATALOGUE,
  /** Length of a spend window; windows are aligned to the sample `end`: [end-30d, end), [end-60d, end-30d), … */
  windowDays: 30,
  growth: {
    /** Profiles joining during the period join at a rate growing by this factor per week. */
    weeklyJoinGrowth: 1.03,
    /** Profiles that existed before the period were created up to this many days before it (skewed recent). */
    preExistingSpanDays: 1095
  }
};
function expectedSpend(profile) {
  const c = SPEND_MODEL.coefficients;
  const followers = profile.followers ?? 0;
  const age = profile.attrs.age;
  const sessions = profile.attrs.app_sessions_per_week;
  const loyal = profile.attrs.loyalty_member;
  return SPEND_MODEL.intercept + (c.log_followers ?? 0) * Math.log10(1 + followers) + (c.age ?? 0) * (typeof age === "number" ? age : 0) + (c.app_sessions_per_week ?? 0) * (typeof sessions === "number" ? sessions : 0) + (c.loyalty_member ?? 0) * (loyal === true ? 1 : 0);
}

// src/sample/generate.ts
var DAY = 864e5;
var WEEK = 7 * DAY;
var SOCIAL_TYPES = ["view", "like", "share", "comment", "click"];
var PRODUCT_POST_SHARE = 0.4;
var PRODUCT_WORDS = {
  fashion: {
    adjectives: ["Classic", "Oversized", "Linen", "Denim", "Vintage", "Slim", "Cropped"],
    nouns: ["Jacket", "T-shirt", "Sneakers", "Dress", "Hoodie", "Jeans", "Scarf", "Cap"]
  },
  beauty: {
    adjectives: ["Hydrating", "Matte", "Glow", "Vegan", "Night", "Mineral"],
    nouns: ["Serum", "Lipstick", "Moisturizer", "Mascara", "Face mask", "Perfume"]
  },
  electronics: {
    adjectives: ["Wireless", "Smart", "Portable", "Pro", "Noise-cancelling", "Compact"],
    nouns: ["Earbuds", "Speaker", "Watch", "Camera", "Tablet", "Charger", "Headphones"]
  },
  home: {
    adjectives: ["Ceramic", "Oak", "Cozy", "Minimal", "Scandi", "Woven"],
    nouns: ["Lamp", "Throw", "Vase", "Mug set", "Cushion", "Shelf", "Rug"]
  },
  sports: {
    adjectives: ["Trail", "Performance", "Ultralight", "Training", "Yoga"],
    nouns: ["Running shoes", "Mat", "Water bottle", "Backpack", "Leggings", "Dumbbells"]
  },
  books: {
    adjectives: ["Bestselling", "Illustrated", "Pocket", "Collector"],
    nouns: ["Cookbook", "Novel", "Travel guide", "Biography", "Comic", "Planner"]
  },
  food: {
    adjectives: ["Organic", "Spicy", "Artisan", "Protein", "Cold-brew"],
    nouns: ["Coffee", "Granola", "Hot sauce", "Tea box", "Snack pack", "Chocolate"]
  },
  toys: {
    adjectives: ["Wooden", "Puzzle", "Family", "Retro", "Building"],
    nouns: ["Board game", "Block set", "Card game", "Plush", "Puzzle"]
  }
};
function generateSample(options) {
  const n = options.profiles ?? 5e3;
  const seed = options.seed ?? 42;
  const weeks = options.weeks ?? 26;
  const end = options.end.getTime();
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`profiles must be a non-negative integer, got ${n}`);
  if (!Number.isFinite(end)) throw new RangeError("end must be a valid date");
  if (!(weeks > 0)) throw new RangeError(`weeks must be positive, got ${weeks}`);
  const periodStart = end - weeks * WEEK;
  const windowMs = SAMPLE_TRUTH.windowDays * DAY;
  const windows = Math.floor((end - periodStart) / windowMs);
  const productRng = new Rng(seed * 7919 + 1);
  const rng = new Rng(seed);
  const complementRng = new Rng(seed * 7919 + 2);
  const { products, byCategory, trending, complementOf } = makeProducts(productRng);
  const personaDefs = SAMPLE_TRUTH.personas;
  const personaPrefs = personaDefs.map((p) => SAMPLE_TRUTH.itemPreferences[p.key] ?? NEUTRAL_PREFERENCES);
  const personaItemCum = personaPrefs.map(
    (pref) => byCategory.map((cat) => itemWeights(cat, pref, products, trending))
  );
  const categoryKeys = SAMPLE_CATEGORIES.map((c) => c.key);
  const personaCategoryCum = personaDefs.map(
    (p) => cumulative(categoryKeys.map((k) => SAMPLE_TRUTH.categoryAffinity[p.key]?.[k] ?? 0))
  );
  const countryCum = cumulative(SAMPLE_COUNTRIES.map((c) => c.weight));
  const model = SAMPLE_TRUTH.spendModel;
  const growth = Math.log(SAMPLE_TRUTH.growth.weeklyJoinGrowth) / WEEK;
  const periodLength = end - periodStart;
  const personaOf = assignPersonas(n, rng);
  const profiles = new Array(n);
  const personas = new Array(n);
  const events = new EventBuffer();
  let userWindows = 0;
  let clippedWindows = 0;
  let sumMu = 0;
  let sumMu2 = 0;
  const maxBuys = windows * Math.max(...personaDefs.map((p) => p.purchasesPerWindow.length));
  const buyTs = new Float64Array(maxBuys);
  const buyValue = new Float64Array(maxBuys);
  const buyU1 = new Float64Array(maxBuys);
  const buyU2 = new Float64Array(maxBuys);
  const buyRatingTs = new Float64Array(maxBuys);
  const buyStars = new Uint8Array(maxBuys);
  const buyOrder = new Int32Array(maxBuys);
  const pending = new Int32Array(maxBuys);
  const ownedBy = new Int32Array(products.length).fill(-1);
  for (let i = 0; i < n; i++) {
    const pi = personaOf[i];
    const persona = personaDefs[pi];
    const id = `u${String(i + 1).padStart(6, "0")}`;
    let createdAt;
    if (rng.bernoulli(persona.preExistingRate)) {
      const back = SAMPLE_TRUTH.growth.preExistingSpanDays * DAY * rng.next() ** 1.5;
      createdAt = Math.floor(periodStart - 1 - back);
    } else {
      const t2 = Math.log(1 + rng.next() * Math.expm1(growth * periodLength)) / growth;
      createdAt = Math.min(end - 1, Math.floor(periodStart + t2));
    }
    const activeFrom = Math.max(createdAt, periodStart);
    const churnAt = rng.bernoulli(persona.churnRate) ? Math.floor(rng.uniform(activeFrom, end)) : null;
    const activeTo = churnAt ?? end;
    const age = clamp(Math.round(rng.normal(persona.age.mean, persona.age.sd)), 16, 75);
    const followers = Math.max(
      0,
      Math.round(10 ** rng.normal(persona.logFollowers.mean, persona.logFollowers.sd) - 1)
    );
    const sessions = clamp(
      Math.round(persona.sessions.median * Math.exp(rng.normal(0, persona.sessions.logSd)) * 10) / 10,
      0.1,
      40
    );
    const loyal = rng.bernoulli(persona.loyaltyRate);
    const interests = [];
    for (const interest of SAMPLE_INTERESTS)
      if (rng.bernoulli(persona.interests[interest])) interests.push(interest);
    const platform = SAMPLE_PLATFORMS[rng.categorical(persona.platforms)] ?? null;
    const country = rng.bernoulli(0.01) ? null : SAMPLE_COUNTRIES[rng.fromCumulative(countryCum)]?.code ?? null;
    const channel = rng.bernoulli(0.05) ? null : SAMPLE_CHANNELS[rng.categorical(persona.channels)] ?? null;
    const campaignAt = rng.bernoulli(persona.campaignRate) ? Math.floor(rng.uniform(activeFrom, end)) : null;
    const nps = rng.bernoulli(0.3) ? clamp(Math.round(rng.normal(persona.npsMean, 1.8)), 0, 10) : null;
    const attrs = {
      age,
      app_sessions_per_week: sessions,
      loyalty_member: loyal,
      acquisition_channel: channel,
      last_campaign_at: campaignAt,
      nps_score: nps
    };
    const profile = {
      id,
      platform,
      country,
      created_at: createdAt,
      last_active_at: null,
      followers,
      interests,
      attrs
    };
    const mu = expectedSpend(profile);
    sumMu += mu;
    sumMu2 += mu * mu;
    const activity = Math.exp(rng.normal(0, 0.2));
    const activeWeeks = Math.max(0, activeTo - activeFrom) / WEEK;
    const catCum = personaCategoryCum[pi];
    const itemCum = personaItemCum[pi];
    const pref = personaPrefs[pi];
    let lastSocial = -1;
    for (const type of SOCIAL_TYPES) {
      const count = rng.poisson(persona.weeklyRates[type] * activity * activeWeeks);
      for (let c = 0; c < count; c++) {
        const ts = toSecond(rng.uniform(activeFrom, activeTo));
        const withProduct = type === "click" || rng.bernoulli(PRODUCT_POST_SHARE);
        const item = withProduct ? pickProduct(rng.next(), rng.next(), catCum, itemCum, byCategory) : -1;
        events.push(i, item, TYPE_CODE[type], Number.NaN, ts);
        if (ts > lastSocial) lastSocial = ts;
      }
    }
    profile.last_active_at = lastSocial >= 0 ? lastSocial : null;
    let buys = 0;
    for (let w = 0; w < windows; w++) {
      const wEnd = end - w * windowMs;
      const wStart = wEnd - windowMs;
      if (wEnd <= createdAt) break;
      const full = wStart >= createdAt;
      const fraction = full ? 1 : (wEnd - createdAt) / windowMs;
      const raw = mu + rng.normal(0, model.noiseSd);
      if (full) userWindows++;
      const cents = Math.round(raw * 100);
      if (cents <= 0) {
        if (full) clippedWindows++;
        continue;
      }
      const count = Math.min(1 + rng.categorical(persona.purchasesPerWindow), cents);
      const from = full ? wStart : createdAt;
      for (const part of splitCents(rng, cents, count)) {
        if (!full && !rng.bernoulli(fraction)) continue;
        const b = buys++;
        buyTs[b] = toSecond(rng.uniform(from, wEnd));
        buyValue[b] = part / 100;
        buyU1[b] = rng.next();
        buyU2[b] = rng.next();
        buyRatingTs[b] = Number.NaN;
        if (rng.bernoulli(persona.rating.rate)) {
          const rts = toSecond(buyTs[b] + rng.exponential(1 / (3 * DAY)));
          const stars = clamp(Math.round(rng.normal(persona.rating.mean, 0.9)), 1, 5);
          if (rts < end) {
            buyRatingTs[b] = rts;
            buyStars[b] = stars;
          }
        }
      }
    }
    for (let b = 0; b < buys; b++) buyOrder[b] = b;
    for (let b = 1; b < buys; b++) {
      const x = buyOrder[b];
      let k = b - 1;
      while (k >= 0 && buyTs[buyOrder[k]] > buyTs[x]) {
        buyOrder[k + 1] = buyOrder[k];
        k--;
      }
      buyOrder[k + 1] = x;
    }
    let owed = 0;
    for (let k = 0; k < buys; k++) {
      const b = buyOrder[k];
      let item;
      if (owed > 0 && complementRng.bernoulli(pref.complementRate)) item = pending[--owed];
      else item = pickProduct(buyU1[b], buyU2[b], catCum, itemCum, byCategory);
      if (ownedBy[item] !== i) {
        ownedBy[item] = i;
        owed = removeFrom(pending, owed, item);
        const complement = complementOf[item];
        if (complement >= 0 && ownedBy[complement] !== i && !contains(pending, owed, complement))
          pending[owed++] = complement;
      }
      const ts = buyTs[b];
      events.push(i, item, TYPE_CODE.purchase, buyValue[b], ts);
      const rts = buyRatingTs[b];
      if (!Number.isNaN(rts)) events.push(i, item, TYPE_CODE.rating, buyStars[b], rts);
    }
    profiles[i] = profile;
    personas[i] = persona.key;
  }
  const interactions = events.materialize(
    profiles.map((p) => p.id),
    products.map((p) => p.id)
  );
  const meanMu = n > 0 ? sumMu / n : 0;
  const varMu = n > 0 ? Math.max(0, sumMu2 / n - meanMu * meanMu) : 0;
  const noiseVar = model.noiseSd * model.noiseSd;
  return {
    profiles,
    products,
    interactions,
    attributes: { ...SAMPLE_ATTRIBUTES },
    personas,
    items: {
      trending: products.filter((_, j) => trending[j] === 1).map((p) => p.id),
      complements: Object.fromEntries(
        products.flatMap((p, j) => {
          const c = complementOf[j];
          return c >= 0 ? [[p.id, products[c].id]] : [];
        })
      )
    },
    diagnostics: {
      userWindows,
      clippedWindows,
      clipRate: userWindows > 0 ? clippedWindows / userWindows : 0,
      meanMu,
      varMu,
      maxR2: varMu / (varMu + noiseVar)
    }
  };
}
function assignPersonas(n, rng) {
  const defs = SAMPLE_TRUTH.personas;
  const exact = defs.map((p) => p.share * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i] = counts[i] + 1;
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
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}
var NEUTRAL_PREFERENCES = {
  popularityExponent: 1,
  priceAffinity: 0,
  trendingBoost: 1,
  complementRate: 0
};
function makeProducts(rng) {
  const products = [];
  const byCategory = [];
  const usedNames = /* @__PURE__ */ new Set();
  for (const category of SAMPLE_CATEGORIES) {
    const words = PRODUCT_WORDS[category.key] ?? { adjectives: ["Basic"], nouns: ["Item"] };
    const indices = [];
    const ranks = rng.shuffle(Array.from({ length: category.products }, (_, r) => r));
    for (let j = 0; j < category.products; j++) {
      const id = `p${String(products.length + 1).padStart(4, "0")}`;
      let name = `${rng.pick(words.adjectives)} ${rng.pick(words.nouns).toLowerCase()}`;
      for (let suffix = 2; usedNames.has(name); suffix++) name = `${name.replace(/ \d+$/, "")} ${suffix}`;
      usedNames.add(name);
      const price = Math.max(
        0.99,
        Math.round(category.medianPrice * Math.exp(rng.normal(0, SAMPLE_TRUTH.catalogue.priceLogSd))) - 0.01
      );
      indices.push(products.length);
      products.push({ id, name, category: category.key, price, in_stock: rng.bernoulli(0.93) });
    }
    byCategory.push({ indices, ranks, medianPrice: category.medianPrice });
  }
  const { trendingPerCategory, trendingSkipTop, complementShare } = SAMPLE_TRUTH.catalogue;
  const trending = new Uint8Array(products.length);
  const complementOf = new Int32Array(products.length).fill(-1);
  for (const cat of byCategory) {
    const candidates = cat.indices.filter((_, k) => cat.ranks[k] >= trendingSkipTop);
    for (const j of rng.shuffle(candidates).slice(0, trendingPerCategory)) trending[j] = 1;
    for (const j of cat.indices) {
      if (!rng.bernoulli(complementShare)) continue;
      const price = products[j].price;
      const cheaper = cat.indices.filter((k) => products[k].price < price);
      if (cheaper.length > 0) complementOf[j] = rng.pick(cheaper);
    }
  }
  return { products, byCategory, trending, complementOf };
}
function itemWeights(cat, pref, products, trending) {
  const { popularityExponent, priceLogSd } = SAMPLE_TRUTH.catalogue;
  return cumulative(
    cat.indices.map((j, k) => {
      const rank = cat.ranks[k] + 1;
      const z = Math.log(products[j].price / cat.medianPrice) / priceLogSd;
      const boost = trending[j] === 1 ? pref.trendingBoost : 1;
      return rank ** (-popularityExponent * pref.popularityExponent) * Math.exp(pref.priceAffinity * z) * boost;
    })
  );
}
function pickProduct(u1, u2, categoryCum, itemCum, byCategory) {
  const c = fromUniform(categoryCum, u1);
  return byCategory[c].indices[fromUniform(itemCum[c], u2)];
}
function fromUniform(cum, u) {
  const x = u * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = lo + hi >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
function contains(list, length, item) {
  for (let k = 0; k < length; k++) if (list[k] === item) return true;
  return false;
}
function removeFrom(list, length, item) {
  let out = 0;
  for (let k = 0; k < length; k++) if (list[k] !== item) list[out++] = list[k];
  return out;
}
function splitCents(rng, cents, count) {
  if (count <= 1) return [cents];
  const weights = Array.from({ length: count }, () => 0.5 + rng.next());
  const total = weights.reduce((a, b) => a + b, 0);
  const parts = [];
  let left = cents;
  for (let k = 0; k < count - 1; k++) {
    const part = clamp(Math.round(cents * weights[k] / total), 1, left - (count - 1 - k));
    parts.push(part);
    left -= part;
  }
  parts.push(left);
  return parts;
}
function toSecond(ms) {
  return Math.floor(ms / 1e3) * 1e3;
}
var TYPE_NAMES = ["view", "like", "share", "comment", "click", "purchase", "rating"];
var TYPE_CODE = Object.fromEntries(TYPE_NAMES.map((t2, i) => [t2, i]));
var EventBuffer = class {
  length = 0;
  user = new Int32Array(1 << 16);
  item = new Int32Array(1 << 16);
  type = new Uint8Array(1 << 16);
  value = new Float64Array(1 << 16);
  time = new Float64Array(1 << 16);
  push(user, item, type, value, time) {
    if (this.length === this.time.length) this.grow();
    const k = this.length++;
    this.user[k] = user;
    this.item[k] = item;
    this.type[k] = type;
    this.value[k] = value;
    this.time[k] = time;
  }
  /** Objects in time order, ties in generation order (deterministic); NaN value and item -1 become null. */
  materialize(userIds, productIds) {
    const order = this.timeOrder();
    const out = new Array(this.length);
    for (let k = 0; k < order.length; k++) {
      const j = order[k];
      const item = this.item[j];
      const value = this.value[j];
      out[k] = {
        user_id: userIds[this.user[j]],
        item_id: item >= 0 ? productIds[item] : null,
        type: TYPE_NAMES[this.type[j]],
        value: Number.isNaN(value) ? null : value,
        timestamp: this.time[j]
      };
    }
    return out;
  }
  /** Packs (second offset, index) into one exact float key so a native typed-array sort does the work. */
  timeOrder() {
    const m = this.length;
    const order = new Uint32Array(m);
    if (m === 0) return order;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < m; k++) {
      const t2 = this.time[k];
      if (t2 < min) min = t2;
      if (t2 > max) max = t2;
    }
    const scale = 2 ** Math.max(1, Math.ceil(Math.log2(m + 1)));
    if ((max - min) / 1e3 * scale < Number.MAX_SAFE_INTEGER) {
      const keys = new Float64Array(m);
      for (let k = 0; k < m; k++) keys[k] = (this.time[k] - min) / 1e3 * scale + k;
      keys.sort();
      for (let k = 0; k < m; k++) order[k] = keys[k] % scale;
      return order;
    }
    const idx = Array.from({ length: m }, (_, k) => k);
    idx.sort((a, b) => this.time[a] - this.time[b] || a - b);
    order.set(idx);
    return order;
  }
  grow() {
    const size = this.time.length * 2;
    const grown = (a, make) => {
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
};
function clamp(x, lo, hi) {
  return Math.min(Math.max(x, lo), hi);
}

// src/model/types.ts
var INTERACTION_TYPES = ["view", "like", "share", "comment", "click", "purchase", "rating"];

// src/engine/interaction-index.ts
var TYPE_CODE2 = Object.freeze(
  Object.fromEntries(INTERACTION_TYPES.map((t2, i) => [t2, i]))
);
var UNKNOWN_TYPE = 255;
function itemOf(packed) {
  return (packed >> 8) - 1;
}
function typeOf(packed) {
  return packed & 255;
}
var PROBES = 64;
var cache = /* @__PURE__ */ new WeakMap();
function probePositions(n) {
  if (n === 0) return new Int32Array(0);
  const count = Math.min(n, PROBES);
  const out = new Int32Array(count);
  for (let p = 0; p < count; p++) out[p] = count === 1 ? n - 1 : Math.round(p * (n - 1) / (count - 1));
  return out;
}
function stillValid(entry, interactions) {
  if (entry.index.length !== interactions.length) return false;
  const { probes, seen } = entry;
  for (let p = 0; p < probes.length; p++) if (interactions[probes[p]] !== seen[p]) return false;
  return true;
}
function interactionIndex(interactions, profiles) {
  const entry = cache.get(interactions);
  if (entry && stillValid(entry, interactions)) return entry.index;
  const built = buildIndex(interactions, profiles ?? []);
  const { index } = built;
  if (profiles) profileCache.set(profiles, profileRows(index, profiles, built.rowOfKey, built.unique));
  const probes = probePositions(interactions.length);
  cache.set(interactions, {
    index,
    probes,
    seen: Array.from(probes, (k) => interactions[k])
  });
  return index;
}
function cachedInteractionIndex(interactions) {
  const entry = cache.get(interactions);
  return entry && stillValid(entry, interactions) ? entry.index : void 0;
}
function latestTimestamp(interactions) {
  const index = cachedInteractionIndex(interactions);
  if (index) return index.maxTs;
  let latest = Number.NEGATIVE_INFINITY;
  for (const it of interactions) if (it.timestamp > latest) latest = it.timestamp;
  return latest;
}
function typeCode(type) {
  switch (type) {
    case "view":
      return 0;
    case "like":
      return 1;
    case "share":
      return 2;
    case "comment":
      return 3;
    case "click":
      return 4;
    case "purchase":
      return 5;
    case "rating":
      return 6;
    default:
      return UNKNOWN_TYPE;
  }
}
function buildIndex(interactions, profiles) {
  const n = interactions.length;
  const userKeys = /* @__PURE__ */ Object.create(null);
  const userIds = [];
  const keyOfProfile = new Int32Array(profiles.length);
  let unique = true;
  for (let i = 0; i < profiles.length; i++) {
    const id = profiles[i].id;
    let key = userKeys[id];
    if (key === void 0) {
      key = userIds.length;
      userKeys[id] = key;
      userIds.push(id);
    } else unique = false;
    keyOfProfile[i] = key;
  }
  const keyOfRow = new Int32Array(n);
  let counts = new Int32Array(Math.max(1024, userIds.length));
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  let nPurchases = 0;
  let lastUser = null;
  let lastKey = -1;
  for (let k = 0; k < n; k++) {
    const it = interactions[k];
    const uid = it.user_id;
    if (uid !== lastUser) {
      let key = userKeys[uid];
      if (key === void 0) {
        key = userIds.length;
        userKeys[uid] = key;
        userIds.push(uid);
        if (key === counts.length) {
          const grown = new Int32Array(counts.length * 2);
          grown.set(counts);
          counts = grown;
        }
      }
      lastUser = uid;
      lastKey = key;
    }
    keyOfRow[k] = lastKey;
    counts[lastKey] = counts[lastKey] + 1;
    const t2 = it.timestamp;
    if (t2 < minTs) minTs = t2;
    if (t2 > maxTs) maxTs = t2;
    if (it.type === "purchase") nPurchases++;
  }
  const nUsers = userIds.length;
  const rowOfKey = new Int32Array(nUsers).fill(-1);
  for (let i = 0; i < profiles.length; i++) rowOfKey[keyOfProfile[i]] = i;
  const start = new Int32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) start[u + 1] = start[u] + counts[u];
  const fill = counts;
  fill.set(start.subarray(0, nUsers));
  const buffer = new ArrayBuffer(n * 24);
  const f64 = new Float64Array(buffer);
  const i32 = new Int32Array(buffer);
  const purchaseUser = new Int32Array(nPurchases);
  const purchaseTs = new Float64Array(nPurchases);
  const purchaseValue = new Float64Array(nPurchases);
  const purchaseItem = new Int32Array(nPurchases);
  const itemKeys = /* @__PURE__ */ Object.create(null);
  const itemIds = [];
  let p = 0;
  let lastItem = null;
  let lastItemKey = -1;
  for (let k = 0; k < n; k++) {
    const it = interactions[k];
    const key = keyOfRow[k];
    const r = fill[key];
    fill[key] = r + 1;
    const iid = it.item_id;
    let item = -1;
    if (iid !== null) {
      if (iid !== lastItem) {
        let found = itemKeys[iid];
        if (found === void 0) {
          found = itemIds.length;
          itemKeys[iid] = found;
          itemIds.push(iid);
        }
        lastItem = iid;
        lastItemKey = found;
      }
      item = lastItemKey;
    }
    const code = typeCode(it.type);
    const v = it.value === null ? Number.NaN : it.value;
    const t2 = it.timestamp;
    if (code === PURCHASE) {
      purchaseUser[p] = key;
      purchaseTs[p] = t2;
      purchaseValue[p] = v;
      purchaseItem[p++] = item;
    }
    f64[3 * r] = t2;
    f64[3 * r + 1] = v;
    i32[6 * r + 4] = item + 1 << 8 | code;
    i32[6 * r + 5] = k;
  }
  const index = {
    length: n,
    userIds,
    userKeys,
    start,
    itemIds,
    itemKeys,
    f64,
    i32,
    purchases: {
      user: purchaseUser.subarray(0, p),
      ts: purchaseTs.subarray(0, p),
      value: purchaseValue.subarray(0, p),
      item: purchaseItem.subarray(0, p)
    },
    minTs,
    maxTs
  };
  return { index, rowOfKey, unique };
}
var PURCHASE = TYPE_CODE2.purchase;
var profileCache = /* @__PURE__ */ new WeakMap();
function userRows(index, profiles, keep) {
  const all = allUserRows(index, profiles);
  if (!keep) return all.rowOfKey;
  if (!all.unique) {
    return rowsOf(
      index,
      profiles.filter((p) => keep(p))
    ).rowOfKey;
  }
  const n = profiles.length;
  const renumber = new Int32Array(n);
  let next = 0;
  for (let i = 0; i < n; i++) renumber[i] = keep(profiles[i]) ? next++ : -1;
  const out = new Int32Array(all.rowOfKey.length);
  for (let key = 0; key < out.length; key++) {
    const r = all.rowOfKey[key];
    out[key] = r < 0 ? -1 : renumber[r];
  }
  return out;
}
function allUserRows(index, profiles) {
  const n = profiles.length;
  const cached = profileCache.get(profiles);
  if (cached && cached.index === index && cached.length === n && cached.first === profiles[0] && cached.last === profiles[n - 1]) {
    return cached;
  }
  const fresh = rowsOf(index, profiles);
  profileCache.set(profiles, fresh);
  return fresh;
}
function profileRows(index, profiles, rowOfKey, unique) {
  return {
    index,
    length: profiles.length,
    first: profiles[0],
    last: profiles[profiles.length - 1],
    rowOfKey,
    unique
  };
}
function rowsOf(index, profiles) {
  const rowOfKey = new Int32Array(index.userIds.length).fill(-1);
  const { userKeys } = index;
  let unique = true;
  for (let i = 0; i < profiles.length; i++) {
    const key = userKeys[profiles[i].id];
    if (key === void 0) continue;
    if (rowOfKey[key] >= 0) unique = false;
    rowOfKey[key] = i;
  }
  return profileRows(index, profiles, rowOfKey, unique);
}

// src/engine/as-of.ts
function dataAsOf(interactions, fallback) {
  const latest = latestTimestamp(interactions);
  return Number.isFinite(latest) ? latest + 1 : fallback;
}

// src/engine/features.ts
import { closest } from "fastest-levenshtein";
var FeatureError = class extends Error {
  name = "FeatureError";
};
var DAY2 = 864e5;
var WEEK2 = 7 * DAY2;
var MONTH = 30 * DAY2;
var PURCHASE_LOOKBACK_DAYS = 365;
var RECENCY_CAP_DAYS = 365;
var DEFAULT_SEGMENT_FEATURES = [
  "log_followers",
  "views_per_week",
  "engagement",
  "clicks_per_week",
  "active_days_per_week",
  "purchases_per_month",
  "spend_per_month",
  "avg_order_value"
];
var BUILTIN = [
  { name: "log_followers", description: "log10(1 + followers)", unit: "log10 followers" },
  { name: "followers", description: "Follower count", unit: "followers" },
  {
    name: "engagement",
    description: "Likes + shares + comments + clicks per week in the engagement window",
    unit: "engagements/week"
  },
  { name: "likes_per_week", description: "Likes per week in the engagement window", unit: "likes/week" },
  { name: "shares_per_week", description: "Shares per week in the engagement window", unit: "shares/week" },
  {
    name: "comments_per_week",
    description: "Comments per week in the engagement window",
    unit: "comments/week"
  },
  { name: "clicks_per_week", description: "Clicks per week in the engagement window", unit: "clicks/week" },
  { name: "views_per_week", description: "Views per week in the engagement window", unit: "views/week" },
  {
    name: "engagement_rate",
    description: "Engagements per view in the engagement window (missing without views)",
    unit: "engagements/view"
  },
  {
    name: "recency_days",
    description: `Days since the last purchase (capped at ${RECENCY_CAP_DAYS}, also for never)`,
    unit: "days"
  },
  {
    name: "frequency",
    description: `Purchases in the last ${PURCHASE_LOOKBACK_DAYS} days`,
    unit: "purchases"
  },
  {
    name: "monetary",
    description: `Purchase amount in the last ${PURCHASE_LOOKBACK_DAYS} days`,
    unit: "amount"
  },
  {
    name: "purchases_per_month",
    description: `Purchases per 30 days over the last ${PURCHASE_LOOKBACK_DAYS} days (or since the profile or the data began)`,
    unit: "purchases/month"
  },
  {
    name: "spend_per_month",
    description: `Purchase amount per 30 days over the last ${PURCHASE_LOOKBACK_DAYS} days (or since the profile or the data began)`,
    unit: "amount/month"
  },
  {
    name: "avg_order_value",
    description: `Average purchase amount in the last ${PURCHASE_LOOKBACK_DAYS} days (missing without purchases)`,
    unit: "amount"
  },
  {
    name: "active_days_per_week",
    description: "Distinct days with any interaction, per week of the engagement window",
    unit: "days/week"
  },
  { name: "tenure_days", description: "Days since the profile was created", unit: "days" }
];
var BUILTIN_NAMES = new Set(BUILTIN.map((f) => f.name));
function availableFeatures(attributes, profiles, products) {
  const out = [...BUILTIN];
  for (const [name, kind] of Object.entries(attributes)) {
    if (BUILTIN_NAMES.has(name)) continue;
    if (kind === "number") out.push({ name, description: `Custom attribute ${name}`, unit: name });
    else if (kind === "boolean")
      out.push({ name, description: `Custom attribute ${name} (1 = yes)`, unit: "yes/no" });
    else if (kind === "date") out.push({ name, description: `Days since ${name}`, unit: "days" });
  }
  if (profiles) {
    for (const interest of collectInterests(profiles)) {
      out.push({
        name: `interest:${interest}`,
        description: `Lists the interest ${interest} (1 = yes)`,
        unit: "yes/no"
      });
    }
  }
  if (products) {
    for (const category of collectCategories(products)) {
      out.push({
        name: `category:${category}`,
        description: `Share of purchases in ${category} (last ${PURCHASE_LOOKBACK_DAYS} days)`,
        unit: "share"
      });
    }
  }
  return out;
}
function existedAt(p, asOf2) {
  return p.created_at === null || p.created_at < asOf2;
}
function computeFeatures(input, features, options) {
  const { asOf: asOf2 } = options;
  const windowDays = options.windowDays ?? 56;
  if (!Number.isFinite(asOf2)) throw new FeatureError("asOf must be a finite epoch-ms time");
  if (!(windowDays >= 1)) throw new FeatureError(`windowDays must be at least 1, got ${windowDays}`);
  const profiles = options.existingOnly ? input.profiles.filter((p) => existedAt(p, asOf2)) : input.profiles;
  const n = profiles.length;
  const categoryNames = [];
  const categoryIndex = /* @__PURE__ */ new Map();
  const resolved = features.map((name) => resolveFeature(name, input, categoryNames, categoryIndex));
  const used = /* @__PURE__ */ new Set();
  for (const r of resolved) {
    if (r.kind === "builtin") for (const c of FEATURE_COUNTERS[r.name] ?? []) used.add(c);
    else if (r.kind === "category") used.add("frequency");
  }
  const windowStart = asOf2 - windowDays * DAY2;
  const lookbackStart = asOf2 - PURCHASE_LOOKBACK_DAYS * DAY2;
  const index = interactionIndex(input.interactions, input.profiles);
  const rowOfKey = userRows(
    index,
    input.profiles,
    options.existingOnly ? (p) => existedAt(p, asOf2) : void 0
  );
  let categoryOfItem = null;
  if (categoryNames.length > 0) {
    categoryOfItem = new Int32Array(index.itemIds.length).fill(-1);
    for (const p of input.products) {
      const c = categoryIndex.get(p.category.toLowerCase());
      const item = index.itemKeys[p.id];
      if (c !== void 0 && item !== void 0) categoryOfItem[item] = c;
    }
  }
  const acc = accumulate(index, rowOfKey, n, used, {
    asOf: asOf2,
    windowStart,
    windowDays,
    lookbackStart,
    categoryOfItem,
    nCat: categoryNames.length
  });
  const historyStart = Number.isFinite(acc.dataStart) ? acc.dataStart : asOf2;
  const knownFrom = used.size > 0 ? knownFromOf(profiles, historyStart) : new Float64Array(0);
  const exposure = { knownFrom, asOf: asOf2, windowStart, lookbackStart };
  const columns = [];
  const missing = {};
  for (const r of resolved) {
    let col;
    switch (r.kind) {
      case "builtin":
        col = builtinColumn(r.name, profiles, acc, exposure, asOf2);
        break;
      case "attr":
        col = attributeColumn(profiles, r.attr, r.type, asOf2);
        break;
      case "interest":
        col = interestColumn(profiles, r.interest);
        break;
      case "category":
        col = categoryColumn(acc, categoryNames.length, r.category, n);
        break;
    }
    columns.push(col);
    missing[r.name] = countNaN(col);
  }
  return { userIds: profiles.map((p) => p.id), names: resolved.map((r) => r.name), columns, missing };
}
function knownFromOf(profiles, historyStart) {
  const out = new Float64Array(profiles.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.max(profiles[i].created_at ?? Number.NEGATIVE_INFINITY, historyStart);
  }
  return out;
}
function attributeColumn(profiles, attr, type, asOf2) {
  const n = profiles.length;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = profiles[i].attrs[attr];
    if (type === "number") col[i] = typeof v === "number" && Number.isFinite(v) ? v : Number.NaN;
    else if (type === "boolean") col[i] = typeof v === "boolean" ? v ? 1 : 0 : Number.NaN;
    else col[i] = typeof v === "number" && Number.isFinite(v) && v <= asOf2 ? (asOf2 - v) / DAY2 : Number.NaN;
  }
  return col;
}
function interestColumn(profiles, interest) {
  const n = profiles.length;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let has = 0;
    for (const x of profiles[i].interests) {
      if (x.toLowerCase() === interest) {
        has = 1;
        break;
      }
    }
    col[i] = has;
  }
  return col;
}
function categoryColumn(acc, nCat, category, n) {
  const col = new Float64Array(n);
  const { block, stride } = acc;
  const off = slotOf(acc, "frequency");
  for (let i = 0; i < n; i++) {
    const f = block[i * stride + off];
    col[i] = f > 0 ? acc.categoryCounts[i * nCat + category] / f : Number.NaN;
  }
  return col;
}
function countNaN(col) {
  let nan = 0;
  for (let i = 0; i < col.length; i++) if (Number.isNaN(col[i])) nan++;
  return nan;
}
var FEATURE_COUNTERS = {
  engagement: ["engagements"],
  likes_per_week: ["likes"],
  shares_per_week: ["shares"],
  comments_per_week: ["comments"],
  clicks_per_week: ["clicks"],
  views_per_week: ["views"],
  engagement_rate: ["engagements", "views"],
  recency_days: ["lastPurchase"],
  frequency: ["frequency"],
  monetary: ["monetary"],
  purchases_per_month: ["frequency"],
  spend_per_month: ["monetary"],
  avg_order_value: ["frequency", "monetary"],
  active_days_per_week: ["activeDays"]
};
var COUNTER_ORDER = [
  "views",
  "likes",
  "shares",
  "comments",
  "clicks",
  "engagements",
  "frequency",
  "monetary",
  "lastPurchase",
  "activeDays"
];
function slotOf(acc, name) {
  const slot = acc.slots[name];
  if (slot === void 0) throw new Error(`internal: counter ${name} was not collected`);
  return slot;
}
function accumulate(index, rowOfKey, n, used, p) {
  const { asOf: asOf2, windowStart, lookbackStart, categoryOfItem, nCat } = p;
  const slots = {};
  let next = 0;
  for (const c of COUNTER_ORDER) if (used.has(c)) slots[c] = next++;
  const wantActive = used.has("activeDays");
  const words = wantActive ? Math.ceil(p.windowDays / 32) : 0;
  const bitsAt = next;
  const stride = next + words;
  const block = new Float64Array(n * stride);
  const sViews = slots.views ?? -1;
  const sLikes = slots.likes ?? -1;
  const sShares = slots.shares ?? -1;
  const sComments = slots.comments ?? -1;
  const sClicks = slots.clicks ?? -1;
  const sEngagements = slots.engagements ?? -1;
  const sFrequency = slots.frequency ?? -1;
  const sMonetary = slots.monetary ?? -1;
  const sLast = slots.lastPurchase ?? -1;
  if (sLast >= 0) for (let i = 0; i < n; i++) block[i * stride + sLast] = Number.NEGATIVE_INFINITY;
  const wantSocial = sViews >= 0 || sLikes >= 0 || sShares >= 0 || sComments >= 0 || sClicks >= 0 || sEngagements >= 0;
  const wantPurchases = sFrequency >= 0 || sMonetary >= 0 || sLast >= 0;
  const categoryCounts = nCat > 0 ? new Float64Array(n * nCat) : new Float64Array(0);
  let dataStart = Number.POSITIVE_INFINITY;
  if (wantSocial || wantPurchases || wantActive) {
    const { start, f64, i32 } = index;
    if (index.minTs < asOf2) dataStart = index.minTs;
    const users = index.userIds.length;
    const bits = new Int32Array(words);
    for (let key = 0; key < users; key++) {
      const row = rowOfKey[key];
      if (row < 0) continue;
      let views = 0;
      let likes = 0;
      let shares = 0;
      let comments = 0;
      let clicks = 0;
      let engaged = 0;
      let frequency = 0;
      let monetary = 0;
      let last = Number.NEGATIVE_INFINITY;
      let anyBit = false;
      const to = start[key + 1];
      for (let r = start[key]; r < to; r++) {
        const ts = f64[3 * r];
        if (!(ts < asOf2)) continue;
        const packed = i32[6 * r + 4];
        const code = typeOf(packed);
        const inWindow = ts >= windowStart;
        const isPurchase = code === PURCHASE2;
        if (!(inWindow && (wantActive || wantSocial && !isPurchase)) && !(isPurchase && wantPurchases))
          continue;
        if (inWindow && wantActive) {
          const day = Math.floor((ts - windowStart) / DAY2);
          const w = day >>> 5;
          bits[w] = bits[w] | 1 << (day & 31);
          anyBit = true;
        }
        if (isPurchase) {
          if (!wantPurchases) continue;
          if (ts > last) last = ts;
          if (ts >= lookbackStart) {
            frequency++;
            const v = f64[3 * r + 1];
            if (Number.isFinite(v)) monetary += v;
            if (categoryOfItem !== null) {
              const item = itemOf(packed);
              const c = item >= 0 ? categoryOfItem[item] : -1;
              if (c >= 0) categoryCounts[row * nCat + c] = categoryCounts[row * nCat + c] + 1;
            }
          }
          continue;
        }
        if (!inWindow || !wantSocial) continue;
        if (code === VIEW) views++;
        else {
          if (code === LIKE) likes++;
          else if (code === CLICK) clicks++;
          else if (code === COMMENT) comments++;
          else if (code === SHARE) shares++;
          else continue;
          engaged++;
        }
      }
      const base = row * stride;
      if (sViews >= 0) block[base + sViews] = views;
      if (sLikes >= 0) block[base + sLikes] = likes;
      if (sShares >= 0) block[base + sShares] = shares;
      if (sComments >= 0) block[base + sComments] = comments;
      if (sClicks >= 0) block[base + sClicks] = clicks;
      if (sEngagements >= 0) block[base + sEngagements] = engaged;
      if (sFrequency >= 0) block[base + sFrequency] = frequency;
      if (sMonetary >= 0) block[base + sMonetary] = monetary;
      if (sLast >= 0) block[base + sLast] = last;
      if (anyBit) {
        for (let w = 0; w < words; w++) {
          block[base + bitsAt + w] = bits[w];
          bits[w] = 0;
        }
      }
    }
  }
  if (wantActive) {
    const sActive = slots.activeDays;
    for (let i = 0; i < n; i++) {
      let days = 0;
      for (let w = 0; w < words; w++) days += popcount(block[i * stride + bitsAt + w]);
      block[i * stride + sActive] = days;
    }
  }
  return { block, stride, slots, categoryCounts, dataStart };
}
var VIEW = TYPE_CODE2.view;
var LIKE = TYPE_CODE2.like;
var SHARE = TYPE_CODE2.share;
var COMMENT = TYPE_CODE2.comment;
var CLICK = TYPE_CODE2.click;
var PURCHASE2 = TYPE_CODE2.purchase;
function popcount(x) {
  let v = x - (x >>> 1 & 1431655765);
  v = (v & 858993459) + (v >>> 2 & 858993459);
  return Math.imul(v + (v >>> 4) & 252645135, 16843009) >>> 24;
}
function builtinColumn(name, profiles, acc, exposure, asOf2) {
  const n = profiles.length;
  switch (name) {
    case "log_followers":
      return followersColumn(profiles, true);
    case "followers":
      return followersColumn(profiles, false);
    case "engagement":
      return perWeekColumn(acc, slotOf(acc, "engagements"), exposure, n);
    case "likes_per_week":
      return perWeekColumn(acc, slotOf(acc, "likes"), exposure, n);
    case "shares_per_week":
      return perWeekColumn(acc, slotOf(acc, "shares"), exposure, n);
    case "comments_per_week":
      return perWeekColumn(acc, slotOf(acc, "comments"), exposure, n);
    case "clicks_per_week":
      return perWeekColumn(acc, slotOf(acc, "clicks"), exposure, n);
    case "views_per_week":
      return perWeekColumn(acc, slotOf(acc, "views"), exposure, n);
    case "active_days_per_week":
      return perWeekColumn(acc, slotOf(acc, "activeDays"), exposure, n);
    case "engagement_rate":
      return ratioColumn(acc, slotOf(acc, "engagements"), slotOf(acc, "views"), n);
    case "recency_days":
      return recencyColumn(acc, slotOf(acc, "lastPurchase"), asOf2, n);
    case "frequency":
      return counterColumn(acc, slotOf(acc, "frequency"), n);
    case "monetary":
      return counterColumn(acc, slotOf(acc, "monetary"), n);
    case "purchases_per_month":
      return perMonthColumn(acc, slotOf(acc, "frequency"), exposure, n);
    case "spend_per_month":
      return perMonthColumn(acc, slotOf(acc, "monetary"), exposure, n);
    case "avg_order_value":
      return ratioColumn(acc, slotOf(acc, "monetary"), slotOf(acc, "frequency"), n);
    case "tenure_days":
      return tenureColumn(profiles, asOf2);
    default:
      return new Float64Array(n).fill(Number.NaN);
  }
}
function followersColumn(profiles, log) {
  const col = new Float64Array(profiles.length);
  for (let i = 0; i < col.length; i++) {
    const f = profiles[i].followers;
    col[i] = f === null || !Number.isFinite(f) || log && f < 0 ? Number.NaN : log ? Math.log10(1 + f) : f;
  }
  return col;
}
function tenureColumn(profiles, asOf2) {
  const col = new Float64Array(profiles.length);
  for (let i = 0; i < col.length; i++) {
    const c = profiles[i].created_at;
    col[i] = c === null ? Number.NaN : (asOf2 - c) / DAY2;
  }
  return col;
}
function counterColumn(acc, off, n) {
  const { block, stride } = acc;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) col[i] = block[i * stride + off];
  return col;
}
function perWeekColumn(acc, off, e, n) {
  const { block, stride } = acc;
  const { knownFrom, asOf: asOf2, windowStart } = e;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const weeks = Math.max(1, (asOf2 - Math.max(windowStart, knownFrom[i])) / WEEK2);
    col[i] = block[i * stride + off] / weeks;
  }
  return col;
}
function perMonthColumn(acc, off, e, n) {
  const { block, stride } = acc;
  const { knownFrom, asOf: asOf2, lookbackStart } = e;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const months = Math.max(WEEK2 / MONTH, (asOf2 - Math.max(lookbackStart, knownFrom[i])) / MONTH);
    col[i] = block[i * stride + off] / months;
  }
  return col;
}
function ratioColumn(acc, num, den, n) {
  const { block, stride } = acc;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = block[i * stride + den];
    col[i] = d > 0 ? block[i * stride + num] / d : Number.NaN;
  }
  return col;
}
function recencyColumn(acc, off, asOf2, n) {
  const { block, stride } = acc;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const last = block[i * stride + off];
    col[i] = last === Number.NEGATIVE_INFINITY ? RECENCY_CAP_DAYS : Math.min(RECENCY_CAP_DAYS, (asOf2 - last) / DAY2);
  }
  return col;
}
function resolveFeature(raw, input, categoryNames, categoryIndex) {
  const name = raw.trim();
  if (BUILTIN_NAMES.has(name)) return { kind: "builtin", name };
  const kind = input.attributes[name];
  if (kind === "number" || kind === "boolean" || kind === "date")
    return { kind: "attr", name, attr: name, type: kind };
  if (kind === "category" || kind === "list") {
    throw new FeatureError(
      `feature "${name}" is a ${kind} attribute, not a number; use numeric, yes/no or date attributes. ${listAvailable(input)}`
    );
  }
  const lower = name.toLowerCase();
  if (lower.startsWith("interest:")) {
    const interest = lower.slice("interest:".length);
    if (collectInterests(input.profiles).includes(interest)) return { kind: "interest", name, interest };
  } else if (lower.startsWith("category:")) {
    const category = lower.slice("category:".length);
    if (collectCategories(input.products).includes(category)) {
      let idx = categoryIndex.get(category);
      if (idx === void 0) {
        idx = categoryNames.length;
        categoryNames.push(category);
        categoryIndex.set(category, idx);
      }
      return { kind: "category", name, category: idx };
    }
  }
  const names = availableFeatures(input.attributes, input.profiles, input.products).map((f) => f.name);
  const guess = names.length > 0 ? closest(name, names) : "";
  const hint = guess ? ` Did you mean "${guess}"?` : "";
  throw new FeatureError(`unknown feature "${name}".${hint} Available: ${names.join(", ")}`);
}
function listAvailable(input) {
  return `Available: ${availableFeatures(input.attributes, input.profiles, input.products).map((f) => f.name).join(", ")}`;
}
function collectInterests(profiles) {
  const seen = /* @__PURE__ */ new Set();
  for (const p of profiles) for (const x of p.interests) seen.add(x.toLowerCase());
  return [...seen].sort();
}
function collectCategories(products) {
  const seen = /* @__PURE__ */ new Set();
  for (const p of products) seen.add(p.category.toLowerCase());
  return [...seen].sort();
}
function scaleColumns(table, scaling) {
  const n = table.userIds.length;
  const d = table.names.length;
  const buffer = new Float64Array(n * d);
  const means = [];
  const sds = [];
  const medians = [];
  const imputed = {};
  const scratch = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    const col = table.columns[j];
    const name = table.names[j];
    const median = columnMedian(col, scratch);
    medians.push(median);
    let filled = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let v = col[i];
      if (Number.isNaN(v)) {
        v = median;
        filled++;
      }
      if (scaling === "log-zscore") v = v >= 0 ? Math.log1p(v) : -Math.log1p(-v);
      buffer[i * d + j] = v;
      sum += v;
    }
    imputed[name] = filled;
    const mean = n > 0 ? sum / n : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const dv = buffer[i * d + j] - mean;
      ss += dv * dv;
    }
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    const useMean = scaling === "none" ? 0 : mean;
    const useSd = scaling === "none" || !(sd > 1e-12) ? 1 : sd;
    if (scaling !== "none") {
      for (let i = 0; i < n; i++) buffer[i * d + j] = (buffer[i * d + j] - useMean) / useSd;
    }
    means.push(useMean);
    sds.push(useSd);
  }
  let rows = null;
  return {
    get matrix() {
      if (rows === null) {
        rows = new Array(n);
        for (let i = 0; i < n; i++) rows[i] = buffer.subarray(i * d, (i + 1) * d);
      }
      return rows;
    },
    flat: buffer,
    means,
    sds,
    medians,
    imputed,
    scaling
  };
}
function columnMedian(col, scratch) {
  let count = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i])) count++;
  if (count === 0) return 0;
  const values = scratch && scratch.length >= count ? scratch.subarray(0, count) : new Float64Array(count);
  let k = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (!Number.isNaN(v)) values[k++] = v;
  }
  const mid = count >>> 1;
  const upper = select(values, mid);
  if (count % 2 === 1) return upper;
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mid; i++) if (values[i] > lower) lower = values[i];
  return (lower + upper) / 2;
}
function select(a, k) {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = lo + hi >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t2 = a[i];
        a[i] = a[j];
        a[j] = t2;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

// src/engine/metrics.ts
function silhouette(points, labels, k) {
  const n = points.length;
  if (n < 2 || k < 2) return 0;
  const sums = new Float64Array(n * k);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]] = sizes[labels[i]] + 1;
  const d = points[0].length;
  for (let i = 0; i < n; i++) {
    const p = points[i];
    const li = labels[i];
    for (let j = i + 1; j < n; j++) {
      const q = points[j];
      let s = 0;
      for (let t2 = 0; t2 < d; t2++) {
        const diff = p[t2] - q[t2];
        s += diff * diff;
      }
      const dist = Math.sqrt(s);
      const lj = labels[j];
      sums[i * k + lj] = sums[i * k + lj] + dist;
      sums[j * k + li] = sums[j * k + li] + dist;
    }
  }
  return silhouetteFromSums(sums, sizes, labels, n, k);
}
function silhouetteFromDistances(dist, n, labels, k) {
  if (n < 2 || k < 2) return 0;
  const sums = new Float64Array(n * k);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]] = sizes[labels[i]] + 1;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const li = labels[i];
    for (let j = i + 1; j < n; j++) {
      const dv = dist[pos++];
      const lj = labels[j];
      sums[i * k + lj] = sums[i * k + lj] + dv;
      sums[j * k + li] = sums[j * k + li] + dv;
    }
  }
  return silhouetteFromSums(sums, sizes, labels, n, k);
}
function pairwiseDistances(points) {
  const n = points.length;
  const out = new Float64Array(n * (n - 1) / 2);
  if (n === 0) return out;
  const d = points[0].length;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const p = points[i];
    for (let j = i + 1; j < n; j++) {
      const q = points[j];
      let s = 0;
      for (let t2 = 0; t2 < d; t2++) {
        const diff = p[t2] - q[t2];
        s += diff * diff;
      }
      out[pos++] = Math.sqrt(s);
    }
  }
  return out;
}
function silhouetteFromSums(sums, sizes, labels, n, k) {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const li = labels[i];
    const own = sizes[li];
    if (own <= 1) continue;
    const a = sums[i * k + li] / (own - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (c === li || sizes[c] === 0) continue;
      const m = sums[i * k + c] / sizes[c];
      if (m < b) b = m;
    }
    if (!Number.isFinite(b)) continue;
    const denom = Math.max(a, b);
    total += denom > 0 ? (b - a) / denom : 0;
  }
  return total / n;
}

// src/engine/segments.ts
var SegmentError = class extends Error {
  name = "SegmentError";
};
var K_MIN = 2;
var K_MAX = 12;
var AUTO_SAMPLE = 2e3;
var SILHOUETTE_SAMPLE = 1e3;
var RESTART_SAMPLE = 5e3;
var MAX_ITERATIONS = 100;
function segmentAudience(input, options) {
  const restarts = options.restarts ?? 5;
  const sampleSize = options.sampleSize ?? 5e4;
  const scaling = options.scaling ?? "zscore";
  const seed = options.seed ?? 1;
  validate(options, restarts, sampleSize, scaling);
  const requestedFeatures = [
    ...new Set((options.features ?? DEFAULT_SEGMENT_FEATURES).map((f) => f.trim()))
  ].filter((f) => f.length > 0);
  if (requestedFeatures.length === 0) {
    throw new SegmentError(
      `no features given; try features=${DEFAULT_SEGMENT_FEATURES.slice(0, 4).join(",")}`
    );
  }
  const requested = requestedFeatures.includes("monetary") ? requestedFeatures : [...requestedFeatures, "monetary"];
  let full;
  try {
    full = computeFeatures(input, requested, { asOf: options.asOf, existingOnly: true });
  } catch (err) {
    if (err instanceof FeatureError) throw new SegmentError(err.message);
    throw err;
  }
  const n = full.userIds.length;
  if (n === 0) {
    throw new SegmentError(
      "the audience is empty at this point in time; import data or load the sample (`audience sample`)"
    );
  }
  if (n < 2) throw new SegmentError("only 1 profile; segments need at least 2 profiles");
  if (options.k !== "auto" && n < options.k) {
    throw new SegmentError(`only ${n} profiles but k=${options.k}; use k=${n} or less`);
  }
  if (options.k === "auto" && n < 3) {
    throw new SegmentError(`only ${n} profiles; k=auto needs at least 3, try k=2`);
  }
  const revenue = full.columns[full.names.indexOf("monetary")];
  const empty = requestedFeatures.filter((f) => (full.missing[f] ?? 0) === n);
  if (empty.length > 0 && options.features !== void 0) {
    throw new SegmentError(`feature "${empty[0]}" has no values in this audience; pick features with data`);
  }
  const features = requestedFeatures.filter((f) => !empty.includes(f));
  if (features.length === 0) {
    throw new SegmentError(
      "none of the default features has data here; name features with data, e.g. features=age"
    );
  }
  const table = {
    userIds: full.userIds,
    names: features,
    columns: features.map((f) => full.columns[full.names.indexOf(f)]),
    missing: Object.fromEntries(features.map((f) => [f, full.missing[f] ?? 0]))
  };
  const scaled = scaleColumns(table, scaling);
  const flat = scaled.flat;
  const d = features.length;
  const rng = new Rng(seed);
  const everyone = { flat, n, d };
  const sampled = n > sampleSize;
  const fitData = sampled ? gatherRows(everyone, rng.sampleIndices(n, sampleSize)) : everyone;
  let k;
  let kScores;
  if (options.k === "auto") {
    const [lo, hi] = options.kRange ?? [2, 8];
    const evalData = fitData.n > AUTO_SAMPLE ? gatherRows(fitData, rng.sampleIndices(fitData.n, AUTO_SAMPLE)) : fitData;
    const dist = pairwiseDistances(rowViews(evalData));
    kScores = [];
    const top = Math.min(hi, evalData.n - 1);
    const labels2 = new Int32Array(evalData.n);
    for (let kk = lo; kk <= top; kk++) {
      const centers2 = bestOfRestarts(evalData, kk, restarts, rng);
      nearest(evalData, centers2, kk, labels2);
      kScores.push({ k: kk, silhouette: silhouetteFromDistances(dist, evalData.n, labels2, kk) });
    }
    if (kScores.length === 0) {
      throw new SegmentError(`only ${n} profiles, too few for k=auto over [${lo}, ${hi}]; try k=2`);
    }
    let best = kScores[0];
    for (const s of kScores) if (s.silhouette > best.silhouette + 1e-9) best = s;
    k = best.k;
  } else {
    k = options.k;
  }
  let centers;
  if (fitData.n > RESTART_SAMPLE) {
    const sub = gatherRows(fitData, rng.sampleIndices(fitData.n, RESTART_SAMPLE));
    centers = lloyd(fitData, bestOfRestarts(sub, k, restarts, rng), k, 1e-4);
  } else {
    centers = bestOfRestarts(fitData, k, restarts, rng);
  }
  const raw = new Int32Array(n);
  nearest(everyone, centers, k, raw);
  const rawSizes = new Float64Array(k);
  for (let i = 0; i < n; i++) rawSizes[raw[i]] = rawSizes[raw[i]] + 1;
  const order = Array.from({ length: k }, (_, c) => c).sort(
    (a, b) => rawSizes[b] - rawSizes[a] || a - b
  );
  const newIndex = new Int32Array(k);
  order.forEach((old, pos) => {
    newIndex[old] = pos;
  });
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = newIndex[raw[i]];
  const sizes = new Float64Array(k);
  const centroidSums = new Float64Array(k * d);
  const totalMean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    sizes[c] = sizes[c] + 1;
    for (let t2 = 0; t2 < d; t2++) {
      const v = flat[i * d + t2];
      centroidSums[c * d + t2] = centroidSums[c * d + t2] + v;
      totalMean[t2] = totalMean[t2] + v;
    }
  }
  for (let t2 = 0; t2 < d; t2++) totalMean[t2] = totalMean[t2] / n;
  const centroids = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let t2 = 0; t2 < d; t2++) {
      const size = sizes[c];
      centroids[c * d + t2] = size > 0 ? centroidSums[c * d + t2] / size : 0;
    }
  }
  let withinSS = 0;
  let totalSS = 0;
  const colVar = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let t2 = 0; t2 < d; t2++) {
      const v = flat[i * d + t2];
      const dw = v - centroids[c * d + t2];
      const dt = v - totalMean[t2];
      withinSS += dw * dw;
      totalSS += dt * dt;
      colVar[t2] = colVar[t2] + dt * dt;
    }
  }
  const colSd = Array.from(colVar, (v) => n > 1 ? Math.sqrt(v / (n - 1)) : 0);
  const silRows = n > SILHOUETTE_SAMPLE ? rng.sampleIndices(n, SILHOUETTE_SAMPLE) : null;
  const silPoints = rowViews(silRows ? gatherRows(everyone, silRows) : everyone);
  const silLabels = silRows ? Int32Array.from(silRows, (r) => labels[r]) : labels;
  const sil = silhouette(silPoints, silLabels, k);
  let totalRevenue = 0;
  const segRevenue = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const v = revenue[i];
    if (Number.isFinite(v)) {
      totalRevenue += v;
      segRevenue[labels[i]] = segRevenue[labels[i]] + v;
    }
  }
  const zs = [];
  for (let c = 0; c < k; c++) {
    zs.push(
      Array.from({ length: d }, (_, t2) => {
        const sd = colSd[t2];
        return sd > 1e-12 ? (centroids[c * d + t2] - totalMean[t2]) / sd : 0;
      })
    );
  }
  const describer = describeTraits(table, labels, k);
  const names = nameSegments(features, zs);
  const segments = [];
  for (let c = 0; c < k; c++) {
    const size = sizes[c];
    segments.push({
      index: c,
      name: names[c],
      size,
      share: size / n,
      revenueShare: totalRevenue > 0 ? segRevenue[c] / totalRevenue : 0,
      traits: describer(c, zs[c]),
      centroid: Array.from(centroids.subarray(c * d, (c + 1) * d))
    });
  }
  const result = {
    k,
    features,
    scaling,
    segments,
    labels,
    userIds: table.userIds,
    quality: { silhouette: sil, betweenOverTotal: totalSS > 0 ? 1 - withinSS / totalSS : 0, withinSS },
    sampled: sampled ? { fitted: fitData.n, total: n } : null,
    imputed: scaled.imputed
  };
  if (kScores) result.kScores = kScores;
  return result;
}
function validate(options, restarts, sampleSize, scaling) {
  const { k } = options;
  if (k !== "auto" && !(Number.isInteger(k) && k >= K_MIN && k <= K_MAX)) {
    throw new SegmentError(`k must be a whole number from ${K_MIN} to ${K_MAX} or "auto", got ${String(k)}`);
  }
  if (options.kRange !== void 0) {
    const r = options.kRange;
    const ok = Array.isArray(r) && r.length === 2 && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= K_MIN && r[1] <= K_MAX && r[0] <= r[1];
    if (!ok) {
      throw new SegmentError(
        `kRange must be [min, max] with ${K_MIN} <= min <= max <= ${K_MAX}, got ${JSON.stringify(r)}; try [2, 8]`
      );
    }
  }
  if (!(Number.isInteger(restarts) && restarts >= 1 && restarts <= 100)) {
    throw new SegmentError(`restarts must be a whole number from 1 to 100, got ${restarts}`);
  }
  if (!(Number.isInteger(sampleSize) && sampleSize >= 100)) {
    throw new SegmentError(`sampleSize must be a whole number of at least 100, got ${sampleSize}`);
  }
  if (scaling !== "zscore" && scaling !== "log-zscore" && scaling !== "none") {
    throw new SegmentError(`scaling must be zscore, log-zscore or none, got ${scaling}`);
  }
  if (!Number.isFinite(options.asOf)) throw new SegmentError("asOf must be a finite time (epoch ms)");
}
function gatherRows(rows, idx) {
  const { d } = rows;
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) {
    const from = idx[r] * d;
    out.set(rows.flat.subarray(from, from + d), r * d);
  }
  return { flat: out, n: idx.length, d };
}
function rowViews(rows) {
  const { flat, n, d } = rows;
  return Array.from({ length: n }, (_, i) => flat.subarray(i * d, (i + 1) * d));
}
function nearest(rows, centers, k, labels) {
  const { flat, n, d } = rows;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let best = 0;
    let bestDist = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const coff = c * d;
      for (let t2 = 0; t2 < d; t2++) {
        const diff = flat[off + t2] - centers[coff + t2];
        s += diff * diff;
      }
      if (s < bestDist) {
        bestDist = s;
        best = c;
      }
    }
    labels[i] = best;
    ss += bestDist;
  }
  return ss;
}
function bestOfRestarts(data, k, restarts, rng) {
  let best = null;
  let bestSS = Number.POSITIVE_INFINITY;
  const labels = new Int32Array(data.n);
  for (let r = 0; r < restarts; r++) {
    const centers = lloyd(data, seedPlusPlus(data, k, rng), k);
    const ss = nearest(data, centers, k, labels);
    if (ss < bestSS) {
      bestSS = ss;
      best = centers;
    }
  }
  return best;
}
function lloyd(data, initial, k, tolerance = 1e-6) {
  const { flat, n, d } = data;
  if (!(Number.isInteger(k) && k > 0 && k <= n)) {
    throw new Error("K should be a positive integer smaller than the number of points");
  }
  let centers = initial.slice();
  let next = new Float64Array(k * d);
  const sizes = new Float64Array(k);
  const labels = new Int32Array(n);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    for (let i = 0; i < n; i++) {
      const off = i * d;
      let best = -1;
      let bestDist = Number.MAX_VALUE;
      for (let c = 0; c < k; c++) {
        let s = 0;
        const coff = c * d;
        for (let t2 = 0; t2 < d; t2++) {
          const diff = flat[off + t2] - centers[coff + t2];
          s += diff * diff;
        }
        if (s < bestDist) {
          bestDist = s;
          best = c;
        }
      }
      if (best < 0) throw new Error("k-means: a point has no finite distance to any center");
      labels[i] = best;
    }
    next.fill(0);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      sizes[c] = sizes[c] + 1;
      const off = i * d;
      const coff = c * d;
      for (let t2 = 0; t2 < d; t2++) next[coff + t2] = next[coff + t2] + flat[off + t2];
    }
    let converged = true;
    for (let c = 0; c < k; c++) {
      const size = sizes[c];
      let moved = 0;
      for (let t2 = 0; t2 < d; t2++) {
        const at = c * d + t2;
        const v = size > 0 ? next[at] / size : centers[at];
        next[at] = v;
        const diff = v - centers[at];
        moved += diff * diff;
      }
      if (moved > tolerance) converged = false;
    }
    const previous = centers;
    centers = next;
    next = previous;
    if (converged) break;
  }
  return centers;
}
function seedPlusPlus(data, k, rng) {
  const { flat, n, d } = data;
  const centers = new Float64Array(k * d);
  const firstAt = rng.int(0, n - 1) * d;
  centers.set(flat.subarray(firstAt, firstAt + d), 0);
  let closest2 = new Float64Array(n);
  for (let i = 0; i < n; i++) closest2[i] = sqDist(flat, i * d, flat, firstAt, d);
  let candidateDist = new Float64Array(n);
  let bestDist = new Float64Array(n);
  const trials = 2 + Math.floor(Math.log(k));
  for (let c = 1; c < k; c++) {
    let potential = 0;
    for (let i = 0; i < n; i++) potential += closest2[i];
    let bestPotential = Number.POSITIVE_INFINITY;
    let bestIdx = 0;
    for (let t2 = 0; t2 < trials; t2++) {
      let idx;
      if (potential > 0) {
        let u = rng.next() * potential;
        idx = n - 1;
        for (let i = 0; i < n; i++) {
          u -= closest2[i];
          if (u < 0) {
            idx = i;
            break;
          }
        }
      } else {
        idx = rng.int(0, n - 1);
      }
      const candAt = idx * d;
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const dist = sqDist(flat, i * d, flat, candAt, d);
        const m = Math.min(dist, closest2[i]);
        candidateDist[i] = m;
        pot += m;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestIdx = idx;
        const tmp2 = bestDist;
        bestDist = candidateDist;
        candidateDist = tmp2;
      }
    }
    centers.set(flat.subarray(bestIdx * d, bestIdx * d + d), c * d);
    const tmp = closest2;
    closest2 = bestDist;
    bestDist = tmp;
  }
  return centers;
}
function sqDist(a, aAt, b, bAt, d) {
  let s = 0;
  for (let t2 = 0; t2 < d; t2++) {
    const diff = a[aAt + t2] - b[bAt + t2];
    s += diff * diff;
  }
  return s;
}
var LEXICON = {
  log_followers: {
    high: { adj: "Influential", noun: "influencers" },
    low: { adj: "Small-reach", noun: "small accounts" }
  },
  followers: {
    high: { adj: "Influential", noun: "influencers" },
    low: { adj: "Small-reach", noun: "small accounts" }
  },
  views_per_week: { high: { adj: "Avid", noun: "watchers" }, low: { adj: "Rarely-seen", noun: "browsers" } },
  engagement: { high: { adj: "Highly engaged", noun: "fans" }, low: { adj: "Quiet", noun: "lurkers" } },
  likes_per_week: { high: { adj: "Like-happy", noun: "likers" }, low: { adj: "Reserved", noun: "lurkers" } },
  shares_per_week: {
    high: { adj: "Sharing", noun: "sharers" },
    low: { adj: "Non-sharing", noun: "lurkers" }
  },
  comments_per_week: {
    high: { adj: "Talkative", noun: "commenters" },
    low: { adj: "Silent", noun: "lurkers" }
  },
  clicks_per_week: {
    high: { adj: "Click-happy", noun: "clickers" },
    low: { adj: "Low-click", noun: "viewers" }
  },
  engagement_rate: {
    high: { adj: "Interactive", noun: "responders" },
    low: { adj: "Passive", noun: "viewers" }
  },
  recency_days: {
    high: { adj: "Lapsed", noun: "lapsed buyers" },
    low: { adj: "Recent", noun: "recent buyers" }
  },
  frequency: {
    high: { adj: "Frequent", noun: "repeat buyers" },
    low: { adj: "Infrequent", noun: "occasional buyers" }
  },
  monetary: {
    high: { adj: "High-spend", noun: "big spenders" },
    low: { adj: "Low-spend", noun: "light spenders" }
  },
  spend_per_month: {
    high: { adj: "High-spend", noun: "big spenders" },
    low: { adj: "Low-spend", noun: "light spenders" }
  },
  purchases_per_month: {
    high: { adj: "Frequent", noun: "repeat buyers" },
    low: { adj: "Infrequent", noun: "occasional buyers" }
  },
  avg_order_value: {
    high: { adj: "Big-basket", noun: "premium shoppers" },
    low: { adj: "Small-basket", noun: "bargain hunters" }
  },
  active_days_per_week: {
    high: { adj: "Daily-active", noun: "regulars" },
    low: { adj: "Occasional", noun: "drop-ins" }
  },
  tenure_days: { high: { adj: "Long-time", noun: "veterans" }, low: { adj: "New", noun: "newcomers" } },
  age: { high: { adj: "Older", noun: "mature customers" }, low: { adj: "Young", noun: "young users" } },
  loyalty_member: {
    high: { adj: "Loyalty-club", noun: "loyalists" },
    low: { adj: "Non-member", noun: "non-members" }
  },
  app_sessions_per_week: {
    high: { adj: "App-heavy", noun: "app regulars" },
    low: { adj: "App-light", noun: "occasional app users" }
  }
};
var ARCHETYPES = [
  {
    name: () => "High-spend loyalists",
    signature: {
      monetary: 1,
      spend_per_month: 1,
      avg_order_value: 0.8,
      loyalty_member: 0.8,
      frequency: 0.3,
      purchases_per_month: 0.3,
      recency_days: -0.3
    }
  },
  {
    name: (z) => (z.age ?? 0) < -0.3 ? "Young trend-setters" : "Trend-setters",
    signature: {
      log_followers: 1,
      followers: 0.8,
      engagement: 1,
      shares_per_week: 0.8,
      likes_per_week: 0.8,
      comments_per_week: 0.6,
      engagement_rate: 0.6,
      age: -0.8
    }
  },
  {
    name: () => "Bargain hunters",
    signature: { frequency: 1, purchases_per_month: 1, avg_order_value: -1, clicks_per_week: 0.7 }
  },
  {
    name: () => "Quiet followers",
    signature: {
      views_per_week: 0.8,
      engagement_rate: -1,
      engagement: -0.4,
      log_followers: -0.4,
      followers: -0.3
    }
  },
  {
    name: () => "Casual browsers",
    signature: {
      views_per_week: -1,
      active_days_per_week: -1,
      engagement: -0.6,
      frequency: -0.4,
      purchases_per_month: -0.4,
      monetary: -0.4,
      spend_per_month: -0.4,
      app_sessions_per_week: -0.6
    }
  },
  {
    name: () => "Dormant followers",
    signature: { recency_days: 1, active_days_per_week: -0.8, engagement: -0.6, views_per_week: -0.6 }
  },
  {
    name: () => "Engaged fans",
    signature: { engagement: 1, active_days_per_week: 0.8, likes_per_week: 0.6 }
  },
  {
    name: () => "Big-ticket buyers",
    signature: { avg_order_value: 1, frequency: -0.5, purchases_per_month: -0.5 }
  },
  {
    name: () => "Frequent shoppers",
    signature: { frequency: 1, purchases_per_month: 1, monetary: 0.6, spend_per_month: 0.6 }
  },
  { name: () => "New joiners", signature: { tenure_days: -1 } }
];
var ARCHETYPE_MIN_COSINE = 0.6;
function nameSegments(features, zs) {
  const k = zs.length;
  const names = new Array(k).fill(null);
  const used = /* @__PURE__ */ new Set();
  const candidates = [];
  zs.forEach((z, c) => {
    const norm = Math.hypot(...z);
    if (norm < 0.5) return;
    ARCHETYPES.forEach((arch, a) => {
      let dot = 0;
      let wNorm = 0;
      let present = 0;
      features.forEach((f, t2) => {
        const w = arch.signature[f];
        if (w === void 0) return;
        present++;
        dot += w * z[t2];
        wNorm += w * w;
      });
      const needed = Math.min(2, Object.keys(arch.signature).length);
      if (present < needed || wNorm === 0) return;
      const score = dot / (Math.sqrt(wNorm) * norm);
      if (score >= ARCHETYPE_MIN_COSINE) candidates.push({ c, a, score });
    });
  });
  candidates.sort((x, y) => y.score - x.score || x.c - y.c || x.a - y.a);
  const usedArch = /* @__PURE__ */ new Set();
  for (const { c, a } of candidates) {
    if (names[c] !== null || usedArch.has(a)) continue;
    const zByName = {};
    features.forEach((f, t2) => {
      zByName[f] = zs[c]?.[t2] ?? 0;
    });
    const name = ARCHETYPES[a].name(zByName);
    if (used.has(name)) continue;
    names[c] = name;
    used.add(name);
    usedArch.add(a);
  }
  for (let c = 0; c < k; c++) {
    if (names[c] !== null) continue;
    const z = zs[c];
    const ranked = features.map((f, t2) => ({ f, z: z[t2] })).filter((x) => Math.abs(x.z) >= 0.3).sort((x, y) => Math.abs(y.z) - Math.abs(x.z));
    const options = [];
    if (ranked.length === 0) options.push("Mainstream audience");
    for (let i = 0; i < ranked.length; i++) {
      for (let j = 0; j < ranked.length; j++) {
        const a = ranked[i];
        const b = ranked[j];
        if (i === j) continue;
        const adj = wordsFor(a.f, a.z).adj;
        const noun = wordsFor(b.f, b.z).noun;
        if (!adj.toLowerCase().includes(noun.toLowerCase())) options.push(`${adj} ${noun}`);
      }
      const solo = ranked[i];
      options.push(`${wordsFor(solo.f, solo.z).adj} audience`);
    }
    let name = options.find((o) => !used.has(o)) ?? options[0];
    for (let suffix = 2; used.has(name); suffix++) name = `${options[0]} ${suffix}`;
    names[c] = name;
    used.add(name);
  }
  return names;
}
function wordsFor(feature, z) {
  const entry = LEXICON[feature];
  if (entry) return z >= 0 ? entry.high : entry.low;
  const [prefix, rest] = splitPrefix(feature);
  if (prefix === "interest") {
    return z >= 0 ? { adj: `${capitalize(rest)}-loving`, noun: `${rest} fans` } : { adj: `Not-into-${rest}`, noun: "other-interest users" };
  }
  if (prefix === "category") {
    return z >= 0 ? { adj: `${capitalize(rest)}-focused`, noun: `${rest} shoppers` } : { adj: `Non-${rest}`, noun: "other shoppers" };
  }
  const label = feature.replace(/_/g, " ");
  return z >= 0 ? { adj: `High-${label}`, noun: `high-${label} users` } : { adj: `Low-${label}`, noun: `low-${label} users` };
}
function splitPrefix(feature) {
  const at = feature.indexOf(":");
  return at < 0 ? ["", feature] : [feature.slice(0, at).toLowerCase(), feature.slice(at + 1)];
}
function capitalize(s) {
  return s.length > 0 ? s[0]?.toUpperCase() + s.slice(1) : s;
}
var UNITS = {
  followers: "followers",
  log_followers: "followers",
  views_per_week: "views/week",
  engagement: "engagements/week",
  likes_per_week: "likes/week",
  shares_per_week: "shares/week",
  comments_per_week: "comments/week",
  clicks_per_week: "clicks/week",
  engagement_rate: "engagements per view",
  recency_days: "days since last purchase",
  frequency: "purchases/year",
  monetary: "spent in the last year",
  spend_per_month: "spent/month",
  purchases_per_month: "purchases/month",
  avg_order_value: "per order",
  active_days_per_week: "active days/week",
  tenure_days: "days of tenure"
};
var MAX_TRAITS = 4;
var MIN_TRAIT_Z = 0.25;
function describeTraits(table, labels, k) {
  const n = labels.length;
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]] = sizes[labels[i]] + 1;
  const cache2 = /* @__PURE__ */ new Map();
  const grouped = new Float64Array(n);
  const offsets = new Int32Array(k + 1);
  for (let g = 0; g < k; g++) offsets[g + 1] = offsets[g] + sizes[g];
  const transformed = new Float64Array(n);
  const scratch = new Float64Array(n);
  const stats = (c, t2) => {
    let perSegment = cache2.get(t2);
    if (!perSegment) {
      const raw = table.columns[t2];
      let col = raw;
      if (table.names[t2] === "log_followers") {
        for (let i = 0; i < n; i++) transformed[i] = 10 ** raw[i] - 1;
        col = transformed;
      }
      const groups = Array.from(
        { length: k },
        (_, g) => grouped.subarray(offsets[g], offsets[g + 1])
      );
      const fill = new Int32Array(k);
      const sums = new Float64Array(k);
      const counts = new Float64Array(k);
      for (let i = 0; i < n; i++) {
        const g = labels[i];
        const v = col[i];
        groups[g][fill[g]] = v;
        fill[g] = fill[g] + 1;
        if (!Number.isNaN(v)) {
          sums[g] = sums[g] + v;
          counts[g] = counts[g] + 1;
        }
      }
      let allSum = 0;
      let allCount = 0;
      for (let g = 0; g < k; g++) {
        allSum += sums[g];
        allCount += counts[g];
      }
      const allMedian = columnMedian(col, scratch);
      const allMean = allCount > 0 ? allSum / allCount : Number.NaN;
      perSegment = groups.map((values, g) => ({
        segMedian: columnMedian(values, scratch),
        allMedian,
        segMean: counts[g] > 0 ? sums[g] / counts[g] : Number.NaN,
        allMean
      }));
      cache2.set(t2, perSegment);
    }
    return perSegment[c];
  };
  const isBinary = table.columns.map((col) => {
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (!Number.isNaN(v) && v !== 0 && v !== 1) return false;
    }
    return true;
  });
  return (c, z) => {
    const ranked = table.names.map((feature, t2) => ({ feature, t: t2, z: z[t2] })).sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || a.t - b.t);
    const picked = ranked.filter((r) => Math.abs(r.z) >= MIN_TRAIT_Z).slice(0, MAX_TRAITS);
    if (picked.length === 0 && ranked.length > 0) picked.push(ranked[0]);
    return picked.map((r) => ({
      feature: r.feature,
      z: r.z,
      text: traitText(r.feature, stats(c, r.t), isBinary[r.t] === true)
    }));
  };
}
function traitText(feature, s, binary) {
  const [prefix, rest] = splitPrefix(feature);
  if (binary) {
    const what = prefix === "interest" ? `interested in ${rest}` : feature.replace(/_/g, " ");
    return `${percent(s.segMean)} ${what} vs ${percent(s.allMean)} overall`;
  }
  if (prefix === "category") {
    return `${percent(s.segMean)} of purchases in ${rest} vs ${percent(s.allMean)} overall`;
  }
  const unit = UNITS[feature];
  const head = unit ? `median ${formatNumber(s.segMedian)} ${unit}` : `median ${feature.replace(/_/g, " ")} ${formatNumber(s.segMedian)}`;
  return `${head}, ${compare(s.segMedian, s.allMedian)}`;
}
function compare(seg, all) {
  if (Number.isNaN(seg)) return "no data";
  if (!(all > 0)) return `audience median ${formatNumber(all)}`;
  const r = seg / all;
  if (r >= 1.5) return `${r.toFixed(1)}x the audience`;
  if (r <= 0.67) return `${Math.round((1 - r) * 100)}% below the audience`;
  const diff = Math.round((r - 1) * 100);
  return diff === 0 ? "about the audience median" : `${diff > 0 ? "+" : ""}${diff}% vs the audience`;
}
function percent(x) {
  return Number.isNaN(x) ? "n/a" : `${Math.round(x * 100)}%`;
}
function formatNumber(v) {
  if (Number.isNaN(v)) return "n/a";
  const a = Math.abs(v);
  const trim = (s) => s.replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1");
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(1))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toFixed(1))}k`;
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return trim(v.toFixed(1));
  if (a >= 1) return trim(v.toFixed(1));
  if (a === 0) return "0";
  return trim(v.toFixed(2));
}

// ../../tmp/work/m1c.ts
var END = /* @__PURE__ */ new Date("2026-06-01T00:00:00Z");
var sample = generateSample({ profiles: Number(process.env.N ?? 1e6), seed: 2, end: END, weeks: 5 });
var asOf = dataAsOf(sample.interactions, END.getTime());
var rss = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
console.log("data", sample.interactions.length, "peak rss", rss(), "heap", (process.memoryUsage().heapUsed / 1e6).toFixed(0), "ext", (process.memoryUsage().arrayBuffers / 1e6).toFixed(0));
var session = new Session();
session.connect();
await session.post("Profiler.enable");
var t = async (name, fn) => {
  if (process.env.PROF) await session.post("Profiler.start");
  const c = process.cpuUsage();
  const s = performance.now();
  fn();
  const u = process.cpuUsage(c);
  if (process.env.PROF) {
    const { profile } = await session.post("Profiler.stop");
    fs.writeFileSync(`/tmp/work/${name}.cpuprofile`, JSON.stringify(profile));
  }
  console.log(name, (performance.now() - s).toFixed(0), "ms wall", ((u.user + u.system) / 1e3).toFixed(0), "ms cpu", "peak rss", rss(), "heap", (process.memoryUsage().heapUsed / 1e6).toFixed(0), "ext", (process.memoryUsage().arrayBuffers / 1e6).toFixed(0));
};
if (process.env.INDEX) await t("m1-index", () => interactionIndex(sample.interactions));
await t("m1-first", () => segmentAudience(sample, { k: 5, asOf, seed: 1 }));
await t("m1-second", () => segmentAudience(sample, { k: 5, asOf, seed: 1 }));

/**
 * The ground truth planted in the sample audience: personas, category affinities, item preferences and the spend
 * model.
 * The generator reads these numbers, `data/README.md` documents them, and the engine tests check that
 * segmentation and prediction recover them and that recommendations beat popularity thanks to them.
 */
import type { Profile } from '../domain/types.ts';

/** The social platforms of the sample, in the order of the persona platform weights. */
export const SAMPLE_PLATFORMS = ['instagram', 'tiktok', 'x', 'youtube', 'facebook'] as const;

/** Countries with their share of the audience (about 1% of profiles have no country). */
export const SAMPLE_COUNTRIES: ReadonlyArray<{ code: string; weight: number }> = [
  { code: 'US', weight: 0.3 },
  { code: 'GB', weight: 0.1 },
  { code: 'DE', weight: 0.1 },
  { code: 'FR', weight: 0.07 },
  { code: 'BR', weight: 0.1 },
  { code: 'IN', weight: 0.12 },
  { code: 'CA', weight: 0.05 },
  { code: 'ES', weight: 0.05 },
  { code: 'MX', weight: 0.06 },
  { code: 'JP', weight: 0.05 },
];

/** The interests a profile can list. */
export const SAMPLE_INTERESTS = ['fashion', 'tech', 'fitness', 'travel', 'food'] as const;

/** Where a profile came from (the `acquisition_channel` category attribute). */
export const SAMPLE_CHANNELS = [
  'organic',
  'paid_social',
  'influencer',
  'referral',
  'email',
  'search',
] as const;

/** Product categories: how many products each holds and the median price (prices are log-normal around it). */
export const SAMPLE_CATEGORIES: ReadonlyArray<{
  key: string;
  name: string;
  products: number;
  medianPrice: number;
}> = [
  { key: 'fashion', name: 'Fashion', products: 35, medianPrice: 45 },
  { key: 'beauty', name: 'Beauty', products: 25, medianPrice: 28 },
  { key: 'electronics', name: 'Electronics', products: 30, medianPrice: 180 },
  { key: 'home', name: 'Home & living', products: 30, medianPrice: 60 },
  { key: 'sports', name: 'Sports', products: 20, medianPrice: 50 },
  { key: 'books', name: 'Books', products: 20, medianPrice: 16 },
  { key: 'food', name: 'Food & drink', products: 25, medianPrice: 12 },
  { key: 'toys', name: 'Toys & games', products: 15, medianPrice: 30 },
];

/** The custom attributes of the sample and their kinds. */
export const SAMPLE_ATTRIBUTES = {
  age: 'number',
  app_sessions_per_week: 'number',
  loyalty_member: 'boolean',
  acquisition_channel: 'category',
  last_campaign_at: 'date',
  nps_score: 'number',
} as const;

/** Weekly rates of the social interaction types for an active profile of a persona. */
export interface WeeklyRates {
  view: number;
  like: number;
  share: number;
  comment: number;
  click: number;
}

/** One latent persona: its share and the distributions that drive its profiles and behaviour. */
export interface PersonaTruth {
  key: string;
  name: string;
  share: number;
  description: string;
  /** Age in years: normal, rounded, clamped to [16, 75]. */
  age: { mean: number; sd: number };
  /** log10(1 + followers): normal, then followers = round(10^x - 1) >= 0. */
  logFollowers: { mean: number; sd: number };
  /** App sessions per week: log-normal with this median and log-sd, one decimal, clamped to [0.1, 40]. */
  sessions: { median: number; logSd: number };
  /** Probability of `loyalty_member = true`. */
  loyaltyRate: number;
  /** Probability that the profile already existed before the sample period (otherwise it joins during it). */
  preExistingRate: number;
  /** Probability that the profile stops all social activity at a uniform time during its life in the period. */
  churnRate: number;
  /** Social interactions per active week (each profile also gets a log-normal activity multiplier, log-sd 0.2). */
  weeklyRates: WeeklyRates;
  /** Probabilities of 1, 2, 3, … purchase interactions in a 30-day window in which the profile buys. */
  purchasesPerWindow: number[];
  /** The median amount a buyer of this persona spends in a 30-day window in which they buy. */
  windowSpend: number;
  /** Probability that a purchase is followed by a rating, and the mean rating (normal sd 0.9, to half stars, 0.5..5). */
  rating: { rate: number; mean: number };
  /** Probability of listing each interest. */
  interests: Record<(typeof SAMPLE_INTERESTS)[number], number>;
  /** Weights over `SAMPLE_PLATFORMS`. */
  platforms: [number, number, number, number, number];
  /** Weights over `SAMPLE_CHANNELS`. */
  channels: [number, number, number, number, number, number];
  /** Probability of having responded to a campaign (`last_campaign_at` set). */
  campaignRate: number;
  /** Mean NPS answer (0..10) for the 30% who answered the survey. */
  npsMean: number;
}

/** The planted linear model of 30-day spend; coefficients are keyed by feature names of `src/engine/features.ts`. */
export interface SpendModelTruth {
  target: 'spend_next_30d';
  intercept: number;
  coefficients: Record<string, number>;
  /**
   * Log-sd of a buyer's amount in a window around the persona's `windowSpend` (the noise is whether and how much
   * one buys: `SampleData.diagnostics` measures the best R² it leaves).
   */
  amountLogSd: number;
}

const PERSONAS: PersonaTruth[] = [
  {
    key: 'loyal_high_spenders',
    name: 'Loyal high spenders',
    share: 0.04,
    description:
      'Older, long-standing loyalty-club members who open the app often and buy premium electronics and home goods most months, one order at a time.',
    age: { mean: 50, sd: 9 },
    logFollowers: { mean: 2.6, sd: 0.25 },
    sessions: { median: 12, logSd: 0.3 },
    loyaltyRate: 0.98,
    preExistingRate: 1,
    churnRate: 0.02,
    weeklyRates: { view: 1.5, like: 0.0012, share: 0.00016, comment: 0.0004, click: 0.0008 },
    purchasesPerWindow: [1],
    windowSpend: 60,
    rating: { rate: 0.25, mean: 4.4 },
    interests: { fashion: 0.25, tech: 0.55, fitness: 0.3, travel: 0.55, food: 0.3 },
    platforms: [0.3, 0.03, 0.15, 0.15, 0.37],
    channels: [0.25, 0.05, 0.02, 0.23, 0.3, 0.15],
    campaignRate: 0.75,
    npsMean: 8.8,
  },
  {
    key: 'bargain_hunters',
    name: 'Bargain hunters',
    share: 0.03,
    description:
      'Deal seekers in the loyalty club who click on offers and buy most months, in one to three small baskets of food, home goods and toys.',
    age: { mean: 37, sd: 9 },
    logFollowers: { mean: 2.3, sd: 0.3 },
    sessions: { median: 5, logSd: 0.3 },
    loyaltyRate: 0.85,
    preExistingRate: 1,
    churnRate: 0.04,
    weeklyRates: { view: 0.5, like: 0.0008, share: 0.00024, comment: 0.00024, click: 0.0048 },
    purchasesPerWindow: [0.3, 0.4, 0.3],
    windowSpend: 50,
    rating: { rate: 0.12, mean: 3.6 },
    interests: { fashion: 0.3, tech: 0.25, fitness: 0.15, travel: 0.15, food: 0.6 },
    platforms: [0.22, 0.13, 0.1, 0.15, 0.4],
    channels: [0.1, 0.35, 0.03, 0.1, 0.17, 0.25],
    campaignRate: 0.8,
    npsMean: 6.8,
  },
  {
    key: 'young_trendsetters',
    name: 'Trend-driven young users',
    share: 0.22,
    description:
      'Young, well-followed creators on TikTok and Instagram who like, share and comment more than anyone; they rarely buy (fashion and beauty when they do).',
    age: { mean: 23, sd: 3.5 },
    logFollowers: { mean: 3.8, sd: 0.3 },
    sessions: { median: 8, logSd: 0.3 },
    loyaltyRate: 0,
    preExistingRate: 0.5,
    churnRate: 0.04,
    weeklyRates: { view: 0.9, like: 0.0088, share: 0.0032, comment: 0.0028, click: 0.00096 },
    purchasesPerWindow: [1],
    windowSpend: 50,
    rating: { rate: 0.15, mean: 4.0 },
    interests: { fashion: 0.8, tech: 0.35, fitness: 0.5, travel: 0.3, food: 0.25 },
    platforms: [0.37, 0.45, 0.05, 0.11, 0.02],
    channels: [0.15, 0.25, 0.5, 0.08, 0.0, 0.02],
    campaignRate: 0.5,
    npsMean: 7.5,
  },
  {
    key: 'quiet_followers',
    name: 'Quiet followers',
    share: 0.22,
    description:
      'Long-time lurkers with small accounts who watch a lot of content but rarely react or buy (books and home goods when they do).',
    age: { mean: 40, sd: 10 },
    logFollowers: { mean: 0.9, sd: 0.3 },
    sessions: { median: 3, logSd: 0.3 },
    loyaltyRate: 0,
    preExistingRate: 0.95,
    churnRate: 0.04,
    weeklyRates: { view: 2.5, like: 0.00016, share: 0.00004, comment: 0.00004, click: 0.00024 },
    purchasesPerWindow: [1],
    windowSpend: 50,
    rating: { rate: 0.08, mean: 3.9 },
    interests: { fashion: 0.15, tech: 0.35, fitness: 0.15, travel: 0.25, food: 0.3 },
    platforms: [0.2, 0.08, 0.25, 0.37, 0.1],
    channels: [0.4, 0.15, 0.0, 0.15, 0.0, 0.3],
    campaignRate: 0.2,
    npsMean: 6.5,
  },
  {
    key: 'dormant_followers',
    name: 'Dormant followers',
    share: 0.49,
    description:
      'People who followed or signed up once and seldom come back: most show no activity at all in a given month (a median of 0 views a week), almost none buy, and they are the most likely to drop off.',
    age: { mean: 30, sd: 9 },
    logFollowers: { mean: 1.6, sd: 0.3 },
    sessions: { median: 1.5, logSd: 0.3 },
    loyaltyRate: 0,
    preExistingRate: 0.55,
    churnRate: 0.2,
    weeklyRates: { view: 0.06, like: 0.00032, share: 0.00004, comment: 0.00004, click: 0.00016 },
    purchasesPerWindow: [1],
    windowSpend: 50,
    rating: { rate: 0.05, mean: 3.4 },
    interests: { fashion: 0.25, tech: 0.25, fitness: 0.2, travel: 0.2, food: 0.35 },
    platforms: [0.3, 0.2, 0.15, 0.2, 0.15],
    channels: [0.3, 0.4, 0.1, 0.0, 0.0, 0.2],
    campaignRate: 0.3,
    npsMean: 5.5,
  },
];

/**
 * Purchase category weights per persona (each row sums to 1). The two buying personas' mixes are far apart: with
 * a few purchases per person the recommendations need a clear taste to learn from.
 */
const CATEGORY_AFFINITY: Record<string, Record<string, number>> = {
  loyal_high_spenders: {
    fashion: 0.05,
    beauty: 0.05,
    electronics: 0.4,
    home: 0.35,
    sports: 0.05,
    books: 0.08,
    food: 0.01,
    toys: 0.01,
  },
  bargain_hunters: {
    fashion: 0.05,
    beauty: 0.03,
    electronics: 0.02,
    home: 0.15,
    sports: 0.03,
    books: 0.02,
    food: 0.45,
    toys: 0.25,
  },
  young_trendsetters: {
    fashion: 0.38,
    beauty: 0.3,
    electronics: 0.12,
    home: 0.02,
    sports: 0.1,
    books: 0.02,
    food: 0.05,
    toys: 0.01,
  },
  quiet_followers: {
    fashion: 0.05,
    beauty: 0.05,
    electronics: 0.1,
    home: 0.2,
    sports: 0.05,
    books: 0.35,
    food: 0.15,
    toys: 0.05,
  },
  dormant_followers: {
    fashion: 0.15,
    beauty: 0.1,
    electronics: 0.1,
    home: 0.1,
    sports: 0.1,
    books: 0.1,
    food: 0.25,
    toys: 0.1,
  },
};

/** How one persona chooses products inside a category (see "Item preferences" in `data/README.md`). */
export interface ItemPreferenceTruth {
  /**
   * Exponent a on the catalogue's popularity curve: an item of popularity rank r (1 = bestseller of its category)
   * weighs r^(-catalogue.popularityExponent · a); above 1 sticks to the bestsellers, below 1 reaches into the tail.
   */
  popularityExponent: number;
  /** β of the price tilt exp(β · z), z = ln(price / category median price) / catalogue.priceLogSd. */
  priceAffinity: number;
  /** Weight multiplier of the category's trending products. */
  trendingBoost: number;
  /**
   * Probability that a purchase, made while the person owns a product whose complement they lack, is that
   * complement (the most recent one owed) instead of a fresh pick.
   */
  complementRate: number;
}

/** Item structure of the catalogue itself, shared by every persona. */
export interface CatalogueTruth {
  /** Zipf-like exponent of the popularity curve inside a category: rank r weighs r^-0.8. */
  popularityExponent: number;
  /** Log-sd of prices around the category median (prices are log-normal). */
  priceLogSd: number;
  /** Trending products per category, drawn among those outside the category's top `trendingSkipTop` sellers. */
  trendingPerCategory: number;
  trendingSkipTop: number;
  /** Share of products that have a complement: a cheaper product of the same category (camera -> charger). */
  complementShare: number;
}

/** Item-level preferences per persona: who buys the premium, the cheap, the trending and the complementary items. */
const ITEM_PREFERENCES: Record<string, ItemPreferenceTruth> = {
  loyal_high_spenders: { popularityExponent: 1, priceAffinity: 1.5, trendingBoost: 1, complementRate: 0.6 },
  bargain_hunters: { popularityExponent: 1, priceAffinity: -1.5, trendingBoost: 1, complementRate: 0.15 },
  young_trendsetters: { popularityExponent: 0.5, priceAffinity: 0, trendingBoost: 8, complementRate: 0.15 },
  quiet_followers: { popularityExponent: 1.6, priceAffinity: 0, trendingBoost: 1, complementRate: 0.3 },
  dormant_followers: { popularityExponent: 1, priceAffinity: 0, trendingBoost: 1, complementRate: 0.1 },
};

const CATALOGUE: CatalogueTruth = {
  popularityExponent: 0.8,
  priceLogSd: 0.4,
  trendingPerCategory: 3,
  trendingSkipTop: 3,
  complementShare: 0.4,
};

/**
 * Dollars a month: loyalty members are expected to spend about $40 a month, everyone else cents, so about 4% of
 * the profiles buy in a 30-day window ("Spend model" in data/README.md).
 */
const SPEND_MODEL: SpendModelTruth = {
  target: 'spend_next_30d',
  intercept: -0.3,
  coefficients: { log_followers: 0.1, age: 0.01, app_sessions_per_week: 0.04, loyalty_member: 40 },
  amountLogSd: 0.25,
};

/**
 * Multiplier of the like, share and comment rates by platform, after the published benchmarks' order: TikTok
 * engages most, then Instagram, YouTube, Facebook and X (see data/README.md, "Calibration").
 */
const PLATFORM_ENGAGEMENT: Record<(typeof SAMPLE_PLATFORMS)[number], number> = {
  instagram: 1,
  tiktok: 1.3,
  x: 0.4,
  youtube: 0.7,
  facebook: 0.5,
};

/**
 * Relative activity by UTC weekday (Sunday first): social use dips at the weekend, shopping peaks on Sunday and
 * Monday (data/README.md, "Calibration"). Events are placed by these weights; how many there are does not change.
 */
const WEEKDAYS = {
  social: [0.8, 1.1, 1.15, 1.15, 1.1, 1.0, 0.7],
  purchase: [1.3, 1.2, 1.0, 0.95, 0.9, 0.85, 0.8],
};

/** Everything planted in the sample; `data/README.md` explains it in prose. */
export const SAMPLE_TRUTH = {
  personas: PERSONAS,
  spendModel: SPEND_MODEL,
  categoryAffinity: CATEGORY_AFFINITY,
  /** Which products a persona picks inside a category; the same for purchases and product interactions. */
  itemPreferences: ITEM_PREFERENCES,
  catalogue: CATALOGUE,
  platformEngagement: PLATFORM_ENGAGEMENT,
  weekdays: WEEKDAYS,
  /** Share of purchases in the consumable categories that re-buy something the person bought there before. */
  repurchase: { categories: ['food', 'beauty'], rate: 0.35 },
  /** Length of a spend window; windows are aligned to the sample `end`: [end-30d, end), [end-60d, end-30d), … */
  windowDays: 30,
  growth: {
    /** Profiles joining during the period join at a rate growing by this factor per week. */
    weeklyJoinGrowth: 1.03,
    /** Profiles that existed before the period were created up to this many days before it (skewed recent). */
    preExistingSpanDays: 1095,
  },
};

/** The spend model's x of a profile: 1 (for the intercept), then the planted features in `coefficients` order. */
export function spendFeatures(profile: Profile): [number, number, number, number, number] {
  const followers = profile.followers ?? 0;
  const age = profile.attrs.age;
  const sessions = profile.attrs.app_sessions_per_week;
  const loyal = profile.attrs.loyalty_member;
  return [
    1,
    Math.log10(1 + followers),
    typeof age === 'number' ? age : 0,
    typeof sessions === 'number' ? sessions : 0,
    loyal === true ? 1 : 0,
  ];
}

/** The planted expected 30-day spend mu = x'β of a sample profile (before noise and clipping). */
export function expectedSpend(profile: Profile, model: SpendModelTruth = SPEND_MODEL): number {
  const c = model.coefficients;
  const [, logFollowers, age, sessions, loyal] = spendFeatures(profile);
  return (
    model.intercept +
    (c.log_followers ?? 0) * logFollowers +
    (c.age ?? 0) * age +
    (c.app_sessions_per_week ?? 0) * sessions +
    (c.loyalty_member ?? 0) * loyal
  );
}

/**
 * Per-profile feature table shared by segments, predictions, recommendations and stats.
 * Pure and fast: one pass over the interactions into Float64Array columns; NaN marks a missing value.
 */

import { closest } from 'fastest-levenshtein';
import { UserError } from '../domain/errors.ts';
import { own } from '../domain/names.ts';
import type { AttributeKind, Interaction, Product, Profile } from '../domain/types.ts';
import {
  type InteractionIndex,
  interactionIndex,
  itemOf,
  TYPE_CODE,
  typeOf,
  userRows,
  valueAt,
} from './interaction-index.ts';
import type { Scaling } from './segment-defaults.ts';

/** Column-oriented features: `columns[j][i]` is feature `names[j]` of user `userIds[i]`; NaN = missing. */
export interface FeatureTable {
  userIds: string[];
  names: string[];
  columns: Float64Array[];
  /** Count of NaN per feature. */
  missing: Record<string, number>;
}

/** The point in time features describe, and the engagement window. */
export interface FeatureOptions {
  /** Epoch ms: only interactions with timestamp < asOf count (no leakage). */
  asOf: number;
  /** Engagement window in days for the `*_per_week`, engagement and active-days features (default 56). */
  windowDays?: number;
  /** Only profiles that existed before asOf (created_at < asOf or unknown) become rows (default false: all). */
  existingOnly?: boolean;
}

/** What `computeFeatures` reads. */
export interface FeatureInput {
  profiles: Profile[];
  interactions: Interaction[];
  products: Product[];
  attributes: Record<string, AttributeKind>;
}

/** A feature a user can ask for, with what it means and its unit. */
export interface FeatureInfo {
  name: string;
  description: string;
  unit: string;
}

/** Unknown or unusable feature name; the message lists what is available. */
export class FeatureError extends UserError {
  override name = 'FeatureError';
  readonly code = 'feature';
}

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
/** Purchase history features (frequency, monetary, category shares) look back this many days. */
export const PURCHASE_LOOKBACK_DAYS = 365;
/** `recency_days` of a profile that never purchased (or longer ago) is capped here instead of being missing. */
export const RECENCY_CAP_DAYS = 365;

/** The features that separate the planted personas of the sample best; all built in, so they work on imports too. */
export const DEFAULT_SEGMENT_FEATURES: string[] = [
  'log_followers',
  'views_per_week',
  'active_days_per_week',
  'purchases_per_month',
  'spend_per_month',
  'avg_order_value',
];

const BUILTIN: FeatureInfo[] = [
  { name: 'log_followers', description: 'log10(1 + followers)', unit: 'log10 followers' },
  { name: 'followers', description: 'Follower count', unit: 'followers' },
  {
    name: 'engagement',
    description: 'Likes + shares + comments + clicks per week in the engagement window',
    unit: 'engagements/week',
  },
  { name: 'likes_per_week', description: 'Likes per week in the engagement window', unit: 'likes/week' },
  { name: 'shares_per_week', description: 'Shares per week in the engagement window', unit: 'shares/week' },
  {
    name: 'comments_per_week',
    description: 'Comments per week in the engagement window',
    unit: 'comments/week',
  },
  { name: 'clicks_per_week', description: 'Clicks per week in the engagement window', unit: 'clicks/week' },
  { name: 'views_per_week', description: 'Views per week in the engagement window', unit: 'views/week' },
  {
    name: 'engagement_rate',
    description: 'Engagements per view in the engagement window (missing without views)',
    unit: 'engagements/view',
  },
  {
    name: 'recency_days',
    description: `Days since the last purchase (capped at ${RECENCY_CAP_DAYS}, also for never)`,
    unit: 'days',
  },
  {
    name: 'frequency',
    description: `Purchases in the last ${PURCHASE_LOOKBACK_DAYS} days`,
    unit: 'purchases',
  },
  {
    name: 'monetary',
    description: `Purchase amount in the last ${PURCHASE_LOOKBACK_DAYS} days`,
    unit: 'amount',
  },
  {
    name: 'purchases_per_month',
    description: `Purchases per 30 days over the last ${PURCHASE_LOOKBACK_DAYS} days (or since the profile or the data began)`,
    unit: 'purchases/month',
  },
  {
    name: 'spend_per_month',
    description: `Purchase amount per 30 days over the last ${PURCHASE_LOOKBACK_DAYS} days (or since the profile or the data began)`,
    unit: 'amount/month',
  },
  {
    name: 'avg_order_value',
    description: `Average purchase amount in the last ${PURCHASE_LOOKBACK_DAYS} days (missing without purchases)`,
    unit: 'amount',
  },
  {
    name: 'active_days_per_week',
    description: 'Distinct days with any interaction, per week of the engagement window',
    unit: 'days/week',
  },
  { name: 'tenure_days', description: 'Days since the profile was created', unit: 'days' },
];
const BUILTIN_NAMES = new Set(BUILTIN.map((f) => f.name));

/** Every feature name that can be asked for on this audience. */
export function availableFeatures(
  attributes: Record<string, AttributeKind>,
  profiles?: Profile[],
  products?: Product[],
): FeatureInfo[] {
  const out = [...BUILTIN];
  for (const [name, kind] of Object.entries(attributes)) {
    if (BUILTIN_NAMES.has(name)) continue;
    if (kind === 'number') out.push({ name, description: `Custom attribute ${name}`, unit: name });
    else if (kind === 'boolean')
      out.push({ name, description: `Custom attribute ${name} (1 = yes)`, unit: 'yes/no' });
    else if (kind === 'date') out.push({ name, description: `Days since ${name}`, unit: 'days' });
  }
  if (profiles) {
    for (const interest of collectInterests(profiles)) {
      out.push({
        name: `interest:${interest}`,
        description: `Lists the interest ${interest} (1 = yes)`,
        unit: 'yes/no',
      });
    }
  }
  if (products) {
    for (const category of collectCategories(products)) {
      out.push({
        name: `category:${category}`,
        description: `Share of purchases in ${category} (last ${PURCHASE_LOOKBACK_DAYS} days)`,
        unit: 'share',
      });
    }
  }
  return out;
}

type Resolved =
  | { kind: 'builtin'; name: string }
  | { kind: 'attr'; name: string; attr: string; type: 'number' | 'boolean' | 'date' }
  | { kind: 'interest'; name: string; interest: string }
  | { kind: 'category'; name: string; category: number };

/** Computes the requested features for every profile as of `options.asOf`. */
export function computeFeatures(
  input: FeatureInput,
  features: string[],
  options: FeatureOptions,
): FeatureTable {
  const { asOf } = options;
  const windowDays = options.windowDays ?? 56;
  if (!Number.isFinite(asOf)) throw new FeatureError('asOf must be a finite epoch-ms time');
  if (!(windowDays >= 1)) throw new FeatureError(`windowDays must be at least 1, got ${windowDays}`);

  const categoryNames: string[] = [];
  const categoryIndex = new Map<string, number>();
  const resolved = features.map((name) => resolveFeature(name, input, categoryNames, categoryIndex));
  const windowStart = asOf - windowDays * DAY;
  const lookbackStart = asOf - PURCHASE_LOOKBACK_DAYS * DAY;
  const rows = profileRows(input.profiles, resolved, asOf, options.existingOnly === true);
  const n = rows.userIds.length;

  const index = interactionIndex(input.interactions, input.profiles);
  const { kept } = rows;
  const rowOfKey = userRows(index, input.profiles, kept ? (_, i) => kept[i] === 1 : undefined);
  const acc = accumulate(index, rowOfKey, n, usedCounters(resolved), {
    asOf,
    windowStart,
    windowDays,
    lookbackStart,
    categoryOfItem: categoryOfItems(index, input.products, categoryIndex, categoryNames.length),
    nCat: categoryNames.length,
  });

  // Rates divide by the part of the window in which the profile existed and the data covers (at least one week),
  // so newcomers are not mistaken for quiet users.
  const historyStart = Number.isFinite(acc.dataStart) ? acc.dataStart : asOf;
  // max(created_at, start of the data), over the creation times (no longer needed as such).
  const knownFrom = rows.createdAt;
  for (let i = 0; i < n; i++) knownFrom[i] = Math.max(knownFrom[i] as number, historyStart);
  const exposure: Exposure = { knownFrom, asOf, windowStart, lookbackStart };
  const { columns, missing } = featureColumns(resolved, rows, acc, exposure, categoryNames.length);
  return { userIds: rows.userIds, names: resolved.map((r) => r.name), columns, missing };
}

/** Only the counters some requested column reads are collected. */
function usedCounters(resolved: readonly Resolved[]): Set<Counter> {
  const used = new Set<Counter>();
  for (const r of resolved) {
    if (r.kind === 'builtin') for (const c of FEATURE_COUNTERS[r.name] ?? []) used.add(c);
    else if (r.kind === 'category') used.add('frequency');
  }
  return used;
}

/** The profiles a table has rows for, and what the built-in columns read from the profile objects. */
interface ProfileRows {
  userIds: string[];
  /** Creation times (-Infinity when unknown). */
  createdAt: Float64Array;
  /** Follower counts (NaN when unknown), when a column needs them. */
  followers: Float64Array | null;
  /** Which of all the profiles have a row (1), or null for all of them. */
  kept: Uint8Array | null;
  /** The profile objects of the rows, made on first use. */
  profiles: () => Profile[];
}

/**
 * One pass over the profile objects reads all the built-in columns need from them: at a million profiles,
 * each further pass costs a cache miss per profile. Profiles created at or after asOf are left out when asked
 * (created_at < asOf is false for NaN, as before).
 */
function profileRows(
  all: readonly Profile[],
  resolved: readonly Resolved[],
  asOf: number,
  existingOnly: boolean,
): ProfileRows {
  const wantFollowers = resolved.some(
    (r) => r.kind === 'builtin' && (r.name === 'followers' || r.name === 'log_followers'),
  );
  const created = new Float64Array(all.length);
  const followersAll = wantFollowers ? new Float64Array(all.length) : null;
  const idsAll = all.map((p, i) => {
    created[i] = p.created_at ?? Number.NEGATIVE_INFINITY;
    if (followersAll) followersAll[i] = typeof p.followers === 'number' ? p.followers : Number.NaN;
    return p.id;
  });
  let keep: Uint8Array | null = null;
  if (existingOnly) {
    for (let i = 0; i < all.length; i++) {
      if ((created[i] as number) < asOf) continue;
      keep ??= new Uint8Array(all.length).fill(1);
      keep[i] = 0;
    }
  }
  const kept = keep;
  // The left-out rows are squeezed out of our own arrays in place: at a million profiles every fresh array
  // counts towards the next full garbage collection (see `takeCounter`).
  let keptProfiles: Profile[] | null = kept ? null : (all as Profile[]);
  return {
    userIds: kept ? keepRows(idsAll, kept) : idsAll,
    createdAt: kept ? keepRows(created, kept) : created,
    followers: kept && followersAll ? keepRows(followersAll, kept) : followersAll,
    kept,
    // The profile objects themselves only for the columns that read other fields.
    profiles: () => {
      keptProfiles ??= all.filter((_, i) => (kept as Uint8Array)[i] === 1);
      return keptProfiles;
    },
  };
}

/** The category number of each item key (-1 for none), when category features are asked for. */
function categoryOfItems(
  index: InteractionIndex,
  products: readonly Product[],
  categoryIndex: ReadonlyMap<string, number>,
  nCat: number,
): Int32Array | null {
  if (nCat === 0) return null;
  const categoryOfItem = new Int32Array(index.itemIds.length).fill(-1);
  for (const p of products) {
    const c = categoryIndex.get(p.category.toLowerCase());
    const item = index.itemKeys[p.id];
    if (c !== undefined && item !== undefined) categoryOfItem[item] = c;
  }
  return categoryOfItem;
}

/** The counters (or follower counts) a resolved feature's column reads. */
function readsOf(r: Resolved): Array<Counter | 'followers'> {
  if (r.kind === 'category') return ['frequency'];
  if (r.kind !== 'builtin') return [];
  if (r.name === 'followers' || r.name === 'log_followers') return ['followers'];
  return FEATURE_COUNTERS[r.name] ?? [];
}

/** Every requested column, in order, with its count of missing values. */
function featureColumns(
  resolved: readonly Resolved[],
  rows: ProfileRows,
  acc: Accumulators,
  exposure: Exposure,
  nCat: number,
): { columns: Float64Array[]; missing: Record<string, number> } {
  const n = rows.userIds.length;
  // A column that is the last to read a counter (or the follower counts) is computed into it in place.
  const readers = new Map<Counter | 'followers', number>();
  for (const r of resolved) for (const c of readsOf(r)) readers.set(c, (readers.get(c) ?? 0) + 1);
  const take = (c: Counter | 'followers'): boolean => readers.get(c) === 0;
  const columns: Float64Array[] = [];
  const missing: Record<string, number> = {};
  for (const r of resolved) {
    for (const c of readsOf(r)) readers.set(c, (readers.get(c) as number) - 1);
    let col: Float64Array;
    switch (r.kind) {
      case 'builtin':
        col = builtinColumn(r.name, n, rows.followers, acc, exposure, exposure.asOf, take, rows.profiles);
        break;
      case 'attr':
        col = attributeColumn(rows.profiles(), r.attr, r.type, exposure.asOf);
        break;
      case 'interest':
        col = interestColumn(rows.profiles(), r.interest);
        break;
      case 'category':
        col = categoryColumn(acc, nCat, r.category);
        break;
    }
    columns.push(col);
    missing[r.name] = countNaN(col);
  }
  return { columns, missing };
}

// Each column is filled by a small function of its own: the optimizing compiler then compiles each loop once and
// keeps it, where one long function with a loop per case is recompiled (and deoptimized) case by case.

/** The rows `keep` marks, moved to the front in place; a typed array comes back as a view of them. */
function keepRows<T extends string[] | Float64Array>(values: T, keep: Uint8Array): T {
  let next = 0;
  for (let i = 0; i < values.length; i++) if (keep[i] === 1) values[next++] = values[i] as T[number];
  if (Array.isArray(values)) {
    values.length = next;
    return values;
  }
  return values.subarray(0, next) as T;
}

function attributeColumn(
  profiles: readonly Profile[],
  attr: string,
  type: 'number' | 'boolean' | 'date',
  asOf: number,
): Float64Array {
  const n = profiles.length;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = (profiles[i] as Profile).attrs[attr];
    if (type === 'number') col[i] = typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
    else if (type === 'boolean') col[i] = typeof v === 'boolean' ? (v ? 1 : 0) : Number.NaN;
    else col[i] = typeof v === 'number' && Number.isFinite(v) && v <= asOf ? (asOf - v) / DAY : Number.NaN;
  }
  return col;
}

function interestColumn(profiles: readonly Profile[], interest: string): Float64Array {
  const n = profiles.length;
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let has = 0;
    for (const x of (profiles[i] as Profile).interests) {
      if (x.toLowerCase() === interest) {
        has = 1;
        break;
      }
    }
    col[i] = has;
  }
  return col;
}

function categoryColumn(acc: Accumulators, nCat: number, category: number): Float64Array {
  const frequency = counterOf(acc, 'frequency');
  const col = new Float64Array(frequency.length);
  for (let i = 0; i < col.length; i++) {
    const f = frequency[i] as number;
    col[i] = f > 0 ? (acc.categoryCounts[i * nCat + category] as number) / f : Number.NaN;
  }
  return col;
}

function countNaN(col: Float64Array): number {
  let nan = 0;
  for (let i = 0; i < col.length; i++) if (Number.isNaN(col[i] as number)) nan++;
  return nan;
}

/** Per-user counters the pass over the interactions can fill. */
type Counter =
  | 'views'
  | 'likes'
  | 'shares'
  | 'comments'
  | 'clicks'
  | 'engagements'
  | 'frequency'
  | 'monetary'
  | 'lastPurchase'
  | 'activeDays';
/** The counters each built-in feature reads. */
const FEATURE_COUNTERS: Record<string, Counter[]> = {
  engagement: ['engagements'],
  likes_per_week: ['likes'],
  shares_per_week: ['shares'],
  comments_per_week: ['comments'],
  clicks_per_week: ['clicks'],
  views_per_week: ['views'],
  engagement_rate: ['engagements', 'views'],
  recency_days: ['lastPurchase'],
  frequency: ['frequency'],
  monetary: ['monetary'],
  purchases_per_month: ['frequency'],
  spend_per_month: ['monetary'],
  avg_order_value: ['frequency', 'monetary'],
  active_days_per_week: ['activeDays'],
};

/**
 * What the rates divide by: the weeks of the engagement window and the months of the purchase lookback in which
 * a row's profile existed and the data covers (`knownFrom[i]` is the later of the two beginnings).
 */
interface Exposure {
  knownFrom: Float64Array;
  asOf: number;
  windowStart: number;
  lookbackStart: number;
}

/**
 * Per-user counters filled by the single pass over the interactions: only the used ones, a column each (row i =
 * profile row i), so that a feature column built from one or two counters reads just those, in sequence.
 */
interface Accumulators {
  counters: Partial<Record<Counter, Float64Array>>;
  categoryCounts: Float64Array;
  /** Earliest interaction before asOf (+Infinity when none). */
  dataStart: number;
}

function counterOf(acc: Accumulators, name: Counter): Float64Array {
  const counter = acc.counters[name];
  if (counter === undefined) throw new Error(`internal: counter ${name} was not collected`);
  return counter;
}

/**
 * One pass's view of the counters: a column per counter (empty when it is not collected, so every write is
 * guarded by one length check, no lookups) and what the pass needs to look at.
 */
interface Pass {
  views: Float64Array;
  likes: Float64Array;
  shares: Float64Array;
  comments: Float64Array;
  clicks: Float64Array;
  engagements: Float64Array;
  frequency: Float64Array;
  monetary: Float64Array;
  last: Float64Array;
  active: Float64Array;
  wantSocial: boolean;
  wantPurchases: boolean;
  wantActive: boolean;
  /** The active days of the window as a bitset of 32-bit words: a small scratch row reused per user. */
  bits: Int32Array;
  categoryCounts: Float64Array;
  asOf: number;
  windowStart: number;
  lookbackStart: number;
  categoryOfItem: Int32Array | null;
  nCat: number;
}

/** The parameters of the pass over the interactions. */
interface PassWindow {
  asOf: number;
  windowStart: number;
  windowDays: number;
  lookbackStart: number;
  categoryOfItem: Int32Array | null;
  nCat: number;
}

/**
 * The one pass over the interactions, on the shared typed view (interaction-index.ts): no string is hashed,
 * and each user's events are contiguous there, so they are added up in locals and each counter of the user is
 * written once. The active days of the window are a bitset of 32-bit words, counted when the user is done.
 */
function accumulate(
  index: InteractionIndex,
  rowOfKey: Int32Array,
  n: number,
  used: Set<Counter>,
  p: PassWindow,
): Accumulators {
  const counters: Partial<Record<Counter, Float64Array>> = {};
  for (const c of used) counters[c] = new Float64Array(n);
  const pass = passOf(counters, n, p);
  let dataStart = Number.POSITIVE_INFINITY;
  if (n > 0 && (pass.wantSocial || pass.wantPurchases || pass.wantActive)) {
    // The earliest event before asOf, as a scan would find it (NaN times are never before anything).
    if (index.minTs < p.asOf) dataStart = index.minTs;
    // One user at a time. Keys follow the profiles' order when the view was built with them, so the counter
    // columns are written in order too.
    const users = index.userIds.length;
    for (let key = 0; key < users; key++) {
      const row = rowOfKey[key] as number;
      if (row >= 0) tallyUser(index, key, row, pass);
    }
  }
  return { counters, categoryCounts: pass.categoryCounts, dataStart };
}

function passOf(counters: Partial<Record<Counter, Float64Array>>, n: number, p: PassWindow): Pass {
  const none = new Float64Array(0);
  const col = (c: Counter) => counters[c] ?? none;
  const last = col('lastPurchase');
  last.fill(Number.NEGATIVE_INFINITY);
  const wantActive = col('activeDays').length > 0;
  const social: Counter[] = ['views', 'likes', 'shares', 'comments', 'clicks', 'engagements'];
  return {
    views: col('views'),
    likes: col('likes'),
    shares: col('shares'),
    comments: col('comments'),
    clicks: col('clicks'),
    engagements: col('engagements'),
    frequency: col('frequency'),
    monetary: col('monetary'),
    last,
    active: col('activeDays'),
    wantSocial: social.some((c) => col(c).length > 0),
    wantPurchases: col('frequency').length > 0 || col('monetary').length > 0 || last.length > 0,
    wantActive,
    bits: new Int32Array(wantActive ? Math.ceil(p.windowDays / 32) : 0),
    categoryCounts: p.nCat > 0 ? new Float64Array(n * p.nCat) : new Float64Array(0),
    asOf: p.asOf,
    windowStart: p.windowStart,
    lookbackStart: p.lookbackStart,
    categoryOfItem: p.categoryOfItem,
    nCat: p.nCat,
  };
}

/** Adds up one user's events (rows of user `key`) into row `row` of the counters. */
function tallyUser(index: InteractionIndex, key: number, row: number, pass: Pass): void {
  const { start, f64, i32 } = index;
  const { asOf, windowStart, lookbackStart, categoryOfItem, nCat, categoryCounts, bits } = pass;
  const { wantActive, wantSocial, wantPurchases } = pass;
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
  const to = start[key + 1] as number;
  for (let r = start[key] as number; r < to; r++) {
    const ts = f64[2 * r] as number;
    if (!(ts < asOf)) continue;
    const packed = i32[4 * r + 2] as number;
    const code = typeOf(packed);
    const inWindow = ts >= windowStart;
    const isPurchase = code === PURCHASE;
    if (!(inWindow && (wantActive || (wantSocial && !isPurchase))) && !(isPurchase && wantPurchases))
      continue;
    if (inWindow && wantActive) {
      const day = Math.floor((ts - windowStart) / DAY);
      const w = day >>> 5;
      bits[w] = (bits[w] as number) | (1 << (day & 31));
      anyBit = true;
    }
    if (isPurchase) {
      if (!wantPurchases) continue;
      if (ts > last) last = ts;
      if (ts >= lookbackStart) {
        frequency++;
        const v = valueAt(index, r);
        if (Number.isFinite(v)) monetary += v;
        if (categoryOfItem !== null) {
          const item = itemOf(packed);
          const c = item >= 0 ? (categoryOfItem[item] as number) : -1;
          if (c >= 0) categoryCounts[row * nCat + c] = (categoryCounts[row * nCat + c] as number) + 1;
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
  writeTally(pass, row, views, likes, shares, comments, clicks, engaged, frequency, monetary, last);
  if (anyBit) pass.active[row] = countActiveDays(bits);
}

/** Writes one user's sums into the collected counters (0 + v1 + v2 … is v1 + v2 … exactly). */
function writeTally(
  pass: Pass,
  row: number,
  views: number,
  likes: number,
  shares: number,
  comments: number,
  clicks: number,
  engaged: number,
  frequency: number,
  monetary: number,
  last: number,
): void {
  if (pass.views.length > 0) pass.views[row] = views;
  if (pass.likes.length > 0) pass.likes[row] = likes;
  if (pass.shares.length > 0) pass.shares[row] = shares;
  if (pass.comments.length > 0) pass.comments[row] = comments;
  if (pass.clicks.length > 0) pass.clicks[row] = clicks;
  if (pass.engagements.length > 0) pass.engagements[row] = engaged;
  if (pass.frequency.length > 0) pass.frequency[row] = frequency;
  if (pass.monetary.length > 0) pass.monetary[row] = monetary;
  if (pass.last.length > 0) pass.last[row] = last;
}

/** The days set in the bitset, which it clears for the next user. */
function countActiveDays(bits: Int32Array): number {
  let days = 0;
  for (let w = 0; w < bits.length; w++) {
    days += popcount(bits[w] as number);
    bits[w] = 0;
  }
  return days;
}

const VIEW = TYPE_CODE.view;
const LIKE = TYPE_CODE.like;
const SHARE = TYPE_CODE.share;
const COMMENT = TYPE_CODE.comment;
const CLICK = TYPE_CODE.click;
const PURCHASE = TYPE_CODE.purchase;

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * One built-in column, from the profiles' own fields or from the counters. `take(c)` says whether the column is
 * the last reader of counter `c`: it is then written over that counter instead of into a fresh array.
 */
function builtinColumn(
  name: string,
  n: number,
  followers: Float64Array | null,
  acc: Accumulators,
  exposure: Exposure,
  asOf: number,
  take: (c: Counter | 'followers') => boolean,
  profiles: () => Profile[],
): Float64Array {
  const into = (c: Counter | 'followers', from: Float64Array): Float64Array =>
    take(c) ? from : new Float64Array(from.length);
  const counter = (c: Counter) => counterOf(acc, c);
  switch (name) {
    case 'log_followers':
    case 'followers': {
      const from = followers as Float64Array;
      return followersColumn(from, name === 'log_followers', into('followers', from));
    }
    case 'engagement':
    case 'likes_per_week':
    case 'shares_per_week':
    case 'comments_per_week':
    case 'clicks_per_week':
    case 'views_per_week':
    case 'active_days_per_week': {
      const c = (FEATURE_COUNTERS[name] as Counter[])[0] as Counter;
      return perWeekColumn(counter(c), exposure, into(c, counter(c)));
    }
    case 'engagement_rate':
      return ratioColumn(
        counter('engagements'),
        counter('views'),
        into('engagements', counter('engagements')),
      );
    case 'recency_days':
      return recencyColumn(counter('lastPurchase'), asOf, into('lastPurchase', counter('lastPurchase')));
    case 'frequency':
    case 'monetary':
      return take(name) ? counter(name) : counter(name).slice();
    case 'purchases_per_month':
      return perMonthColumn(counter('frequency'), exposure, into('frequency', counter('frequency')));
    case 'spend_per_month':
      return perMonthColumn(counter('monetary'), exposure, into('monetary', counter('monetary')));
    case 'avg_order_value':
      return ratioColumn(counter('monetary'), counter('frequency'), into('monetary', counter('monetary')));
    case 'tenure_days':
      return tenureColumn(profiles(), asOf);
    default:
      return new Float64Array(n).fill(Number.NaN);
  }
}

/** Follower counts (NaN for unknown) as the column: non-finite and, for the log, negative counts are missing. */
function followersColumn(followers: Float64Array, log: boolean, col: Float64Array): Float64Array {
  for (let i = 0; i < col.length; i++) {
    const f = followers[i] as number;
    col[i] = !Number.isFinite(f) || (log && f < 0) ? Number.NaN : log ? Math.log10(1 + f) : f;
  }
  return col;
}

function tenureColumn(profiles: readonly Profile[], asOf: number): Float64Array {
  const col = new Float64Array(profiles.length);
  for (let i = 0; i < col.length; i++) {
    const c = (profiles[i] as Profile).created_at;
    col[i] = c === null ? Number.NaN : (asOf - c) / DAY;
  }
  return col;
}

/** A counter per week of the engagement window the profile existed in (at least one week). */
function perWeekColumn(counter: Float64Array, e: Exposure, col: Float64Array): Float64Array {
  const { knownFrom, asOf, windowStart } = e;
  for (let i = 0; i < col.length; i++) {
    const weeks = Math.max(1, (asOf - Math.max(windowStart, knownFrom[i] as number)) / WEEK);
    col[i] = (counter[i] as number) / weeks;
  }
  return col;
}

/** A counter per 30 days of the purchase lookback the profile existed in (at least one week). */
function perMonthColumn(counter: Float64Array, e: Exposure, col: Float64Array): Float64Array {
  const { knownFrom, asOf, lookbackStart } = e;
  for (let i = 0; i < col.length; i++) {
    const months = Math.max(WEEK / MONTH, (asOf - Math.max(lookbackStart, knownFrom[i] as number)) / MONTH);
    col[i] = (counter[i] as number) / months;
  }
  return col;
}

/** num / den per row, NaN where den is 0. */
function ratioColumn(num: Float64Array, den: Float64Array, col: Float64Array): Float64Array {
  for (let i = 0; i < col.length; i++) {
    const d = den[i] as number;
    col[i] = d > 0 ? (num[i] as number) / d : Number.NaN;
  }
  return col;
}

function recencyColumn(lastPurchase: Float64Array, asOf: number, col: Float64Array): Float64Array {
  for (let i = 0; i < col.length; i++) {
    const last = lastPurchase[i] as number;
    col[i] =
      last === Number.NEGATIVE_INFINITY ? RECENCY_CAP_DAYS : Math.min(RECENCY_CAP_DAYS, (asOf - last) / DAY);
  }
  return col;
}

function resolveFeature(
  raw: string,
  input: FeatureInput,
  categoryNames: string[],
  categoryIndex: Map<string, number>,
): Resolved {
  const name = raw.trim();
  if (BUILTIN_NAMES.has(name)) return { kind: 'builtin', name };
  const kind = own(input.attributes, name);
  if (kind === 'number' || kind === 'boolean' || kind === 'date')
    return { kind: 'attr', name, attr: name, type: kind };
  if (kind === 'category' || kind === 'list') {
    throw new FeatureError(
      `feature "${name}" is a ${kind} attribute, not a number; use numeric, yes/no or date attributes. ${listAvailable(input)}`,
    );
  }
  const lower = name.toLowerCase();
  if (lower.startsWith('interest:')) {
    const interest = lower.slice('interest:'.length);
    if (collectInterests(input.profiles).includes(interest)) return { kind: 'interest', name, interest };
  } else if (lower.startsWith('category:')) {
    const category = lower.slice('category:'.length);
    if (collectCategories(input.products).includes(category)) {
      let idx = categoryIndex.get(category);
      if (idx === undefined) {
        idx = categoryNames.length;
        categoryNames.push(category);
        categoryIndex.set(category, idx);
      }
      return { kind: 'category', name, category: idx };
    }
  }
  const names = availableFeatures(input.attributes, input.profiles, input.products).map((f) => f.name);
  const guess = names.length > 0 ? closest(name, names) : '';
  const hint = guess ? ` Did you mean "${guess}"?` : '';
  throw new FeatureError(`unknown feature "${name}".${hint} Available: ${names.join(', ')}`);
}

function listAvailable(input: FeatureInput): string {
  return `Available: ${availableFeatures(input.attributes, input.profiles, input.products)
    .map((f) => f.name)
    .join(', ')}`;
}

function collectInterests(profiles: Profile[]): string[] {
  const seen = new Set<string>();
  for (const p of profiles) for (const x of p.interests) seen.add(x.toLowerCase());
  return [...seen].sort();
}

function collectCategories(products: Product[]): string[] {
  const seen = new Set<string>();
  for (const p of products) seen.add(p.category.toLowerCase());
  return [...seen].sort();
}

/** How each column is imputed, transformed and standardized, without the scaled values themselves. */
export interface ColumnScaling {
  /** Per-column median used to fill missing values (in original units). */
  medians: number[];
  /** Subtracted after imputation and the log transform (0 with 'none'). */
  means: number[];
  /** Divided by after centring (1 with 'none' and for constant columns). */
  sds: number[];
  /** How many missing values were filled with the column median, per feature. */
  imputed: Record<string, number>;
  scaling: Scaling;
}

/**
 * The parameters `scaleColumns` applies, from two passes over each column: a caller that reads the scaled values
 * a block of rows at a time (`scaledRowsInto`) never holds the whole n×d matrix, which at a million profiles is
 * 64 MB written and read again with a stride, and an allocation that can start a full garbage collection.
 */
export function columnScaling(
  table: FeatureTable,
  scaling: Scaling,
  scratch: Float64Array = new Float64Array(table.userIds.length),
): ColumnScaling {
  const n = table.userIds.length;
  const means: number[] = [];
  const sds: number[] = [];
  const medians: number[] = [];
  const imputed: Record<string, number> = {};
  const log = scaling === 'log-zscore';
  for (let j = 0; j < table.names.length; j++) {
    const col = table.columns[j] as Float64Array;
    const median = columnMedian(col, scratch);
    medians.push(median);
    let filled = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let v = col[i] as number;
      if (Number.isNaN(v)) {
        v = median;
        filled++;
      }
      sum += log ? signedLog1p(v) : v;
    }
    imputed[table.names[j] as string] = filled;
    const mean = n > 0 ? sum / n : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const raw = col[i] as number;
      const v = Number.isNaN(raw) ? median : raw;
      const dv = (log ? signedLog1p(v) : v) - mean;
      ss += dv * dv;
    }
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    means.push(scaling === 'none' ? 0 : mean);
    sds.push(scaling === 'none' || !(sd > 1e-12) ? 1 : sd);
  }
  return { medians, means, sds, imputed, scaling };
}

/**
 * Rows from .. from+count-1 of the scaled matrix into `out`, row-major (row r at out[r*d ..]). Each column is
 * read in sequence, so a block that fits in cache costs one sweep over the columns.
 */
export function scaledRowsInto(
  table: FeatureTable,
  s: ColumnScaling,
  from: number,
  count: number,
  out: Float64Array,
): void {
  const d = table.names.length;
  const log = s.scaling === 'log-zscore';
  for (let j = 0; j < d; j++) {
    const col = table.columns[j] as Float64Array;
    const median = s.medians[j] as number;
    const mean = s.means[j] as number;
    const sd = s.sds[j] as number;
    for (let r = 0; r < count; r++)
      out[r * d + j] = scaledValue(col[from + r] as number, median, mean, sd, log);
  }
}

// One raw value as the model sees it: missing filled with the median, then (log-)z-scored.
function scaledValue(raw: number, median: number, mean: number, sd: number, log: boolean): number {
  const v = Number.isNaN(raw) ? median : raw;
  return ((log ? signedLog1p(v) : v) - mean) / sd;
}

/** The listed rows of the scaled matrix (all of them for null), in the listed order, row-major. */
export function scaledRowsAt(table: FeatureTable, s: ColumnScaling, rows: Int32Array | null): Float64Array {
  const d = table.names.length;
  if (rows === null) {
    const n = table.userIds.length;
    const all = new Float64Array(n * d);
    scaledRowsInto(table, s, 0, n, all);
    return all;
  }
  const out = new Float64Array(rows.length * d);
  const log = s.scaling === 'log-zscore';
  for (let j = 0; j < d; j++) {
    const col = table.columns[j] as Float64Array;
    const median = s.medians[j] as number;
    const mean = s.means[j] as number;
    const sd = s.sds[j] as number;
    for (let r = 0; r < rows.length; r++)
      out[r * d + j] = scaledValue(col[rows[r] as number] as number, median, mean, sd, log);
  }
  return out;
}

function signedLog1p(v: number): number {
  return v >= 0 ? Math.log1p(v) : -Math.log1p(-v);
}

/** Scaled, imputed design matrix (one Float64Array row per user) plus the transform used. */
export interface ScaledMatrix extends ColumnScaling {
  /** Row views into `flat`, made on first access (a million views cost time and memory when not needed). */
  readonly matrix: Float64Array[];
  /** The same values row-major: row i is flat[i*d .. (i+1)*d). */
  flat: Float64Array;
}

/**
 * Imputes missing values with the column median (reported in `imputed`, never silently 0), optionally applies
 * sign(x)·ln(1+|x|), then z-scores with the sample standard deviation (n-1); constant columns get sd 1.
 */
export function scaleColumns(table: FeatureTable, scaling: Scaling): ScaledMatrix {
  const n = table.userIds.length;
  const d = table.names.length;
  const params = columnScaling(table, scaling);
  const buffer = scaledRowsAt(table, params, null);
  let rows: Float64Array[] | null = null;
  return {
    get matrix(): Float64Array[] {
      if (rows === null) {
        rows = new Array(n);
        for (let i = 0; i < n; i++) rows[i] = buffer.subarray(i * d, (i + 1) * d);
      }
      return rows;
    },
    flat: buffer,
    ...params,
  };
}

/** Median of the non-NaN values (0 when there are none); quickselect, O(n); `scratch` avoids a copy allocation. */
export function columnMedian(col: Float64Array, scratch?: Float64Array): number {
  let count = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i] as number)) count++;
  if (count === 0) return 0;
  const values = scratch && scratch.length >= count ? scratch.subarray(0, count) : new Float64Array(count);
  let k = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i] as number;
    if (!Number.isNaN(v)) values[k++] = v;
  }
  const mid = count >>> 1;
  const upper = select(values, mid);
  if (count % 2 === 1) return upper;
  // After selecting `mid`, everything left of it is <= it: the lower middle is the max of that part.
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mid; i++) if ((values[i] as number) > lower) lower = values[i] as number;
  return (lower + upper) / 2;
}

/**
 * Median of the non-NaN values of `values` (0 when there are none), as `columnMedian`, but selected in place:
 * `values` is reordered (missing values last). With `f` non-decreasing, the median of f(values): the middle
 * order statistics map.
 */
export function medianInPlace(values: Float64Array, f?: (x: number) => number): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) values[count++] = v;
  }
  // The missing values go last: `values` stays a reordering of what it held.
  values.fill(Number.NaN, count);
  if (count === 0) return 0;
  const part = values.subarray(0, count);
  const mid = count >>> 1;
  const upper = select(part, mid);
  if (count % 2 === 1) return f ? f(upper) : upper;
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mid; i++) if ((part[i] as number) > lower) lower = part[i] as number;
  return f ? (f(lower) + f(upper)) / 2 : (lower + upper) / 2;
}

/** The k-th smallest value (0-based); reorders `a` in place (Hoare quickselect, median-of-three pivot). */
export function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] as number;
  }
  return a[k] as number;
}

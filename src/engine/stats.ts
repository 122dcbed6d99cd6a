import type { Interaction, Profile } from '../domain/types.ts';
import { interactionIndex, TYPE_CODE, typeOf, userRows } from './interaction-index.ts';

const DAY = 86_400_000;
const VIEW = TYPE_CODE.view;
const LIKE = TYPE_CODE.like;
const SHARE = TYPE_CODE.share;
const COMMENT = TYPE_CODE.comment;
const CLICK = TYPE_CODE.click;
const PURCHASE = TYPE_CODE.purchase;

/** A value with how many profiles have it and their share of the audience. */
export interface Tally {
  value: string;
  count: number;
  share: number;
}

/** The quick audience numbers a manager asks for, all relative to `asOf`. */
export interface AudienceStats {
  asOf: number;
  total: number;
  /** Profiles that existed a week before asOf (created before asOf-7d, or with no creation date). */
  totalWeekAgo: number;
  newThisWeek: number;
  newLastWeek: number;
  active7d: number;
  activePrevWeek: number;
  active30d: number;
  /** Likes, shares, comments and clicks per view over the last 30 days; null without views. */
  engagementRate: number | null;
  engagements30d: number;
  views30d: number;
  purchasers30d: number;
  revenue30d: number;
  revenuePrev30d: number;
  /** Revenue of the last 30 days per profile in the audience. */
  revenuePerUser: number;
  top: { countries: Tally[]; platforms: Tally[]; interests: Tally[] };
  latestInteraction: number | null;
}

/**
 * Computes audience stats in one pass over the interactions. `profiles` is the (possibly filtered)
 * audience; interactions of people outside it are ignored, so `where=` filters apply to every figure.
 */
export function computeStats(
  profiles: readonly Profile[],
  interactions: readonly Interaction[],
  options: { asOf: number; top?: number },
): AudienceStats {
  const { asOf } = options;
  const weekStart = asOf - 7 * DAY;
  const prevWeekStart = asOf - 14 * DAY;
  const monthStart = asOf - 30 * DAY;
  const prevMonthStart = asOf - 60 * DAY;
  const n = profiles.length;
  // The typed view of the interactions is shared and memoised, so no user id is hashed per interaction here,
  // and it groups each user's events together, so a user's flags are set in one sweep.
  const index = interactionIndex(interactions, profiles);
  const rowOfKey = userRows(index, profiles);
  const { start, f64, i32, purchases } = index;

  // Per-profile bit flags: 1 active this week, 2 active previous week, 4 active in 30 days, 8 purchased in 30 days.
  const flags = new Uint8Array(n);
  let engagements = 0;
  let views = 0;
  let latest = Number.NEGATIVE_INFINITY;
  const users = index.userIds.length;
  for (let key = 0; key < users; key++) {
    const i = rowOfKey[key] as number;
    const to = start[key + 1] as number;
    let f = i >= 0 ? (flags[i] as number) : 0;
    for (let r = start[key] as number; r < to; r++) {
      const t = f64[2 * r] as number;
      if (t >= asOf || t < prevMonthStart) {
        // Only the audience's own events: others' old ones are no one's latest activity here.
        if (i >= 0 && t < asOf && t > latest) latest = t;
        continue;
      }
      if (i < 0) continue;
      if (t > latest) latest = t;
      if (t >= weekStart) f |= 1;
      else if (t >= prevWeekStart) f |= 2;
      if (t >= monthStart) {
        f |= 4;
        const code = typeOf(i32[4 * r + 2] as number);
        if (code === VIEW) views++;
        else if (code === LIKE || code === SHARE || code === COMMENT || code === CLICK) engagements++;
        else if (code === PURCHASE) f |= 8;
      }
    }
    if (i >= 0) flags[i] = f;
  }
  // Revenue is summed in data order, as the events came: the same rounding as a plain scan.
  let revenue = 0;
  let revenuePrev = 0;
  for (let p = 0; p < purchases.ts.length; p++) {
    const t = purchases.ts[p] as number;
    if (t >= asOf || t < prevMonthStart || rowOfKey[purchases.user[p] as number] === -1) continue;
    const v = purchases.value[p] as number;
    const amount = Number.isNaN(v) ? 0 : v;
    if (t >= monthStart) revenue += amount;
    else revenuePrev += amount;
  }

  let active7d = 0;
  let activePrevWeek = 0;
  let active30d = 0;
  let purchasers = 0;
  let newThisWeek = 0;
  let newLastWeek = 0;
  let totalWeekAgo = 0;
  // The top lists are counted in the same pass: each profile object is read once (it is rarely in cache).
  const countries = new Map<string, number>();
  const platforms = new Map<string, number>();
  const interests = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = profiles[i] as Profile;
    if (p.country !== null) countries.set(p.country, (countries.get(p.country) ?? 0) + 1);
    if (p.platform !== null) platforms.set(p.platform, (platforms.get(p.platform) ?? 0) + 1);
    for (const x of p.interests) interests.set(x, (interests.get(x) ?? 0) + 1);
    let f = flags[i] as number;
    // Profiles imported without interactions still carry last_active_at from the source platform.
    const seen = p.last_active_at;
    if (seen !== null && seen < asOf) {
      if (seen >= weekStart) f |= 1 | 4;
      else if (seen >= monthStart) f |= 4;
      if (seen >= prevWeekStart && seen < weekStart) f |= 2;
    }
    if (f & 1) active7d++;
    if (f & 2) activePrevWeek++;
    if (f & 4) active30d++;
    if (f & 8) purchasers++;
    const created = p.created_at;
    if (created === null || created < weekStart) totalWeekAgo++;
    if (created !== null && created >= weekStart && created < asOf) newThisWeek++;
    if (created !== null && created >= prevWeekStart && created < weekStart) newLastWeek++;
  }

  const topN = options.top ?? 5;
  return {
    asOf,
    total: n,
    totalWeekAgo,
    newThisWeek,
    newLastWeek,
    active7d,
    activePrevWeek,
    active30d,
    engagementRate: views > 0 ? engagements / views : null,
    engagements30d: engagements,
    views30d: views,
    purchasers30d: purchasers,
    revenue30d: revenue,
    revenuePrev30d: revenuePrev,
    revenuePerUser: n > 0 ? revenue / n : 0,
    top: {
      countries: tally(countries, n, topN),
      platforms: tally(platforms, n, topN),
      interests: tally(interests, n, topN),
    },
    latestInteraction: Number.isFinite(latest) ? latest : null,
  };
}

/** The `top` most common values (ties by value, so the order of counting does not matter). */
function tally(counts: Map<string, number>, n: number, top: number): Tally[] {
  const total = n || 1;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([value, count]) => ({ value, count, share: count / total }));
}

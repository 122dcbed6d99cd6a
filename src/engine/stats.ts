import { type AudienceStats, statsFromCounts, type Tally } from '../domain/audience-stats.ts';
import { ExactSum } from '../domain/exact-sum.ts';
import type { Interaction, Profile } from '../domain/types.ts';

export type { AudienceStats, Tally } from '../domain/audience-stats.ts';

import { type InteractionIndex, interactionIndex, TYPE_CODE, typeOf, userRows } from './interaction-index.ts';

const DAY = 86_400_000;
const VIEW = TYPE_CODE.view;
const LIKE = TYPE_CODE.like;
const SHARE = TYPE_CODE.share;
const COMMENT = TYPE_CODE.comment;
const CLICK = TYPE_CODE.click;
const PURCHASE = TYPE_CODE.purchase;

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
  const windows: Windows = {
    asOf,
    weekStart: asOf - 7 * DAY,
    prevWeekStart: asOf - 14 * DAY,
    monthStart: asOf - 30 * DAY,
    prevMonthStart: asOf - 60 * DAY,
  };
  const n = profiles.length;
  // The typed view of the interactions is shared and memoised, so no user id is hashed per interaction here,
  // and it groups each user's events together, so a user's flags are set in one sweep.
  const index = interactionIndex(interactions, profiles);
  const rowOfKey = userRows(index, profiles);
  const activity = activityFlags(index, rowOfKey, n, windows);
  const { revenue, revenuePrev } = revenueSums(index, rowOfKey, windows);
  const people = profileCounts(profiles, activity.flags, windows);
  const { views, engagements, latest } = activity;
  const topN = options.top ?? 5;
  return statsFromCounts({
    asOf,
    total: n,
    totalWeekAgo: people.totalWeekAgo,
    newThisWeek: people.newThisWeek,
    newLastWeek: people.newLastWeek,
    active7d: people.active7d,
    activePrevWeek: people.activePrevWeek,
    active30d: people.active30d,
    reach30d: people.reach,
    engaged30d: people.engaged,
    engagements30d: engagements,
    views30d: views,
    purchasers30d: people.purchasers,
    revenue30d: revenue,
    revenuePrev30d: revenuePrev,
    top: {
      countries: tally(people.countries, n, topN),
      platforms: tally(people.platforms, n, topN),
      interests: tally(people.interests, n, topN),
    },
    latestInteraction: Number.isFinite(latest) ? latest : null,
  });
}

/** The instants the figures are counted from. */
interface Windows {
  asOf: number;
  weekStart: number;
  prevWeekStart: number;
  monthStart: number;
  prevMonthStart: number;
}

/**
 * Per-profile bit flags from the interactions (1 active this week, 2 active previous week, 4 active in 30
 * days, 8 purchased in 30 days, 16 reached: saw content in 30 days, 32 engaged in 30 days), the views and
 * engagements of the last 30 days, and the latest event before asOf.
 */
function activityFlags(
  index: InteractionIndex,
  rowOfKey: Int32Array,
  n: number,
  w: Windows,
): { flags: Uint8Array; views: number; engagements: number; latest: number } {
  const { asOf, weekStart, prevWeekStart, monthStart, prevMonthStart } = w;
  const { start, f64, i32 } = index;
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
        // A like or comment without a recorded view still means the person saw the content: reached.
        if (code === VIEW) {
          views++;
          f |= 16;
        } else if (code === LIKE || code === SHARE || code === COMMENT || code === CLICK) {
          engagements++;
          f |= 16 | 32;
        } else if (code === PURCHASE) f |= 8;
      }
    }
    if (i >= 0) flags[i] = f;
  }
  return { flags, views, engagements, latest };
}

/**
 * Revenue of the last 30 days and the 30 before: each the exact sum of the purchases' values, rounded once
 * (domain/exact-sum.ts), so the figure does not depend on the order of the events, and a database's exact
 * per-slice sums give the same one.
 */
function revenueSums(
  index: InteractionIndex,
  rowOfKey: Int32Array,
  w: Windows,
): { revenue: number; revenuePrev: number } {
  const { purchases } = index;
  const revenue = new ExactSum();
  const revenuePrev = new ExactSum();
  for (let p = 0; p < purchases.ts.length; p++) {
    const t = purchases.ts[p] as number;
    if (t >= w.asOf || t < w.prevMonthStart || rowOfKey[purchases.user[p] as number] === -1) continue;
    const v = purchases.value[p] as number;
    if (Number.isNaN(v)) continue;
    if (t >= w.monthStart) revenue.add(v);
    else revenuePrev.add(v);
  }
  return { revenue: revenue.value(), revenuePrev: revenuePrev.value() };
}

/** The per-profile counts: activity (flags or last_active_at), purchasers, newcomers and the top-list counts. */
function profileCounts(profiles: readonly Profile[], flags: Uint8Array, w: Windows) {
  const { asOf, weekStart, prevWeekStart, monthStart } = w;
  const counts = {
    active7d: 0,
    activePrevWeek: 0,
    active30d: 0,
    purchasers: 0,
    reach: 0,
    engaged: 0,
    newThisWeek: 0,
    newLastWeek: 0,
    totalWeekAgo: 0,
    // The top lists are counted in the same pass: each profile object is read once (it is rarely in cache).
    countries: new Map<string, number>(),
    platforms: new Map<string, number>(),
    interests: new Map<string, number>(),
  };
  const { countries, platforms, interests } = counts;
  for (let i = 0; i < profiles.length; i++) {
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
    if (f & 1) counts.active7d++;
    if (f & 2) counts.activePrevWeek++;
    if (f & 4) counts.active30d++;
    if (f & 8) counts.purchasers++;
    if (f & 16) counts.reach++;
    if (f & 32) counts.engaged++;
    const created = p.created_at;
    if (created === null || created < weekStart) counts.totalWeekAgo++;
    if (created !== null && created >= weekStart && created < asOf) counts.newThisWeek++;
    if (created !== null && created >= prevWeekStart && created < weekStart) counts.newLastWeek++;
  }
  return counts;
}

/** The `top` most common values (ties by value, so the order of counting does not matter). */
function tally(counts: Map<string, number>, n: number, top: number): Tally[] {
  const total = n || 1;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([value, count]) => ({ value, count, share: count / total }));
}

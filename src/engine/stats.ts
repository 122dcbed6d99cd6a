import type { Interaction, Profile } from '../model/types.ts';

const DAY = 86_400_000;
const ENGAGEMENTS = new Set(['like', 'share', 'comment', 'click']);

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
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set((profiles[i] as Profile).id, i);

  // Per-profile bit flags: 1 active this week, 2 active previous week, 4 active in 30 days, 8 purchased in 30 days.
  const flags = new Uint8Array(n);
  let engagements = 0;
  let views = 0;
  let revenue = 0;
  let revenuePrev = 0;
  let latest = Number.NEGATIVE_INFINITY;
  for (const event of interactions) {
    const t = event.timestamp;
    if (t >= asOf || t < prevMonthStart) {
      if (t < asOf && t > latest) latest = t;
      continue;
    }
    const i = index.get(event.user_id);
    if (i === undefined) continue;
    if (t > latest) latest = t;
    let f = flags[i] as number;
    if (t >= weekStart) f |= 1;
    else if (t >= prevWeekStart) f |= 2;
    if (t >= monthStart) {
      f |= 4;
      if (event.type === 'view') views++;
      else if (ENGAGEMENTS.has(event.type)) engagements++;
      else if (event.type === 'purchase') {
        f |= 8;
        revenue += event.value ?? 0;
      }
    } else if (event.type === 'purchase') {
      revenuePrev += event.value ?? 0;
    }
    flags[i] = f;
  }

  let active7d = 0;
  let activePrevWeek = 0;
  let active30d = 0;
  let purchasers = 0;
  let newThisWeek = 0;
  let newLastWeek = 0;
  let totalWeekAgo = 0;
  for (let i = 0; i < n; i++) {
    const p = profiles[i] as Profile;
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
      countries: tally(profiles, (p) => (p.country === null ? [] : [p.country]), topN),
      platforms: tally(profiles, (p) => (p.platform === null ? [] : [p.platform]), topN),
      interests: tally(profiles, (p) => p.interests, topN),
    },
    latestInteraction: Number.isFinite(latest) ? latest : null,
  };
}

function tally(
  profiles: readonly Profile[],
  values: (p: Profile) => readonly string[],
  top: number,
): Tally[] {
  const counts = new Map<string, number>();
  for (const p of profiles) {
    for (const v of values(p)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const total = profiles.length || 1;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([value, count]) => ({ value, count, share: count / total }));
}

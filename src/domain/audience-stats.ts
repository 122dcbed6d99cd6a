/**
 * The shape of the quick audience stats and the rates derived from their counts. Both the engine (computing
 * the counts in memory) and a database backend (computing them in SQL) build the result through
 * `statsFromCounts`, so every rate has one definition whichever backend answers.
 */

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

/** The counted figures of the stats; the rates are derived from them by `statsFromCounts`. */
export type StatsCounts = Omit<AudienceStats, 'engagementRate' | 'revenuePerUser'>;

/** The stats with their rates: engagements per view (null without views) and revenue per profile. */
export function statsFromCounts(counts: StatsCounts): AudienceStats {
  const { total, views30d, engagements30d, revenue30d } = counts;
  // Spelled out so the keys keep the order the JSON output has always had.
  return {
    asOf: counts.asOf,
    total,
    totalWeekAgo: counts.totalWeekAgo,
    newThisWeek: counts.newThisWeek,
    newLastWeek: counts.newLastWeek,
    active7d: counts.active7d,
    activePrevWeek: counts.activePrevWeek,
    active30d: counts.active30d,
    engagementRate: views30d > 0 ? engagements30d / views30d : null,
    engagements30d,
    views30d,
    purchasers30d: counts.purchasers30d,
    revenue30d,
    revenuePrev30d: counts.revenuePrev30d,
    revenuePerUser: total > 0 ? revenue30d / total : 0,
    top: counts.top,
    latestInteraction: counts.latestInteraction,
  };
}

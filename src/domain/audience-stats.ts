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
  /**
   * People who engaged ÷ people reached over the last 30 days (÷ the audience, "followers", where no views are
   * recorded, so reach is unknown); null when there is neither. Each person counts once on both sides and
   * everyone who engaged was reached, so it is never above 100% by construction.
   */
  engagementRate: number | null;
  /** What the engagement rate divides by: 'reach', 'followers' (no views recorded), or null (no rate). */
  engagementBase: 'reach' | 'followers' | null;
  /** Distinct people in the audience who saw content (a view, or a like, share, comment or click) in 30 days. */
  reach30d: number;
  /** Distinct people in the audience with a like, share, comment or click in 30 days. */
  engaged30d: number;
  /** Likes, shares, comments and clicks of the last 30 days (events, a person may have several). */
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
export type StatsCounts = Omit<AudienceStats, 'engagementRate' | 'engagementBase' | 'revenuePerUser'>;

/** The engagement rate and what it divides by: engaged people ÷ reach, or ÷ the audience where reach is unknown. */
export function engagementRate(counts: {
  total: number;
  views30d: number;
  reach30d: number;
  engaged30d: number;
}): { rate: number | null; base: 'reach' | 'followers' | null } {
  // Reach is only known when views are recorded: without them the people who engaged would be all of "reach".
  if (counts.views30d > 0 && counts.reach30d > 0) {
    return { rate: counts.engaged30d / counts.reach30d, base: 'reach' };
  }
  if (counts.engaged30d > 0 && counts.total > 0)
    return { rate: counts.engaged30d / counts.total, base: 'followers' };
  return { rate: null, base: null };
}

/** The stats with their rates: the engagement rate (see `engagementRate`) and revenue per profile. */
export function statsFromCounts(counts: StatsCounts): AudienceStats {
  const { total, views30d, engagements30d, revenue30d } = counts;
  const engagement = engagementRate(counts);
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
    engagementRate: engagement.rate,
    engagementBase: engagement.base,
    reach30d: counts.reach30d,
    engaged30d: counts.engaged30d,
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

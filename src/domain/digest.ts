/**
 * The digest's data types handed between the digest planner and the Block Kit builders: what a digest
 * message shows, what people see about a schedule, and what the "New audience digest" modal submitted.
 * Plain data, so the builders render digests without importing the digest folder (which imports them).
 */
import type { AudienceStats } from './audience-stats.ts';
import type { DeliveryRecord } from './types.ts';

/** The audience stats a digest shows, week over week. */
export const DIGEST_TOTAL_FIELDS = [
  'total',
  'totalWeekAgo',
  'newThisWeek',
  'newLastWeek',
  'active7d',
  'activePrevWeek',
  'purchasers30d',
  'revenue30d',
  'revenuePrev30d',
] as const;

/** The digest's audience totals: those fields of the audience stats. */
export type DigestTotals = Pick<AudienceStats, (typeof DIGEST_TOTAL_FIELDS)[number]>;

/** One segment this week, with its match in the comparison run. */
export interface DigestSegment {
  index: number;
  name: string;
  size: number;
  share: number;
  /** The matched segment of the comparison run, or null when this segment is new. */
  previous: { name: string; size: number } | null;
  /** Expected spend of the members in the next 30 days; null without predictions. */
  predictedRevenue: number | null;
  /** Product names, best first; empty without recommendations or for a small segment. */
  topProducts: string[];
}

/** People who were in one segment last week and are in another now. */
export interface DigestMovement {
  from: string;
  to: string;
  count: number;
}

/** Everything a digest message shows, as plain data (src/digest/content.ts computes it). */
export interface DigestReport {
  configKey: string;
  dataVersion: number;
  /** The instant the data describes (just after its latest interaction). */
  asOf: number;
  latestInteraction: number | null;
  updatedAt: number | null;
  source: string | null;
  /** False when there are no profiles at all. */
  hasData: boolean;
  totals: DigestTotals;
  k: number;
  segments: DigestSegment[];
  movements: DigestMovement[];
  /** Segments of the comparison run with no counterpart now. */
  vanished: Array<{ name: string; size: number }>;
  /** The run this week is compared with; null when there is none old enough. */
  comparedWith: { runId: string; createdAt: number } | null;
  runCreatedAt: number | null;
  /** When the audience last changed and how many days ago, if that was about a week or more: the figures are that old. */
  unchanged?: { since: number; days: number } | null;
  /** Why a part is missing (no predictions possible, …), one line each. */
  notes: string[];
  /** Segment sizes per week (latest run of each week with the same k), for the chart. */
  sizesOverTime: Array<{ weekStart: number; segments: Array<{ name: string; size: number }> }>;
  /** The command behind "Open details". */
  detailsCommand: string;
}

/** What people see about one schedule: its next delivery and its latest delivery record. */
export interface ScheduleStatus {
  next: number | null;
  last: DeliveryRecord | null;
}

/** What the modal submitted, as plain values. */
export interface ScheduleFormValues {
  channel: string | null;
  cadence: string | null;
  weekdays: string[];
  time: string | null;
  zone: string | null;
  content: string[];
  k: string | null;
}

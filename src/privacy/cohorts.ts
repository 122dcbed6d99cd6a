/**
 * Small-cohort suppression: in anything posted to a channel (shared replies, digests), a figure about fewer
 * than MIN_COHORT_SIZE people reads "fewer than 10", and figures derived from such a group (its share, its
 * revenue, week-over-week changes that would reveal it) are left out. Private answers show exact numbers but
 * flag small segments. Per-person answers are marked `perPerson` and never leave the asker's private view.
 */
import type { Reply } from '../domain/reply.ts';

/** Who will see a reply: only the person who asked, or a whole channel. */
export type Audience = 'private' | 'channel';

/** The suppression rule a builder applies. */
export interface CohortRule {
  audience: Audience;
  minCohortSize: number;
}

/** The words that replace a small count. */
export function fewerThan(minCohortSize: number): string {
  return `fewer than ${minCohortSize}`;
}

/** Whether a group of `count` people is too small to show on its own anywhere a channel can see it. */
export function isSmallCohort(count: number, minCohortSize: number): boolean {
  return count < minCohortSize;
}

/** Whether this count must be hidden for this audience. */
export function hides(count: number, rule: CohortRule): boolean {
  return rule.audience === 'channel' && isSmallCohort(count, rule.minCohortSize);
}

/** A count of people as this audience may see it: the formatted number, or "fewer than 10". */
export function cohortCount(count: number, rule: CohortRule, format: (n: number) => string = String): string {
  return hides(count, rule) ? fewerThan(rule.minCohortSize) : format(count);
}

/**
 * Whether a change between two counts may be shown: never when either side, or the difference (people who
 * joined or left), is a small group, since it would reveal them.
 */
export function changeVisible(now: number, before: number, rule: CohortRule): boolean {
  if (rule.audience !== 'channel') return true;
  const diff = Math.abs(now - before);
  return !(
    isSmallCohort(now, rule.minCohortSize) ||
    isSmallCohort(before, rule.minCohortSize) ||
    (diff > 0 && isSmallCohort(diff, rule.minCohortSize))
  );
}

/**
 * The pure helper for machine-readable results: each named count below `min` becomes null, and the names of
 * the suppressed counts are listed, so data attached to a channel post cannot leak what the text hides.
 */
export function suppressSmallCohorts<T extends Record<string, unknown>>(
  values: T,
  countKeys: readonly (keyof T & string)[],
  min: number,
): T & { suppressed: string[] } {
  const out: Record<string, unknown> = { ...values };
  const suppressed: string[] = [];
  for (const key of countKeys) {
    const v = values[key];
    if (typeof v === 'number' && isSmallCohort(v, min)) {
      out[key] = null;
      suppressed.push(key);
    }
  }
  return { ...(out as T), suppressed };
}

/** Marks a reply as being about one person: the Slack layer keeps it private and never offers to share it. */
export function markPerPerson(reply: Reply): Reply {
  const data = typeof reply.data === 'object' && reply.data !== null ? reply.data : {};
  return { ...reply, data: { ...data, perPerson: true } };
}

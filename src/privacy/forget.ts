/**
 * Forgetting people (right to erasure): removes every record of them from the data set in one change. What
 * is removed: profiles, interactions, their rows in stored segment runs (sizes adjusted), every cached model
 * (they hold per-person histories and assignments; all are stale after the change anyway and refit on next
 * use), and any delivery or audit text that mentions their id. Deliveries never hold per-person data and
 * exports are never queued (they are attached to the reply at once), so there is nothing else to purge.
 */
import type { AudienceData } from '../domain/types.ts';
import { markAudienceChanged } from '../store/store.ts';

/** What a forget removed, in counts (never ids). */
export interface ForgetReport {
  profiles: number;
  interactions: number;
  /** Rows (person -> segment) removed from stored segment runs, and how many runs had any. */
  segmentAssignments: number;
  segmentRuns: number;
  models: number;
  /** Delivery and audit entries whose text mentioned an id, now cleared. */
  mentions: number;
}

/** Whether anything at all was removed. */
export function removedAnything(report: ForgetReport): boolean {
  return Object.values(report).some((n) => n > 0);
}

/**
 * Removes the people with these ids from `data` (call inside store.commit) and bumps the data version when
 * anything changed. Pure apart from mutating `data`; `now` stamps the change.
 */
export function forgetPeople(data: AudienceData, ids: ReadonlySet<string>, now: Date): ForgetReport {
  const report: ForgetReport = {
    profiles: 0,
    interactions: 0,
    segmentAssignments: 0,
    segmentRuns: 0,
    models: 0,
    mentions: 0,
  };
  if (ids.size === 0) return report;

  const profiles = data.profiles.filter((p) => !ids.has(p.id));
  report.profiles = data.profiles.length - profiles.length;
  if (report.profiles > 0) data.profiles = profiles;

  const interactions = data.interactions.filter((i) => !ids.has(i.user_id));
  report.interactions = data.interactions.length - interactions.length;
  if (report.interactions > 0) data.interactions = interactions;

  for (const run of data.segmentRuns) {
    if (!run.user_ids.some((id) => ids.has(id))) continue;
    const userIds: string[] = [];
    const labels: number[] = [];
    const sizes = run.sizes.slice();
    for (let i = 0; i < run.user_ids.length; i++) {
      const id = run.user_ids[i] as string;
      const label = run.labels[i] as number;
      if (ids.has(id)) {
        report.segmentAssignments++;
        if (sizes[label] !== undefined) sizes[label] = Math.max(0, (sizes[label] as number) - 1);
        continue;
      }
      userIds.push(id);
      labels.push(label);
    }
    run.user_ids = userIds;
    run.labels = labels;
    run.sizes = sizes;
    report.segmentRuns++;
  }

  const changed = report.profiles + report.interactions + report.segmentAssignments > 0;
  if (changed) {
    report.models = Object.keys(data.models).length;
    data.models = {};
  }

  // Free text should never hold an id, but if a delivery note or an audit line ever did, it goes too.
  // Whole-token matches only, so forgetting `u1` leaves a note about `u12` alone.
  const tokens = [...ids].map(
    (id) => new RegExp(`(?<![\\w-])${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`),
  );
  const mentions = (text: string | null) => text !== null && tokens.some((t) => t.test(text));
  for (const d of data.deliveries) {
    if (mentions(d.detail)) {
      d.detail = null;
      report.mentions++;
    }
  }
  for (const a of data.audit) {
    if (mentions(a.detail)) {
      a.detail = '[removed: mentioned a forgotten person]';
      report.mentions++;
    }
  }

  if (changed) markAudienceChanged(data, now);
  return report;
}

/** "1 profile, 34 interactions, 3 segment assignments in 2 runs, 4 cached models". */
export function describeForget(report: ForgetReport): string {
  const n = (count: number, one: string, many = `${one}s`) =>
    `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
  const parts = [n(report.profiles, 'profile'), n(report.interactions, 'interaction')];
  parts.push(
    `${n(report.segmentAssignments, 'segment assignment')}${report.segmentRuns > 0 ? ` in ${n(report.segmentRuns, 'stored run')}` : ''}`,
  );
  parts.push(n(report.models, 'cached model'));
  if (report.mentions > 0) parts.push(n(report.mentions, 'log mention'));
  return parts.join(', ');
}

/**
 * Forgetting people (right to erasure): removes every record of them from the data set in one change. What
 * is removed: profiles, interactions, their rows in stored segment runs (sizes adjusted), every cached model
 * (they hold per-person histories and assignments; all are stale after the change anyway and refit on next
 * use), and any delivery or audit text that mentions their id; each platform connection remembers (as a hash) not
 * to sync them again. Deliveries never hold per-person data and
 * exports are never queued (they are attached to the reply at once), so there is nothing else to purge.
 */
import { createHash } from 'node:crypto';
import type { StoreChange } from '../store/store.ts';

/**
 * The key a platform connection keeps for a forgotten person, so its next sync does not bring them back from the
 * platform: a hash of the audience id (the id itself is not kept), stored with the connection's synced keys.
 */
export function forgottenKey(id: string): string {
  return `forgotten:${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32)}`;
}

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
 * Removes the people with these ids everywhere, within one store change (pass `scrubBackup` to it, and the
 * time that stamps the change as its `now`); the store bumps the data version when anything changed.
 */
export async function forgetPeople(tx: StoreChange, ids: ReadonlySet<string>): Promise<ForgetReport> {
  const report: ForgetReport = {
    profiles: 0,
    interactions: 0,
    segmentAssignments: 0,
    segmentRuns: 0,
    models: 0,
    mentions: 0,
  };
  if (ids.size === 0) return report;
  Object.assign(report, await tx.removePeople(ids));
  // Connected platforms still hold these people: their syncs must not bring them back (see forgottenKey).
  const keys = [...ids].map(forgottenKey);
  // Synced keys are kept per platform (src/connectors/sync-commit.ts keySpace).
  const platforms = new Set((await tx.connections.list()).map((c) => c.kind));
  for (const platform of platforms) await tx.addSyncedKeys(platform, keys);
  if (report.profiles + report.interactions + report.segmentAssignments > 0) {
    report.models = await tx.clearModels();
  }
  // Free text should never hold an id, but if a delivery note or an audit line ever did, it goes too.
  // Whole-token matches only, so forgetting `u1` leaves a note about `u12` alone.
  const tokens = [...ids].map(
    (id) => new RegExp(`(?<![\\w-])${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`),
  );
  const mentions = (text: string) => tokens.some((t) => t.test(text));
  report.mentions += await tx.redactDeliveries(mentions);
  report.mentions += await tx.redactAudit(mentions, '[removed: mentioned a forgotten person]');
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

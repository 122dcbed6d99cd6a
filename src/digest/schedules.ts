/**
 * Digest schedules and their delivery records in the store: creating, finding, pausing, resuming and
 * deleting schedules (ownership checked in permissions.ts), and reading the delivery history.
 */
import type { ScheduleStatus } from '../domain/digest.ts';
import type { AuditEntry, DeliveryRecord, DigestSchedule } from '../domain/types.ts';
import { appendAudit } from '../privacy/audit.ts';
import type { Store } from '../store/store.ts';
import { nextOccurrences, occurrencesBetween } from './occurrences.ts';
import { type Actor, canManage, type DigestPolicy, OWNERS_ONLY } from './permissions.ts';
import { DigestError, type ScheduleInput } from './validate.ts';

/** Delivery records older than this are dropped when new ones are written. */
export const KEEP_DELIVERIES_MS = 180 * 86_400_000;
/** At most this many delivery records are kept (the newest). */
export const MAX_DELIVERIES = 50_000;

/** A new schedule id that was never used, even by a deleted schedule (its delivery keys must stay its own). */
export function nextScheduleId(data: {
  schedules: readonly DigestSchedule[];
  deliveries: readonly DeliveryRecord[];
  audit: readonly AuditEntry[];
}): string {
  let max = 0;
  const see = (id: string) => {
    const m = /^sch_(\d+)$/.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  };
  for (const s of data.schedules) see(s.id);
  for (const d of data.deliveries) see(d.schedule_id);
  for (const a of data.audit) if (a.action.startsWith('digest.')) see(a.detail.split(' ')[0] ?? '');
  return `sch_${max + 1}`;
}

/** Stores a new schedule owned by `ownerId`; durable when the promise resolves. */
export async function createSchedule(
  store: Store,
  input: ScheduleInput,
  ownerId: string,
  now: number,
): Promise<DigestSchedule> {
  const [schedules, deliveries, audit] = await Promise.all([
    store.digests.schedules(),
    store.digests.deliveries(),
    store.audit.entries(),
  ]);
  const schedule: DigestSchedule = {
    id: nextScheduleId({ schedules, deliveries, audit }),
    channel_id: input.channel_id,
    owner_id: ownerId,
    cadence: input.cadence,
    weekdays: input.weekdays,
    local_time: input.local_time,
    time_zone: input.time_zone,
    paused: false,
    last_error: null,
    created_at: now,
    options: { ...input.options },
  };
  await store.change(async (tx) => {
    await tx.addSchedule(schedule);
    await appendAudit(tx, {
      at: now,
      actor: ownerId,
      action: 'digest.create',
      detail: `${schedule.id} ${schedule.channel_id}`,
    });
  });
  return schedule;
}

/** The schedule with this id, or a DigestError listing the ids that exist. */
export function findSchedule(
  data: { schedules: readonly DigestSchedule[] },
  id: string | undefined,
): DigestSchedule {
  if (id === undefined || id.trim() === '') {
    throw new DigestError('say which digest, e.g. sch_1; `/audience digest list` shows their ids');
  }
  const wanted = id.trim().toLowerCase();
  const found = data.schedules.find((s) => s.id.toLowerCase() === wanted);
  if (found) return found;
  const ids = data.schedules.map((s) => s.id);
  throw new DigestError(
    ids.length === 0
      ? `there is no digest ${id}: none are set up yet; create one with /audience digest add`
      : `there is no digest ${id}; the digests are ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`,
  );
}

/** Refuses unless `actor` may manage `schedule`, naming who can. */
export function assertCanManage(
  schedule: DigestSchedule,
  actor: Actor,
  verb: string,
  policy: DigestPolicy = OWNERS_ONLY,
): void {
  if (canManage(schedule, actor, policy)) return;
  throw new DigestError(
    `only the owner of ${schedule.id} (<@${schedule.owner_id}>) or an admin can ${verb} it; ask them, or create your own with /audience digest`,
  );
}

/**
 * Pauses or resumes. Resuming clears the last error and marks the occurrences missed while paused (within
 * the grace period) as skipped, so they are not sent late as if the app had been down.
 */
export async function setPaused(
  store: Store,
  schedule: DigestSchedule,
  paused: boolean,
  actor: Actor,
  now: number,
  graceMs: number,
): Promise<void> {
  await store.change(async (tx) => {
    const s = await tx.updateSchedule(schedule.id, paused ? { paused } : { paused, last_error: null });
    if (!s) return;
    if (!paused) {
      const index = deliveryIndex({ deliveries: await tx.digests.deliveries() });
      for (const o of occurrencesBetween(s, Math.max(s.created_at, now - graceMs), now)) {
        if (index.has(o.key)) continue;
        await tx.putDelivery({
          key: o.key,
          schedule_id: s.id,
          status: 'skipped',
          at: now,
          detail: 'paused at the time',
        });
      }
    }
    const action = paused ? 'digest.pause' : 'digest.resume';
    await appendAudit(tx, { at: now, actor: actor.userId, action, detail: s.id });
  });
}

/** Deletes a schedule; its delivery records stay (they hold its keys) until they age out. */
export async function deleteSchedule(
  store: Store,
  schedule: DigestSchedule,
  actor: Actor,
  now: number,
): Promise<void> {
  await store.change(async (tx) => {
    await tx.removeSchedule(schedule.id);
    await appendAudit(tx, { at: now, actor: actor.userId, action: 'digest.delete', detail: schedule.id });
  });
}

/** Delivery records by key. */
export function deliveryIndex(data: { deliveries: readonly DeliveryRecord[] }): Map<string, DeliveryRecord> {
  const index = new Map<string, DeliveryRecord>();
  for (const d of data.deliveries) index.set(d.key, d);
  return index;
}

/** The most recently updated delivery record of each schedule. */
export function latestDeliveries(deliveries: readonly DeliveryRecord[]): Map<string, DeliveryRecord> {
  const latest = new Map<string, DeliveryRecord>();
  for (const d of deliveries) {
    const seen = latest.get(d.schedule_id);
    if (!seen || d.at >= seen.at) latest.set(d.schedule_id, d);
  }
  return latest;
}

/** When a schedule is next due after `now` (null when it never is: invalid zone or time). */
export function nextOccurrenceOf(schedule: DigestSchedule, now: number): number | null {
  return nextOccurrences(schedule, now, 1)[0]?.at ?? null;
}

/** The status of every schedule at `now`. */
export function scheduleStatuses(
  data: { schedules: readonly DigestSchedule[]; deliveries: readonly DeliveryRecord[] },
  now: number,
): Map<string, ScheduleStatus> {
  const latest = latestDeliveries(data.deliveries);
  const out = new Map<string, ScheduleStatus>();
  for (const s of data.schedules) {
    const next = s.paused ? null : nextOccurrenceOf(s, now);
    out.set(s.id, { next, last: latest.get(s.id) ?? null });
  }
  return out;
}

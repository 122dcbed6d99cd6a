/**
 * What is due: the scheduler's decisions as pure functions of schedules, delivery records, the time and the
 * grace period. No clock, no timers, no store: the scheduler (scheduler.ts) reads those and acts on the plan,
 * and these functions are tested on their own.
 *
 * Per occurrence without a delivery record (and not being sent by this process right now):
 * - paused schedule: skip it ("paused at the time");
 * - missed by more than the grace period (DIGEST_GRACE_HOURS, the app was down): skip it;
 * - otherwise deliver it, with a "sent late" note when it is more than a few minutes late.
 *
 * A `started` record left by a crash may or may not have reached Slack: it is never resent automatically (a
 * duplicate in a channel is worse than a gap people can see and fix), only marked interrupted, and sent again
 * only by a deliberate retry.
 */
import type { DeliveryRecord, DigestSchedule } from '../domain/types.ts';
import { localStamp } from '../domain/zoned-time.ts';
import { occurrencesBetween } from './occurrences.ts';
import { nextOccurrenceOf } from './schedules.ts';

const HOUR = 3_600_000;
/** How far back the first tick looks for missed occurrences (a monthly digest is due every ~5 weeks). */
export const LOOKBACK_MS = 35 * 24 * HOUR;
/** Later ticks rescan this much before the previous one, in case the clock stepped back a little. */
export const RESCAN_MS = HOUR;
/** Content of digests due this soon is computed ahead of time. */
export const PREPARE_AHEAD_MS = 10 * 60_000;
/** Never wait less than this between ticks: with a pinned clock (FIXED_NOW) time does not move at all. */
export const MIN_TICK_MS = 1000;
/** Detail of a `started` record while this process sends it. */
export const SENDING = 'sending';
/** Detail prefix of a `started` record whose process stopped before it finished. */
export const INTERRUPTED = 'interrupted';
const INTERRUPTED_DETAIL = `${INTERRUPTED}: the app stopped while sending it; not resent because it may have been posted`;

/** One digest to send: an occurrence, or a "send now" / retry (no due time, no late note). */
export interface DeliveryJob {
  schedule: DigestSchedule;
  key: string;
  /** Null for "send now" and retries. */
  dueAt: number | null;
  lateByMs: number;
}

/** An occurrence skipped because it was missed by more than the grace period (logged by the scheduler). */
export interface MissedOccurrence {
  key: string;
  channel: string;
  dueAt: number;
}

/** What one tick should do. */
export interface TickPlan {
  deliver: DeliveryJob[];
  /** Records to write as they are: `skipped`, paused or missed. */
  skip: DeliveryRecord[];
  missed: MissedOccurrence[];
}

/** What the planner reads. */
export interface PlanInput {
  schedules: readonly DigestSchedule[];
  /** Delivery records by occurrence key. */
  recorded: ReadonlyMap<string, DeliveryRecord> | ReadonlySet<string>;
  /** Keys this process is sending right now. */
  inflight: ReadonlySet<string>;
  /** Occurrences due in (`from`, `now`] are looked at. */
  from: number;
  now: number;
  /** DIGEST_GRACE_HOURS: occurrences missed by longer are skipped. */
  graceHours: number;
}

/** Where a tick starts looking: far back on the first tick, a little before the previous scan afterwards. */
export function scanFrom(lastScan: number | null, now: number): number {
  return lastScan === null ? now - LOOKBACK_MS : lastScan - RESCAN_MS;
}

/** Decides, for every occurrence due in the window and not yet recorded, whether to deliver or skip it. */
export function planTick(input: PlanInput): TickPlan {
  const { now, graceHours } = input;
  const graceMs = graceHours * HOUR;
  const plan: TickPlan = { deliver: [], skip: [], missed: [] };
  for (const schedule of input.schedules) {
    for (const o of occurrencesBetween(schedule, Math.max(input.from, schedule.created_at), now)) {
      if (input.recorded.has(o.key) || input.inflight.has(o.key)) continue;
      const late = now - o.at;
      const skip = (detail: string) =>
        plan.skip.push({ key: o.key, schedule_id: schedule.id, status: 'skipped', at: now, detail });
      if (schedule.paused) {
        skip('paused at the time');
      } else if (late > graceMs) {
        skip(
          `missed by ${hours(late)} while the app was not running (grace period ${graceHours} h, DIGEST_GRACE_HOURS)`,
        );
        plan.missed.push({ key: o.key, channel: schedule.channel_id, dueAt: o.at });
      } else {
        plan.deliver.push({ schedule, key: o.key, dueAt: o.at, lateByMs: late });
      }
    }
  }
  return plan;
}

/** `started` records left by a process that stopped, marked interrupted (records already marked are left out). */
export function planInterrupted(
  deliveries: readonly DeliveryRecord[],
  inflight: ReadonlySet<string>,
): { found: DeliveryRecord[]; mark: DeliveryRecord[] } {
  const found = deliveries.filter((d) => d.status === 'started' && !inflight.has(d.key));
  const mark = found
    .filter((d) => !d.detail?.startsWith(INTERRUPTED))
    .map((d) => ({ ...d, detail: INTERRUPTED_DETAIL }));
  return { found, mark };
}

/**
 * Splits jobs into rounds of at most one per channel, in order: each round's `started` records are saved
 * before any of its posts, so a crash leaves at most the rounds of one save in doubt.
 */
export function planRounds(jobs: readonly DeliveryJob[]): DeliveryJob[][] {
  const byChannel = new Map<string, DeliveryJob[]>();
  for (const job of jobs) {
    const list = byChannel.get(job.schedule.channel_id) ?? [];
    list.push(job);
    byChannel.set(job.schedule.channel_id, list);
  }
  const rounds: DeliveryJob[][] = [];
  for (let round = 0; ; round++) {
    const batch = [...byChannel.values()]
      .map((list) => list[round])
      .filter((j): j is DeliveryJob => j !== undefined);
    if (batch.length === 0) return rounds;
    rounds.push(batch);
  }
}

/**
 * How many rounds one save should mark: as many as can be posted while the next save runs (one round per
 * pause between posts to a channel), so on a large store saving and pacing overlap instead of adding up.
 */
export function roundsPerSave(lastSaveMs: number, channelIntervalMs: number): number {
  return Math.max(1, Math.min(10, Math.ceil(lastSaveMs / Math.max(1, channelIntervalMs))));
}

/** The wait before the next tick: `tickMs`, or just after the next occurrence falls due if that is sooner. */
export function nextTickDelay(schedules: readonly DigestSchedule[], now: number, tickMs: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const s of schedules) {
    if (s.paused) continue;
    const at = nextOccurrenceOf(s, now);
    if (at !== null && at < next) next = at;
  }
  return Math.max(MIN_TICK_MS, Math.min(tickMs, next - now + 50));
}

/** Schedules due within the next few minutes (their content is computed ahead of time). */
export function dueSoon(schedules: readonly DigestSchedule[], now: number): DigestSchedule[] {
  return schedules.filter((s) => {
    if (s.paused) return false;
    const at = nextOccurrenceOf(s, now);
    return at !== null && at - now <= PREPARE_AHEAD_MS;
  });
}

/** The key of a "send now" of `schedule` at `now`, or why it cannot be sent (already sent this minute). */
export function planRunNow(
  schedule: DigestSchedule,
  recorded: ReadonlyMap<string, DeliveryRecord>,
  now: number,
): { job: DeliveryJob } | { refusal: string } {
  const key = `${schedule.id}:now-${localStamp(now, schedule.time_zone)}`;
  if (recorded.has(key))
    return { refusal: `${schedule.id} was already sent this minute; wait a minute to send it again` };
  return { job: { schedule, key, dueAt: null, lateByMs: 0 } };
}

/** Whether a recorded occurrence may be sent again by hand, or why not. */
export function retryRefusal(record: DeliveryRecord, inflight: ReadonlySet<string>): string | null {
  if (record.status === 'delivered') return `${record.key} was already delivered; nothing to retry`;
  if (inflight.has(record.key) || (record.status === 'started' && !record.detail?.startsWith(INTERRUPTED)))
    return `${record.key} is being sent right now`;
  return null;
}

/** A duration as people read it: `2.5 h`, `3 days`. */
export function hours(ms: number): string {
  const h = ms / HOUR;
  if (h < 48) return `${Math.round(h * 10) / 10} h`;
  return `${Math.round(h / 24)} days`;
}

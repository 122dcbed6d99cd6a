/**
 * When digests are due. Pure: a schedule is a local wall-clock time plus an IANA zone, and every instant is
 * derived from it here, so 09:00 Monday in Berlin stays 09:00 local on both sides of a DST change.
 *
 * Two local times need a rule. On a spring-forward day a time inside the gap (02:30 in Berlin) does not
 * exist: the digest goes out at the first minute after the gap (03:00). On a fall-back day a time in the
 * repeated hour exists twice: the digest goes out once, at the first of the two. The idempotency key is
 * the schedule id plus the local date, so an occurrence is one key whatever the clock does.
 */
import { TZDate, tzOffset } from '@date-fns/tz';
import type { DigestSchedule } from '../domain/types.ts';
import { canonicalTimeZone } from '../domain/zoned-time.ts';

/** What occurrences are computed from. */
export type OccurrenceSpec = Pick<DigestSchedule, 'id' | 'cadence' | 'weekdays' | 'local_time' | 'time_zone'>;

/** One delivery slot of a schedule. */
export interface Occurrence {
  /** `<schedule id>:<local date>`, e.g. `sch_1:2026-03-30`: one key per local day, whatever the clock does. */
  key: string;
  /** The local calendar date, `yyyy-MM-dd`. */
  localDate: string;
  /** The instant it is due (epoch ms). */
  at: number;
  /** `gap`: the local time did not exist that day and was moved to the end of the gap; `repeated`: it existed twice, the first is used. */
  adjusted: 'gap' | 'repeated' | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Longest stretch searched for the next occurrence: a monthly schedule is due within 5 weeks. */
const MAX_SCAN_DAYS = 400;

/** `HH:MM` (24 h) to hour and minute, or null when it is not a valid time of day. */
export function parseLocalTime(text: string): { hour: number; minute: number } | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}

/** The occurrence key for a schedule and a local date. */
export function occurrenceKey(scheduleId: string, localDate: string): string {
  return `${scheduleId}:${localDate}`;
}

/**
 * The instant of a local wall-clock time in `zone`. A time in a spring-forward gap gives the first instant
 * after the gap; a time in a fall-back overlap gives the earlier instant. Null when the zone is unknown.
 */
export function zonedInstant(
  date: { year: number; month: number; day: number },
  time: { hour: number; minute: number },
  zone: string,
): { at: number; adjusted: Occurrence['adjusted'] } | null {
  const wall = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute);
  // Offsets in force half a day either side cover every real-world transition (at most one per day).
  const before = tzOffset(zone, new Date(wall - 14 * HOUR));
  const after = tzOffset(zone, new Date(wall + 14 * HOUR));
  if (!Number.isFinite(before) || !Number.isFinite(after)) return null;
  const valid = [...new Set([before, after])]
    .map((offset) => wall - offset * MINUTE)
    .filter((at) => tzOffset(zone, new Date(at)) * MINUTE === wall - at)
    .sort((a, b) => a - b);
  const first = valid[0];
  if (first !== undefined) return { at: first, adjusted: valid.length > 1 ? 'repeated' : null };
  // In a gap: both readings land on the other side of the change; the change itself is the next valid
  // minute. Binary search for it, minute by minute, between two instants safely either side.
  let lo = Math.floor((wall - Math.max(before, after) * MINUTE - HOUR) / MINUTE);
  let hi = Math.ceil((wall - Math.min(before, after) * MINUTE + HOUR) / MINUTE);
  const later = tzOffset(zone, new Date(hi * MINUTE));
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (tzOffset(zone, new Date(mid * MINUTE)) === later) hi = mid;
    else lo = mid;
  }
  const at = hi * MINUTE;
  return { at, adjusted: 'gap' };
}

/** The local calendar date of an instant in `zone`. */
export function localDateOf(at: number, zone: string): { year: number; month: number; day: number } {
  const d = new TZDate(at, zone);
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() };
}

/** Whether a schedule is due on a local calendar date (by cadence and weekdays). */
export function isScheduledOn(
  spec: Pick<OccurrenceSpec, 'cadence' | 'weekdays'>,
  date: { year: number; month: number; day: number },
): boolean {
  const utc = new Date(Date.UTC(date.year, date.month - 1, date.day));
  const isoDay = utc.getUTCDay() === 0 ? 7 : utc.getUTCDay();
  const days = spec.weekdays.length > 0 ? spec.weekdays.map((d) => (d === 0 ? 7 : d)) : [1];
  switch (spec.cadence) {
    case 'daily':
      return true;
    case 'weekly':
      return days.includes(isoDay);
    case 'monthly':
      // The first chosen weekday of the month ("first Monday").
      return date.day <= 7 && isoDay === days[0];
    default:
      return false;
  }
}

/** The occurrence of a schedule on one local date, if it is due that day; null for an invalid schedule. */
export function occurrenceOn(
  spec: OccurrenceSpec,
  date: { year: number; month: number; day: number },
): Occurrence | null {
  if (!isScheduledOn(spec, date)) return null;
  const time = parseLocalTime(spec.local_time);
  if (!time) return null;
  const instant = zonedInstant(date, time, spec.time_zone);
  if (!instant) return null;
  const localDate = `${date.year}-${pad(date.month)}-${pad(date.day)}`;
  return { key: occurrenceKey(spec.id, localDate), localDate, at: instant.at, adjusted: instant.adjusted };
}

/** Occurrences due in (`after`, `until`], oldest first; empty for an invalid schedule. */
export function occurrencesBetween(spec: OccurrenceSpec, after: number, until: number): Occurrence[] {
  if (!(until > after) || canonicalTimeZone(spec.time_zone) === null) return [];
  const out: Occurrence[] = [];
  // Start a day early: the local date of `after` may already hold an occurrence later that day, and
  // a gap-adjusted time can move an occurrence across midnight in odd zones.
  const start = localDateOf(after, spec.time_zone);
  const days = Math.min(MAX_SCAN_DAYS, Math.ceil((until - after) / DAY) + 3);
  for (let i = -1; i < days; i++) {
    const date = addDays(start, i);
    const occurrence = occurrenceOn(spec, date);
    if (occurrence && occurrence.at > after && occurrence.at <= until) out.push(occurrence);
  }
  return out;
}

/** The next `count` occurrences strictly after `after`, oldest first; empty for an invalid schedule. */
export function nextOccurrences(spec: OccurrenceSpec, after: number, count = 1): Occurrence[] {
  if (canonicalTimeZone(spec.time_zone) === null || parseLocalTime(spec.local_time) === null) return [];
  const out: Occurrence[] = [];
  const start = localDateOf(after, spec.time_zone);
  for (let i = -1; i < MAX_SCAN_DAYS && out.length < count; i++) {
    const occurrence = occurrenceOn(spec, addDays(start, i));
    if (occurrence && occurrence.at > after) out.push(occurrence);
  }
  return out;
}

function addDays(date: { year: number; month: number; day: number }, days: number) {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

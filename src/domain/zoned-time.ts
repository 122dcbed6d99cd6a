/**
 * Reading instants in a person's or a schedule's time zone: weekday names, the canonical spelling of an IANA
 * zone, and how a time is written for people (`Mon 30 Mar 2026, 09:00 CEST`). Pure, so digest planning and
 * the Block Kit builders share one way of writing local times without importing each other.
 */
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns/format';

/** ISO weekday names, Monday = 1 … Sunday = 7. */
export const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** The canonical spelling of an IANA zone (`europe/berlin` -> `Europe/Berlin`), or null when unknown. */
export function canonicalTimeZone(zone: string): string | null {
  const name = zone.trim();
  // Offsets ("+02:00") are valid for Intl but are not zones: they would not follow DST.
  if (name === '' || /^[+-]\d/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** An instant as people in `zone` read it: `Mon 30 Mar 2026, 09:00 CEST`-style (`GMT+2` where no abbreviation exists). */
export function formatInZone(at: number, zone: string, pattern = 'EEE d MMM yyyy, HH:mm'): string {
  if (canonicalTimeZone(zone) === null) return new Date(at).toISOString();
  const local = new TZDate(at, zone);
  return `${format(local, pattern)} ${zoneAbbreviation(at, zone)}`;
}

/** `yyyy-MM-ddTHH:mm` in `zone` (UTC for an unknown zone), for keys of digests sent on demand. */
export function localStamp(at: number, zone: string): string {
  const local = new TZDate(at, canonicalTimeZone(zone) ?? 'UTC');
  return format(local, "yyyy-MM-dd'T'HH:mm");
}

/** The short name of a zone at an instant (`EDT`, `GMT+2`). */
export function zoneAbbreviation(at: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' }).formatToParts(at);
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? zone;
}

/**
 * Checking what people type or pick for a digest schedule. The text form (`digest add …`) and the modal
 * share these checks, so both refuse the same things with the same one-line reasons.
 */

import { closest, distance } from 'fastest-levenshtein';
import type { ScheduleFormValues } from '../domain/digest.ts';
import { UserError } from '../domain/errors.ts';
import type { DigestSchedule } from '../domain/types.ts';
import { canonicalTimeZone } from '../domain/zoned-time.ts';
import { isAllowedK, kNotAllowed, readK } from '../engine/segment-defaults.ts';
import { parseLocalTime } from './occurrences.ts';

/** A refusal of digest input; the message is one line with the reason and what would work. */
export class DigestError extends UserError {
  override name = 'DigestError';
  readonly code = 'digest';
}

/** The fields of a schedule a person chooses. */
export interface ScheduleInput {
  channel_id: string;
  cadence: DigestSchedule['cadence'];
  weekdays: number[];
  local_time: string;
  time_zone: string;
  options: DigestOptions;
}

/** What a digest contains (stored in `DigestSchedule.options`). */
export interface DigestOptions {
  predictions: boolean;
  recommendations: boolean;
  /** Segments to compare: a fixed number (within the engine's `K_RANGE`) or chosen by the data. */
  k: number | 'auto';
  /** Attach the segment-sizes chart in the digest's thread. */
  chart: boolean;
}

/** The defaults of a new digest's content. */
export const DEFAULT_DIGEST_OPTIONS: DigestOptions = {
  predictions: true,
  recommendations: true,
  k: 'auto',
  chart: true,
};

/** One example of a complete text form, used in every refusal. */
export const ADD_EXAMPLE = '/audience digest add #growth weekly mon 09:00 Europe/Berlin';

const CADENCES = ['daily', 'weekly', 'monthly'] as const;
const DAY_WORDS: Record<string, number> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 7,
  sunday: 7,
};

/** Checks a cadence word. */
export function parseCadence(text: string): DigestSchedule['cadence'] {
  const word = text.trim().toLowerCase();
  if ((CADENCES as readonly string[]).includes(word)) return word as DigestSchedule['cadence'];
  throw new DigestError(`"${text}" is not a cadence: use weekly, daily or monthly`);
}

/** `mon`, `mon,wed,fri`, `mon-fri`, `weekdays`, full names; returns ISO weekdays (Mon = 1 … Sun = 7), sorted. */
export function parseWeekdays(text: string): number[] {
  const word = text.trim().toLowerCase();
  if (word === 'weekdays') return [1, 2, 3, 4, 5];
  if (word === 'weekends' || word === 'weekend') return [6, 7];
  const days = new Set<number>();
  for (const part of word.split(',').filter((p) => p !== '')) {
    const range = part.split('-');
    if (range.length === 2) {
      const from = dayNumber(range[0] ?? '');
      const to = dayNumber(range[1] ?? '');
      for (let d = from; ; d = (d % 7) + 1) {
        days.add(d);
        if (d === to) break;
      }
    } else {
      days.add(dayNumber(part));
    }
  }
  if (days.size === 0) throw new DigestError(`no weekday given: use mon, tue, … or a list like mon,wed,fri`);
  return [...days].sort((a, b) => a - b);
}

function dayNumber(word: string): number {
  const day = DAY_WORDS[word];
  if (day !== undefined) return day;
  throw new DigestError(
    `"${word}" is not a weekday: use mon, tue, wed, thu, fri, sat or sun, or a list like mon,wed,fri`,
  );
}

/** `09:00`, `9:30`, `9am`, `5:15 pm` -> `HH:MM` (24 h). */
export function parseTime(text: string): string {
  const raw = text.trim().toLowerCase();
  const ampm = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)$/.exec(raw);
  if (ampm) {
    const hour = Number(ampm[1]);
    const minute = Number(ampm[2] ?? '0');
    if (hour >= 1 && hour <= 12 && minute <= 59) {
      const h24 = (hour % 12) + (ampm[3] === 'pm' ? 12 : 0);
      return `${String(h24).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
    }
  }
  const parsed = parseLocalTime(raw);
  if (!parsed) {
    throw new DigestError(`"${text}" is not a time of day: use 24-hour HH:MM, e.g. 09:00 or 17:30`);
  }
  return `${String(parsed.hour).padStart(2, '0')}:${String(parsed.minute).padStart(2, '0')}`;
}

/** An IANA zone in its canonical spelling; an unknown zone is refused with the closest known name. */
export function parseTimeZone(text: string): string {
  const zone = canonicalTimeZone(text);
  if (zone) return zone;
  const known = Intl.supportedValuesOf('timeZone');
  const guess = text.trim() === '' ? undefined : closest(text.trim(), known);
  const near =
    guess !== undefined && distance(guess.toLowerCase(), text.trim().toLowerCase()) <= 4
      ? ` (did you mean ${guess}?)`
      : '';
  throw new DigestError(
    `"${text}" is not a known time zone${near}: use an IANA name such as Europe/Berlin, America/New_York or UTC`,
  );
}

/**
 * A channel as Slack sends it (`<#C123|growth>`, `<#C123>`), a channel id (`C0123ABCD`), or a `#name`
 * (kept as typed: the first post resolves it to the id).
 */
export function parseChannel(text: string): string {
  const raw = text.trim();
  const mention = /^<#([CGD][A-Z0-9]+)(\|[^>]*)?>$/.exec(raw);
  if (mention?.[1]) return mention[1];
  if (/^[CGD][A-Z0-9]{2,}$/.test(raw)) return raw;
  if (/^#[a-z0-9][a-z0-9._-]{0,79}$/.test(raw)) return raw;
  throw new DigestError(`"${text}" is not a channel: mention it like #growth, or give its id (C0123ABCD)`);
}

/** Reads `yes`/`no` style values. */
export function parseYesNo(name: string, text: string): boolean {
  const word = text.trim().toLowerCase();
  if (['yes', 'y', 'true', 'on', '1'].includes(word)) return true;
  if (['no', 'n', 'false', 'off', '0'].includes(word)) return false;
  throw new DigestError(`${name}=${text} is not yes or no; write ${name}=yes or ${name}=no`);
}

/** Reads `k=auto` or a whole number in the engine's `K_RANGE`. */
export function parseK(text: string): number | 'auto' {
  const k = readK(text.trim().toLowerCase());
  if (k === undefined) throw new DigestError(kNotAllowed(text));
  return k;
}

/** The content options of a stored schedule, with defaults for anything missing or odd. */
export function digestOptions(stored: Record<string, unknown>): DigestOptions {
  const k = stored.k;
  return {
    predictions:
      typeof stored.predictions === 'boolean' ? stored.predictions : DEFAULT_DIGEST_OPTIONS.predictions,
    recommendations:
      typeof stored.recommendations === 'boolean'
        ? stored.recommendations
        : DEFAULT_DIGEST_OPTIONS.recommendations,
    k: typeof k === 'number' && isAllowedK(k) ? k : 'auto',
    chart: typeof stored.chart === 'boolean' ? stored.chart : DEFAULT_DIGEST_OPTIONS.chart,
  };
}

/** Checks that the weekdays fit the cadence (monthly takes one weekday: "the first Monday"). */
export function checkWeekdaysForCadence(cadence: DigestSchedule['cadence'], weekdays: number[]): number[] {
  if (cadence === 'daily') return [];
  if (weekdays.length === 0) return [1];
  if (cadence === 'monthly' && weekdays.length > 1) {
    throw new DigestError(
      'a monthly digest goes out on the first of one weekday: pick one, e.g. monthly mon',
    );
  }
  return weekdays;
}

const OPTION_KEYS = ['predictions', 'recommendations', 'k', 'chart'];

/**
 * Reads the text form after `digest add`: `<channel> [weekly|daily|monthly] [weekdays] <HH:MM> <Zone>`
 * plus `predictions= recommendations= k= chart=` options. Words after the channel may come in any order.
 */
export function parseAddCommand(
  positional: readonly string[],
  options: Record<string, string>,
): ScheduleInput {
  try {
    return readAddCommand(positional, options);
  } catch (error) {
    // Every refusal of the text form ends with a complete example that works.
    if (error instanceof DigestError && !error.message.includes(ADD_EXAMPLE)) {
      throw new DigestError(`${error.message}; for example: ${ADD_EXAMPLE}`);
    }
    throw error;
  }
}

function readAddCommand(positional: readonly string[], options: Record<string, string>): ScheduleInput {
  const unknown = Object.keys(options).filter((k) => !OPTION_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new DigestError(
      `digest add does not take ${unknown.join('=, ')}=; it takes ${OPTION_KEYS.join('=, ')}=`,
    );
  }
  const [channelWord, ...rest] = positional;
  if (channelWord === undefined) throw new DigestError('say which channel gets the digest');
  const channel_id = parseChannel(channelWord);
  let cadence: DigestSchedule['cadence'] | null = null;
  let weekdays: number[] | null = null;
  let time: string | null = null;
  let zone: string | null = null;
  for (const word of rest) {
    const lower = word.toLowerCase();
    if ((CADENCES as readonly string[]).includes(lower) && cadence === null) cadence = parseCadence(word);
    else if (/^\d/.test(word) && time === null) time = parseTime(word);
    else if ((word.includes('/') || /^[A-Z]{3,5}$/.test(word) || /^(utc|gmt)$/i.test(word)) && zone === null)
      zone = parseTimeZone(word);
    else if (weekdays === null && looksLikeWeekdays(lower)) weekdays = parseWeekdays(word);
    else if (weekdays === null && /^[a-z,-]+$/.test(lower) && !lower.includes('/')) {
      // Not a cadence or a zone either: most likely a mistyped weekday, so say that.
      weekdays = parseWeekdays(word);
    } else {
      throw new DigestError(`"${word}" is not understood here`);
    }
  }
  if (time === null) throw new DigestError('say at what local time, e.g. 09:00');
  if (zone === null) {
    throw new DigestError('say in which time zone, e.g. Europe/Berlin or America/New_York');
  }
  const finalCadence = cadence ?? 'weekly';
  return {
    channel_id,
    cadence: finalCadence,
    weekdays: checkWeekdaysForCadence(finalCadence, weekdays ?? []),
    local_time: time,
    time_zone: zone,
    options: {
      predictions: options.predictions === undefined ? true : parseYesNo('predictions', options.predictions),
      recommendations:
        options.recommendations === undefined ? true : parseYesNo('recommendations', options.recommendations),
      k: options.k === undefined ? 'auto' : parseK(options.k),
      chart: options.chart === undefined ? true : parseYesNo('chart', options.chart),
    },
  };
}

function looksLikeWeekdays(word: string): boolean {
  return word === 'weekdays' || word === 'weekends' || word.split(/[,-]/).every((p) => p in DAY_WORDS);
}

/** The field names of the modal, which are also the keys of field errors. */
export type ScheduleField = 'channel' | 'cadence' | 'weekdays' | 'time' | 'zone' | 'content' | 'k';

/** Checks the modal's values: a valid schedule, or one message per invalid field (nothing is saved then). */
export function validateScheduleForm(
  values: ScheduleFormValues,
): { ok: true; input: ScheduleInput } | { ok: false; errors: Partial<Record<ScheduleField, string>> } {
  const errors: Partial<Record<ScheduleField, string>> = {};
  const attempt = <T>(field: ScheduleField, fn: () => T): T | null => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof DigestError)) throw error;
      errors[field] = error.message;
      return null;
    }
  };
  const channel = attempt('channel', () => {
    if (!values.channel) throw new DigestError('pick the channel that gets the digest');
    return parseChannel(values.channel);
  });
  const cadence = attempt('cadence', () => parseCadence(values.cadence ?? 'weekly'));
  const time = attempt('time', () => {
    if (!values.time) throw new DigestError('pick the local time, e.g. 09:00');
    return parseTime(values.time);
  });
  const zone = attempt('zone', () => parseTimeZone(values.zone ?? ''));
  const weekdays = attempt('weekdays', () =>
    checkWeekdaysForCadence(
      cadence ?? 'weekly',
      values.weekdays.length > 0 ? parseWeekdays(values.weekdays.join(',')) : [],
    ),
  );
  const k = attempt('k', () => parseK(values.k ?? 'auto'));
  if (
    channel === null ||
    cadence === null ||
    time === null ||
    zone === null ||
    weekdays === null ||
    k === null
  ) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    input: {
      channel_id: channel,
      cadence,
      weekdays,
      local_time: time,
      time_zone: zone,
      options: {
        predictions: values.content.includes('predictions'),
        recommendations: values.content.includes('recommendations'),
        chart: values.content.includes('chart'),
        k,
      },
    },
  };
}

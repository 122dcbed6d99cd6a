/**
 * Value coercion and custom-attribute type inference for imports.
 * Every coercer takes a raw cell (a CSV string or any JSON value) and either returns the typed value or a
 * message saying what was expected, so row errors read `expected a number, got "12k"`.
 */
import type { AttributeKind, AttributeValue } from '../domain/types.ts';

/** The outcome of coercing one raw value: the typed value (null = missing), or what was expected. */
export type Coerced<T> = { ok: true; value: T | null } | { ok: false; message: string };

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// Integers written with a leading zero ("02134", "007") are codes, not quantities: keep them as text.
const LEADING_ZERO_RE = /^[+-]?0\d/;
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const TRUE_TOKENS = new Set(['true', 'yes', 'y', '1']);
const FALSE_TOKENS = new Set(['false', 'no', 'n', '0']);
// Tokens that can only mean a flag; 0/1 alone are ambiguous and infer as numbers.
const FLAG_WORDS = new Set(['true', 'false', 'yes', 'no', 'y', 'n']);
const LIST_SPLIT_RE = /[|;]/;
/** Epoch values below this are seconds, above it milliseconds (1e11 s is the year 5138, 1e11 ms is 1973). */
const EPOCH_SECONDS_LIMIT = 1e11;
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

/** Shows a raw value in an error message, shortened so a runaway cell cannot flood the terminal. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** True when a raw value means "no value": undefined, null, or a blank string. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** Plain dates (2024-05-31) already parsed: an export repeats the same few thousand days over its rows. */
const DATE_CACHE = new Map<string, number | null>();
const DATE_CACHE_LIMIT = 50_000;

/** Parses an ISO-8601 date or date-time to epoch ms; a date-time without an offset is taken as UTC. */
export function parseIsoDate(text: string): number | null {
  if (text.length !== 10) return parseIsoDateTime(text);
  const known = DATE_CACHE.get(text);
  if (known !== undefined) return known;
  const time = parseIsoDateTime(text);
  if (DATE_CACHE.size < DATE_CACHE_LIMIT) DATE_CACHE.set(text, time);
  return time;
}

/** Digits of `text` from `from` (exclusive `to`) as a number, or -1 if any is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * `2026-11-30T08:15:00Z` and `2026-11-30T08:15:00.123Z`, the shape exports almost always use, read digit by
 * digit: the regex and the Date round trip below cost about 1.3 µs an event, a third of validating one.
 * Anything else (null) goes the general way, which gives the same answer for these shapes too.
 */
function parseUtcDateTime(text: string): number | null {
  const len = text.length;
  if (len !== 20 && len !== 24) return null;
  // - - T : : Z, and the '.' of the milliseconds (no helper closure: this runs once per event)
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return null;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(len - 1) !== 90)
    return null;
  if (len === 24 && text.charCodeAt(19) !== 46) return null;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  const second = digitsAt(text, 17, 19);
  const ms = len === 24 ? digitsAt(text, 20, 23) : 0;
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0) return null;
  if (minute > 59 || second < 0 || second > 59 || ms < 0) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > days) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

function parseIsoDateTime(text: string): number | null {
  const fast = parseUtcDateTime(text);
  if (fast !== null) return fast;
  const m = ISO_RE.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  let time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2024-02-31 over into March; a round trip catches impossible days.
  const check = new Date(time);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 14 || offM > 59) return null;
    time -= sign * (offH * 60 + offM) * 60_000;
  }
  return time;
}

/** Parses a number written plainly (no units, no thousands separators). */
export function parseNumberText(text: string): number | null {
  if (!NUMBER_RE.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** A finite number, from a JSON number or a numeric string. */
export function coerceNumber(raw: unknown): Coerced<number> {
  if (isBlank(raw)) return { ok: true, value: null };
  if (typeof raw === 'number') {
    return Number.isFinite(raw)
      ? { ok: true, value: raw }
      : { ok: false, message: 'expected a finite number' };
  }
  if (typeof raw === 'string') {
    const n = parseNumberText(raw.trim());
    if (n !== null) return { ok: true, value: n };
  }
  return { ok: false, message: `expected a number, got ${show(raw)}` };
}

/** A trimmed non-empty text value; JSON numbers are accepted and written as text. */
export function coerceText(raw: unknown): Coerced<string> {
  if (isBlank(raw)) return { ok: true, value: null };
  if (typeof raw === 'string') return { ok: true, value: raw.trim() };
  if (typeof raw === 'number' && Number.isFinite(raw)) return { ok: true, value: String(raw) };
  if (typeof raw === 'boolean') return { ok: true, value: String(raw) };
  return { ok: false, message: `expected a single text value, got ${show(raw)}` };
}

/** true/false/yes/no/y/n/1/0 (any case) or a JSON boolean; a number counts as in stock when above 0. */
export function coerceBoolean(raw: unknown, countsAsStock = false): Coerced<boolean> {
  if (isBlank(raw)) return { ok: true, value: null };
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  if (typeof raw === 'number' && (raw === 0 || raw === 1 || (countsAsStock && raw >= 0))) {
    return { ok: true, value: raw > 0 };
  }
  if (typeof raw === 'string') {
    const t = raw.trim().toLowerCase();
    if (TRUE_TOKENS.has(t)) return { ok: true, value: true };
    if (FALSE_TOKENS.has(t)) return { ok: true, value: false };
    if (countsAsStock) {
      const n = parseNumberText(t);
      if (n !== null && n >= 0) return { ok: true, value: n > 0 };
    }
  }
  const expected = countsAsStock ? 'true/false, yes/no, 1/0 or a stock count' : 'true/false, yes/no or 1/0';
  return { ok: false, message: `expected ${expected}, got ${show(raw)}` };
}

/**
 * A point in time: ISO-8601 (UTC unless an offset is given) or epoch seconds / milliseconds, as epoch ms.
 * Event times must fall in 1970..2100 (a wrong unit shows up there); attribute dates such as birthdays need not.
 */
export function coerceTimestamp(raw: unknown, eventRange = true): Coerced<number> {
  if (isBlank(raw)) return { ok: true, value: null };
  let time: number | null = null;
  if (typeof raw === 'number' && Number.isFinite(raw)) time = epochToMs(raw);
  else if (typeof raw === 'string') {
    const t = raw.trim();
    const n = parseNumberText(t);
    time = n === null ? parseIsoDate(t) : epochToMs(n);
  }
  if (time === null) {
    return {
      ok: false,
      message: `expected an ISO-8601 date (2024-05-31 or 2024-05-31T14:00:00Z) or epoch seconds/ms, got ${show(raw)}`,
    };
  }
  if (eventRange && (time < MIN_TIME || time >= MAX_TIME)) {
    return { ok: false, message: `expected a date between 1970 and 2100, got ${show(raw)}` };
  }
  return { ok: true, value: time };
}

function epochToMs(n: number): number {
  return Math.round(Math.abs(n) < EPOCH_SECONDS_LIMIT ? n * 1000 : n);
}

/** A list: a JSON array, or text split on `|` or `;`; items are trimmed, blanks and repeats dropped. */
export function coerceList(raw: unknown): Coerced<string[]> {
  if (isBlank(raw)) return { ok: true, value: null };
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = raw.split(LIST_SPLIT_RE);
  else if (typeof raw === 'number' || typeof raw === 'boolean') items = [String(raw)];
  else return { ok: false, message: `expected a list (a|b|c, a;b;c or a JSON array), got ${show(raw)}` };
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (isBlank(item)) continue;
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      return { ok: false, message: `expected a list of text values, got an item ${show(item)}` };
    }
    const text = String(item).trim();
    if (!seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
  }
  return { ok: true, value: out.length > 0 ? out : null };
}

const KIND_LABEL: Record<AttributeKind, string> = {
  number: 'a number',
  category: 'a single text value',
  date: 'an ISO-8601 date',
  list: 'a list',
  boolean: 'true/false',
};

/** Coerces a custom attribute value to an attribute kind; dates become epoch ms. */
export function coerceAttribute(kind: AttributeKind, raw: unknown): Coerced<AttributeValue> {
  switch (kind) {
    case 'number':
      return coerceNumber(raw);
    case 'boolean':
      return coerceBoolean(raw);
    case 'date':
      return coerceTimestamp(raw, false);
    case 'list':
      return coerceList(raw);
    case 'category':
      return coerceText(raw);
  }
}

/** The phrase used in messages for what an attribute kind expects ("a number"). */
export function describeKind(kind: AttributeKind): string {
  return KIND_LABEL[kind];
}

/**
 * Accumulates what the non-empty values of one column look like, one value at a time, so a column's kind
 * is decided over the whole file without keeping a second copy of its values.
 */
export class KindInference {
  private nonEmpty = 0;
  private numeric = 0;
  private leadingZero = 0;
  private booleanish = 0;
  private flagWords = 0;
  private dates = 0;
  private arrays = 0;
  private withPipe = 0;
  private withSemicolon = 0;

  /** Records one raw value (blanks are ignored). */
  add(raw: unknown): void {
    if (isBlank(raw)) return;
    this.nonEmpty++;
    if (Array.isArray(raw)) {
      this.arrays++;
      return;
    }
    if (typeof raw === 'number') {
      if (Number.isFinite(raw)) this.numeric++;
      if (raw === 0 || raw === 1) this.booleanish++;
      return;
    }
    if (typeof raw === 'boolean') {
      this.booleanish++;
      this.flagWords++;
      return;
    }
    if (typeof raw !== 'string') return;
    const t = raw.trim();
    if (parseNumberText(t) !== null) {
      this.numeric++;
      if (LEADING_ZERO_RE.test(t) && !t.includes('.')) this.leadingZero++;
    }
    const lower = t.toLowerCase();
    if (lower === '1' || lower === '0') this.booleanish++;
    else if (FLAG_WORDS.has(lower)) {
      this.booleanish++;
      this.flagWords++;
    }
    if (t.length >= 10 && parseIsoDate(t) !== null) this.dates++;
    if (t.includes('|')) this.withPipe++;
    if (t.includes(';')) this.withSemicolon++;
  }

  /** The inferred kind, or null when the column had no values at all. */
  result(): AttributeKind | null {
    const n = this.nonEmpty;
    if (n === 0) return null;
    if (this.numeric === n && this.leadingZero === 0) return 'number';
    if (this.booleanish === n && this.flagWords > 0) return 'boolean';
    if (this.dates === n) return 'date';
    if (this.arrays > 0) return 'list';
    // One separator used throughout (never both), in at least half the values: single items stay legal.
    const pipe = this.withPipe > 0 && this.withSemicolon === 0 && this.withPipe * 2 >= n;
    const semi = this.withSemicolon > 0 && this.withPipe === 0 && this.withSemicolon * 2 >= n;
    if (pipe || semi) return 'list';
    return 'category';
  }
}

/**
 * Row validation in two steps: coercers turn raw cells (CSV text or JSON values) into typed values, then a zod
 * schema per record kind checks the typed row (required fields, ranges, enums). Coercion is hand-written because
 * zod transforms cost about 10 µs a row, too slow for million-row files; the typed schemas cost under 1 µs.
 * Output fields are `null` when the cell was empty and absent (`undefined`) when the file has no such column.
 */
import { z } from 'zod';
import { INTERACTION_TYPES } from '../domain/types.ts';
import type { ImportKind } from './columns.ts';
import {
  type Coerced,
  coerceBoolean,
  coerceList,
  coerceNumber,
  coerceText,
  coerceTimestamp,
  isBlank,
  show,
} from './infer.ts';

/** An identifier: trimmed non-empty text (a JSON integer is accepted and written as text). */
export function coerceId(raw: unknown): Coerced<string> {
  if (isBlank(raw)) return { ok: true, value: null };
  if (typeof raw === 'string') return { ok: true, value: raw.trim() };
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return { ok: true, value: String(raw) };
  return { ok: false, message: `expected an id (text or a whole number), got ${show(raw)}` };
}

/** Interaction types are matched without regard to case or surrounding spaces; the schema checks the value. */
function coerceType(raw: unknown): Coerced<string> {
  const r = coerceText(raw);
  return r.ok && r.value !== null ? { ok: true, value: r.value.toLowerCase() } : r;
}

const eventTime = (raw: unknown) => coerceTimestamp(raw, true);
const stock = (raw: unknown) => coerceBoolean(raw, true);

/** A zod error message that names what was expected and, unless it was missing, what was found. */
function expected(what: string) {
  return {
    error: (issue: { input?: unknown }) =>
      issue.input === null || issue.input === undefined
        ? `missing value: expected ${what}`
        : `expected ${what}, got ${show(issue.input)}`,
  };
}

const TYPE_LIST = INTERACTION_TYPES.join(', ');
const text = z.string().nullish();
const time = z.number().int().nullish();

/** A validated profile row; custom attributes are checked separately because their kinds are inferred per file. */
export const profileRowSchema = z.object({
  id: z.string(expected('a user id')).min(1, expected('a user id')),
  platform: text,
  country: text,
  created_at: time,
  last_active_at: time,
  followers: z
    .number()
    .int(expected('a whole number >= 0'))
    .min(0, expected('a whole number >= 0'))
    .nullish(),
  interests: z.array(z.string()).nullish(),
});
/** A validated profile row. */
export type ProfileRow = z.output<typeof profileRowSchema>;

/** A validated product row; fields other than id may be absent for an update (checked for new products later). */
export const productRowSchema = z.object({
  id: z.string(expected('a product id')).min(1, expected('a product id')),
  name: text,
  category: text,
  price: z.number().min(0, expected('a price >= 0')).nullish(),
  in_stock: z.boolean().nullish(),
});
/** A validated product row. */
export type ProductRow = z.output<typeof productRowSchema>;

/**
 * A validated interaction row: a rating needs a value from 0.5 to 10 in steps of 0.5 (half stars on a 5-point
 * scale, or a 1–10 scale), a purchase amount is >= 0 when given.
 */
export const interactionRowSchema = z
  .object({
    user_id: z.string(expected('a user id')).min(1, expected('a user id')),
    item_id: z.string().min(1).nullish(),
    type: z.enum(INTERACTION_TYPES, expected(`one of ${TYPE_LIST}`)),
    timestamp: z.number(expected('an ISO-8601 date or epoch seconds/ms')).int(),
    value: z.number().nullish(),
  })
  .superRefine((row, ctx) => {
    const value = row.value ?? null;
    if (row.type === 'rating') {
      if (value === null)
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'a rating needs a value from 0.5 to 10' });
      else if (value < 0.5 || value > 10 || !Number.isInteger(value * 2)) {
        ctx.addIssue({
          code: 'custom',
          path: ['value'],
          message: `expected a rating from 0.5 to 10 in steps of 0.5 (half stars, or a 1-10 scale), got ${value}`,
        });
      }
    } else if (row.type === 'purchase' && value !== null && value < 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `expected a purchase amount >= 0, got ${value}`,
      });
    }
  });
/** A validated interaction row. */
export type InteractionRow = z.output<typeof interactionRowSchema>;

type Coercer = (raw: unknown) => Coerced<unknown>;

const COERCERS: Record<ImportKind, Record<string, Coercer>> = {
  profiles: {
    id: coerceId,
    platform: coerceText,
    country: coerceText,
    created_at: eventTime,
    last_active_at: eventTime,
    followers: coerceNumber,
    interests: coerceList,
  },
  products: { id: coerceId, name: coerceText, category: coerceText, price: coerceNumber, in_stock: stock },
  interactions: {
    user_id: coerceId,
    item_id: coerceId,
    type: coerceType,
    timestamp: eventTime,
    value: coerceNumber,
  },
};

const SCHEMAS = {
  profiles: profileRowSchema,
  products: productRowSchema,
  interactions: interactionRowSchema,
};

const TYPES: ReadonlySet<string> = new Set(INTERACTION_TYPES);
const absentOr = (v: unknown, check: (v: unknown) => boolean) => v === null || v === undefined || check(v);
const isId = (v: unknown) => typeof v === 'string' && v.length > 0;
const isText = (v: unknown) => typeof v === 'string';
const isInt = (v: unknown) => Number.isSafeInteger(v);
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isTextList = (v: unknown) => Array.isArray(v) && v.every(isText);

/**
 * True when a coerced row certainly passes its schema: the same rules written as plain checks, about ten times
 * cheaper than zod per row (a million-row file spends seconds there). False sends the row through zod, which has
 * the last word and the messages, so a check here may be stricter than the schema but never looser.
 */
const FAST_CHECKS: Partial<Record<ImportKind, (row: Record<string, unknown>) => boolean>> = {
  interactions: (row) => {
    const { type, value } = row;
    if (!isId(row.user_id) || !absentOr(row.item_id, isId) || typeof type !== 'string' || !TYPES.has(type))
      return false;
    if (!isInt(row.timestamp) || !absentOr(value, isNumber)) return false;
    if (type === 'rating')
      return typeof value === 'number' && value >= 0.5 && value <= 10 && Number.isInteger(value * 2);
    return type !== 'purchase' || typeof value !== 'number' || value >= 0;
  },
  profiles: (row) =>
    isId(row.id) &&
    absentOr(row.platform, isText) &&
    absentOr(row.country, isText) &&
    absentOr(row.created_at, isInt) &&
    absentOr(row.last_active_at, isInt) &&
    absentOr(row.followers, (v) => isInt(v) && (v as number) >= 0) &&
    absentOr(row.interests, isTextList),
};

/** The validated row type of each kind. */
export interface RowTypes {
  profiles: ProfileRow;
  products: ProductRow;
  interactions: InteractionRow;
}

/** One problem with one field of a row. */
export interface FieldIssue {
  field: string | undefined;
  message: string;
}

/** Coerces and validates one mapped row (known fields only, keyed by field name). */
export function validateRow<K extends ImportKind>(
  kind: K,
  mapped: Record<string, unknown>,
): { ok: true; row: RowTypes[K] } | { ok: false; issues: FieldIssue[] } {
  const coercers = COERCERS[kind];
  const typed: Record<string, unknown> = {};
  let issues: FieldIssue[] | null = null;
  for (const field in mapped) {
    const coerce = coercers[field];
    if (!coerce) continue;
    const r = coerce(mapped[field]);
    if (r.ok) typed[field] = r.value;
    else {
      issues ??= [];
      issues.push({ field, message: r.message });
    }
  }
  if (issues) return { ok: false, issues };
  // The common case, a valid row, checked by hand; zod (below) only for a row that fails, for its messages.
  if (FAST_CHECKS[kind]?.(typed)) return { ok: true, row: typed as unknown as RowTypes[K] };
  const parsed = SCHEMAS[kind].safeParse(typed);
  if (parsed.success) return { ok: true, row: parsed.data as RowTypes[K] };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      field: typeof issue.path[0] === 'string' ? issue.path[0] : undefined,
      message: issue.message,
    })),
  };
}

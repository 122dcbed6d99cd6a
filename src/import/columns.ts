/**
 * Which source column feeds which field: explicit `--map` entries first, then known field names and aliases
 * (matched ignoring case, spaces, `_`, `-` and `.`), then, for profiles only, custom attributes.
 */
import { ImportError } from '../domain/errors.ts';
import { normalizeKey } from '../domain/names.ts';

/** What an import brings in. */
export type ImportKind = 'profiles' | 'products' | 'interactions';

/** A known field of an import kind and the column names that fill it automatically, in priority order. */
export interface FieldSpec {
  name: string;
  aliases: readonly string[];
  /** A file without this column cannot be imported at all. */
  required: boolean;
}

const spec = (name: string, aliases: readonly string[] = [name], required = false): FieldSpec => ({
  name,
  aliases,
  required,
});

/** The known fields of each import kind. */
export const FIELD_SPECS: Record<ImportKind, readonly FieldSpec[]> = {
  profiles: [
    // Deliberately not `uid`: an ambiguous column should be mapped on purpose (`--map id=uid`).
    spec('id', ['id', 'user_id', 'userId'], true),
    spec('platform'),
    spec('country'),
    spec('created_at'),
    spec('last_active_at'),
    spec('followers'),
    spec('interests'),
  ],
  products: [
    spec('id', ['id', 'product_id', 'sku'], true),
    spec('name', ['name', 'title']),
    spec('category'),
    spec('price'),
    spec('in_stock', ['in_stock', 'inStock', 'stock', 'available']),
  ],
  interactions: [
    spec('user_id', ['user_id', 'userId', 'user'], true),
    spec('item_id', ['item_id', 'itemId', 'product_id', 'productId', 'item']),
    spec('type', ['type', 'event', 'action'], true),
    spec('timestamp', ['timestamp', 'time', 'ts', 'date', 'created_at'], true),
    spec('value', ['value', 'amount']),
  ],
};

/** One used column: where it comes from and what it fills (`custom` = a profile attribute of that name). */
export interface ColumnUse {
  source: string;
  field: string;
  custom: boolean;
}

/** How the columns of one header (or one JSON record's keys) are used. */
export interface ColumnPlan {
  columns: ColumnUse[];
  ignored: Array<{ column: string; reason: string }>;
  /** `--map` entries whose source column is not among the keys. */
  unmatchedMap: Array<{ field: string; source: string }>;
  /** Required fields no column provides. */
  missing: FieldSpec[];
}

/** The stored name of a custom attribute: lower snake_case (`Loyalty Tier` -> `loyalty_tier`), '' if unusable. */
export function attributeName(column: string): string {
  return column
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
}

const PLAN_CACHE_LIMIT = 512;

/** Resolves columns to fields for one import; plans are cached per distinct key list (JSON records repeat them). */
export class ColumnResolver {
  readonly fields: readonly FieldSpec[];
  private readonly mapTargets: Array<{ spec: FieldSpec | null; field: string; source: string }>;
  /** The `--map` entries, resolved to field names. */
  readonly mapEntries: ReadonlyArray<{ field: string; source: string }>;
  /** Fields that come from a `--map` entry. */
  readonly mappedFields: readonly string[];
  private readonly cache = new Map<string, ColumnPlan>();

  constructor(
    readonly kind: ImportKind,
    map: Record<string, string> = {},
  ) {
    this.fields = FIELD_SPECS[kind];
    const seenSources = new Map<string, string>();
    this.mapTargets = [];
    for (const [target, source] of Object.entries(map)) {
      const found = this.fields.find(
        (f) =>
          normalizeKey(f.name) === normalizeKey(target) ||
          f.aliases.some((a) => normalizeKey(a) === normalizeKey(target)),
      );
      if (!found && kind !== 'profiles') {
        throw new ImportError(
          `--map ${target}=${source}: "${target}" is not a ${kind} field; use one of ${this.fields.map((f) => f.name).join(', ')}`,
        );
      }
      const field = found ? found.name : attributeName(target);
      if (field === '')
        throw new ImportError(`--map ${target}=${source}: "${target}" is not a usable attribute name`);
      const previous = seenSources.get(normalizeKey(source));
      if (previous !== undefined) {
        throw new ImportError(
          `--map: column "${source}" is mapped twice (to ${previous} and ${field}); map it once`,
        );
      }
      if (this.mapTargets.some((m) => m.field === field)) {
        throw new ImportError(`--map: field "${field}" is mapped twice; give it one source column`);
      }
      seenSources.set(normalizeKey(source), field);
      this.mapTargets.push({ spec: found ?? null, field, source });
    }
    this.mapEntries = this.mapTargets.map(({ field, source }) => ({ field, source }));
    this.mappedFields = this.mapTargets.map((m) => m.field);
  }

  /** The plan for a list of column names (the CSV header, or one JSON record's keys). */
  plan(keys: readonly string[]): ColumnPlan {
    const signature = keys.join('\u0001');
    const cached = this.cache.get(signature);
    if (cached) return cached;
    const plan = this.build(keys);
    if (this.cache.size >= PLAN_CACHE_LIMIT) this.cache.clear();
    this.cache.set(signature, plan);
    return plan;
  }

  private build(keys: readonly string[]): ColumnPlan {
    const normalized = keys.map(normalizeKey);
    const consumed = new Array<boolean>(keys.length).fill(false);
    const columns: ColumnUse[] = [];
    const ignored: ColumnPlan['ignored'] = [];
    const unmatchedMap: ColumnPlan['unmatchedMap'] = [];
    const assigned = new Map<string, string>();

    for (const m of this.mapTargets) {
      let index = keys.indexOf(m.source);
      if (index < 0) index = normalized.indexOf(normalizeKey(m.source));
      if (index < 0 || consumed[index]) {
        unmatchedMap.push({ field: m.field, source: m.source });
        continue;
      }
      consumed[index] = true;
      const source = keys[index] as string;
      columns.push({ source, field: m.field, custom: m.spec === null });
      assigned.set(m.field, source);
    }

    for (const f of this.fields) {
      if (assigned.has(f.name)) continue;
      for (const alias of f.aliases) {
        const index = normalized.findIndex((n, i) => !consumed[i] && n === normalizeKey(alias));
        if (index < 0) continue;
        consumed[index] = true;
        const source = keys[index] as string;
        columns.push({ source, field: f.name, custom: false });
        assigned.set(f.name, source);
        break;
      }
    }

    keys.forEach((key, i) => {
      if (consumed[i]) return;
      const n = normalized[i] as string;
      const shadowed = this.fields.find((f) => f.aliases.some((a) => normalizeKey(a) === n));
      if (shadowed) {
        ignored.push({
          column: key,
          reason: `${shadowed.name} comes from column "${assigned.get(shadowed.name)}"`,
        });
        return;
      }
      if (this.kind !== 'profiles') {
        ignored.push({ column: key, reason: `not a field of ${this.kind}` });
        return;
      }
      const name = attributeName(key);
      if (name === '') {
        ignored.push({ column: key, reason: 'no usable attribute name' });
        return;
      }
      if (this.fields.some((f) => f.name === name)) {
        ignored.push({ column: key, reason: `would clash with the ${name} field` });
        return;
      }
      const clash = assigned.get(name);
      if (clash !== undefined) {
        throw new ImportError(
          `columns "${clash}" and "${key}" would both become attribute "${name}"; rename one or use --map`,
        );
      }
      columns.push({ source: key, field: name, custom: true });
      assigned.set(name, key);
    });

    const missing = this.fields.filter((f) => f.required && !assigned.has(f.name));
    return { columns, ignored, unmatchedMap, missing };
  }
}

/** Explains a missing required column and how to map it. */
export function describeMissing(f: FieldSpec): string {
  const names = f.aliases.map((a) => `"${a}"`).join(', ');
  return `no ${f.name} column: expected one of ${names} (or pass --map ${f.name}=<your column>)`;
}

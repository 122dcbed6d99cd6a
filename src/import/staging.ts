/**
 * Valid rows held between the streaming validation pass and the one change, compactly: each row is staged as
 * the patch (or interaction) the store takes, where it came from sits in two number arrays instead of an object
 * per row, repeated short texts (platforms, countries, user ids of events, categories) share one string, and
 * profiles reach the store in slices that are let go as they are applied. A 560k-row file staged as wrapper
 * objects plus a copy at commit grew to about 920 MB; staged this way it stays close to what the store needs.
 */
import { interactionKey } from '../domain/interaction-key.ts';
import type {
  AttributeKind,
  AttributeValue,
  Interaction,
  Product,
  ProductPatch,
  ProfilePatch,
} from '../domain/types.ts';
import type { StoreChange } from '../store/store.ts';
import { coerceAttribute, describeKind, KindInference } from './infer.ts';
import type { InteractionRow, ProductRow, ProfileRow } from './schema.ts';

/** One invalid row (or one bad field of it). */
export interface ImportRowError {
  /** 1-based data row (header not counted); for NDJSON the line number, for JSON the array position. */
  row: number;
  /** File line where the row starts (CSV and NDJSON). */
  line?: number;
  /** The target field, e.g. `followers`, or a custom attribute name. */
  field?: string;
  /** The column (or JSON key) as named in the file, e.g. `fans` when mapped to `followers`. */
  column?: string;
  message: string;
}

/** Keeps the `max` earliest errors by row while counting all of them (errors can arrive slightly out of order). */
export class ErrorList {
  readonly list: ImportRowError[] = [];
  count = 0;
  constructor(readonly max: number) {}

  add(error: ImportRowError): void {
    this.count++;
    if (this.max <= 0) return;
    const last = this.list[this.list.length - 1];
    if (this.list.length >= this.max && last && last.row <= error.row) return;
    let i = this.list.length;
    while (i > 0 && (this.list[i - 1] as ImportRowError).row > error.row) i--;
    this.list.splice(i, 0, error);
    if (this.list.length > this.max) this.list.pop();
  }

  /** Counts `n` more errors found elsewhere without listing them (they come after the listed ones). */
  more(n: number): void {
    this.count += n;
  }
}

/** The message of a row naming a person or product the store does not hold. */
export function unknownReference(field: 'user_id' | 'item_id', id: string): string {
  return field === 'user_id'
    ? `unknown user_id "${id}": import profiles first`
    : `unknown item_id "${id}": import products first (or leave item_id empty)`;
}

/** What a valid row does to the store. */
export interface Counts {
  inserted: number;
  updated: number;
  duplicates: number;
}

/** Where a row starts in the file: its row number and, for CSV and NDJSON, its line. */
export interface RowOrigin {
  row: number;
  line: number | undefined;
}

/** Origins of the staged rows in parallel arrays, and which of them a whole-file check rejected. */
class Origins {
  private readonly rows: number[] = [];
  /** 0 when the format has no lines (JSON). */
  private readonly lines: number[] = [];
  private readonly rejected = new Set<number>();

  push(origin: RowOrigin): void {
    this.rows.push(origin.row);
    this.lines.push(origin.line ?? 0);
  }

  /** The error fields of staged row `i`. */
  at(i: number): RowOrigin {
    const line = this.lines[i] as number;
    return { row: this.rows[i] as number, line: line === 0 ? undefined : line };
  }

  reject(i: number): void {
    this.rejected.add(i);
  }

  ok(i: number): boolean {
    return !this.rejected.has(i);
  }

  get validCount(): number {
    return this.rows.length - this.rejected.size;
  }
}

/** Shares one string per distinct short text; capped, so a column of unique values costs only a lookup. */
export class Interner {
  private readonly seen = new Map<string, string>();
  constructor(private readonly maxEntries = 200_000) {}

  text<T>(value: T): T {
    if (typeof value !== 'string' || value.length > 64) return value;
    const known = this.seen.get(value);
    if (known !== undefined) return known as T;
    if (this.seen.size < this.maxEntries) this.seen.set(value, value);
    return value;
  }
}

/**
 * Profiles handed to the store per call within the one change, so applied slices can be let go. On PostgreSQL each
 * slice is a round of statements whose triggers walk the rollups' and the pseudonyms' indexes: 20k per slice made a
 * 1M-profile import fifty such walks.
 */
const UPSERT_SLICE = 100_000;

/** How many valid rows insert, update, or repeat an id seen earlier in the file (`unknown`: ids not stored). */
function countUpserts(unknown: ReadonlySet<string>, ids: Iterable<string>): Counts {
  const seen = new Set<string>();
  const counts: Counts = { inserted: 0, updated: 0, duplicates: 0 };
  for (const id of ids) {
    if (seen.has(id)) counts.duplicates++;
    else {
      seen.add(id);
      if (unknown.has(id)) counts.inserted++;
      else counts.updated++;
    }
  }
  return counts;
}

/** The distinct values of `ids`, in first-seen order. */
function distinct(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

/** Valid profile rows, staged as the profiles a commit inserts; custom attributes stay raw until kinds are known. */
export class ProfileStage {
  readonly origins = new Origins();
  private readonly staged: Array<ProfilePatch | null> = [];
  private readonly raw: Array<Record<string, unknown> | null> = [];
  private readonly inference = new Map<string, { inference: KindInference; column: string }>();
  private readonly intern = new Interner();
  /** One per attribute, so a column of unique values does not use up the others' room. */
  private readonly attrInterns = new Map<string, Interner>();

  constructor(private readonly known: Readonly<Record<string, AttributeKind>>) {}

  /** Stages one valid row; `column` names the source column of a custom attribute (for reports). */
  add(
    row: ProfileRow,
    attrs: Record<string, unknown> | null,
    origin: RowOrigin,
    column: (f: string) => string,
  ) {
    this.origins.push(origin);
    this.staged.push({
      id: row.id,
      platform: this.intern.text(row.platform ?? null),
      country: this.intern.text(row.country ?? null),
      created_at: row.created_at ?? null,
      last_active_at: row.last_active_at ?? null,
      followers: row.followers ?? null,
      interests: row.interests ? row.interests.map((i) => this.intern.text(i)) : null,
      attrs: null,
    });
    this.raw.push(attrs);
    if (attrs) this.internAndInfer(attrs, column);
  }

  private internAndInfer(attrs: Record<string, unknown>, column: (f: string) => string): void {
    for (const name in attrs) {
      let intern = this.attrInterns.get(name);
      if (!intern) {
        intern = new Interner(50_000);
        this.attrInterns.set(name, intern);
      }
      attrs[name] = intern.text(attrs[name]);
    }
    this.infer(attrs, column);
  }

  private infer(attrs: Record<string, unknown>, column: (f: string) => string): void {
    for (const name in attrs) {
      if (Object.hasOwn(this.known, name)) continue;
      let stats = this.inference.get(name);
      if (!stats) {
        stats = { inference: new KindInference(), column: column(name) };
        this.inference.set(name, stats);
      }
      stats.inference.add(attrs[name]);
    }
  }

  /** Kinds of the new attributes; a column with only empty values is reported through `ignore`. */
  newAttributes(ignore: (column: string, reason: string) => void): Record<string, AttributeKind> {
    const kinds: Record<string, AttributeKind> = {};
    for (const [name, stats] of this.inference) {
      const inferred = stats.inference.result();
      if (inferred === null) ignore(stats.column, 'every value is empty, so its type is unknown');
      else kinds[name] = inferred;
    }
    return kinds;
  }

  /** Converts every staged row's raw attributes to their kinds; a value that does not fit rejects its row. */
  convertAttributes(
    newAttributes: Record<string, AttributeKind>,
    errors: ErrorList,
    column: (f: string) => string,
  ): void {
    // A Map, so attribute names such as "constructor" never meet Object.prototype.
    const kinds = new Map<string, AttributeKind>([
      ...Object.entries(this.known),
      ...Object.entries(newAttributes),
    ]);
    for (let i = 0; i < this.staged.length; i++) {
      const raw = this.raw[i];
      if (!raw) continue;
      this.raw[i] = null;
      (this.staged[i] as ProfilePatch).attrs = this.convertOne(i, raw, kinds, errors, column);
    }
  }

  private convertOne(
    i: number,
    raw: Record<string, unknown>,
    kinds: Map<string, AttributeKind>,
    errors: ErrorList,
    column: (f: string) => string,
  ): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {};
    for (const name in raw) {
      const kind = kinds.get(name);
      if (kind === undefined) continue; // an all-empty new column: ignored
      const r = coerceAttribute(kind, raw[name]);
      if (r.ok) {
        out[name] = r.value;
        continue;
      }
      this.origins.reject(i);
      const message = !Object.hasOwn(this.known, name)
        ? r.message
        : `${r.message} (attribute "${name}" is stored as ${describeKind(kind)})`;
      errors.add({ ...this.origins.at(i), field: name, column: column(name), message });
    }
    return out;
  }

  /** The distinct ids of the valid rows (to ask the store which are new). */
  ids(): string[] {
    return distinct(this.validIds());
  }

  /** What the valid rows would do to a store that holds none of `unknown`. */
  count(unknown: ReadonlySet<string>): Counts {
    return countUpserts(unknown, this.validIds());
  }

  private *validIds(): Generator<string> {
    for (let i = 0; i < this.staged.length; i++) {
      if (this.origins.ok(i)) yield (this.staged[i] as ProfilePatch).id;
    }
  }

  /**
   * Applies the valid rows inside the one change, a slice at a time; the store merges them (a value in the file
   * replaces the stored one, an empty cell never erases it, repeated ids merge in file order). Each slice is let
   * go once applied, so staged rows and the store's profiles are not all held twice.
   */
  async upsertInto(tx: StoreChange, newAttributes: Record<string, AttributeKind>): Promise<void> {
    let slice: ProfilePatch[] = [];
    for (let i = 0; i < this.staged.length; i++) {
      const patch = this.staged[i];
      this.staged[i] = null;
      if (patch && this.origins.ok(i)) slice.push(patch);
      if (slice.length >= UPSERT_SLICE) {
        await tx.upsertProfiles(slice, newAttributes);
        slice = [];
      }
    }
    await tx.upsertProfiles(slice, newAttributes);
  }
}

/** Valid product rows (catalogues are small: kept as parsed). */
export class ProductStage {
  readonly origins = new Origins();
  private readonly staged: ProductRow[] = [];

  add(row: ProductRow, origin: RowOrigin): void {
    this.origins.push(origin);
    this.staged.push(row);
  }

  /** New products need a price; their name defaults to the id, category to "uncategorized", in_stock to true. */
  checkNew(existing: readonly Product[], errors: ErrorList): void {
    const ids = new Set(existing.map((p) => p.id));
    this.staged.forEach((row, i) => {
      if (ids.has(row.id)) return;
      if (row.price === undefined || row.price === null) {
        this.origins.reject(i);
        const message = `new product "${row.id}" needs a price (a number >= 0)`;
        errors.add({ ...this.origins.at(i), field: 'price', message });
        return;
      }
      ids.add(row.id);
    });
  }

  /** What the valid rows would do to a store holding `existing`. */
  count(existing: readonly { id: string }[]): Counts {
    const stored = new Set(existing.map((p) => p.id));
    const ids = this.staged.filter((_, i) => this.origins.ok(i)).map((row) => row.id);
    return countUpserts(new Set(ids.filter((id) => !stored.has(id))), ids);
  }

  /** Applies the valid rows inside the one change; the store merges them like profiles. */
  async upsertInto(tx: StoreChange): Promise<void> {
    const patches: ProductPatch[] = this.staged.filter((_, i) => this.origins.ok(i));
    await tx.upsertProducts(patches);
  }
}

/** Valid interaction rows, staged as the interactions the change appends. */
export class InteractionStage {
  readonly origins = new Origins();
  private readonly staged: Interaction[] = [];
  private readonly intern = new Interner();

  add(row: InteractionRow, origin: RowOrigin): void {
    this.origins.push(origin);
    this.staged.push({
      user_id: this.intern.text(row.user_id),
      item_id: this.intern.text(row.item_id ?? null),
      type: row.type,
      value: row.value ?? null,
      timestamp: row.timestamp,
    });
  }

  /** The distinct user_ids and non-empty item_ids the rows refer to (to ask the store which are unknown). */
  references(): { users: string[]; items: string[] } {
    const users = new Set<string>();
    const items = new Set<string>();
    for (const { user_id, item_id } of this.staged) {
      users.add(user_id);
      if (item_id != null) items.add(item_id);
    }
    return { users: [...users], items: [...items] };
  }

  /** Every user_id must be a stored profile and a non-empty item_id a stored product (`unknown`: those that are not). */
  checkReferences(
    unknown: { users: ReadonlySet<string>; items: ReadonlySet<string> },
    errors: ErrorList,
  ): void {
    if (unknown.users.size === 0 && unknown.items.size === 0) return;
    this.staged.forEach(({ user_id, item_id }, i) => {
      if (unknown.users.has(user_id)) {
        this.origins.reject(i);
        const message = unknownReference('user_id', user_id);
        errors.add({ ...this.origins.at(i), field: 'user_id', message });
      }
      if (item_id != null && unknown.items.has(item_id)) {
        this.origins.reject(i);
        const message = unknownReference('item_id', item_id);
        errors.add({ ...this.origins.at(i), field: 'item_id', message });
      }
    });
  }

  /** The valid rows minus those repeated earlier in the file (the store leaves out those it holds). */
  fresh(): { interactions: Interaction[]; duplicates: number } {
    const keys = new Set<string>();
    const out: Interaction[] = [];
    let duplicates = 0;
    this.staged.forEach((interaction, i) => {
      if (!this.origins.ok(i)) return;
      const key = interactionKey(interaction);
      if (keys.has(key)) duplicates++;
      else {
        keys.add(key);
        out.push(interaction);
      }
    });
    return { interactions: out, duplicates };
  }
}

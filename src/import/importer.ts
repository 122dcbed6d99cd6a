/**
 * The data importer: streams a CSV / JSON / NDJSON file, validates every row, and only then applies all of it
 * in one `store.commit` (or nothing, when a row is invalid and `skipInvalid` is off).
 *
 * Rules worth knowing (details next to the code that applies them):
 * - Columns: `--map` first, then field names and aliases ignoring case, spaces, `_`, `-`, `.` (columns.ts).
 *   Other profile columns become custom attributes named in lower snake case (`Loyalty Tier` -> `loyalty_tier`);
 *   other product/interaction columns are ignored and listed in the report.
 * - Custom attribute kinds are inferred over the whole file (infer.ts `KindInference`); an attribute the store
 *   already knows keeps its kind and non-conforming values are row errors.
 * - Upserts (profiles, products by id): a non-empty value in the file replaces the stored one; an empty cell or
 *   an absent column keeps it. Repeated ids in one file merge in file order. New products need a price; their
 *   name defaults to the id, category to "uncategorized", in_stock to true.
 * - Interactions are appended, skipping any already stored with the same (user_id, item_id, type, timestamp).
 *   Their user_id must be a stored profile and a non-empty item_id a stored product: import those first.
 * - Row numbers: CSV data rows from 1 (header not counted) plus the file line; NDJSON line numbers; JSON array
 *   positions from 1.
 */
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ImportError } from '../domain/errors.ts';
import type {
  AttributeKind,
  AttributeValue,
  AudienceData,
  Interaction,
  Product,
  ProfilePatch,
} from '../domain/types.ts';
import { appendAudit, auditEntry } from '../privacy/audit.ts';
import { type PiiColumnReport, PiiGuard, type PiiOptions } from '../privacy/pii.ts';
import type { Store, StoreChange } from '../store/store.ts';
import {
  type ColumnPlan,
  ColumnResolver,
  describeMissing,
  type FieldSpec,
  type ImportKind,
} from './columns.ts';
import { coerceAttribute, describeKind, KindInference } from './infer.ts';
import { type ImportFormat, readRecords } from './readers.ts';
import { type InteractionRow, type ProductRow, type ProfileRow, validateRow } from './schema.ts';

export { ImportError } from '../domain/errors.ts';
export type { ImportKind } from './columns.ts';
export type { ImportFormat } from './readers.ts';

/** What to import and how. */
export interface ImportOptions {
  kind: ImportKind;
  file: string;
  /** Default: from the extension (.csv, .json, .ndjson / .jsonl). */
  format?: ImportFormat;
  /** Target field -> source column (`--map user_id=uid`); for profiles an unknown target names a custom attribute. */
  map?: Record<string, string>;
  /** Validate and count, write nothing. */
  dryRun?: boolean;
  /** Apply the valid rows even when some are invalid. */
  skipInvalid?: boolean;
  /** How many errors to list in the report (all are counted); default 10. */
  maxErrors?: number;
  /** Passed in, never read inside: stamps the data change. */
  now: Date;
  /**
   * Direct identifiers in profile columns (handle, email, name, phone…): pseudonymized, or dropped. Without
   * a pseudonymizer they are dropped, so raw identifiers never reach the store (see privacy/pii.ts).
   */
  pii?: PiiOptions;
  /** Who runs the import; when given, an applied import appends an audit entry in the same commit. */
  actor?: string;
  onProgress?: (p: { bytesRead: number; totalBytes: number; rows: number }) => void;
}

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

/**
 * The outcome of an import. Counts describe the valid rows, whether or not they were written:
 * `applied` says if the store was changed (false for dry runs and for rejected files).
 */
export interface ImportReport {
  kind: ImportKind;
  file: string;
  format: ImportFormat;
  /** Data rows read, valid or not. */
  rows: number;
  valid: number;
  /** New profiles/products, or new interactions. */
  inserted: number;
  /** Existing profiles/products the file touched. */
  updated: number;
  /** Valid rows with nothing new: a repeated id (merged into its earlier row) or an interaction already stored. */
  duplicates: number;
  /** Invalid rows left out because of `skipInvalid`. */
  skipped: number;
  /** The first `maxErrors` errors in row order. */
  errors: ImportRowError[];
  errorCount: number;
  /** Custom attributes this import adds to the store, with their inferred kinds. */
  newAttributes: Record<string, AttributeKind>;
  /** Columns that feed nothing, and why. */
  ignoredColumns: Array<{ column: string; reason: string }>;
  /** Identifier columns and what was stored for them (a pseudonym, or nothing). */
  piiColumns: PiiColumnReport[];
  applied: boolean;
  dryRun: boolean;
}

const DEFAULT_MAX_ERRORS = 10;

/** Keeps the `max` earliest errors by row while counting all of them (errors can arrive slightly out of order). */
class ErrorList {
  readonly list: ImportRowError[] = [];
  count = 0;
  constructor(private readonly max: number) {}

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
}

/** A row that passed its schema; `ok` turns false if a later, whole-file check rejects it. */
interface Accepted<T> {
  row: number;
  line: number | undefined;
  data: T;
  ok: boolean;
}

interface ProfileAccepted extends Accepted<ProfileRow> {
  /** Raw custom attribute values until kinds are known, then the coerced values. */
  attrs: Record<string, unknown> | null;
}

interface Counts {
  inserted: number;
  updated: number;
  duplicates: number;
}

/** Picks the format from the file extension unless one is given. */
export function detectFormat(file: string, format?: string): ImportFormat {
  const chosen = format ?? formatFromExtension(file);
  if (chosen === 'csv' || chosen === 'json' || chosen === 'ndjson') return chosen;
  if (format !== undefined) throw new ImportError(`unknown format "${format}": use csv, json or ndjson`);
  throw new ImportError(
    `cannot tell the format of ${file} from its extension: name it .csv, .json, .ndjson or .jsonl, or pass --from csv|json|ndjson`,
  );
}

function formatFromExtension(file: string): string | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  return undefined;
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile())
      throw new ImportError(`${file} is not a file: pass the path of a .csv, .json or .ndjson file`);
    return info.size;
  } catch (err) {
    if (err instanceof ImportError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ImportError(`file not found: ${file} (relative paths start at ${process.cwd()})`);
    if (code === 'EACCES') throw new ImportError(`cannot read ${file}: permission denied`);
    throw new ImportError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Reads, validates and (unless invalid or a dry run) applies one file to the store in a single commit. */
export async function importFile(store: Store, options: ImportOptions): Promise<ImportReport> {
  const { kind, file } = options;
  const format = detectFormat(file, options.format);
  const resolver = new ColumnResolver(kind, options.map);
  const guard = kind === 'profiles' ? new PiiGuard(options.pii) : null;
  if (!guard && ((options.pii?.columns?.length ?? 0) > 0 || (options.pii?.notColumns?.length ?? 0) > 0)) {
    throw new ImportError('--pii and --no-pii apply to profile imports only');
  }
  const totalBytes = await fileSize(file);
  if (totalBytes === 0) throw new ImportError(`${file} is empty: expected ${expectedContent(format)}`);

  const errors = new ErrorList(Math.max(0, Math.floor(options.maxErrors ?? DEFAULT_MAX_ERRORS)));
  const ignored = new Map<string, string>();
  const matchedMapFields = new Set<string>();
  const missingCounts = new Map<string, number>();
  const profiles: ProfileAccepted[] = [];
  const products: Accepted<ProductRow>[] = [];
  const interactions: Accepted<InteractionRow>[] = [];
  const attrStats = new Map<string, { inference: KindInference; column: string }>();
  const knownAttrs = await store.audience.attributeKinds();
  let rows = 0;
  let records = 0;
  let csvPlan: ColumnPlan | null = null;

  let bytesRead = 0;
  let reportedBytes = -1;
  const progress = (force = false) => {
    if (!options.onProgress || (bytesRead === reportedBytes && !force)) return;
    reportedBytes = bytesRead;
    options.onProgress({ bytesRead, totalBytes, rows });
  };

  const events = readRecords({
    file,
    format,
    onBytes: (n) => {
      bytesRead = n;
    },
  });

  for await (const batch of events) {
    for (const event of batch) {
      if (event.type === 'header') {
        csvPlan = checkHeader(file, event.columns, resolver);
        continue;
      }
      rows++;
      progress();
      if (event.type === 'problem') {
        errors.add({ row: event.row, line: event.line, message: event.message });
        continue;
      }
      records++;
      const plan = csvPlan ?? resolver.plan(Object.keys(event.values));
      if (!csvPlan) {
        for (const field of resolver.mappedFields) {
          if (!plan.unmatchedMap.some((m) => m.field === field)) matchedMapFields.add(field);
        }
        for (const entry of plan.ignored)
          if (!ignored.has(entry.column)) ignored.set(entry.column, entry.reason);
        if (plan.missing.length > 0) {
          for (const f of plan.missing) {
            missingCounts.set(f.name, (missingCounts.get(f.name) ?? 0) + 1);
            errors.add({ row: event.row, line: event.line, field: f.name, message: missingInRecord(f) });
          }
          continue;
        }
      }

      const mapped: Record<string, unknown> = {};
      let custom: Record<string, unknown> | null = null;
      for (const use of plan.columns) {
        let value = event.values[use.source];
        if (use.custom) {
          // Identifiers are replaced before anything else sees them (kind inference, errors, the store).
          const pii = guard?.decide(use.source);
          if (pii) {
            if (pii.action === 'drop') continue;
            value = guard?.protect(value, pii);
          }
          custom ??= {};
          custom[use.field] = value;
        } else mapped[use.field] = value;
      }

      const parsed = validateRow(kind, mapped);
      if (!parsed.ok) {
        for (const { field, message } of parsed.issues) {
          errors.add({ row: event.row, line: event.line, field, column: sourceOf(plan, field), message });
        }
        continue;
      }
      const { row, line } = event;
      if (kind === 'profiles') {
        profiles.push({ row, line, ok: true, data: parsed.row as ProfileRow, attrs: custom });
        if (custom) {
          for (const name in custom) {
            if (Object.hasOwn(knownAttrs, name)) continue;
            let stats = attrStats.get(name);
            if (!stats) {
              const column = plan.columns.find((c) => c.field === name)?.source ?? name;
              stats = { inference: new KindInference(), column };
              attrStats.set(name, stats);
            }
            stats.inference.add(custom[name]);
          }
        }
      } else if (kind === 'products') products.push({ row, line, ok: true, data: parsed.row as ProductRow });
      else interactions.push({ row, line, ok: true, data: parsed.row as InteractionRow });
    }
  }
  bytesRead = totalBytes;
  progress(true);

  if (rows === 0) throw new ImportError(`${file} has no data rows: expected ${expectedContent(format)}`);
  const unmatchedPii = guard?.unmatchedOptions()[0];
  if (unmatchedPii !== undefined) {
    throw new ImportError(
      `--pii/--no-pii ${unmatchedPii}: ${file} has no such profile attribute column (the id column is always kept as given)`,
    );
  }
  for (const c of guard?.columns() ?? []) {
    if (c.action === 'drop') ignored.set(c.column, 'personal identifier, dropped (--pii-mode drop)');
  }
  const audit = async (tx: StoreChange, what: string) => {
    if (options.actor === undefined) return;
    const pii = (guard?.columns() ?? []).map(
      (c) => `${c.column} ${c.action === 'drop' ? 'dropped' : 'pseudonymized'}`,
    );
    const detail = `${kind} from ${basename(file)}: ${what}${pii.length > 0 ? `; identifiers: ${pii.join(', ')}` : ''}`;
    await appendAudit(tx, auditEntry(options.actor, 'import', detail, options.now.getTime()));
  };
  if (csvPlan) for (const entry of csvPlan.ignored) ignored.set(entry.column, entry.reason);
  else checkJsonColumns(file, resolver, matchedMapFields, missingCounts, records);

  // Whole-file checks: attribute kinds (profiles), required fields of new products, references (interactions).
  const newAttributes: Record<string, AttributeKind> = {};
  const data = await store.audience.snapshot();
  if (kind === 'profiles') {
    for (const [name, stats] of attrStats) {
      const inferred = stats.inference.result();
      if (inferred === null) ignored.set(stats.column, 'every value is empty, so its type is unknown');
      else newAttributes[name] = inferred;
    }
    // A Map, so attribute names such as "constructor" never meet Object.prototype.
    const kinds = new Map<string, AttributeKind>([
      ...Object.entries(knownAttrs),
      ...Object.entries(newAttributes),
    ]);
    for (const rec of profiles) convertAttributes(rec, kinds, knownAttrs, csvPlan, errors);
  } else if (kind === 'products') {
    checkNewProducts(products, data.products, errors);
  } else {
    checkReferences(interactions, data, errors);
  }

  const accepted: Accepted<unknown>[] =
    kind === 'profiles' ? profiles : kind === 'products' ? products : interactions;
  const valid = accepted.reduce((n, r) => n + (r.ok ? 1 : 0), 0);
  const write = errors.count === 0 || options.skipInvalid === true ? !options.dryRun : false;
  let counts: Counts;
  let applied = false;
  if (kind === 'interactions') {
    // New events are picked out here (the store may already hold some); the commit only appends them.
    const fresh = newInteractions(data, interactions);
    counts = { inserted: fresh.interactions.length, updated: 0, duplicates: fresh.duplicates };
    if (write && fresh.interactions.length > 0) {
      await store.change(
        async (tx) => {
          await tx.appendInteractions(fresh.interactions);
          await audit(tx, `${fresh.interactions.length} new`);
        },
        { now: options.now },
      );
      applied = true;
    }
  } else {
    const known = kind === 'profiles' ? data.profiles : data.products;
    counts = countUpserts(known, kind === 'profiles' ? profiles : products);
    // Every valid profile/product row inserts or updates, so there is a change exactly when one is valid.
    if (write && valid > 0) {
      await store.change(
        async (tx) => {
          if (kind === 'profiles') await tx.upsertProfiles(profilePatches(profiles), newAttributes);
          else await tx.upsertProducts(products.filter((r) => r.ok).map((r) => r.data));
          await audit(tx, `${counts.inserted} new, ${counts.updated} updated`);
        },
        { now: options.now },
      );
      applied = true;
    }
  }

  return {
    kind,
    file,
    format,
    rows,
    valid,
    inserted: counts.inserted,
    updated: counts.updated,
    duplicates: counts.duplicates,
    skipped: options.skipInvalid ? rows - valid : 0,
    errors: errors.list,
    errorCount: errors.count,
    newAttributes,
    ignoredColumns: [...ignored].map(([column, reason]) => ({ column, reason })),
    piiColumns: guard?.columns() ?? [],
    applied,
    dryRun: options.dryRun === true,
  };
}

function expectedContent(format: ImportFormat): string {
  if (format === 'csv') return 'a header line and at least one data row';
  if (format === 'ndjson') return 'one JSON object per line';
  return 'a JSON array of objects';
}

function sourceOf(plan: ColumnPlan, field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  return plan.columns.find((c) => c.field === field)?.source ?? field;
}

function missingInRecord(f: FieldSpec): string {
  return `no ${f.name}: expected a key ${f.aliases.map((a) => `"${a}"`).join(', ')} (or pass --map ${f.name}=<key>)`;
}

/** A CSV header must name each column once and provide every required field. */
function checkHeader(file: string, columns: string[], resolver: ColumnResolver): ColumnPlan {
  const seen = new Set<string>();
  for (const c of columns) {
    if (c === '') continue;
    if (seen.has(c))
      throw new ImportError(`${file}: column "${c}" appears twice in the header; rename or drop one`);
    seen.add(c);
  }
  const plan = resolver.plan(columns);
  const unmatched = plan.unmatchedMap[0];
  if (unmatched) {
    throw new ImportError(
      `--map ${unmatched.field}=${unmatched.source}: ${file} has no column "${unmatched.source}"; its columns are ${columns.map((c) => `"${c}"`).join(', ')}`,
    );
  }
  const missing = plan.missing[0];
  if (missing) {
    throw new ImportError(
      `${file}: ${describeMissing(missing)}; its columns are ${columns.map((c) => `"${c}"`).join(', ')}`,
    );
  }
  return plan;
}

/** JSON has no header: a `--map` source no record has, or a required field no record has, is a file-level problem. */
function checkJsonColumns(
  file: string,
  resolver: ColumnResolver,
  matched: Set<string>,
  missingCounts: Map<string, number>,
  records: number,
): void {
  if (records === 0) return;
  for (const m of resolver.mapEntries) {
    if (!matched.has(m.field))
      throw new ImportError(`--map ${m.field}=${m.source}: no record in ${file} has a key "${m.source}"`);
  }
  for (const [name, count] of missingCounts) {
    const f = resolver.fields.find((s) => s.name === name);
    if (f && count === records)
      throw new ImportError(`${file}: ${describeMissing(f).replace('column', 'field')}`);
  }
}

function convertAttributes(
  rec: ProfileAccepted,
  kinds: Map<string, AttributeKind>,
  known: Record<string, AttributeKind>,
  plan: ColumnPlan | null,
  errors: ErrorList,
): void {
  if (!rec.attrs) return;
  const out: Record<string, AttributeValue> = {};
  for (const name in rec.attrs) {
    const kind = kinds.get(name);
    if (kind === undefined) continue; // an all-empty new column: ignored
    const r = coerceAttribute(kind, rec.attrs[name]);
    if (r.ok) {
      out[name] = r.value;
      continue;
    }
    rec.ok = false;
    const message = !Object.hasOwn(known, name)
      ? r.message
      : `${r.message} (attribute "${name}" is stored as ${describeKind(kind)})`;
    errors.add({
      row: rec.row,
      line: rec.line,
      field: name,
      column: plan ? sourceOf(plan, name) : name,
      message,
    });
  }
  rec.attrs = out;
}

function checkNewProducts(rows: Accepted<ProductRow>[], existing: Product[], errors: ErrorList): void {
  const ids = new Set(existing.map((p) => p.id));
  for (const rec of rows) {
    if (ids.has(rec.data.id)) continue;
    if (rec.data.price === undefined || rec.data.price === null) {
      rec.ok = false;
      errors.add({
        row: rec.row,
        line: rec.line,
        field: 'price',
        message: `new product "${rec.data.id}" needs a price (a number >= 0)`,
      });
      continue;
    }
    ids.add(rec.data.id);
  }
}

function checkReferences(
  rows: Accepted<InteractionRow>[],
  data: Pick<AudienceData, 'profiles' | 'products'>,
  errors: ErrorList,
): void {
  const users = new Set(data.profiles.map((p) => p.id));
  const items = new Set(data.products.map((p) => p.id));
  for (const rec of rows) {
    const { user_id, item_id } = rec.data;
    if (!users.has(user_id)) {
      rec.ok = false;
      errors.add({
        row: rec.row,
        line: rec.line,
        field: 'user_id',
        message: `unknown user_id "${user_id}": import profiles first`,
      });
    }
    if (item_id != null && !items.has(item_id)) {
      rec.ok = false;
      errors.add({
        row: rec.row,
        line: rec.line,
        field: 'item_id',
        message: `unknown item_id "${item_id}": import products first (or leave item_id empty)`,
      });
    }
  }
}

// Upserts (applied by the store, see ProfilePatch): a value in the file replaces the stored one; an empty cell
// (null) never erases a stored value.

/** How many valid rows insert, update, or repeat an id seen earlier in the file. */
function countUpserts(
  existing: readonly { id: string }[],
  rows: readonly Accepted<{ id: string }>[],
): Counts {
  const known = new Set(existing.map((p) => p.id));
  const seen = new Set<string>();
  const counts: Counts = { inserted: 0, updated: 0, duplicates: 0 };
  for (const rec of rows) {
    if (!rec.ok) continue;
    const id = rec.data.id;
    if (seen.has(id)) counts.duplicates++;
    else {
      seen.add(id);
      if (known.has(id)) counts.updated++;
      else counts.inserted++;
    }
  }
  return counts;
}

/** The valid profile rows as the store's patches, with their coerced custom attributes. */
function profilePatches(rows: readonly ProfileAccepted[]): ProfilePatch[] {
  const patches: ProfilePatch[] = [];
  for (const rec of rows) {
    if (!rec.ok) continue;
    patches.push({ ...rec.data, attrs: rec.attrs as Record<string, AttributeValue> | null });
  }
  return patches;
}

function interactionKey(i: {
  user_id: string;
  item_id: string | null;
  type: string;
  timestamp: number;
}): string {
  return `${i.user_id}\u0000${i.item_id ?? ''}\u0000${i.type}\u0000${i.timestamp}`;
}

/** The valid rows as interactions, minus those already stored or repeated earlier in the file. */
function newInteractions(
  data: Pick<AudienceData, 'interactions'>,
  rows: Accepted<InteractionRow>[],
): { interactions: Interaction[]; duplicates: number } {
  const keys = new Set<string>();
  for (const i of data.interactions) keys.add(interactionKey(i));
  const out: Interaction[] = [];
  let duplicates = 0;
  for (const rec of rows) {
    if (!rec.ok) continue;
    const row = rec.data;
    const interaction: Interaction = {
      user_id: row.user_id,
      item_id: row.item_id ?? null,
      type: row.type,
      value: row.value ?? null,
      timestamp: row.timestamp,
    };
    const key = interactionKey(interaction);
    if (keys.has(key)) {
      duplicates++;
      continue;
    }
    keys.add(key);
    out.push(interaction);
  }
  return { interactions: out, duplicates };
}

const fmt = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

function where(report: ImportReport, e: ImportRowError): string {
  let text: string;
  if (report.format === 'csv') text = e.line !== undefined ? `row ${e.row} (line ${e.line})` : `row ${e.row}`;
  else if (report.format === 'ndjson') text = `line ${e.row}`;
  else text = `record ${e.row}`;
  const column = e.column ?? e.field;
  return column === undefined ? text : `${text}, ${report.format === 'csv' ? 'column' : 'field'} "${column}"`;
}

/** What the valid rows do (or would do): "2 new, 1 updated" or "5 new". */
function effect(report: ImportReport): string {
  const parts = [`${fmt(report.inserted)} new`];
  if (report.kind !== 'interactions') parts.push(`${fmt(report.updated)} updated`);
  if (report.duplicates > 0) {
    parts.push(
      report.kind === 'interactions'
        ? `${fmt(report.duplicates)} already stored or repeated`
        : `${plural(report.duplicates, 'repeated id')} merged`,
    );
  }
  return parts.join(', ');
}

/** A multi-line, human-readable summary of an import for the terminal. */
export function formatImportReport(report: ImportReport): string {
  const noun = report.kind;
  const lines = [
    `${report.dryRun ? 'Dry run: ' : ''}${noun} from ${report.file} (${report.format}): ${plural(report.rows, 'row')} read`,
    `  ${fmt(report.valid)} valid (${effect(report)})`,
  ];
  const attrs = Object.entries(report.newAttributes);
  if (attrs.length > 0) lines.push(`  new attributes: ${attrs.map(([n, k]) => `${n} (${k})`).join(', ')}`);
  const pseudonymized = report.piiColumns.filter((c) => c.action === 'pseudonymize').map((c) => c.column);
  if (pseudonymized.length > 0) {
    lines.push(
      `  personal identifiers stored as pseudonyms: ${pseudonymized.map((c) => `"${c}"`).join(', ')}`,
    );
  }
  for (const c of report.ignoredColumns) lines.push(`  ignored column "${c.column}": ${c.reason}`);
  if (report.errorCount > 0) {
    const more =
      report.errorCount > report.errors.length ? ` (showing the first ${report.errors.length})` : '';
    lines.push(`  ${plural(report.errorCount, 'error')}${more}:`);
    for (const e of report.errors) lines.push(`    ${where(report, e)}: ${e.message}`);
  }
  const invalid = report.rows - report.valid;
  const change =
    noun === 'interactions'
      ? plural(report.inserted, 'new interaction')
      : `${fmt(report.inserted)} new and ${fmt(report.updated)} updated ${noun}`;
  const skipped = report.skipped > 0 ? `, skipping ${plural(report.skipped, 'invalid row')}` : '';
  if (report.applied) {
    lines.push(`Imported ${change}${skipped}.`);
  } else if (invalid > 0 && report.skipped === 0) {
    lines.push(
      `Nothing was imported: ${fmt(invalid)} of ${plural(report.rows, 'row')} ${invalid === 1 ? 'is' : 'are'} invalid. ` +
        `Fix ${invalid === 1 ? 'it' : 'them'}, or pass --skip-invalid to import the ${plural(report.valid, 'valid row')}.`,
    );
  } else if (report.valid === 0) {
    lines.push('Nothing was imported: no row is valid.');
  } else if (report.dryRun) {
    lines.push(`Dry run, nothing was written. Without --dry-run this would import ${change}${skipped}.`);
  } else {
    lines.push('Nothing to import: every valid row is already in the store.');
  }
  return lines.join('\n');
}

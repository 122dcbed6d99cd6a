/**
 * The data importer: streams a CSV / JSON / NDJSON file, validates every row as it reads, stages the valid
 * rows compactly (staging.ts), and only then applies all of it in one `store.change` (or nothing, when a row
 * is invalid and `skipInvalid` is off). Interactions into a store with an intake (PostgreSQL) are streamed into
 * that change as they are read instead, and checked there (`streamInteractions`); see README.md.
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
import type { AttributeKind } from '../domain/types.ts';

import { appendAudit, auditEntry } from '../privacy/audit.ts';
import { type PiiColumnReport, PiiGuard, type PiiOptions } from '../privacy/pii.ts';
import type { InteractionIntake, Store, StoreChange } from '../store/store.ts';
import {
  type ColumnPlan,
  ColumnResolver,
  describeMissing,
  type FieldSpec,
  type ImportKind,
} from './columns.ts';
import { type FileSniff, type ImportFormat, type ReadEvent, readRecords, sniffFile } from './readers.ts';
import type { ImportReport } from './report.ts';
import { type InteractionRow, type ProductRow, type ProfileRow, validateRow } from './schema.ts';
import {
  type Counts,
  ErrorList,
  InteractionStage,
  ProductStage,
  ProfileStage,
  type RowOrigin,
  unknownReference,
} from './staging.ts';

export { ImportError } from '../domain/errors.ts';
export type { ImportKind } from './columns.ts';
export type { ImportFormat } from './readers.ts';
export { formatImportReport, type ImportReport } from './report.ts';
export type { ImportRowError } from './staging.ts';

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

const DEFAULT_MAX_ERRORS = 10;

type RecordEvent = Extract<ReadEvent, { type: 'record' }>;

/** Everything one import carries from the reading pass to the report. */
interface ImportRun {
  store: Store;
  options: ImportOptions;
  kind: ImportKind;
  file: string;
  format: ImportFormat;
  totalBytes: number;
  /** The CSV separator the header uses. */
  delimiter: FileSniff['delimiter'];
  resolver: ColumnResolver;
  guard: PiiGuard | null;
  /** PII decisions per source column, asked once per column instead of once per cell. */
  piiDecisions: Map<string, PiiColumnReport | null>;
  errors: ErrorList;
  ignored: Map<string, string>;
  matchedMapFields: Set<string>;
  missingCounts: Map<string, number>;
  stage: ProfileStage | ProductStage | InteractionStage;
  rows: number;
  records: number;
  csvPlan: ColumnPlan | null;
  /** Set while a change streams the events in (streamInteractions); valid rows go there instead of `stage`. */
  intake: InteractionIntake | null;
  /** Valid rows handed to the intake. */
  taken: number;
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
  const run = await startImport(store, options);
  if (run.kind === 'interactions' && store.streamsInteractions) return streamInteractions(run);
  await validatePass(run);
  finishFileChecks(run);
  // What the checks need from the store is asked for, never the whole audience (a database's may not fit).
  const newAttributes = await wholeFileChecks(run);
  const { counts, applied } = await applyImport(run, newAttributes);
  return reportOf(run, { counts, applied, valid: run.stage.origins.validCount, newAttributes });
}

/** The report of a finished import. */
function reportOf(
  run: ImportRun,
  outcome: { counts: Counts; applied: boolean; valid: number; newAttributes: Record<string, AttributeKind> },
): ImportReport {
  const { options } = run;
  const { counts, valid } = outcome;
  return {
    kind: run.kind,
    file: run.file,
    format: run.format,
    rows: run.rows,
    valid,
    inserted: counts.inserted,
    updated: counts.updated,
    duplicates: counts.duplicates,
    skipped: options.skipInvalid ? run.rows - valid : 0,
    errors: run.errors.list,
    errorCount: run.errors.count,
    newAttributes: outcome.newAttributes,
    ignoredColumns: [...run.ignored].map(([column, reason]) => ({ column, reason })),
    piiColumns: run.guard?.columns() ?? [],
    applied: outcome.applied,
    dryRun: options.dryRun === true,
  };
}

/** Thrown inside the change to roll it back when the import is refused or a dry run (never escapes). */
class RollBack extends Error {}

/**
 * Interactions into a store that takes them as they are read (PostgreSQL): the change opens first, each valid
 * row is streamed into it, the references are checked and the repeats left out by the database, and the change
 * rolls back unless the import is applied. Same rules, errors and report as the staged path below.
 */
async function streamInteractions(run: ImportRun): Promise<ImportReport> {
  const { store, options, errors } = run;
  const counts: Counts = { inserted: 0, updated: 0, duplicates: 0 };
  let rejected = 0;
  let write = false;
  try {
    await store.change(
      async (tx) => {
        const intake = await (tx.interactionIntake as () => Promise<InteractionIntake>)();
        run.intake = intake;
        try {
          await validatePass(run);
          finishFileChecks(run);
        } catch (err) {
          await intake.abort(err as Error);
          throw err;
        }
        const unknown = await intake.unknownReferences(errors.max);
        for (const e of unknown.errors) errors.add({ ...e, message: unknownReference(e.field, e.id) });
        errors.more(unknown.count - unknown.errors.length);
        rejected = unknown.rows;
        write = writes(run);
        if (!write) {
          const { fresh, duplicates } = await intake.count();
          Object.assign(counts, { inserted: fresh, duplicates });
          throw new RollBack();
        }
        const { appended, duplicates } = await intake.append();
        Object.assign(counts, { inserted: appended, duplicates });
        if (appended > 0) await auditImport(run, tx, `${appended} new`);
      },
      { now: options.now },
    );
  } catch (err) {
    if (!(err instanceof RollBack)) throw err;
  }
  return reportOf(run, {
    counts,
    applied: write && counts.inserted > 0,
    valid: run.taken - rejected,
    newAttributes: {},
  });
}

/** Whether the import writes: not a dry run, and no row is invalid or invalid rows are skipped. */
function writes(run: ImportRun): boolean {
  return (run.errors.count === 0 || run.options.skipInvalid === true) && run.options.dryRun !== true;
}

async function startImport(store: Store, options: ImportOptions): Promise<ImportRun> {
  const { kind, file } = options;
  const format = detectFormat(file, options.format);
  const resolver = new ColumnResolver(kind, options.map);
  const guard = kind === 'profiles' ? new PiiGuard(options.pii) : null;
  if (!guard && ((options.pii?.columns?.length ?? 0) > 0 || (options.pii?.notColumns?.length ?? 0) > 0)) {
    throw new ImportError('--pii and --no-pii apply to profile imports only');
  }
  const totalBytes = await fileSize(file);
  if (totalBytes === 0) throw new ImportError(`${file} is empty: expected ${expectedContent(format)}`);
  const { delimiter } = await sniffFile(file);
  const stage =
    kind === 'profiles'
      ? new ProfileStage(await store.audience.attributeKinds())
      : kind === 'products'
        ? new ProductStage()
        : new InteractionStage();
  return {
    store,
    options,
    kind,
    file,
    format,
    totalBytes,
    delimiter,
    resolver,
    guard,
    piiDecisions: new Map(),
    errors: new ErrorList(Math.max(0, Math.floor(options.maxErrors ?? DEFAULT_MAX_ERRORS))),
    ignored: new Map(),
    matchedMapFields: new Set(),
    missingCounts: new Map(),
    stage,
    rows: 0,
    records: 0,
    csvPlan: null,
    intake: null,
    taken: 0,
  };
}

/** The one streaming pass: every row is validated and, when valid, staged as it is read. */
async function validatePass(run: ImportRun): Promise<void> {
  const { options, totalBytes } = run;
  let bytesRead = 0;
  let reportedBytes = -1;
  const progress = (force = false) => {
    if (!options.onProgress || (bytesRead === reportedBytes && !force)) return;
    reportedBytes = bytesRead;
    options.onProgress({ bytesRead, totalBytes, rows: run.rows });
  };
  const events = readRecords({
    file: run.file,
    format: run.format,
    delimiter: run.delimiter,
    onBytes: (n) => {
      bytesRead = n;
    },
  });
  for await (const batch of events) {
    for (const event of batch) {
      if (event.type === 'header') {
        run.csvPlan = checkHeader(run.file, event.columns, run.resolver);
        continue;
      }
      run.rows++;
      progress();
      if (event.type === 'problem') {
        run.errors.add({ row: event.row, line: event.line, message: event.message });
      } else consumeRecord(run, event);
    }
    // Reading waits while the database is behind, so rows never pile up in the app.
    if (run.intake) await run.intake.drained();
  }
  bytesRead = totalBytes;
  progress(true);
}

function consumeRecord(run: ImportRun, event: RecordEvent): void {
  run.records++;
  const plan = run.csvPlan ?? recordPlan(run, event);
  if (plan === null) return;
  const { mapped, custom } = mapRecord(run, plan, event.values);
  const parsed = validateRow(run.kind, mapped);
  const origin: RowOrigin = { row: event.row, line: event.line };
  if (!parsed.ok) {
    for (const { field, message } of parsed.issues) {
      run.errors.add({ ...origin, field, column: sourceOf(plan, field), message });
    }
    return;
  }
  const { stage, intake } = run;
  if (intake) {
    const row = parsed.row as InteractionRow;
    run.taken++;
    const interaction = {
      user_id: row.user_id,
      item_id: row.item_id ?? null,
      type: row.type,
      value: row.value ?? null,
      timestamp: row.timestamp,
    };
    intake.add(interaction, event.row, event.line);
  } else if (stage instanceof ProfileStage) {
    stage.add(parsed.row as ProfileRow, custom, origin, (f) => sourceOf(plan, f) ?? f);
  } else if (stage instanceof ProductStage) stage.add(parsed.row as ProductRow, origin);
  else stage.add(parsed.row as InteractionRow, origin);
}

/** JSON has no header: each record's keys are planned on their own; null when a required field is missing. */
function recordPlan(run: ImportRun, event: RecordEvent): ColumnPlan | null {
  const { resolver } = run;
  const plan = resolver.plan(Object.keys(event.values));
  for (const field of resolver.mappedFields) {
    if (!plan.unmatchedMap.some((m) => m.field === field)) run.matchedMapFields.add(field);
  }
  for (const entry of plan.ignored)
    if (!run.ignored.has(entry.column)) run.ignored.set(entry.column, entry.reason);
  if (plan.missing.length === 0) return plan;
  for (const f of plan.missing) {
    run.missingCounts.set(f.name, (run.missingCounts.get(f.name) ?? 0) + 1);
    run.errors.add({ row: event.row, line: event.line, field: f.name, message: missingInRecord(f) });
  }
  return null;
}

/** The record's known fields by field name, and its custom attributes with identifiers already protected. */
function mapRecord(run: ImportRun, plan: ColumnPlan, values: Record<string, unknown>) {
  const mapped: Record<string, unknown> = {};
  let custom: Record<string, unknown> | null = null;
  for (const use of plan.columns) {
    let value = values[use.source];
    if (!use.custom) {
      mapped[use.field] = value;
      continue;
    }
    // Identifiers are replaced before anything else sees them (kind inference, errors, the store).
    const pii = piiDecision(run, use.source);
    if (pii) {
      if (pii.action === 'drop') continue;
      value = run.guard?.protect(value, pii);
    }
    custom ??= {};
    custom[use.field] = value;
  }
  return { mapped, custom };
}

function piiDecision(run: ImportRun, source: string): PiiColumnReport | null {
  let decision = run.piiDecisions.get(source);
  if (decision === undefined) {
    decision = run.guard?.decide(source) ?? null;
    run.piiDecisions.set(source, decision);
  }
  return decision;
}

/** File-level refusals once the whole file is read, and the columns that feed nothing. */
function finishFileChecks(run: ImportRun): void {
  const { file, guard, ignored } = run;
  if (run.rows === 0)
    throw new ImportError(`${file} has no data rows: expected ${expectedContent(run.format)}`);
  const unmatchedPii = guard?.unmatchedOptions()[0];
  if (unmatchedPii !== undefined) {
    throw new ImportError(
      `--pii/--no-pii ${unmatchedPii}: ${file} has no such profile attribute column (the id column is always kept as given)`,
    );
  }
  for (const c of guard?.columns() ?? []) {
    if (c.action === 'drop') ignored.set(c.column, 'personal identifier, dropped (--pii-mode drop)');
  }
  if (run.csvPlan) for (const entry of run.csvPlan.ignored) ignored.set(entry.column, entry.reason);
  else checkJsonColumns(file, run.resolver, run.matchedMapFields, run.missingCounts, run.records);
}

/** Ids asked about per call: a file of a million new people is a million unknown ids, not one answer. */
const IDS_PER_QUESTION = 50_000;

/** Which of `ids` the store does not hold, asked a slice at a time. */
async function unknownIds(
  store: Store,
  kind: 'profiles' | 'products',
  ids: readonly string[],
): Promise<ReadonlySet<string>> {
  const unknown = new Set<string>();
  for (let from = 0; from < ids.length; from += IDS_PER_QUESTION) {
    for (const id of await store.audience.unknownIds(kind, ids.slice(from, from + IDS_PER_QUESTION)))
      unknown.add(id);
  }
  return unknown;
}

/** Attribute kinds (profiles), required fields of new products, references (interactions). */
async function wholeFileChecks(run: ImportRun): Promise<Record<string, AttributeKind>> {
  const { stage, errors, store } = run;
  if (stage instanceof ProfileStage) {
    const newAttributes = stage.newAttributes((column, reason) => run.ignored.set(column, reason));
    const plan = run.csvPlan;
    stage.convertAttributes(newAttributes, errors, (name) => (plan ? (sourceOf(plan, name) ?? name) : name));
    return newAttributes;
  }
  if (stage instanceof ProductStage) stage.checkNew(await store.audience.products(), errors);
  else {
    const { users, items } = stage.references();
    const unknownUsers = await unknownIds(store, 'profiles', users);
    const unknownItems = await unknownIds(store, 'products', items);
    stage.checkReferences({ users: unknownUsers, items: unknownItems }, errors);
  }
  return {};
}

/** The one change (unless a dry run or refused), with the audit entry; or the counts of what it would do. */
async function applyImport(
  run: ImportRun,
  newAttributes: Record<string, AttributeKind>,
): Promise<{ counts: Counts; applied: boolean }> {
  const { store, options, stage } = run;
  const write = writes(run);
  // `apply` returns false when it wrote nothing after all (every event already stored): then no audit line.
  const change = (apply: (tx: StoreChange) => Promise<boolean | undefined>, what: () => string) =>
    store.change(
      async (tx) => {
        if ((await apply(tx)) !== false) await auditImport(run, tx, what());
      },
      { now: options.now },
    );
  if (stage instanceof InteractionStage) return applyInteractions(run, stage, write, change);
  const counts =
    stage instanceof ProfileStage
      ? stage.count(await unknownIds(store, 'profiles', stage.ids()))
      : stage.count(await store.audience.products());
  // Every valid profile/product row inserts or updates, so there is a change exactly when one is valid.
  if (!write || stage.origins.validCount === 0) return { counts, applied: false };
  const what = `${counts.inserted} new, ${counts.updated} updated`;
  await change(
    async (tx) => {
      await (stage instanceof ProfileStage ? stage.upsertInto(tx, newAttributes) : stage.upsertInto(tx));
      return true;
    },
    () => what,
  );
  return { counts, applied: true };
}

/**
 * Repeats within the file are dropped here; the store leaves out events it already holds, inside the change
 * (a dry run asks how many it holds instead). The audit line counts what was appended.
 */
async function applyInteractions(
  run: ImportRun,
  stage: InteractionStage,
  write: boolean,
  change: (apply: (tx: StoreChange) => Promise<boolean | undefined>, what: () => string) => Promise<void>,
): Promise<{ counts: Counts; applied: boolean }> {
  const fresh = stage.fresh();
  const counts = { inserted: fresh.interactions.length, updated: 0, duplicates: fresh.duplicates };
  const stored = (n: number) => {
    counts.inserted = fresh.interactions.length - n;
    counts.duplicates = fresh.duplicates + n;
  };
  if (!write || fresh.interactions.length === 0) {
    if (fresh.interactions.length > 0)
      stored(await run.store.audience.storedInteractions(fresh.interactions));
    return { counts, applied: false };
  }
  await change(
    async (tx) => {
      const appended = await tx.appendInteractions(fresh.interactions, { skipStored: true });
      stored(fresh.interactions.length - appended);
      return appended > 0;
    },
    () => `${counts.inserted} new`,
  );
  return { counts, applied: counts.inserted > 0 };
}

async function auditImport(run: ImportRun, tx: StoreChange, what: string): Promise<void> {
  const { options, guard } = run;
  if (options.actor === undefined) return;
  const pii = (guard?.columns() ?? []).map(
    (c) => `${c.column} ${c.action === 'drop' ? 'dropped' : 'pseudonymized'}`,
  );
  const detail = `${run.kind} from ${basename(run.file)}: ${what}${pii.length > 0 ? `; identifiers: ${pii.join(', ')}` : ''}`;
  await appendAudit(tx, auditEntry(options.actor, 'import', detail, options.now.getTime()));
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

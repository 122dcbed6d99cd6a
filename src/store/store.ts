/**
 * The storage seam: the one interface through which commands, queries, digests, privacy and the CLI read and
 * change persistent state, without knowing which backend is behind it. The file backend (file-store.ts: lowdb
 * over our own line format) is the first implementation; a database backend (PostgreSQL, issue #14) is meant
 * to be the second, answering the same calls with SQL instead of holding the audience in the app.
 *
 * The contract every backend keeps:
 *
 * - **Data version.** `audience.version()` is a number that changes with every change to profiles, products
 *   or interactions (an import, an erasure, a retention purge, a sample load) and with nothing else. Every
 *   derived result (cached models, segment runs, query caches in src/queries/) is keyed by it, so a cache is
 *   never stale and never needs another invalidation signal. A change bumps it at most once, however many
 *   audience writes it holds. Across processes the version is the backend's (for a database: a row, announced
 *   to other replicas); the file backend is one process per file (the lock), so its in-memory value is it.
 *
 * - **Typed columns.** Interactions cross the seam as objects (`Interaction`) or as typed columns
 *   (`InteractionColumns`, src/domain/interaction-columns.ts), the form the engine's interaction view is built
 *   from. A backend that holds columns anyway (the file decoder, a database's COPY output) returns them so the
 *   engine needs no per-event id lookups; one that does not returns null and the engine reads the objects.
 *
 * - **Reads are asynchronous** (a database answers over the network) and each returns values the caller must
 *   treat as read-only: the file backend hands out its live arrays, which is what keeps it fast.
 *   `audience.snapshot()` is the whole audience at one version, the engine's in-memory input: free for the file
 *   backend; a backend that keeps the audience elsewhere serves the narrower reads and `audience.aggregate`
 *   instead, and may refuse a snapshot above its memory budget (StoreError 'too_large').
 *
 * - **Commits and atomicity.** Every write goes through `change(fn)`: the writes `fn` makes through its
 *   `StoreChange` form one change, made durable together (never half of it on disk or in a database) and
 *   seen together by other processes. `fn` runs alone: changes never interleave. (The file backend applies
 *   writes to memory as they are made, so a read racing an open change in the same process may see part of
 *   it; no save starts while a change is open.) If `fn` throws, a transactional backend rolls the change back;
 *   the file backend cannot undo writes already applied in memory and saves them, so `fn` makes every check
 *   (and every read it decides on) before its first write, as all our callers do. `change` resolves when the
 *   change is durable (`wait: 'durable'`, the default: imports, erasure, the CLI, digest deliveries) or as soon
 *   as it is visible to reads (`wait: 'applied'`: caches, segment runs, audit lines of slash commands, made
 *   durable by a coalesced background save a moment later; a crash may lose those, never half of one).
 *   A change that removes personal data passes `scrubBackup`, so no older copy the backend keeps still holds it.
 */
import type {
  ColumnStats,
  ErrorSums,
  FoldScore,
  LinearScore,
  PatternSums,
} from '../domain/cross-products.ts';
import type { InteractionColumns } from '../domain/interaction-columns.ts';
import type { RecommendStatsSource } from '../domain/recommend-stats.ts';
import type { PersonFeatureSource } from '../domain/segment-scan.ts';
import type {
  AttributeKind,
  AudienceCounts,
  AudienceMeta,
  AuditEntry,
  CachedModel,
  ConnectionRecord,
  ContentMetric,
  DeliveryRecord,
  DigestSchedule,
  Interaction,
  PeopleRemoval,
  Product,
  ProductPatch,
  Profile,
  ProfilePatch,
  SegmentRun,
  TimeWindow,
} from '../domain/types.ts';

export { StoreError, type StoreErrorCode } from './errors.ts';
export {
  FileStore,
  markAudienceChanged,
  type OpenStoreOptions,
  openStore,
  SCHEMA_VERSION,
} from './file-store.ts';

/**
 * The whole audience at one data version, in the form the engine computes on. Read-only by contract (the
 * arrays are typed mutable only because the engine's input types are): the file backend hands out its own.
 */
export interface AudienceSnapshot {
  readonly version: number;
  readonly meta: Readonly<AudienceMeta>;
  readonly attributes: Record<string, AttributeKind>;
  readonly profiles: Profile[];
  readonly products: Product[];
  readonly interactions: Interaction[];
}

/**
 * A question a backend may answer itself (a database: SQL over rollups kept on import) instead of the engine
 * computing it from a snapshot. `kind` names the engine result (e.g. 'stats'), `params` what it depends on
 * besides the data version (as-of instant, filter text…), as JSON.
 */
export interface AggregateQuery {
  kind: string;
  params: Readonly<Record<string, unknown>>;
}

/** Reads of the audience: profiles, products, interactions, attribute kinds and the data version. */
export interface AudienceReads {
  /** The data version (see the contract above). */
  version(): Promise<number>;
  /** Version, time of the last audience change and where the data came from. */
  meta(): Promise<Readonly<AudienceMeta>>;
  /** Row counts, without reading the rows. */
  counts(): Promise<AudienceCounts>;
  /** Types of the custom profile attributes seen so far. */
  attributeKinds(): Promise<Readonly<Record<string, AttributeKind>>>;
  /** The product catalogue. */
  products(): Promise<readonly Product[]>;
  /** Profiles: all of them, or those with the given ids (in stored order; unknown ids are skipped). */
  profiles(query?: { ids?: readonly string[] }): Promise<readonly Profile[]>;
  /** Which of these ids appear anywhere in the audience: a profile, an interaction, or a stored segment run. */
  mentioned(ids: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Which of these profile (or product) ids are not stored: what an import checks references and counts new
   * rows by, without reading the audience (a database answers from its primary key).
   */
  unknownIds(kind: 'profiles' | 'products', ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** How many of these interactions are already stored (same person, product, type and instant: interactionKey). */
  storedInteractions(interactions: readonly Interaction[]): Promise<number>;
  /** Interactions in data order, all or those in a time window. */
  interactions(window?: TimeWindow): Promise<readonly Interaction[]>;
  /** The interactions of these people, in data order (a database reads them by index). */
  interactionsOf(userIds: readonly string[]): Promise<readonly Interaction[]>;
  /**
   * The recommender's statistics aggregated where the data lives (src/domain/recommend-stats.ts), or null: the
   * app computes them from a snapshot (the file backend, whose snapshot is free).
   */
  readonly recommendStats: RecommendStatsSource | null;
  /**
   * The interactions of `interactions()` (whole audience) as typed columns, numbered by `snapshot().profiles`,
   * or null when the backend has none at hand. The file backend has them right after a load and hands them
   * over once (they are as large as the events' index); after that the engine's own view is current.
   */
  interactionColumns(): Promise<InteractionColumns | null>;
  /** The whole audience at one version (see the contract above). */
  snapshot(): Promise<AudienceSnapshot>;
  /** The backend's own answer to an aggregate, or undefined: compute it in the app from the reads. */
  aggregate(query: AggregateQuery): Promise<unknown>;
  /**
   * Everyone's features computed by the backend (a database: in SQL), so segments are fitted on a sample and
   * everyone is placed without a snapshot; null when the backend leaves features to the engine (the file).
   */
  readonly personFeatures: PersonFeatureSource | null;
  /**
   * Prediction rows computed where the data lives (a database: SQL over every row), or null: the app computes
   * them from a snapshot (the file backend, and reads inside an open change).
   */
  readonly predictions: PredictionSource | null;
  /**
   * The ids of the profiles carrying each of these stored pseudonyms (privacy/pseudonym.ts), in stored order,
   * read by index (a database's pseudonym table); null: the app builds its index from the profiles (the file).
   */
  readonly pseudonymOwners:
    | ((pseudonyms: readonly string[]) => Promise<ReadonlyMap<string, readonly string[]>>)
    | null;
}

/**
 * Which per-person prediction rows to compute: the features at `asOf` of the profiles that existed then, and
 * the target (spend in the 30 days from `asOf`, or a numeric attribute) — the engine's definitions
 * (src/engine/features.ts, predict.ts `buildTrainingSet`).
 */
export interface PredictionRowsQuery {
  /** 'spend_next_30d' or a numeric custom attribute. */
  target: string;
  features: readonly string[];
  /** The training set's instant: the cutoff for spend, cutoff + 30 days for an attribute. */
  asOf: number;
  /** Also the time split's earlier set (spend only): features at asOf - 30 days, spend in the 30 days after. */
  earlier: boolean;
  /** Also everyone's features at this instant (the forecast's "now"), for `errors`' forecast. */
  now?: number;
  /** Cross-validation folds: each person's fold is domain/folds.ts `foldOfId(id, seed, folds)`. */
  folds: number;
  seed: number;
}

/** The training sets of a `PredictionRowsQuery`. */
export type PredictionSet = 'train' | 'earlier';

/** Per-person prediction rows held by the backend for one fit (a temporary table); release when done. */
export interface PredictionRows {
  /** The data version the rows were computed from. */
  readonly version: number;
  /** A set's rows, purchasers, and per column of `names` its mean, gaps and median. */
  columns(set: PredictionSet, names: readonly string[]): Promise<ColumnStats>;
  /** Medians of `names` over the set's rows outside each fold, [fold][column] (the folds' fits fill gaps with them). */
  foldMedians(set: PredictionSet, names: readonly string[]): Promise<number[][]>;
  /**
   * The set's sums per fold (or of all rows as one, without `byFold`) in one pass: columns `names` shifted by
   * `shift`, split by which values are missing for the columns with `gaps` (engine/fold-sums.ts solves them).
   */
  patterns(
    set: PredictionSet,
    q: { names: readonly string[]; shift: readonly number[]; gaps: readonly boolean[]; byFold: boolean },
  ): Promise<PatternSums[]>;
  /**
   * Error sums of the set's rows for each check, each row scored by its fold's score (or the one for all); with
   * `forecast`, also that score applied to everyone who existed at the query's `now` (same pass over the rows).
   */
  errors(
    set: PredictionSet,
    checks: readonly (readonly FoldScore[])[],
    forecast?: LinearScore,
  ): Promise<{ errors: ErrorSums[]; everyone: ForecastSums | null }>;
  release(): Promise<void>;
}

/** Whose forecast: everyone who existed at `asOf`, some people, or a stored segment's people with a profile. */
export type ForecastWho =
  | { kind: 'all' }
  | { kind: 'ids'; ids: readonly string[] }
  | { kind: 'segment'; runId: string; label: number };

/** A fitted score applied to people at an instant (features at `asOf`; spend floored at zero). */
export interface ForecastQuery {
  target: string;
  score: LinearScore;
  asOf: number;
  who: ForecastWho;
}

/** A forecast's sum over its people; with ids, each one's value in the order asked (NaN: no such profile). */
export interface ForecastSums {
  n: number;
  total: number;
  values?: number[];
}

/** A backend's prediction rows (see `AudienceReads.predictions`). */
export interface PredictionSource {
  /** Whether the backend computes this feature (`kind`: the custom attribute's kind, if it is one). */
  computes(feature: string, kind: AttributeKind | undefined): boolean;
  /** The latest interaction's time and the latest sign-up, epoch ms (null: none), for the default cutoff. */
  extent(): Promise<{ latestInteraction: number | null; latestSignup: number | null }>;
  /** Computes the rows of a fit, or refuses (PredictError-free: a plain Error) a feature it does not compute. */
  open(query: PredictionRowsQuery): Promise<PredictionRows>;
  /** Applies a score to people (see ForecastQuery). */
  forecast(query: ForecastQuery): Promise<ForecastSums>;
}

/** Reads of stored segmentations (who was in which segment at a point in time). */
export interface SegmentRunReads {
  /** The most recent run, if any. */
  latest(): Promise<SegmentRun | undefined>;
  /** One run by id. */
  get(id: string): Promise<SegmentRun | undefined>;
  /** Every kept run, oldest first. */
  list(): Promise<readonly SegmentRun[]>;
  /** Every kept run, oldest first, without its members (`user_ids` and `labels` empty): a database reads no assignment. */
  headers(): Promise<readonly SegmentRun[]>;
  /** How many runs are kept, without reading them (a database would read every assignment for `list`). */
  count(): Promise<number>;
  /**
   * One page of the members of segment `label` (0-based) of run `runId`, in stored order: those after position
   * `after` (-1: from the start), at most `limit`; `next` is the `after` of the following page (null: no more).
   */
  members(
    runId: string,
    label: number,
    page: { after: number; limit: number },
  ): Promise<{ userIds: string[]; next: number | null }>;
  /** The segment (0-based label) of each of these people in run `runId`; people not in it are left out. */
  labelsOf(runId: string, userIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

/** Reads of fitted models, stored as JSON per data version (see src/queries/cache.ts). */
export interface ModelReads {
  /** The entry under `key`, whatever its data version (the caller compares it). */
  get(key: string): Promise<CachedModel | undefined>;
}

/** Reads of digest schedules and their occurrences' delivery records. */
export interface DigestReads {
  /** Every schedule, in creation order. */
  schedules(): Promise<readonly DigestSchedule[]>;
  /** One schedule by id. */
  schedule(id: string): Promise<DigestSchedule | undefined>;
  /** Every kept delivery record (one per occurrence key), oldest first. */
  deliveries(): Promise<readonly DeliveryRecord[]>;
  /** The record of one occurrence key. */
  delivery(key: string): Promise<DeliveryRecord | undefined>;
}

/** Reads of the admin audit log. */
export interface AuditReads {
  /** Entries oldest first, all or those at or after `since` (epoch ms). */
  entries(query?: { since?: number }): Promise<readonly AuditEntry[]>;
}

/**
 * Reads of platform connections (issue #15): the records, which event source ids a connection has synced (so a
 * re-fetched page adds nothing), and the latest per-content metrics. None of this is audience data: changing it
 * does not bump the data version.
 */
export interface ConnectionReads {
  /** Every connection, in creation order. */
  list(): Promise<readonly ConnectionRecord[]>;
  /** One connection by id. */
  get(id: string): Promise<ConnectionRecord | undefined>;
  /**
   * Which of `keys` (source ids of synced events) are recorded under key space `space` (the sync engine keeps one
   * per platform, see src/connectors/sync-commit.ts `keySpace`).
   */
  syncedKeys(space: string, keys: readonly string[]): Promise<ReadonlySet<string>>;
  /** How many keys are recorded under key space `space`. */
  syncedKeyCount(space: string): Promise<number>;
  /** Every recorded key, by key space, each list sorted (moving a store to another backend copies them). */
  allSyncedKeys(): Promise<ReadonlyMap<string, readonly string[]>>;
  /** The latest metrics of connection `id`, by content then name. */
  metrics(id: string): Promise<readonly ContentMetric[]>;
}

/** Everything that can be read; a `StoreChange` reads the same way and sees its own writes. */
export interface StoreReads {
  readonly audience: AudienceReads;
  readonly segmentRuns: SegmentRunReads;
  readonly models: ModelReads;
  readonly digests: DigestReads;
  readonly audit: AuditReads;
  readonly connections: ConnectionReads;
}

/** A row of an intake whose user_id or item_id names nothing stored. */
export interface UnknownReference {
  /** The row number (and file line) the importer gave with the row. */
  row: number;
  line: number | undefined;
  field: 'user_id' | 'item_id';
  id: string;
}

/**
 * An import's interactions taken inside its change as the file is read (StoreChange.interactionIntake). Row numbers
 * travel with the rows, so errors found by the backend still name them. Rows repeated within the intake, or already
 * stored (interactionKey), are counted, never appended.
 */
export interface InteractionIntake {
  /** Takes one valid row; rows must come in increasing row order. */
  add(interaction: Interaction, row: number, line: number | undefined): void;
  /** Resolves once the backend has caught up with the rows added so far (call between batches). */
  drained(): Promise<void>;
  /** Ends the intake after a failure, so the change can roll back. */
  abort(error: Error): Promise<void>;
  /**
   * After the last row: the rows naming an unknown person or product (the first `max` by row, one per bad field),
   * how many such errors there are, and in how many rows. Those rows are left out of `count` and `append`.
   */
  unknownReferences(max: number): Promise<{ errors: UnknownReference[]; count: number; rows: number }>;
  /** What `append` would do: rows it would add, and rows repeated in the intake or already stored. */
  count(): Promise<{ fresh: number; duplicates: number }>;
  /** Appends the rows neither repeated nor stored, in row order; source 'import'. */
  append(): Promise<{ appended: number; duplicates: number }>;
}

/**
 * The writes of one change (see `Store.change`). Audience writes bump the data version once for the whole
 * change, and only when they changed something; they stamp `meta.updatedAt` with the change's `now`.
 */
export interface StoreChange extends StoreReads {
  /** Makes this the whole audience (a sample load): drops every segment run and model; source 'sample'. */
  replaceAudience(audience: {
    profiles: Profile[];
    products: Product[];
    interactions: Interaction[];
    attributes: Record<string, AttributeKind>;
  }): Promise<void>;
  /** Inserts or merges profiles in order (see ProfilePatch) and records new attribute kinds; source 'import'. */
  upsertProfiles(
    patches: readonly ProfilePatch[],
    kinds: Readonly<Record<string, AttributeKind>>,
  ): Promise<{ inserted: number; updated: number }>;
  /** Inserts or merges products in order (see ProductPatch); source 'import'. */
  upsertProducts(patches: readonly ProductPatch[]): Promise<{ inserted: number; updated: number }>;
  /**
   * Appends interactions (the caller has dropped repeats within them); with `skipStored`, those already stored
   * (interactionKey) are left out. Returns how many were appended. Source 'import'.
   */
  appendInteractions(
    interactions: readonly Interaction[],
    options?: { skipStored?: boolean },
  ): Promise<number>;
  /**
   * Present when the backend can take an import's interactions while its file is still being read (PostgreSQL:
   * streamed into the database with COPY, then checked and appended in SQL), so the app neither holds the file's
   * rows nor waits for the database after reading them. Absent (the file backend): stage, then appendInteractions.
   */
  interactionIntake?(): Promise<InteractionIntake>;
  /** Removes people everywhere in the audience and the stored segment runs (sizes adjusted). */
  removePeople(ids: ReadonlySet<string>): Promise<PeopleRemoval>;
  /** Removes interactions older than `cutoff` (epoch ms); returns how many. */
  removeInteractionsBefore(cutoff: number): Promise<number>;

  /**
   * Stores a segment run, keeping the newest `keep`. A run with `placement` and no `user_ids` (computed through
   * `audience.personFeatures`) has its assignments written by the backend from the placement.
   */
  addSegmentRun(run: SegmentRun, keep: number): Promise<void>;

  /**
   * Stores a model under `entry.key`; drops the entries of its kind for other data versions, and keeps at most
   * `keep` of its kind (the oldest go first).
   */
  putModel(entry: CachedModel, keep: number): Promise<void>;
  /** Drops every stored model; returns how many there were. */
  clearModels(): Promise<number>;

  /** Adds a schedule. */
  addSchedule(schedule: DigestSchedule): Promise<void>;
  /** Changes fields of a schedule; returns it as changed, or undefined when there is none with that id. */
  updateSchedule(id: string, patch: Partial<Omit<DigestSchedule, 'id'>>): Promise<DigestSchedule | undefined>;
  /** Removes a schedule (its delivery records stay); returns whether it existed. */
  removeSchedule(id: string): Promise<boolean>;
  /** Inserts or replaces the record of one occurrence (one record per key). */
  putDelivery(record: DeliveryRecord): Promise<void>;
  /** Drops records older than `before`, then the oldest beyond `max`. */
  pruneDeliveries(before: number, max: number): Promise<void>;
  /** Clears the detail of every delivery record whose detail matches; returns how many. */
  redactDeliveries(matches: (detail: string) => boolean): Promise<number>;

  /** Appends an audit entry, keeping the newest `keep`. */
  appendAudit(entry: AuditEntry, keep: number): Promise<void>;
  /** Replaces the detail of every audit entry whose detail matches; returns how many. */
  redactAudit(matches: (detail: string) => boolean, replacement: string): Promise<number>;

  /** Inserts a connection, or replaces the one with its id. */
  putConnection(record: ConnectionRecord): Promise<void>;
  /** Changes fields of a connection; returns it as changed, or undefined when there is none with that id. */
  updateConnection(
    id: string,
    patch: Partial<Omit<ConnectionRecord, 'id'>>,
  ): Promise<ConnectionRecord | undefined>;
  /** Removes a connection, its metrics and any keys under its id (the synced audience stays); returns whether it existed. */
  removeConnection(id: string): Promise<boolean>;
  /** Records keys under key space `space` (already recorded ones are ignored). */
  addSyncedKeys(space: string, keys: readonly string[]): Promise<void>;
  /** Drops every key under key space `space` (a store being replaced by another's copy). */
  clearSyncedKeys(space: string): Promise<void>;
  /** Inserts or replaces metrics (one per connection, content and name). */
  putMetrics(metrics: readonly ContentMetric[]): Promise<void>;
}

/** How a change is committed (see the contract in the module comment). */
export interface ChangeOptions {
  /** The time that stamps an audience change (`meta.updatedAt`); default: now. */
  now?: Date;
  /** 'durable' (default): resolve once on disk / committed. 'applied': once visible, saved soon after. */
  wait?: 'durable' | 'applied';
  /** The change removes personal data: no older copy kept by the backend may still hold it. */
  scrubBackup?: boolean;
}

/** Encryption at rest done by the backend itself (the file backend); a database leaves it to its disks. */
export interface AtRestEncryption {
  /** Rewrites everything under `key` (null: plain) and leaves no copy under the old key or in plain text. */
  changeKey(key: Buffer | null): Promise<void>;
}

/** A won claim on a digest occurrence (see OccurrenceClaims). */
export interface OccurrenceClaim {
  key: string;
  /** Who holds it: this process. */
  holder: string;
  /** 1 for a first claim, more for a takeover of one whose holder's lease ran out. */
  attempt: number;
  /** The previous holder had started posting when it stopped: look in the channel before posting again. */
  mayHavePosted: boolean;
  /** A retry by hand's claim on a finished occurrence (see `OccurrenceClaims.claim`). */
  again?: boolean;
}

/**
 * Exactly-once digests across processes: the scheduler claims each occurrence before it prepares or posts it,
 * and only the winner delivers. A claim is a lease, renewed while its holder lives; when a holder dies its
 * claims lapse and another process takes them over (flagged `mayHavePosted` if it had started posting).
 * Recording an occurrence's final delivery record (delivered, failed, skipped) ends its claim in the same
 * change. A database shares claims between replicas; the file backend grants every claim, since its lock
 * already makes this process the only scheduler on the file.
 */
export interface OccurrenceClaims {
  /** True when other processes claim too (a database shared by replicas). */
  readonly shared: boolean;
  /**
   * Claims an occurrence for `leaseMs`, or null when another process holds it or it is finished. `again`: a
   * retry by hand, which may claim a finished occurrence anew (still not one another process holds), so two
   * people pressing Retry on two replicas send it once.
   */
  claim(
    key: string,
    scheduleId: string,
    leaseMs: number,
    options?: { again?: boolean },
  ): Promise<OccurrenceClaim | null>;
  /** Marks a held claim as posting, right before the post; false when it was taken over: do not post. */
  startPosting(claim: OccurrenceClaim, leaseMs: number): Promise<boolean>;
  /**
   * Extends this process's claims on `keys`, the occurrences it is working on, by `leaseMs` (its heartbeat);
   * a claim it holds but gave up on lapses, and is taken over like a dead holder's.
   */
  renew(leaseMs: number, keys: readonly string[]): Promise<void>;
  /**
   * Gives up a claim not yet posted, so another process may take it at once; a retry's claim (`again`) returns
   * the occurrence to finished instead (nothing is due: a retry is only sent when someone asks).
   */
  release(claim: OccurrenceClaim): Promise<void>;
  /** Keys of occurrences whose holder's lease ran out before they finished: due again, to whoever claims. */
  abandoned(): Promise<ReadonlySet<string>>;
}

/** The persistent state of one audience and the only way to change it. */
export interface Store extends StoreReads {
  /** True when this backend's changes offer `interactionIntake` (imports stream their events into it). */
  readonly streamsInteractions?: boolean;
  /** Claims on digest occurrences, so each is delivered once however many schedulers run. */
  readonly occurrences: OccurrenceClaims;
  /** Where the data lives, for messages: a file path, or a database URL without credentials. */
  readonly location: string;
  /** Present when the backend encrypts at rest itself. */
  readonly atRest?: AtRestEncryption;
  /** Applies `fn`'s writes as one change (see the contract above) and resolves with `fn`'s result. */
  change<T>(fn: (tx: StoreChange) => Promise<T>, options?: ChangeOptions): Promise<T>;
  /**
   * Makes sure this process may write, before any work that will: the file backend takes its lock now and
   * throws StoreError 'locked' (one message saying what to do) when another process holds it.
   */
  claimWrites(): Promise<void>;
  /**
   * Holds background saves back while `busy()` returns true, for at most `maxDeferMs` (default 5 s): a save
   * competes with answers people are waiting for. Backends without background saves ignore it.
   */
  deferBackgroundSaves(busy: () => boolean, maxDeferMs?: number): void;
  /** Makes every applied change durable now and waits for it. */
  flush(): Promise<void>;
  /** Flushes and lets go of the backend (timers, lock, connections). */
  close(): Promise<void>;
}

/**
 * The file backend of the storage seam (store.ts): a lowdb `Low<AudienceData>` over our own file adapter
 * (encode.ts/decode.ts for the format, file-adapter.ts for atomic saves). The whole audience lives in memory;
 * reads hand out the live arrays, changes apply in memory at once and saves are coalesced, serialized and
 * retried in the background, or awaited (`change` with `wait: 'durable'`, `flush`).
 */
import { Low } from 'lowdb';
import type { InteractionColumns } from '../domain/interaction-columns.ts';
import { interactionKey } from '../domain/interaction-key.ts';
import { type AudienceData, emptyAudienceData, type Interaction, type TimeWindow } from '../domain/types.ts';
import { StoreError } from './errors.ts';
import { type AdapterEncryption, AudienceFileAdapter } from './file-adapter.ts';
import { FileChange } from './file-change.ts';
import { connectionReads } from './file-connections.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type MigrationStep } from './migrations.ts';
import type {
  AggregateQuery,
  AtRestEncryption,
  AudienceReads,
  AudienceSnapshot,
  AuditReads,
  ChangeOptions,
  ConnectionReads,
  DigestReads,
  ModelReads,
  OccurrenceClaims,
  SegmentRunReads,
  Store,
  StoreChange,
} from './store.ts';

/** The schema version this build reads and writes (older files are migrated on open). */
export const SCHEMA_VERSION: number = LATEST_SCHEMA_VERSION;

/** How to open a store; `onNotice` hears about recoveries and migrations (default: console.warn). */
export interface OpenStoreOptions {
  file: string;
  flushDelayMs?: number;
  onFlushError?: (err: Error) => void;
  onNotice?: (message: string) => void;
  /** Replaces the migration list; for tests of the migration path only. */
  migrations?: readonly MigrationStep[];
  /** Encryption at rest (DATA_ENCRYPTION_KEY); default: plain files. */
  encryption?: AdapterEncryption;
}

const DEFAULT_FLUSH_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 60_000;

/**
 * Opens (or starts) the data file: reads and migrates the data, recovers from `<file>.bak` if the main file
 * is missing. Throws StoreError when the file cannot be used; never changes the file on a failed read.
 * Opening is read-only; the first save (or `claimWrites`) takes `<file>.lock` until close (see file-adapter.ts).
 */
export async function openStore(options: OpenStoreOptions): Promise<FileStore> {
  const file = options.file;
  const onNotice = options.onNotice ?? ((message: string) => console.warn(`[store] ${message}`));
  const adapter = new AudienceFileAdapter(
    file,
    options.migrations ?? MIGRATIONS,
    SCHEMA_VERSION,
    onNotice,
    options.encryption,
  );
  const db = new Low<AudienceData>(adapter, emptyAudienceData(SCHEMA_VERSION));
  await db.read();
  const store = new FileStore(db, adapter, file, {
    flushDelayMs: options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS,
    onFlushError: options.onFlushError ?? ((err: Error) => console.error(`[store] ${err.message}`)),
  });
  // A recovered or migrated file is saved in our current form soon, without holding up the open.
  if (adapter.needsSave) store.update(() => undefined);
  return store;
}

/** Bump meta.dataVersion and meta.updatedAt after a change to profiles/products/interactions (file backend). */
export function markAudienceChanged(data: AudienceData, now: Date, source?: 'sample' | 'import'): void {
  data.meta.dataVersion += 1;
  data.meta.updatedAt = now.getTime();
  if (source !== undefined) data.meta.source = source;
}

/** The file backend; `data`, `update` and `commit` are its own (tests, benches), not part of the seam. */
export class FileStore implements Store {
  /** Counts changes applied in memory, and the newest change known to be on disk. */
  private changeSeq = 0;
  private savedSeq = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private deferral: { busy: () => boolean; maxMs: number; since: number | null } | null = null;
  /** The change running now (changes run one at a time), and how many are open (saves wait for none). */
  private changeQueue: Promise<unknown> = Promise.resolve();
  private openChanges = 0;
  private changesClosed: (() => void) | null = null;

  readonly audience: AudienceReads;
  readonly segmentRuns: SegmentRunReads;
  readonly models: ModelReads;
  readonly digests: DigestReads;
  readonly audit: AuditReads;
  readonly connections: ConnectionReads;
  readonly atRest: AtRestEncryption;
  /**
   * Every claim is granted: the data file's lock (taken by the first change) already makes this process the
   * only scheduler on the file, and a crash mid-post is handled by the `started` records (planner.ts).
   */
  readonly occurrences: OccurrenceClaims = {
    shared: false,
    claim: async (key, _scheduleId, _leaseMs, options) => ({
      key,
      holder: `pid ${process.pid}`,
      attempt: 1,
      mayHavePosted: false,
      ...(options?.again ? { again: true } : {}),
    }),
    startPosting: async () => true,
    renew: async () => undefined,
    release: async () => undefined,
    abandoned: async () => new Set<string>(),
  };

  constructor(
    private readonly db: Low<AudienceData>,
    private readonly adapter: AudienceFileAdapter,
    readonly file: string,
    private readonly options: { flushDelayMs: number; onFlushError: (err: Error) => void },
  ) {
    const reads = memoryReads(() => this.db.data, adapter);
    this.audience = reads.audience;
    this.segmentRuns = reads.segmentRuns;
    this.models = reads.models;
    this.digests = reads.digests;
    this.audit = reads.audit;
    this.connections = reads.connections;
    this.atRest = { changeKey: (key) => this.changeEncryption(key) };
  }

  get location(): string {
    return this.file;
  }

  /** Live in-memory data (file backend only): read freely, change only through change()/update()/commit(). */
  get data(): AudienceData {
    return this.db.data;
  }

  async change<T>(fn: (tx: StoreChange) => Promise<T>, options: ChangeOptions = {}): Promise<T> {
    this.assertOpen();
    const run = async (): Promise<T> => {
      const tx = new FileChange(this.db.data, this, options.now ?? new Date());
      this.openChanges++;
      try {
        return await fn(tx);
      } finally {
        tx.finish();
        this.openChanges--;
        this.changeSeq++;
        if (options.scrubBackup) this.adapter.requestBackupScrub();
        if (this.openChanges === 0) this.changesClosed?.();
      }
    };
    const result = this.changeQueue.then(run, run);
    this.changeQueue = result.catch(() => undefined);
    const value = await result;
    if (options.wait === 'applied') this.schedule();
    else await this.flush();
    return value;
  }

  async claimWrites(): Promise<void> {
    this.assertOpen();
    await this.adapter.claim();
  }

  /** Apply a change in memory now and schedule a coalesced background flush (file backend only). */
  update(fn: (data: AudienceData) => void): void {
    this.assertOpen();
    try {
      fn(this.db.data);
    } finally {
      // Even a change that threw halfway may have touched the data: save whatever is there.
      this.changeSeq++;
      this.schedule();
    }
  }

  /**
   * Apply a change and resolve once it is durably on disk (file backend only). With `scrubBackup`, the `.bak`
   * copy is replaced too, so removed data (a forgotten person) is in no file.
   */
  async commit(fn: (data: AudienceData) => void, options: { scrubBackup?: boolean } = {}): Promise<void> {
    this.assertOpen();
    try {
      fn(this.db.data);
    } finally {
      this.changeSeq++;
      if (options.scrubBackup) this.adapter.requestBackupScrub();
    }
    await this.flush();
  }

  /**
   * Rewrites the data file now with another encryption key (null: plain), through the usual atomic save,
   * and replaces the `.bak` so no copy under the old key (or in plain text) is left behind.
   */
  async changeEncryption(key: Buffer | null): Promise<void> {
    this.assertOpen();
    // A save already running finishes with the old key; the one this change triggers uses the new one.
    await this.inflight?.catch(() => undefined);
    this.adapter.setEncryptionKey(key);
    await this.commit(() => undefined, { scrubBackup: true });
  }

  flush(): Promise<void> {
    this.clearTimer();
    if (this.deferral) this.deferral.since = null;
    return this.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.clearTimer();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    // Changes made while the last save runs are saved too; if a save fails the store stays open.
    for (;;) {
      if (this.inflight) {
        await this.inflight.catch(() => undefined);
        continue;
      }
      if (this.savedSeq >= this.changeSeq) break;
      await this.flush();
    }
    this.closed = true;
    await this.adapter.release();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new StoreError(
        'closed',
        this.file,
        `The store for ${this.file} is closed; open it again to change data.`,
      );
    }
  }

  private async drain(): Promise<void> {
    const wanted = this.changeSeq;
    while (this.savedSeq < wanted) {
      if (this.inflight) {
        // Someone else's save: wait, then look again (it may not have covered our change, or failed).
        await this.inflight.catch(() => undefined);
        continue;
      }
      if (this.openChanges > 0) {
        // Never save half a change: wait until the open ones are done.
        await new Promise<void>((resolve) => {
          this.changesClosed = resolve;
        });
        this.changesClosed = null;
        continue;
      }
      await this.save();
    }
  }

  /** One save through lowdb; only ever one at a time. */
  private save(): Promise<void> {
    const seq = this.changeSeq;
    // The changes are already applied in memory; lowdb's update() runs the adapter's write.
    const saving = this.db
      .update(() => undefined)
      .then(() => {
        this.savedSeq = Math.max(this.savedSeq, seq);
        this.failures = 0;
      })
      .finally(() => {
        this.inflight = null;
      });
    this.inflight = saving;
    return saving;
  }

  deferBackgroundSaves(busy: () => boolean, maxDeferMs = 5_000): void {
    this.deferral = { busy, maxMs: maxDeferMs, since: null };
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const deferral = this.deferral;
      if (deferral?.busy()) {
        deferral.since ??= performance.now();
        if (performance.now() - deferral.since < deferral.maxMs) {
          this.schedule();
          return;
        }
      }
      this.flush().catch((error: unknown) => this.flushFailed(error));
    }, this.options.flushDelayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flushFailed(error: unknown): void {
    this.failures++;
    try {
      this.options.onFlushError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // A throwing reporter must not turn into an unhandled rejection.
    }
    // Retry with backoff even if no new change arrives, so a passing problem (disk full) heals itself;
    // a conflict does not pass by itself, so it waits for the next flush.
    if (this.retryTimer || this.closed) return;
    if (error instanceof StoreError && error.code === 'conflict') return;
    const base = Math.max(this.options.flushDelayMs, 1_000);
    const delay = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** (this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.savedSeq < this.changeSeq) this.flush().catch((e: unknown) => this.flushFailed(e));
    }, delay);
    // The retry must not keep a process alive that has nothing else to do.
    this.retryTimer.unref();
  }
}

/** The keys (interactionKey) of stored interactions. */
export function storedKeys(interactions: readonly Interaction[]): Set<string> {
  const keys = new Set<string>();
  for (const i of interactions) keys.add(interactionKey(i));
  return keys;
}

/** Where the file backend finds decoded interaction columns to hand over (see AudienceReads.interactionColumns). */
export interface ColumnsSource {
  takeColumns(interactions: readonly unknown[]): InteractionColumns | null;
}

/** The reads of the seam over in-memory data (the file backend's, and a change's view of it). */
export function memoryReads(data: () => AudienceData, columns: ColumnsSource) {
  const inWindow = (window: TimeWindow | undefined) => {
    const all = data().interactions;
    if (window === undefined || (window.from === undefined && window.to === undefined)) return all;
    const from = window.from ?? Number.NEGATIVE_INFINITY;
    const to = window.to ?? Number.POSITIVE_INFINITY;
    return all.filter((i) => i.timestamp >= from && i.timestamp < to);
  };
  const audience: AudienceReads = {
    version: async () => data().meta.dataVersion,
    meta: async () => data().meta,
    counts: async () => {
      const d = data();
      return {
        profiles: d.profiles.length,
        products: d.products.length,
        interactions: d.interactions.length,
      };
    },
    attributeKinds: async () => data().attributes,
    products: async () => data().products,
    profiles: async (query) => {
      const all = data().profiles;
      if (query?.ids === undefined) return all;
      const wanted = new Set(query.ids);
      return all.filter((p) => wanted.has(p.id));
    },
    mentioned: async (ids) => mentionedIn(data(), ids),
    unknownIds: async (kind, ids) => {
      const stored = new Set(data()[kind].map((row) => row.id));
      return new Set(ids.filter((id) => !stored.has(id)));
    },
    storedInteractions: async (interactions) => {
      const stored = storedKeys(data().interactions);
      return interactions.filter((i) => stored.has(interactionKey(i))).length;
    },
    interactions: async (window) => inWindow(window),
    interactionsOf: async (ids) => {
      const wanted = new Set(ids);
      return data().interactions.filter((i) => wanted.has(i.user_id));
    },
    // The snapshot is free here: the engine computes the statistics from memory.
    recommendStats: null,
    interactionColumns: async () => columns.takeColumns(data().interactions),
    snapshot: async () => snapshotOf(data()),
    aggregate: async (_query: AggregateQuery) => undefined,
    // The audience is in memory: the engine computes prediction rows from the snapshot.
    predictions: null,
    // The engine computes features from the snapshot, which is free here.
    personFeatures: null,
    // Lookups by pseudonym use the app's index over the profiles in memory (privacy/resolve.ts).
    pseudonymOwners: null,
  };
  const segmentRuns = memorySegmentRuns(data);
  const models: ModelReads = {
    get: async (key) => (Object.hasOwn(data().models, key) ? data().models[key] : undefined),
  };
  const digests: DigestReads = {
    schedules: async () => data().schedules,
    schedule: async (id) => data().schedules.find((s) => s.id === id),
    deliveries: async () => data().deliveries,
    delivery: async (key) => findLast(data().deliveries, (d) => d.key === key),
  };
  const audit: AuditReads = {
    entries: async (query) => {
      const all = data().audit;
      const since = query?.since;
      return since === undefined ? all : all.filter((a) => a.at >= since);
    },
  };
  return { audience, segmentRuns, models, digests, audit, connections: connectionReads(data) };
}

/** The stored segmentations, in memory. */
function memorySegmentRuns(data: () => AudienceData): SegmentRunReads {
  return {
    latest: async () => data().segmentRuns.at(-1),
    get: async (id) => data().segmentRuns.find((r) => r.id === id),
    list: async () => data().segmentRuns,
    // The members are in memory anyway: handing them over costs nothing.
    headers: async () => data().segmentRuns,
    count: async () => data().segmentRuns.length,
    members: async (runId, label, page) => {
      const run = data().segmentRuns.find((r) => r.id === runId);
      const userIds: string[] = [];
      let k = page.after + 1;
      for (; run && k < run.user_ids.length && userIds.length < page.limit; k++) {
        if (run.labels[k] === label) userIds.push(run.user_ids[k] as string);
      }
      return { userIds, next: run && k < run.user_ids.length ? k - 1 : null };
    },
    labelsOf: async (runId, ids) => {
      const run = data().segmentRuns.find((r) => r.id === runId);
      const wanted = new Set(ids);
      const labels = new Map<string, number>();
      run?.user_ids.forEach((id, k) => {
        if (wanted.has(id)) labels.set(id, run.labels[k] as number);
      });
      return labels;
    },
  };
}

/** The audience as the engine's input: the live arrays, no copy. */
export function snapshotOf(d: AudienceData): AudienceSnapshot {
  return {
    version: d.meta.dataVersion,
    meta: d.meta,
    attributes: d.attributes,
    profiles: d.profiles,
    products: d.products,
    interactions: d.interactions,
  };
}

function mentionedIn(d: AudienceData, ids: readonly string[]): ReadonlySet<string> {
  const wanted = new Set(ids);
  const found = new Set<string>();
  const see = (id: string) => {
    if (wanted.has(id)) found.add(id);
  };
  for (const p of d.profiles) see(p.id);
  for (const i of d.interactions) see(i.user_id);
  for (const r of d.segmentRuns) for (const id of r.user_ids) see(id);
  return found;
}

function findLast<T>(rows: readonly T[], test: (row: T) => boolean): T | undefined {
  // Recent records are at the end, and lookups are almost always of a recent one.
  for (let i = rows.length - 1; i >= 0; i--) if (test(rows[i] as T)) return rows[i];
  return undefined;
}

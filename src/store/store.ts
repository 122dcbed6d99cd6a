/**
 * The one owner of persistent state: a lowdb `Low<AudienceData>` over our own file adapter
 * (see codec.ts for the format, file-adapter.ts for atomic saves). Changes apply in memory at once;
 * saves are coalesced, serialized and retried in the background, or awaited through commit()/flush().
 */
import { Low } from 'lowdb';
import { type AudienceData, emptyAudienceData } from '../domain/types.ts';
import { StoreError } from './errors.ts';
import { type AdapterEncryption, AudienceFileAdapter } from './file-adapter.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type MigrationStep } from './migrations.ts';

export { StoreError, type StoreErrorCode } from './errors.ts';

/** The schema version this build reads and writes (older files are migrated on open). */
export const SCHEMA_VERSION: number = LATEST_SCHEMA_VERSION;

/** The persistent audience data and the only way to change it. */
export interface Store {
  /** Live in-memory data; read freely, change only through update()/commit(). */
  readonly data: AudienceData;
  readonly file: string;
  /** Apply a change in memory now and schedule a coalesced background flush; returns at once (slash-command path). */
  update(fn: (data: AudienceData) => void): void;
  /**
   * Apply a change and resolve once it is durably on disk (imports, CLI, shutdown paths). With
   * `scrubBackup`, the `.bak` copy is replaced too, so removed data (a forgotten person) is in no file.
   */
  commit(fn: (data: AudienceData) => void, options?: { scrubBackup?: boolean }): Promise<void>;
  /**
   * Rewrites the data file now with another encryption key (null: plain), through the usual atomic save,
   * and replaces the `.bak` so no copy under the old key (or in plain text) is left behind.
   */
  changeEncryption(key: Buffer | null): Promise<void>;
  /** Write any pending change now and wait for it. */
  flush(): Promise<void>;
  /**
   * Holds background saves (from update()) back while `busy()` returns true, for at most `maxDeferMs` (default
   * 5 s) after the first hold. A save rewrites the whole file, which competes with the answers people are
   * waiting for; the app passes "commands are queued". commit() and flush() never wait.
   */
  deferBackgroundSaves(busy: () => boolean, maxDeferMs?: number): void;
  /** Flush and stop background timers. */
  close(): Promise<void>;
}

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
 * Opening is read-only; the first save takes `<file>.lock` until close (see file-adapter.ts).
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
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
  const store = new LowStore(db, adapter, file, {
    flushDelayMs: options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS,
    onFlushError: options.onFlushError ?? ((err: Error) => console.error(`[store] ${err.message}`)),
  });
  // A recovered or migrated file is saved in our current form soon, without holding up the open.
  if (adapter.needsSave) store.update(() => undefined);
  return store;
}

/** Bump meta.dataVersion and meta.updatedAt after a change to profiles/products/interactions. */
export function markAudienceChanged(data: AudienceData, now: Date, source?: 'sample' | 'import'): void {
  data.meta.dataVersion += 1;
  data.meta.updatedAt = now.getTime();
  if (source !== undefined) data.meta.source = source;
}

class LowStore implements Store {
  /** Counts changes applied in memory, and the newest change known to be on disk. */
  private changeSeq = 0;
  private savedSeq = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private deferral: { busy: () => boolean; maxMs: number; since: number | null } | null = null;

  constructor(
    private readonly db: Low<AudienceData>,
    private readonly adapter: AudienceFileAdapter,
    readonly file: string,
    private readonly options: { flushDelayMs: number; onFlushError: (err: Error) => void },
  ) {}

  get data(): AudienceData {
    return this.db.data;
  }

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

/**
 * The PostgreSQL backend of the storage seam (store.ts). Nothing of the audience is held in the app: reads are
 * SQL, every change is one transaction. Any number of processes may open the same database; what the file
 * backend's lock guaranteed is kept by the database:
 * - changes of one workspace never interleave, across processes too: each takes a transaction-scoped advisory
 *   lock on the workspace first (writes are rare and short next to reads, which never wait for it);
 * - the data version is a row (`audience_meta`), read by every replica, so caches keyed by it are right
 *   everywhere;
 * - digests are claimed per occurrence (claims.ts), so several schedulers deliver each exactly once.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import type { DeliveryRecord } from '../../domain/types.ts';
import { StoreError } from '../errors.ts';
import type {
  AudienceSnapshot,
  AuditReads,
  ChangeOptions,
  DigestReads,
  ModelReads,
  SegmentRunReads,
  Store,
  StoreChange,
  StoreReads,
} from '../store.ts';
import { PgChange } from './change.ts';
import {
  type Claim,
  claimOccurrence,
  expiredClaims,
  releaseClaim,
  renewClaims,
  startPosting,
} from './claims.ts';
import { connectPool, inTransaction, locationOf } from './connect.ts';
import { migrateSchema } from './migrate.ts';
import { readSnapshot, storeReads } from './reads.ts';

/** How to open the PostgreSQL store. */
export interface OpenPgStoreOptions {
  /** postgres://user:password@host:5432/database (DATABASE_URL). */
  url: string;
  /** The Slack workspace whose audience this is (SLACK_TEAM_ID). */
  teamId: string;
  /** A schema to work in (tests); default: the connection's search_path. */
  schema?: string;
  maxConnections?: number;
  /** Hears about applied migrations (default: console.warn). */
  onNotice?: (message: string) => void;
  /** The most profiles + interactions `snapshot()` reads into the app (SNAPSHOT_MAX_ROWS); null: no limit. */
  snapshotMaxRows?: number | null;
}

/** Advisory lock class of changes ("AICH"); the object id is the workspace's hash. */
const CHANGE_LOCK_CLASS = 0x41494348;

/** Connects, migrates the schema (see migrate.ts) and opens the store of one workspace. */
export async function openPgStore(options: OpenPgStoreOptions): Promise<PgStore> {
  const location = locationOf(options.url);
  const pool = await connectPool({
    url: options.url,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
  });
  try {
    const outcome = await migrateSchema(pool, location);
    if (outcome.applied.length > 0) {
      const notice = options.onNotice ?? ((m: string) => console.warn(`[store] ${m}`));
      notice(
        `migrated ${location} from schema ${outcome.from} to ${outcome.to}: ${outcome.applied.join('; ')}`,
      );
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return new PgStore(pool, options.teamId, location, options.snapshotMaxRows ?? null);
}

/** One workspace's audience in PostgreSQL. */
export class PgStore implements Store {
  /** Imports stream their events into a change (intake.ts) instead of holding them until they are read. */
  readonly streamsInteractions = true;
  readonly audience: StoreReads['audience'];
  readonly segmentRuns: SegmentRunReads;
  readonly models: ModelReads;
  readonly digests: DigestReads;
  readonly audit: AuditReads;
  readonly connections: StoreReads['connections'];
  /** This process as a claim holder: unique per process, readable in the table. */
  readonly replicaId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private closed = false;
  /** The last snapshot, by data version (see snapshot()). */
  private held: { version: number; snapshot: Promise<AudienceSnapshot> } | null = null;

  constructor(
    /** The pool; exposed for the backend's own helpers (claims, partitions) and tests. */
    readonly pool: pg.Pool,
    readonly teamId: string,
    readonly location: string,
    /** The snapshot budget in profiles + interactions (null: none); see `snapshot()`. */
    readonly snapshotMaxRows: number | null = null,
  ) {
    const reads = storeReads(pool, teamId, () => this.snapshot(), true, pool);
    this.audience = reads.audience;
    this.segmentRuns = reads.segmentRuns;
    this.models = reads.models;
    this.digests = reads.digests;
    this.audit = reads.audit;
    this.connections = reads.connections;
  }

  /**
   * The whole audience at one version, read in one repeatable-read transaction and kept until the data version
   * in the database moves (one primary-key read per call: polled, so an import by another replica is seen by
   * the next snapshot here). Returning the same arrays for the same version is what lets the query caches
   * (src/queries/memo.ts) recognise an unchanged audience.
   */
  private async snapshot(): Promise<AudienceSnapshot> {
    const version = await this.audience.version();
    const held = this.held;
    if (held && held.version === version) return held.snapshot;
    await this.checkBudget();
    const loading = this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (client) =>
      readSnapshot(client, this.teamId),
    );
    const entry = { version, snapshot: loading };
    this.held = entry;
    try {
      const snapshot = await loading;
      // A change may have committed between the version read and the snapshot: key it by what it holds.
      entry.version = snapshot.version;
      return snapshot;
    } catch (error) {
      if (this.held === entry) this.held = null;
      throw error;
    }
  }

  /**
   * Refuses a snapshot above the budget before reading a row: the app's memory would grow with the audience
   * (about 300 bytes per interaction and 600 per profile in the engine's form).
   */
  private async checkBudget(): Promise<void> {
    const max = this.snapshotMaxRows;
    if (max === null) return;
    const { profiles, interactions } = await this.audience.counts();
    if (profiles + interactions <= max) return;
    const n = (v: number) => v.toLocaleString('en-US');
    throw new StoreError(
      'too_large',
      this.location,
      `the audience in ${this.location} (${n(profiles)} profiles, ${n(interactions)} interactions) is more than this app reads into memory at once (SNAPSHOT_MAX_ROWS=${n(max)} profiles + interactions)`,
    );
  }

  change<T>(fn: (tx: StoreChange) => Promise<T>, options: ChangeOptions = {}): Promise<T> {
    return this.runChange(fn, options);
  }

  /** `change`, with the backend's own change (claims) in hand. */
  private async runChange<T>(fn: (tx: PgChange) => Promise<T>, options: ChangeOptions = {}): Promise<T> {
    this.assertOpen();
    const now = options.now ?? new Date();
    return this.transaction('BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHANGE_LOCK_CLASS, this.teamId]);
      // 'applied': visible at commit, flushed to disk a moment later (a crash may lose it, never half of it).
      if (options.wait === 'applied') await client.query('SET LOCAL synchronous_commit = off');
      const tx = new PgChange(client, this.pool, this.teamId, now, () => readSnapshot(client, this.teamId));
      const result = await fn(tx);
      await tx.finish();
      return result;
    });
  }

  private transaction<T>(begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, begin, work);
  }

  /**
   * Any number of processes may write: changes of a workspace are serialized by a transaction-scoped advisory
   * lock, and digests are claimed per occurrence (claims.ts), which is what the file backend's lock guarded.
   */
  async claimWrites(): Promise<void> {
    this.assertOpen();
  }

  /** Commits are synchronous: there are no background saves to hold back. */
  deferBackgroundSaves(_busy: () => boolean, _maxDeferMs?: number): void {}

  /** Every change is committed when `change` resolves. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.held = null;
    await this.pool.end();
  }

  /** Exactly-once digests across replicas (see claims.ts), as this replica. */
  readonly occurrences = {
    shared: true,
    claim: (
      key: string,
      scheduleId: string,
      leaseMs: number,
      options?: { again?: boolean },
    ): Promise<Claim | null> =>
      claimOccurrence(this.pool, this.teamId, {
        key,
        scheduleId,
        holder: this.replicaId,
        leaseMs,
        again: options?.again ?? false,
      }),
    startPosting: (claim: Claim, leaseMs: number) => startPosting(this.pool, this.teamId, claim, leaseMs),
    /** Records the outcome and ends the claim in one transaction; false (nothing recorded) if it was taken over. */
    complete: (claim: Claim, record: DeliveryRecord): Promise<boolean> =>
      this.runChange(async (tx) => {
        if (!(await tx.finishClaim(claim))) return false;
        await tx.putDelivery(record);
        return true;
      }),
    renew: async (leaseMs: number, keys: readonly string[]): Promise<void> => {
      await renewClaims(this.pool, this.teamId, this.replicaId, leaseMs, keys);
    },
    release: (claim: Claim) => releaseClaim(this.pool, this.teamId, claim),
    abandoned: async (): Promise<ReadonlySet<string>> =>
      new Set((await expiredClaims(this.pool, this.teamId)).map((c) => c.key)),
  } as const;

  private assertOpen(): void {
    if (this.closed) {
      throw new StoreError(
        'closed',
        this.location,
        `The store at ${this.location} is closed; open it again to change data.`,
      );
    }
  }
}

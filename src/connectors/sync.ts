/**
 * The sync engine: one sync of one stored connection. It asks the connector for pages of changes from the stored
 * cursor and commits pages (profiles, products, interactions, metrics, the new cursor and the sync status) in
 * ONE store.change each: a crash loses nothing committed and a page is never half-written, so the next sync
 * resumes after the last committed page. Small pages are gathered into commits of `commitRows` rows, because a
 * commit of the file backend rewrites the whole data file: a first sync of 1M Shopify orders in pages of 1,000
 * rows would otherwise rewrite a growing file thousands of times. A page without rows is a checkpoint (Shopify's
 * bulk export id, say) and is committed at once, with whatever is gathered before it. Events are deduped by their source id (a re-fetched page adds
 * nothing); identifiers are pseudonymised at ingestion by the importer's rules (ingest.ts).
 *
 * Faults (ConnectorError codes): `rate_limited` and `transient` are retried within the run, waiting
 * max(retryAfterMs, exponential backoff with jitter), each retry asking again from the last committed cursor;
 * `quota` pauses the connection until `resumeAt`; `auth_expired`, `permission` and `config` pause it until its
 * owner acts, and the owner is told; `malformed` (and retries used up) fails this run, cursor kept. One sync at a
 * time per connection: in this process by a map of running syncs, across processes by a lease on the record.
 */
import { hostname } from 'node:os';
import { UsageError } from '../domain/errors.ts';
import type { Clock, ConnectionRecord } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { appendAudit, auditEntry } from '../privacy/audit.ts';
import { PiiGuard } from '../privacy/pii.ts';
import type { Pseudonymizer } from '../privacy/pseudonym.ts';
import { retentionCutoff } from '../privacy/retention.ts';
import type { Store } from '../store/store.ts';
import type { Connector, ConnectorContext, SyncBatch } from './connector.ts';
import { CredentialsError, openCredentials } from './credentials.ts';
import { ConnectorError, isRetryable, needsOwner } from './errors.ts';
import { type PreparedBatch, prepareBatch } from './ingest.ts';
import {
  type BatchCounts,
  commitPages,
  type DryRunMemory,
  dryRunBatch,
  type PendingPage,
} from './sync-commit.ts';

/** What a sync needs; everything with a default can be replaced by tests and benches. */
export interface SyncDeps {
  store: Store;
  clock: Clock;
  /** The connector of each kind (registry.ts `connectorsByKind`, or a test's fake). */
  connectors: Readonly<Record<string, Connector>>;
  /** Null: identifiers are dropped, as an import without a pseudonym key does. */
  pseudonymizer: Pseudonymizer | null;
  /** The data key that sealed the credentials (DATA_ENCRYPTION_KEY). */
  dataKey: Buffer | null;
  /** Default: the platform's public API root from the registry when the connection has no base URL. */
  defaultBaseUrl?: (kind: string, settings: Readonly<Record<string, string>>) => string;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter in [0, 1); seed it in tests. Default Math.random. */
  random?: () => number;
  /** Per request; default 30 s. */
  requestTimeoutMs?: number;
  /** Retries of rate limits and transient faults per run before it fails; default 6. */
  maxRetries?: number;
  /** RETENTION_DAYS: older interactions are not ingested. */
  retentionDays?: number | null;
  /** Tells a connection's owner that it paused and what to do (a Slack DM; the CLI prints). */
  notify?: (record: ConnectionRecord, message: string) => Promise<void>;
  logger?: Logger;
  /** Who holds the lease while syncing; default host:pid. */
  holder?: string;
  /** How long a lease lasts without a committed page; default 10 min. */
  leaseMs?: number;
  /**
   * Rows gathered before a commit. Default: a quarter of the rows the store holds, between 5,000 and 100,000, so
   * the data file is rewritten a bounded number of times however big the sync (1: every page on its own).
   */
  commitRows?: number;
}

/** How a sync ended. */
export type SyncStatus = 'ok' | 'failed' | 'paused' | 'busy' | 'dry-run';

/** What one sync did, in counts (never identifiers). */
export interface SyncOutcome extends BatchCounts {
  connection: string;
  kind: string;
  status: SyncStatus;
  batches: number;
  retries: number;
  /** Why it failed or paused, for people; null when it went through. */
  message: string | null;
  /** When the connection will be synced again by the schedule (null: paused until someone acts). */
  nextRunAt: number | null;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 6;
const DEFAULT_LEASE_MS = 10 * 60_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;
const MIN_COMMIT_ROWS = 5_000;
const MAX_COMMIT_ROWS = 100_000;

const running = new Map<string, Promise<SyncOutcome>>();

/**
 * Syncs connection `id` once (see the module comment). `dryRun` reads every page and counts what would change,
 * writing nothing (not even the cursor). A sync already running for the connection answers 'busy'.
 */
export function syncConnection(
  deps: SyncDeps,
  id: string,
  options: { dryRun?: boolean; actor?: string } = {},
): Promise<SyncOutcome> {
  const key = `${deps.store.location}\u0000${id}`;
  const current = running.get(key);
  if (current !== undefined) return current.then((o) => busyOutcome(o.connection, o.kind, null));
  const run = runSync(deps, id, options).finally(() => running.delete(key));
  running.set(key, run);
  return run;
}

/** The backoff before retry `attempt` (0-based): exponential, capped, with equal jitter; at least retryAfterMs. */
export function backoffMs(attempt: number, random: () => number, retryAfterMs?: number): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  const jittered = Math.round(exp / 2 + (exp / 2) * random());
  return Math.max(jittered, retryAfterMs ?? 0);
}

function emptyCounts(): BatchCounts {
  return {
    profiles: { inserted: 0, updated: 0 },
    products: { inserted: 0, updated: 0 },
    interactions: { added: 0, duplicates: 0, expired: 0, forgotten: 0 },
    metrics: 0,
    rowsAdded: 0,
    currencies: [],
  };
}

function busyOutcome(connection: string, kind: string, until: number | null): SyncOutcome {
  const when = until === null ? '' : ` (its lease runs until ${new Date(until).toISOString()})`;
  return {
    ...emptyCounts(),
    connection,
    kind,
    status: 'busy',
    batches: 0,
    retries: 0,
    message: `a sync of "${connection}" is already running${when}; this one was skipped`,
    nextRunAt: null,
  };
}

interface Run {
  deps: SyncDeps;
  record: ConnectionRecord;
  connector: Connector;
  holder: string;
  dryRun: boolean;
  counts: BatchCounts;
  batches: number;
  retries: number;
  cursor: string | null;
}

async function runSync(
  deps: SyncDeps,
  id: string,
  options: { dryRun?: boolean; actor?: string },
): Promise<SyncOutcome> {
  const found = await deps.store.connections.get(id);
  if (found === undefined) {
    const names = (await deps.store.connections.list()).map((c) => c.id);
    throw new UsageError(
      `there is no connection named "${id}"${names.length > 0 ? `; connections: ${names.join(', ')}` : '; add one with `audience connect`'}`,
    );
  }
  const connector = deps.connectors[found.kind];
  if (connector === undefined) throw new UsageError(`no connector for "${found.kind}" in this build`);
  const holder = deps.holder ?? `${hostname()}:${process.pid}`;
  const dryRun = options.dryRun === true;
  const record = dryRun ? found : await takeLease(deps, id, holder);
  if (record === null) return busyOutcome(found.id, found.kind, found.lease_until);
  const run: Run = {
    deps,
    record,
    connector,
    holder,
    dryRun,
    counts: emptyCounts(),
    batches: 0,
    retries: 0,
    cursor: record.cursor,
  };
  let failure: unknown = null;
  try {
    await pages(run);
  } catch (error) {
    failure = error;
  }
  return finish(run, failure, options.actor ?? 'schedule');
}

/** Takes the connection's lease, or null when another live holder has it. */
async function takeLease(deps: SyncDeps, id: string, holder: string): Promise<ConnectionRecord | null> {
  const now = deps.clock().getTime();
  return deps.store.change(async (tx) => {
    const record = await tx.connections.get(id);
    if (record === undefined) return null;
    const held = record.lease_holder !== null && record.lease_holder !== holder;
    if (held && record.lease_until !== null && record.lease_until > now) return null;
    return (
      (await tx.updateConnection(id, {
        lease_holder: holder,
        lease_until: now + (deps.leaseMs ?? DEFAULT_LEASE_MS),
      })) ?? null
    );
  });
}

/** The connector's context for this run: the opened credentials and a fetch with a timeout. */
function contextOf(run: Run): ConnectorContext {
  const { deps, record } = run;
  const credentials =
    record.credentials === null ? {} : openCredentials(record.credentials, deps.dataKey, record.id);
  const baseFetch = deps.fetch ?? globalThis.fetch;
  const timeoutMs = deps.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    fetch: timedFetch(baseFetch, timeoutMs, record.kind),
    now: deps.clock,
    baseUrl: record.base_url ?? deps.defaultBaseUrl?.(record.kind, record.settings) ?? '',
    credentials,
    settings: record.settings,
    sleep,
  };
}

/**
 * Fetch with a timeout; a timeout or a dropped connection becomes ConnectorError 'transient', so every connector
 * gets the same retry behaviour without handling network errors itself. The timeout runs until the headers
 * arrive, then only while a body read waits for the network: a body that stalls that long is cut off, but one
 * that keeps flowing may take as long as it needs (a Shopify bulk result streams for minutes), and time the
 * reader spends committing batches between reads never counts.
 */
export function timedFetch(
  base: typeof globalThis.fetch,
  timeoutMs: number,
  platform: string,
): typeof globalThis.fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    const expire = () =>
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
    const timer = setTimeout(expire, timeoutMs);
    let response: Response;
    try {
      response = await base(input, { ...init, signal });
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      const name = (error as Error).name;
      const what =
        name === 'TimeoutError'
          ? `no answer within ${Math.round(timeoutMs / 1000)} s`
          : 'the connection failed';
      throw new ConnectorError('transient', `${platform}: ${what}; retrying`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    return response.body === null ? response : withReadTimeout(response, timeoutMs, expire);
  };
}

/** The response with a body whose every read must get its next chunk within `timeoutMs` (else `expire`). */
function withReadTimeout(response: Response, timeoutMs: number, expire: () => void): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(out) {
      const timer = setTimeout(expire, timeoutMs);
      try {
        const { done, value } = await reader.read();
        if (done) out.close();
        else out.enqueue(value);
      } catch (error) {
        out.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** Reads and commits pages until the connector is done, retrying what may be retried. */
async function pages(run: Run): Promise<void> {
  const { deps } = run;
  const ctx = contextOf(run);
  const guard = new PiiGuard({ pseudonymizer: deps.pseudonymizer });
  const random = deps.random ?? Math.random;
  const seenInDryRun: DryRunMemory = { users: new Set(), items: new Set(), keys: new Set() };
  const pending: PendingPage[] = [];
  let attempt = 0;
  for (;;) {
    try {
      for await (const batch of run.connector.fetchChanges(ctx, run.cursor)) {
        const prepared = await preparePage(run, batch, guard, pending);
        if (run.dryRun) await countDryRun(run, prepared, batch.cursor, seenInDryRun);
        else {
          pending.push({ prepared, cursor: batch.cursor });
          if (batch.done || rowsOf(prepared) === 0 || pendingRows(pending) >= (await commitRows(run))) {
            await commitPending(run, pending);
          }
        }
        attempt = 0;
        if (batch.done) return;
      }
      await commitPending(run, pending);
      return;
    } catch (error) {
      // Pages read before a fetch failed are good: keep them, so the retry (or the next sync) starts after them.
      if (pending.length > 0 && error instanceof ConnectorError) await commitPending(run, pending);
      if (!isRetryable(error) || attempt >= (deps.maxRetries ?? DEFAULT_RETRIES)) throw error;
      const wait = backoffMs(attempt, random, error.retryAfterMs);
      deps.logger?.info('connector retry', { connection: run.record.id, code: error.code, waitMs: wait });
      attempt++;
      run.retries++;
      await ctx.sleep(wait);
    }
  }
}

/** A page through the importer's rules; attribute kinds of pages not yet committed count as known. */
async function preparePage(
  run: Run,
  batch: SyncBatch,
  guard: PiiGuard,
  pending: readonly PendingPage[],
): Promise<PreparedBatch> {
  const { deps, record } = run;
  const now = deps.clock().getTime();
  const kinds = { ...(await deps.store.audience.attributeKinds()) };
  for (const page of pending) Object.assign(kinds, page.prepared.newKinds);
  return prepareBatch(batch, {
    kind: record.kind,
    connectionId: record.id,
    guard,
    kinds,
    retentionCutoff:
      deps.retentionDays === null || deps.retentionDays === undefined
        ? null
        : retentionCutoff(now, deps.retentionDays),
  });
}

function rowsOf(prepared: PreparedBatch): number {
  return (
    prepared.profiles.length +
    prepared.products.length +
    prepared.interactions.length +
    prepared.metrics.length
  );
}

function pendingRows(pending: readonly PendingPage[]): number {
  return pending.reduce((sum, page) => sum + rowsOf(page.prepared), 0);
}

/** The commit size for this run (see SyncDeps.commitRows), from the store's size as it grows. */
async function commitRows(run: Run): Promise<number> {
  if (run.deps.commitRows !== undefined) return Math.max(1, run.deps.commitRows);
  const counts = await run.deps.store.audience.counts();
  const held = counts.profiles + counts.products + counts.interactions;
  return Math.min(MAX_COMMIT_ROWS, Math.max(MIN_COMMIT_ROWS, Math.round(held / 4)));
}

/** Commits the gathered pages in one change and empties the list (before committing: a failed commit is not retried here). */
async function commitPending(run: Run, pending: PendingPage[]): Promise<void> {
  const pages = pending.splice(0);
  if (pages.length === 0) return;
  const { deps } = run;
  const done = await commitPages(deps.store, {
    record: run.record,
    pages,
    holder: run.holder,
    now: deps.clock().getTime(),
    leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS,
  });
  for (const counts of done) addCounts(run.counts, counts);
  run.batches += pages.length;
  run.cursor = pages.at(-1)?.cursor ?? run.cursor;
}

async function countDryRun(
  run: Run,
  prepared: PreparedBatch,
  cursor: string,
  seen: DryRunMemory,
): Promise<void> {
  addCounts(run.counts, await dryRunBatch(run.deps.store, run.record, prepared, seen));
  run.batches++;
  run.cursor = cursor;
}

function addCounts(total: BatchCounts, more: BatchCounts): void {
  total.profiles.inserted += more.profiles.inserted;
  total.profiles.updated += more.profiles.updated;
  total.products.inserted += more.products.inserted;
  total.products.updated += more.products.updated;
  total.interactions.added += more.interactions.added;
  total.interactions.duplicates += more.interactions.duplicates;
  total.interactions.expired += more.interactions.expired;
  total.interactions.forgotten += more.interactions.forgotten;
  total.metrics += more.metrics;
  total.rowsAdded += more.rowsAdded;
  for (const c of more.currencies) if (!total.currencies.includes(c)) total.currencies.push(c);
}

/** What the end of a run records on the connection, and the outcome. */
function verdict(run: Run, failure: unknown, now: number) {
  const every = run.record.interval_minutes * 60_000;
  const next = every > 0 ? now + every : null;
  if (failure === null) {
    return { status: 'ok' as const, message: null, paused: false, reason: null, resumeAt: null, next };
  }
  if (failure instanceof ConnectorError && failure.code === 'quota') {
    const resumeAt = failure.resumeAt ?? now + 60 * 60_000;
    const message = `${failure.message} (paused until ${new Date(resumeAt).toISOString()})`;
    return { status: 'paused' as const, message, paused: true, reason: 'quota', resumeAt, next: resumeAt };
  }
  if (needsOwner(failure)) {
    return {
      status: 'paused' as const,
      message: failure.message,
      paused: true,
      reason: failure.code,
      resumeAt: null,
      next: null,
    };
  }
  const message =
    failure instanceof ConnectorError || failure instanceof CredentialsError
      ? failure.message
      : `the sync failed unexpectedly (${(failure as Error).name}); details are in the app's log`;
  return { status: 'failed' as const, message, paused: false, reason: null, resumeAt: null, next };
}

async function finish(run: Run, failure: unknown, actor: string): Promise<SyncOutcome> {
  const { deps, record } = run;
  const now = deps.clock().getTime();
  const v = verdict(run, failure, now);
  if (failure !== null && !(failure instanceof ConnectorError) && !(failure instanceof CredentialsError)) {
    deps.logger?.error('connector sync failed', { connection: record.id, error: String(failure) });
  }
  const outcome: SyncOutcome = {
    ...run.counts,
    connection: record.id,
    kind: record.kind,
    status: run.dryRun && failure === null ? 'dry-run' : v.status,
    batches: run.batches,
    retries: run.retries,
    message: v.message,
    nextRunAt: v.next,
  };
  if (run.dryRun) return outcome;
  const stillOurs = await recordEnd(run, v, now, actor);
  if (stillOurs && v.status === 'paused' && v.reason !== 'quota') {
    await deps.notify?.(record, pauseNotice(record, v.message ?? ''));
  }
  return outcome;
}

async function recordEnd(
  run: Run,
  v: ReturnType<typeof verdict>,
  now: number,
  actor: string,
): Promise<boolean> {
  const { deps, record } = run;
  return deps.store.change(async (tx) => {
    const current = await tx.connections.get(record.id);
    // Removed while syncing, or the lease was taken over after it ran out: the other holder records its own end.
    if (current === undefined || current.lease_holder !== run.holder) return false;
    await tx.updateConnection(record.id, {
      last_sync_at: now,
      last_sync_status: v.status,
      rows_added: run.counts.rowsAdded,
      next_run_at: v.next,
      last_error: v.message,
      paused: v.paused,
      paused_reason: v.reason,
      resume_at: v.resumeAt,
      lease_holder: null,
      lease_until: null,
    });
    const detail = `${record.id} (${record.kind}): ${run.counts.rowsAdded} rows added in ${run.batches} pages, ${v.status}`;
    await appendAudit(tx, auditEntry(actor, 'connector.sync', detail, now));
    return true;
  });
}

/** The message a connection's owner gets when it pauses: what happened and what to do. */
export function pauseNotice(record: ConnectionRecord, message: string): string {
  return `Audience Insights paused the ${record.kind} connection "${record.id}": ${message}. Reconnect it with \`/audience connect ${record.kind}\` (or \`audience connect ${record.kind} --name ${record.id} …\`) and it resumes where it stopped.`;
}

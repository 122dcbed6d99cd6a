/**
 * Managing stored connections: connecting (the token is checked against the platform, then sealed with the data
 * key and stored), listing what people may see (never the credentials), removing, and which connections the
 * schedule should sync now. Surfaces (CLI, Slack) call these and format the results themselves.
 */
import { UsageError } from '../domain/errors.ts';
import type { Clock, ConnectionRecord } from '../domain/types.ts';
import { appendAudit, auditEntry } from '../privacy/audit.ts';
import type { Store } from '../store/store.ts';
import type { Connector, ConnectorAccount } from './connector.ts';
import { CredentialsError, noKeyMessage, openCredentials, sealCredentials } from './credentials.ts';
import { timedFetch } from './sync.ts';

/** The default minutes between scheduled syncs. */
export const DEFAULT_INTERVAL_MINUTES = 60;

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** What connecting needs. */
export interface ConnectDeps {
  store: Store;
  clock: Clock;
  connectors: Readonly<Record<string, Connector>>;
  dataKey: Buffer | null;
  /** The platform's API root when no base URL is given. */
  defaultBaseUrl: (kind: string, settings: Readonly<Record<string, string>>) => string;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** One connect request (from `audience connect` or the Slack modal). */
export interface ConnectRequest {
  kind: string;
  /** Default: the kind. */
  name?: string;
  /** Slack user id, or `cli`. */
  owner: string;
  settings: Record<string, string>;
  credentials: Record<string, string>;
  /** A stand-in's URL; default the platform's API. */
  baseUrl?: string | null;
  intervalMinutes?: number;
  /** Check the token against the platform before storing it (default true). */
  check?: boolean;
}

/** A connection as people may see it: everything but the sealed credentials. */
export type ConnectionView = Omit<ConnectionRecord, 'credentials'> & { hasCredentials: boolean };

/** The record without its credentials. */
export function viewOf(record: ConnectionRecord): ConnectionView {
  const { credentials, ...rest } = record;
  return { ...rest, hasCredentials: credentials !== null };
}

function checkRequest(deps: ConnectDeps, req: ConnectRequest): { name: string; connector: Connector } {
  const connector = deps.connectors[req.kind];
  if (connector === undefined) {
    throw new UsageError(
      `unknown platform "${req.kind}": use one of ${Object.keys(deps.connectors).join(', ')}`,
    );
  }
  const name = req.name ?? req.kind;
  if (!NAME.test(name)) {
    throw new UsageError(
      `connection name "${name}": use lower-case letters, digits and dashes (up to 40), e.g. shop-eu`,
    );
  }
  const empty = Object.entries(req.credentials).find(([, v]) => v.trim() === '');
  if (Object.keys(req.credentials).length === 0 || empty !== undefined) {
    throw new UsageError(`${req.kind} needs a token: pass it with --token (or --token-file)`);
  }
  if (deps.dataKey === null) throw new CredentialsError(noKeyMessage());
  const minutes = req.intervalMinutes ?? DEFAULT_INTERVAL_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 0) {
    throw new UsageError(`--every ${minutes}: give whole minutes (0 = only when asked)`);
  }
  return { name, connector };
}

/**
 * Connects (or reconnects) a platform: checks the token with the platform (ConnectorError on a bad one),
 * seals it and stores the connection. A reconnect keeps the cursor and counts, and lifts a pause.
 */
export async function connect(
  deps: ConnectDeps,
  req: ConnectRequest,
): Promise<{ view: ConnectionView; account: ConnectorAccount | null; reconnected: boolean }> {
  const { name, connector } = checkRequest(deps, req);
  const baseUrl = req.baseUrl ?? null;
  let account: ConnectorAccount | null = null;
  if (req.check !== false) {
    account = await connector.authenticate({
      fetch: timedFetch(deps.fetch ?? globalThis.fetch, 30_000, req.kind),
      now: deps.clock,
      baseUrl: baseUrl ?? deps.defaultBaseUrl(req.kind, req.settings),
      credentials: req.credentials,
      settings: req.settings,
      sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    });
  }
  const now = deps.clock().getTime();
  const sealed = sealCredentials(req.credentials, deps.dataKey, name);
  return deps.store.change(async (tx) => {
    const old = await tx.connections.get(name);
    if (old !== undefined && old.kind !== req.kind) {
      throw new UsageError(
        `a ${old.kind} connection is already named "${name}": pick another --name, or remove it first`,
      );
    }
    const record: ConnectionRecord = {
      ...newConnectionRecord(name, req.kind, req.owner, now),
      ...(old === undefined ? {} : carried(old)),
      settings: { ...req.settings },
      base_url: baseUrl,
      credentials: sealed,
      owner_id: req.owner,
      interval_minutes: req.intervalMinutes ?? old?.interval_minutes ?? DEFAULT_INTERVAL_MINUTES,
      next_run_at: now,
    };
    await tx.putConnection(record);
    const scopes = account === null ? 'not checked' : `scopes ${account.scopes.join(' ') || 'none'}`;
    const detail = `${name} (${req.kind}) ${old === undefined ? 'connected' : 'reconnected'}; ${scopes}`;
    await appendAudit(tx, auditEntry(req.owner, 'connector.connect', detail, now));
    return { view: viewOf(record), account, reconnected: old !== undefined };
  });
}

/** A connection that has never synced: no settings, no credentials, due at `now`. */
export function newConnectionRecord(
  name: string,
  kind: string,
  owner: string,
  now: number,
): ConnectionRecord {
  return {
    id: name,
    kind,
    owner_id: owner,
    settings: {},
    base_url: null,
    credentials: null,
    created_at: now,
    interval_minutes: DEFAULT_INTERVAL_MINUTES,
    cursor: null,
    paused: false,
    paused_reason: null,
    resume_at: null,
    last_sync_at: null,
    last_sync_status: null,
    rows_added: 0,
    total_rows: 0,
    next_run_at: now,
    last_error: null,
    lease_holder: null,
    lease_until: null,
  };
}

/** What a reconnect keeps: where the sync got to and its history; the pause is lifted. */
function carried(old: ConnectionRecord): Partial<ConnectionRecord> {
  return {
    created_at: old.created_at,
    cursor: old.cursor,
    last_sync_at: old.last_sync_at,
    last_sync_status: old.last_sync_status,
    rows_added: old.rows_added,
    total_rows: old.total_rows,
    lease_holder: old.lease_holder,
    lease_until: old.lease_until,
  };
}

/** Every connection as people may see it. */
export async function listConnections(store: Store): Promise<ConnectionView[]> {
  return (await store.connections.list()).map(viewOf);
}

/** Removes a connection (its synced audience stays; `forget` removes people). */
export async function disconnect(store: Store, name: string, actor: string, now: number): Promise<boolean> {
  return store.change(async (tx) => {
    const removed = await tx.removeConnection(name);
    if (removed) await appendAudit(tx, auditEntry(actor, 'connector.remove', name, now));
    return removed;
  });
}

/**
 * Whether the schedule should sync a connection at `now`: it syncs on a schedule, is due, and is not paused
 * (a quota pause ends by itself at `resume_at`).
 */
export function isDue(record: ConnectionRecord, now: number): boolean {
  if (record.interval_minutes <= 0) return false;
  if (record.paused) return record.paused_reason === 'quota' && (record.resume_at ?? 0) <= now;
  return record.next_run_at === null || record.next_run_at <= now;
}

/**
 * Re-seals every stored token from the data key `from` to `to`, in one change (`audience rotate-key` runs it
 * before the file is rewritten under the new key); returns how many. A token that does not open with `from` stops
 * it before anything changes.
 */
export async function resealCredentials(store: Store, from: Buffer, to: Buffer): Promise<number> {
  return store.change(async (tx) => {
    const resealed: Array<[string, string]> = [];
    for (const c of await tx.connections.list()) {
      if (c.credentials === null) continue;
      resealed.push([c.id, sealCredentials(openCredentials(c.credentials, from, c.id), to, c.id)]);
    }
    for (const [id, credentials] of resealed) await tx.updateConnection(id, { credentials });
    return resealed.length;
  });
}

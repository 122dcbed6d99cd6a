/**
 * The module contract every platform connector implements (issue #15), and the shapes it hands the sync engine.
 * A connector talks to one platform's documented HTTP API through the injected `fetch` and maps what it reads to
 * source records; it never reads process.env, the clock, global fetch, the store or Slack. The sync engine
 * (sync.ts) owns everything around it: the cursor, retries, pseudonymisation, ids, dedupe and the commits (one
 * or more batches with the last one's cursor in one change). Connectors live in src/connectors/<kind>/ and are
 * registered in registry.ts.
 */
import type { AttributeValue, InteractionType, ProductPatch } from '../domain/types.ts';

export { ConnectorError, type ConnectorErrorCode, isRetryable, needsOwner } from './errors.ts';

/** The platforms there is a connector for. */
export const CONNECTOR_KINDS = ['instagram', 'youtube', 'shopify'] as const;
/** Which platform. */
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

/** What a connector gets from the sync engine: it never reads process.env, the clock or global fetch itself. */
export interface ConnectorContext {
  /** Fetch with a per-request timeout (the engine wraps it with AbortSignal.timeout); tests pass a stand-in. */
  fetch: typeof globalThis.fetch;
  /** The injected clock. */
  now: () => Date;
  /** The API root, e.g. https://graph.facebook.com/v21.0; tests: the stand-in's URL. */
  baseUrl: string;
  /** Decrypted secrets, e.g. { accessToken } or { shop, accessToken }; never logged, never echoed. */
  credentials: Readonly<Record<string, string>>;
  /** Non-secret settings: page / IG user id, channel id, shop domain… */
  settings: Readonly<Record<string, string>>;
  /** Waits (the engine's timer; tests resolve it at once): for polling a Shopify bulk operation, never for retries. */
  sleep: (ms: number) => Promise<void>;
  /** Aborted when the sync is cancelled (app shutdown). */
  signal?: AbortSignal;
}

/**
 * One person as the platform knows them. Raw identifiers (handle, email, name) are allowed HERE only: the sync
 * engine pseudonymises them exactly as imports do before anything is stored or logged.
 */
export interface SourceProfile {
  /** The platform's id of the person (IG-scoped user id, YouTube channel id, Shopify customer id). */
  sourceId: string;
  handle?: string | null;
  email?: string | null;
  name?: string | null;
  /** e.g. 'instagram', 'facebook', 'youtube', 'shopify'. */
  platform: string;
  country?: string | null;
  /** Epoch ms. */
  created_at?: number | null;
  /** Epoch ms. */
  last_active_at?: number | null;
  followers?: number | null;
  interests?: string[];
  /** Non-identifying custom attributes (e.g. orders_count); identifier-like names are pseudonymised too. */
  attrs?: Record<string, AttributeValue>;
}

/** One event on the platform (a comment, an order line), unique per connection by `sourceId`. */
export interface SourceInteraction {
  /** Unique per platform event, e.g. the comment id or `<order id>:<line item id>`: the dedupe key. */
  sourceId: string;
  /** The SourceProfile.sourceId of who did it. */
  userSourceId: string;
  /** The product / content id (a ProductPatch id of this or an earlier batch), or null. */
  item_id: string | null;
  type: InteractionType;
  /** Purchase amount or rating; null otherwise. */
  value: number | null;
  /** Epoch ms. */
  timestamp: number;
  /** ISO 4217 code of a purchase amount (amounts are stored as given; mixed currencies are reported). */
  currency?: string;
}

/** A per-content figure (insights, statistics), kept as the latest value per content and name. */
export interface SourceMetric {
  contentId: string;
  name: 'reach' | 'impressions' | 'saves' | 'views' | 'likes' | 'comments' | (string & {});
  value: number;
  /** Epoch ms the figure was read. */
  at: number;
}

/** One page of changes, mapped to the store's shapes, plus the cursor to resume AFTER it is committed. */
export interface SyncBatch {
  profiles: SourceProfile[];
  /** Products / content items (media, videos, Shopify products); ids are the platform's, prefixed by the engine. */
  products: ProductPatch[];
  interactions: SourceInteraction[];
  metrics?: SourceMetric[];
  /** Opaque (JSON if it needs several parts); committed with the batch atomically, handed back on the next run. */
  cursor: string;
  /** True on the last page of this run. */
  done: boolean;
}

/** Who the token belongs to and what it may read. */
export interface ConnectorAccount {
  accountId: string;
  accountName: string;
  /** Scopes / permissions granted, as the platform names them. */
  scopes: string[];
}

/** Something that can be synced: a page, an IG account, a channel, the shop. */
export interface ConnectorSource {
  id: string;
  name: string;
  kind: string;
}

/** The one module contract each platform implements. */
export interface Connector {
  readonly kind: ConnectorKind;
  /** Checks the token; returns who it is and what it may read. Throws ConnectorError ('auth_expired', …). */
  authenticate(ctx: ConnectorContext): Promise<ConnectorAccount>;
  /** What can be synced with this token. */
  listSources(ctx: ConnectorContext): Promise<ConnectorSource[]>;
  /**
   * Pages of changes since `cursor` (null: the first full sync), in order. The engine commits pages in order,
   * gathering small ones into one change, and a page without rows (a checkpoint, such as a bulk export's id)
   * before asking for the next; a crash resumes after the last committed page. Failures are
   * thrown as ConnectorError; a batch may overlap earlier ones (the engine dedupes by source id). Connectors do
   * not retry or wait on rate limits themselves: they throw, and the engine waits and calls fetchChanges again
   * from the last committed cursor.
   */
  fetchChanges(ctx: ConnectorContext, cursor: string | null): AsyncIterable<SyncBatch>;
}

/** Whether a text names a connector kind. */
export function isConnectorKind(value: string): value is ConnectorKind {
  return (CONNECTOR_KINDS as readonly string[]).includes(value);
}

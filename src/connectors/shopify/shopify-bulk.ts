/**
 * The Bulk Operations path for a first full sync of a large store: start `bulkOperationRunQuery`, poll the
 * operation (`node(id:)`) until it completes, download the JSONL result from its URL and read it line by line as
 * it streams in (memory stays flat whatever the size: one line, one batch in the making, and a bounded window of
 * recent orders so a line item, which names its order by `__parentId` and comes after it, finds its buyer).
 */
import type { ConnectorContext } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { send } from '../shared/http.ts';
import type { ShopifyClient } from './shopify-client.ts';
import { bulkQuery, type Resource } from './shopify-map.ts';
import { bulkNodeAnswer, bulkRunAnswer, currentBulkAnswer } from './shopify-shapes.ts';

const RUN_MUTATION =
  'mutation Run($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message } } }';
const POLL_QUERY =
  'query Poll($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount url } } }';
const CURRENT_QUERY = '{ currentBulkOperation { id status errorCode objectCount url query } }';

/** Polling starts at 1 s and backs off to 30 s: a large export takes minutes, a small one seconds. */
const FIRST_POLL_MS = 1000;
const MAX_POLL_MS = 30_000;

/** Starts the bulk export of `resource`; if the shop already runs one with our query (a crash), adopts it. */
export async function startBulk(client: ShopifyClient, resource: Resource): Promise<string> {
  const query = bulkQuery(resource);
  const answer = await client.query(bulkRunAnswer, 'the bulk operation start', RUN_MUTATION, { query });
  const { bulkOperation, userErrors } = answer.bulkOperationRunQuery;
  if (bulkOperation !== null && userErrors.length === 0) return bulkOperation.id;
  const current = await client.query(currentBulkAnswer, 'the current bulk operation', CURRENT_QUERY);
  const op = current.currentBulkOperation;
  if (op !== null && (op.status === 'CREATED' || op.status === 'RUNNING') && sameQuery(op.query, query))
    return op.id;
  throw new ConnectorError(
    'rate_limited',
    'Another bulk operation is running on this shop (Shopify allows one at a time); the sync tries again in a minute.',
    { retryAfterMs: 60_000, platformCode: 'BULK_IN_PROGRESS' },
  );
}

/** How a bulk operation ended: its result URL (null when it found nothing), or gone (start it again). */
export type BulkEnd = { kind: 'completed'; url: string | null } | { kind: 'gone' };

/** Polls the operation until it ends. */
export async function awaitBulk(ctx: ConnectorContext, client: ShopifyClient, id: string): Promise<BulkEnd> {
  let wait = FIRST_POLL_MS;
  for (;;) {
    const { node } = await client.query(bulkNodeAnswer, 'a bulk operation status', POLL_QUERY, { id });
    if (node === null) return { kind: 'gone' };
    switch (node.status) {
      case 'COMPLETED':
        return { kind: 'completed', url: node.url ?? null };
      case 'CANCELED':
      case 'CANCELING':
      case 'EXPIRED':
        return { kind: 'gone' };
      case 'FAILED':
        throw bulkFailure(node.errorCode ?? null);
      default:
        await ctx.sleep(wait);
        wait = Math.min(MAX_POLL_MS, wait * 2);
    }
  }
}

function bulkFailure(errorCode: string | null): ConnectorError {
  if (errorCode === 'ACCESS_DENIED') {
    return new ConnectorError(
      'permission',
      'Shopify stopped the bulk export for lack of an access scope; grant read_customers, read_products and read_orders, then connect again.',
      { platformCode: errorCode },
    );
  }
  return new ConnectorError(
    'transient',
    `Shopify's bulk export failed (${errorCode ?? 'no error code'}); the sync starts it again.`,
    {
      platformCode: errorCode ?? 'FAILED',
    },
  );
}

/**
 * The lines of a JSONL download, read as the bytes arrive. The URL is pre-signed: it is fetched WITHOUT the shop's
 * token (it points at Shopify's storage, which must never see it).
 */
export async function* jsonlLines(ctx: ConnectorContext, url: string): AsyncGenerator<string> {
  const response = await send(ctx, url, { method: 'GET' }, 'Shopify bulk download');
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    if (response.status === 403 || response.status === 404 || response.status === 410) {
      // The result URL expires after 7 days: start the export again.
      throw new ConnectorError(
        'transient',
        'The Shopify bulk result has expired; the sync starts the export again.',
        {
          status: response.status,
          platformCode: 'BULK_URL_EXPIRED',
        },
      );
    }
    throw new ConnectorError('transient', `The Shopify bulk download answered HTTP ${response.status}.`, {
      status: response.status,
    });
  }
  const decoder = new TextDecoder();
  let rest = '';
  try {
    for await (const chunk of response.body) {
      rest += decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let end = rest.indexOf('\n'); end !== -1; end = rest.indexOf('\n', start)) {
        yield rest.slice(start, end);
        start = end + 1;
      }
      rest = rest.slice(start);
    }
  } catch (error) {
    if (error instanceof ConnectorError || ctx.signal?.aborted === true) throw error;
    throw new ConnectorError(
      'transient',
      'The Shopify bulk download broke off; the sync resumes after the last stored line.',
      {
        cause: error,
      },
    );
  }
  rest += decoder.decode();
  if (rest.trim() !== '') yield rest;
}

/** Parses one JSONL line; a line that is not JSON is `malformed`, naming its number (never its content). */
export function parseLine(line: string, number: number): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new ConnectorError(
      'malformed',
      `Line ${number} of the Shopify bulk result is not JSON; the sync stopped there and keeps its cursor.`,
    );
  }
}

/** A bounded map of the most recent entries: old ones fall out first, so memory stays flat. */
export class RecentWindow<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  /** Remembers `key`. */
  set(key: string, value: V): void {
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
  }
  /** The value, if still remembered. */
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  /** Whether `key` was seen and still is remembered. */
  has(key: string): boolean {
    return this.map.has(key);
  }
}

function sameQuery(a: string | undefined, b: string): boolean {
  return a !== undefined && a.replace(/\s+/g, '') === b.replace(/\s+/g, '');
}

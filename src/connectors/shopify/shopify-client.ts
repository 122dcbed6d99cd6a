/**
 * The Shopify Admin GraphQL API over HTTP (POST {shop}/admin/api/2025-01/graphql.json with the
 * X-Shopify-Access-Token header). It reads the calculated-cost throttle (`extensions.cost.throttleStatus`) after
 * every answer and waits before a query the bucket cannot pay for yet; a `THROTTLED` answer is `rate_limited` with
 * the wait the bucket needs; HTTP and GraphQL errors map to ConnectorError codes.
 */
import { z } from 'zod';
import type { ConnectorContext } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { apiUrl, parseShape, readJson, retryAfterMs, send } from '../shared/http.ts';

const PLATFORM = 'The Shopify Admin API';
/** The Admin API version the connector is written against. */
export const SHOPIFY_API_VERSION = '2025-01';

/** The API root of a shop: `https://<shop>.myshopify.com/admin/api/2025-01`. */
export function shopifyBaseUrl(shop: string): string {
  const host = shop.includes('.') ? shop : `${shop}.myshopify.com`;
  return `https://${host.replace(/^https?:\/\//, '').replace(/\/+$/, '')}/admin/api/${SHOPIFY_API_VERSION}`;
}

const throttleShape = z.object({
  maximumAvailable: z.number(),
  currentlyAvailable: z.number(),
  restoreRate: z.number().positive(),
});
const costShape = z.object({
  requestedQueryCost: z.number().nullable().optional(),
  actualQueryCost: z.number().nullable().optional(),
  throttleStatus: throttleShape,
});
const answerShape = z.object({
  data: z.unknown().optional(),
  errors: z
    .array(
      z.object({
        message: z.string().optional(),
        extensions: z.object({ code: z.string().optional() }).passthrough().optional(),
      }),
    )
    .optional(),
  extensions: z.object({ cost: costShape.optional() }).passthrough().optional(),
});

/** The bucket as the latest answer described it. */
export type ThrottleStatus = z.infer<typeof throttleShape>;

/** A GraphQL client bound to one shop and token. */
export class ShopifyClient {
  private bucket: ThrottleStatus | null = null;
  private lastCost = 0;
  /** How many queries were sent (tests, bench). */
  requests = 0;

  constructor(
    private readonly ctx: ConnectorContext,
    private readonly token: string,
  ) {}

  /** Runs one query; answers `data` checked against `shape`, or throws ConnectorError. */
  async query<T>(shape: z.ZodType<T>, what: string, query: string, variables: Record<string, unknown> = {}) {
    await this.pace();
    this.requests += 1;
    const response = await send(
      this.ctx,
      apiUrl(this.ctx.baseUrl, 'graphql.json'),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'x-shopify-access-token': this.token,
        },
        body: JSON.stringify({ query, variables }),
      },
      PLATFORM,
    );
    if (!response.ok) throw await httpError(response, this.ctx.now());
    const answer = parseShape(answerShape, await readJson(response, PLATFORM), 'an answer', PLATFORM);
    const cost = answer.extensions?.cost;
    if (cost !== undefined) {
      this.bucket = cost.throttleStatus;
      this.lastCost = cost.requestedQueryCost ?? cost.actualQueryCost ?? this.lastCost;
    }
    if (answer.errors !== undefined && answer.errors.length > 0) throw graphqlError(answer.errors, cost);
    return parseShape(shape, answer.data, what, PLATFORM);
  }

  /** The bucket refills at restoreRate points/s: wait until it holds what the last query cost. */
  private async pace(): Promise<void> {
    if (this.bucket === null || this.bucket.currentlyAvailable >= this.lastCost) return;
    const missing = Math.min(this.lastCost, this.bucket.maximumAvailable) - this.bucket.currentlyAvailable;
    await this.ctx.sleep(Math.ceil((missing / this.bucket.restoreRate) * 1000));
    this.bucket = null;
  }
}

/** A GraphQL `errors` list mapped to a ConnectorError (the first error decides). */
export function graphqlError(
  errors: { message?: string | undefined; extensions?: { code?: string | undefined } | undefined }[],
  cost: z.infer<typeof costShape> | undefined,
): ConnectorError {
  const code = errors[0]?.extensions?.code ?? (errors[0]?.message === 'Throttled' ? 'THROTTLED' : undefined);
  if (code === 'THROTTLED') {
    const status = cost?.throttleStatus;
    const requested = cost?.requestedQueryCost ?? 0;
    const wait =
      status === undefined
        ? 1000
        : Math.max(1000, Math.ceil(((requested - status.currentlyAvailable) / status.restoreRate) * 1000));
    return new ConnectorError(
      'rate_limited',
      `Shopify is throttling this app (query cost bucket empty); the sync waits ${Math.ceil(wait / 1000)} s and resumes.`,
      { retryAfterMs: wait, platformCode: code },
    );
  }
  if (code === 'ACCESS_DENIED') {
    return new ConnectorError(
      'permission',
      'The Shopify app lacks an access scope this sync needs; grant read_customers, read_products and read_orders (read_all_orders for orders older than 60 days), then connect again.',
      { platformCode: code },
    );
  }
  if (code === 'INTERNAL_SERVER_ERROR' || code === 'SERVICE_UNAVAILABLE') {
    return new ConnectorError('transient', `Shopify had a temporary problem (${code}).`, {
      platformCode: code,
    });
  }
  return new ConnectorError(
    'malformed',
    `Shopify rejected the sync's query (${code ?? 'no error code'}); nothing from it was stored.`,
    { platformCode: code ?? 'GRAPHQL' },
  );
}

async function httpError(response: Response, now: Date): Promise<ConnectorError> {
  const status = response.status;
  // The body may echo the request; it is read only so the connection can be reused, never shown.
  await response.text().catch(() => '');
  const details = { status, platformCode: status };
  if (status === 401) {
    return new ConnectorError(
      'auth_expired',
      'Shopify refused the access token (HTTP 401: invalid, revoked or the app was uninstalled); connect the shop again.',
      details,
    );
  }
  if (status === 403) {
    return new ConnectorError(
      'permission',
      'Shopify refused a request for lack of an access scope (HTTP 403); grant read_customers, read_products and read_orders, then connect again.',
      details,
    );
  }
  if (status === 429) {
    const wait = retryAfterMs(response.headers, now) ?? 2000;
    return new ConnectorError('rate_limited', 'Shopify is rate limiting this app (HTTP 429).', {
      ...details,
      retryAfterMs: wait,
    });
  }
  if (status === 402 || status === 404 || status === 423) {
    const why = status === 402 ? 'is frozen (unpaid)' : status === 404 ? 'was not found' : 'is locked';
    return new ConnectorError(
      'config',
      `The shop in this connection ${why} (HTTP ${status}); check the shop domain.`,
      details,
    );
  }
  if (status >= 500) return new ConnectorError('transient', `Shopify answered HTTP ${status}.`, details);
  return new ConnectorError('malformed', `Shopify answered HTTP ${status} to the sync's query.`, details);
}

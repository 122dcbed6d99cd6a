/**
 * A stand-in for the Shopify Admin GraphQL API (2025-01): POST /admin/api/2025-01/graphql.json with
 * X-Shopify-Access-Token, answering the queries the connector sends in their documented shapes (customers,
 * products, orders with line items, `pageInfo { hasNextPage endCursor }`, the `updated_at:>` filter, `order(id:)`),
 * `extensions.cost` with a throttle bucket on every answer, and the Bulk Operations API (bulkOperationRunQuery,
 * node(id:) polling CREATED -> RUNNING -> COMPLETED, a JSONL result streamed from /bulk/<n>.jsonl with line items
 * as `__parentId` lines that follow their order, not always directly). It recognises a query by its root field,
 * not by parsing GraphQL. Faults: `failNextQuery` (by root field) and the server's `failNext` (by path).
 */
import { type ShopFixtures, shopFixtures } from './fixtures-shopify.ts';
import {
  type Answer,
  type StandInRequest,
  type StandInServer,
  startStandInServer,
} from './stand-in-server.ts';

/** The running Shopify stand-in. */
export interface ShopifyStandIn extends StandInServer {
  /** The API root (ConnectorContext.baseUrl). */
  readonly baseUrl: string;
  readonly fixtures: ShopFixtures;
  /** The next `times` queries whose text matches `pattern` get `answer`. */
  failNextQuery(pattern: RegExp, answer: Answer, times?: number): void;
  /** Points in the cost bucket reported from now on (the maximum is 2000, restore rate 100/s). */
  setAvailable(points: number): void;
  /** Bulk operations started so far. */
  readonly bulkStarts: number;
}

const MAX_POINTS = 2000;
const RESTORE_RATE = 100;

/** A THROTTLED answer as the API sends it (HTTP 200, top-level errors and extensions). */
export function throttledAnswer(requested = 752, available = 252): Answer {
  return {
    body: {
      errors: [
        {
          message: 'Throttled',
          extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/limits' },
        },
      ],
      extensions: {
        cost: {
          requestedQueryCost: requested,
          actualQueryCost: null,
          throttleStatus: {
            maximumAvailable: MAX_POINTS,
            currentlyAvailable: available,
            restoreRate: RESTORE_RATE,
          },
        },
      },
    },
  };
}

interface BulkOp {
  id: string;
  resource: 'customers' | 'products' | 'orders';
  query: string;
  polls: number;
}

/** Starts the stand-in. */
export async function startShopifyStandIn(
  fixtures: ShopFixtures = shopFixtures(),
  options: { pollsToComplete?: number } = {},
): Promise<ShopifyStandIn> {
  const planned: { pattern: RegExp; answer: Answer; left: number }[] = [];
  const ops: BulkOp[] = [];
  let available = MAX_POINTS;
  let origin = '';
  const route = (req: StandInRequest): Answer => {
    if (req.url.pathname.startsWith('/bulk/')) return bulkFile(req, ops, fixtures);
    if (req.url.pathname !== '/admin/api/2025-01/graphql.json' || req.method !== 'POST') {
      return { status: 404, body: { errors: 'Not Found' } };
    }
    if (req.headers['x-shopify-access-token'] !== fixtures.token) {
      return {
        status: 401,
        body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
      };
    }
    const { query, variables } = JSON.parse(req.text) as {
      query: string;
      variables: Record<string, unknown>;
    };
    const fault = planned.find((p) => p.left > 0 && p.pattern.test(query));
    if (fault !== undefined) {
      fault.left -= 1;
      return fault.answer;
    }
    const { data, cost } = answer(
      query,
      variables ?? {},
      fixtures,
      ops,
      origin,
      options.pollsToComplete ?? 2,
    );
    return {
      body: {
        data,
        extensions: {
          cost: {
            requestedQueryCost: cost,
            actualQueryCost: Math.ceil(cost / 2),
            throttleStatus: {
              maximumAvailable: MAX_POINTS,
              currentlyAvailable: available,
              restoreRate: RESTORE_RATE,
            },
          },
        },
      },
    };
  };
  const server = await startStandInServer(route);
  origin = server.origin;
  return {
    ...server,
    requests: server.requests,
    baseUrl: `${server.origin}/admin/api/2025-01`,
    fixtures,
    failNextQuery(pattern, fault, times = 1) {
      planned.push({ pattern, answer: fault, left: times });
    },
    setAvailable(points) {
      available = points;
    },
    get bulkStarts() {
      return ops.length;
    },
  };
}

function answer(
  query: string,
  variables: Record<string, unknown>,
  fx: ShopFixtures,
  ops: BulkOp[],
  origin: string,
  pollsToComplete: number,
): { data: unknown; cost: number } {
  if (query.includes('bulkOperationRunQuery'))
    return { data: runBulk(String(variables.query), ops), cost: 10 };
  if (query.includes('currentBulkOperation')) {
    const op = ops.at(-1);
    return {
      data: { currentBulkOperation: op === undefined ? null : opJson(op, origin, pollsToComplete, false) },
      cost: 1,
    };
  }
  if (query.includes('node(id:')) {
    const op = ops.find((o) => o.id === variables.id);
    return { data: { node: op === undefined ? null : opJson(op, origin, pollsToComplete, true) }, cost: 1 };
  }
  if (/\bshop \{/.test(query)) {
    return {
      data: {
        shop: { id: fx.shop.id, name: fx.shop.name, myshopifyDomain: fx.shop.domain },
        currentAppInstallation: { accessScopes: fx.scopes.map((handle) => ({ handle })) },
      },
      cost: 2,
    };
  }
  if (query.includes('order(id:')) return { data: { order: restOfOrder(fx, variables) }, cost: 252 };
  const root = /\{\s*(customers|products|orders)\(first:/.exec(query)?.[1];
  if (root === 'customers' || root === 'products' || root === 'orders')
    return pagedAnswer(root, variables, fx);
  return { data: null, cost: 1 };
}

function runBulk(bulkQuery: string, ops: BulkOp[]) {
  // One bulk query at a time per shop. An earlier export of another resource is taken to have finished in the
  // background; one with the same query is still running (what a client that crashed after starting it meets).
  const running = ops.find((o) => !done(o));
  if (running !== undefined && running.query !== bulkQuery) running.polls = Number.MAX_SAFE_INTEGER;
  else if (running !== undefined) {
    return {
      bulkOperationRunQuery: {
        bulkOperation: null,
        userErrors: [
          {
            field: null,
            message: `A bulk query operation for this app and shop is already in progress: ${running.id}.`,
          },
        ],
      },
    };
  }
  const resource = /\{\s*(customers|products|orders)\s*\{/.exec(bulkQuery)?.[1] as BulkOp['resource'];
  const op: BulkOp = {
    id: `gid://shopify/BulkOperation/${ops.length + 1}`,
    resource,
    query: bulkQuery,
    polls: 0,
  };
  ops.push(op);
  return { bulkOperationRunQuery: { bulkOperation: { id: op.id, status: 'CREATED' }, userErrors: [] } };
}

/** An operation counts as finished once it was polled to completion. */
function done(op: BulkOp): boolean {
  return op.polls === Number.MAX_SAFE_INTEGER;
}

function opJson(op: BulkOp, origin: string, pollsToComplete: number, isPoll: boolean) {
  if (isPoll && !done(op)) op.polls += 1;
  const completed = done(op) || op.polls >= pollsToComplete;
  if (completed) op.polls = Number.MAX_SAFE_INTEGER;
  const status = completed ? 'COMPLETED' : op.polls <= 1 ? 'CREATED' : 'RUNNING';
  return {
    id: op.id,
    status,
    errorCode: null,
    objectCount: completed ? '1' : '0',
    url: completed ? `${origin}/bulk/${op.id.split('/').at(-1)}.jsonl` : null,
    query: op.query,
  };
}

function bulkFile(req: StandInRequest, ops: BulkOp[], fx: ShopFixtures): Answer {
  const n = Number(/\/bulk\/(\d+)\.jsonl$/.exec(req.url.pathname)?.[1]);
  const op = ops[n - 1];
  if (op === undefined) return { status: 404, body: 'NoSuchKey' };
  return { lines: bulkLines(op.resource, fx) };
}

/** The JSONL lines of a resource; an order's line items come after the NEXT order's line, to test __parentId. */
export function* bulkLines(resource: BulkOp['resource'], fx: ShopFixtures): Generator<string> {
  if (resource === 'customers') {
    for (let i = 0; i < fx.counts.customers; i++) yield JSON.stringify(customerJson(fx, i));
  } else if (resource === 'products') {
    for (let i = 0; i < fx.counts.products; i++) yield JSON.stringify(productJson(fx, i));
  } else {
    let pending: string[] = [];
    for (let i = 0; i < fx.counts.orders; i++) {
      const order = fx.order(i);
      yield JSON.stringify(orderJson(fx, order));
      yield* pending;
      pending = order.lines.map((l) => JSON.stringify({ ...lineJson(fx, l), __parentId: order.id }));
    }
    yield* pending;
  }
}

/** The filtered, sorted listing of a fixtures' last query (the connector pages through one listing many times). */
const listings = new WeakMap<ShopFixtures, { key: string; all: { updatedAt: number; json: unknown }[] }>();

function pagedAnswer(
  root: 'customers' | 'products' | 'orders',
  variables: Record<string, unknown>,
  fx: ShopFixtures,
) {
  const since = /updated_at:>'([^']+)'/.exec(String(variables.query ?? ''))?.[1];
  const first = Number(variables.first);
  const key = `${root}|${since}|${fx.counts[root]}|${fx.version}`;
  let listing = listings.get(fx);
  if (listing?.key !== key) {
    listing = { key, all: sortedListing(root, since, fx) };
    listings.set(fx, listing);
  }
  const all = listing.all;
  const start =
    variables.after === null || variables.after === undefined ? 0 : decode(String(variables.after)) + 1;
  const nodes = all.slice(start, start + first).map((r) => r.json);
  const end = start + nodes.length - 1;
  const pageInfo = {
    hasNextPage: start + first < all.length,
    endCursor: nodes.length === 0 ? null : encode(end),
  };
  const cost = root === 'orders' ? first * 12 + 2 : first + 2;
  return { data: { [root]: { pageInfo, nodes } }, cost };
}

function sortedListing(
  root: 'customers' | 'products' | 'orders',
  since: string | undefined,
  fx: ShopFixtures,
) {
  const after = Date.parse(since ?? '') || Number.NEGATIVE_INFINITY;
  const all: { updatedAt: number; json: unknown }[] = [];
  for (let i = 0; i < fx.counts[root]; i++) {
    const record = root === 'customers' ? fx.customer(i) : root === 'products' ? fx.product(i) : fx.order(i);
    if (record.updatedAt <= after) continue;
    const json =
      root === 'customers'
        ? customerJson(fx, i)
        : root === 'products'
          ? productJson(fx, i)
          : { ...orderJson(fx, fx.order(i)), lineItems: linesPage(fx, fx.order(i).lines, 0, 10) };
    all.push({ updatedAt: record.updatedAt, json });
  }
  all.sort((a, b) => a.updatedAt - b.updatedAt);
  return all;
}

function restOfOrder(fx: ShopFixtures, variables: Record<string, unknown>) {
  const index = Number(String(variables.id).split('/').at(-1)) - 5_000_000;
  if (!(index >= 0 && index < fx.counts.orders)) return null;
  return { lineItems: linesPage(fx, fx.order(index).lines, decode(String(variables.after)) + 1, 250) };
}

function linesPage(
  fx: ShopFixtures,
  lines: ReturnType<ShopFixtures['order']>['lines'],
  start: number,
  first: number,
) {
  const nodes = lines.slice(start, start + first).map((l) => lineJson(fx, l));
  const end = start + nodes.length - 1;
  return {
    pageInfo: {
      hasNextPage: start + first < lines.length,
      endCursor: nodes.length === 0 ? null : encode(end),
    },
    nodes,
  };
}

const encode = (i: number) => Buffer.from(JSON.stringify({ last_id: i }), 'utf8').toString('base64url');
const decode = (cursor: string) =>
  (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { last_id: number }).last_id;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function customerJson(fx: ShopFixtures, i: number) {
  const c = fx.customer(i);
  return {
    id: c.id,
    email: c.email,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    numberOfOrders: String(c.numberOfOrders),
    amountSpent: { amount: c.amountSpent.toFixed(2), currencyCode: fx.currency },
    defaultAddress: { countryCodeV2: c.country },
  };
}

function productJson(fx: ShopFixtures, i: number) {
  const p = fx.product(i);
  return {
    id: p.id,
    title: p.title,
    productType: p.productType,
    updatedAt: iso(p.updatedAt),
    totalInventory: p.totalInventory,
    priceRangeV2: { minVariantPrice: { amount: p.price.toFixed(2), currencyCode: fx.currency } },
  };
}

function orderJson(fx: ShopFixtures, o: ReturnType<ShopFixtures['order']>) {
  return {
    id: o.id,
    createdAt: iso(o.createdAt),
    processedAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
    currencyCode: fx.currency,
    customer: o.customerId === null ? null : { id: o.customerId },
  };
}

function lineJson(fx: ShopFixtures, l: ReturnType<ShopFixtures['order']>['lines'][number]) {
  return {
    id: l.id,
    quantity: l.quantity,
    product: { id: l.productId },
    discountedTotalSet: { shopMoney: { amount: l.amount.toFixed(2), currencyCode: fx.currency } },
  };
}

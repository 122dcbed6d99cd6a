import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/connectors/errors.ts';
import { shopifyBaseUrl, shopifyConnector } from '../../../src/connectors/shopify/shopify-connector.ts';
import { drain, flatten, harness, lastCursor } from '../../support/stand-ins/connector-harness.ts';
import { expectedPurchases, shopFixtures } from '../../support/stand-ins/fixtures-shopify.ts';
import {
  type ShopifyStandIn,
  startShopifyStandIn,
  throttledAnswer,
} from '../../support/stand-ins/shopify-stand-in.ts';

let standIn: ShopifyStandIn;

beforeAll(async () => {
  standIn = await startShopifyStandIn(shopFixtures({ customers: 300, products: 40, orders: 600 }));
});
afterAll(async () => {
  await standIn.close();
});

function shopHarness(settings: Record<string, string> = {}, timeoutMs?: number) {
  return harness({
    baseUrl: standIn.baseUrl,
    credentials: { accessToken: standIn.fixtures.token },
    settings: { shop: standIn.fixtures.shop.domain, batchRows: '200', ...settings },
    now: standIn.fixtures.now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

async function codeOf(promise: Promise<{ error: unknown }>) {
  const { error } = await promise;
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

function expectWholeShop(batches: Parameters<typeof flatten>[0]) {
  const fx = standIn.fixtures;
  const all = flatten(batches);
  const customers = all.profiles.filter((p) => p.email !== undefined);
  expect(customers).toHaveLength(fx.counts.customers);
  const first = customers.find((p) => p.sourceId === fx.customer(0).id);
  expect(first).toMatchObject({
    platform: 'shopify',
    email: fx.customer(0).email,
    country: fx.customer(0).country,
  });
  expect(first?.attrs).toMatchObject({ orders_count: fx.customer(0).numberOfOrders });
  expect(new Set(all.products.map((p) => p.id)).size).toBe(fx.counts.products);
  expect(all.products.find((p) => p.id === fx.product(0).id)).toMatchObject({
    name: 'Product 0',
    price: fx.product(0).price,
  });
  const ids = all.interactions.map((i) => i.sourceId);
  expect(ids).toHaveLength(expectedPurchases(fx));
  expect(new Set(ids).size).toBe(ids.length);
  const order = fx.order(1);
  const line = all.interactions.find((i) => i.sourceId === order.lines[0]?.id);
  expect(line).toEqual({
    sourceId: order.lines[0]?.id,
    userSourceId: order.customerId,
    item_id: order.lines[0]?.productId,
    type: 'purchase',
    value: order.lines[0]?.amount,
    timestamp: order.createdAt,
    currency: 'EUR',
  });
  expect(batches.at(-1)?.done).toBe(true);
}

describe('the Shopify connector (Admin GraphQL API 2025-01)', () => {
  it('authenticates with the shop and its granted access scopes; the base URL comes from the shop domain', async () => {
    const account = await shopifyConnector.authenticate(shopHarness().ctx);
    expect(account).toEqual({
      accountId: standIn.fixtures.shop.id,
      accountName: 'Acme Store',
      scopes: ['read_customers', 'read_products', 'read_orders'],
    });
    expect(shopifyBaseUrl('acme-store')).toBe('https://acme-store.myshopify.com/admin/api/2025-01');
  });

  it('runs a first full sync through bulk operations, streaming each JSONL result (line items by __parentId)', async () => {
    const h = shopHarness();
    const starts = standIn.bulkStarts;
    const { batches, error } = await drain(shopifyConnector, h.ctx, null);
    expect(error).toBeUndefined();
    expectWholeShop(batches);
    expect(standIn.bulkStarts - starts).toBe(3);
    // It polled with the engine's sleep, and fetched the pre-signed result without the shop's token.
    expect(h.sleeps.length).toBeGreaterThan(0);
    const downloads = standIn.requests.filter((r) => r.path.startsWith('/bulk/'));
    expect(downloads.length).toBeGreaterThanOrEqual(3);
    expect(downloads.every((r) => r.headers['x-shopify-access-token'] === undefined)).toBe(true);
  });

  it('runs a first full sync by paging when told to, reading long orders to their last line item', async () => {
    const { batches, error } = await drain(shopifyConnector, shopHarness({ fullSync: 'pages' }).ctx, null);
    expect(error).toBeUndefined();
    expectWholeShop(batches);
    expect(standIn.requests.some((r) => r.text.includes('order(id:'))).toBe(true);
  });

  it('resumes a bulk sync after a crash from the committed line, without a new export or a duplicate', async () => {
    const h = shopHarness();
    const starts = standIn.bulkStarts;
    const first = await drain(shopifyConnector, h.ctx, null, 8);
    expect(JSON.parse(lastCursor(first.batches) ?? '{}').run).toMatchObject({
      mode: 'bulk',
      resource: 'orders',
    });
    const rest = await drain(shopifyConnector, h.ctx, lastCursor(first.batches));
    expect(rest.error).toBeUndefined();
    expectWholeShop([...first.batches, ...rest.batches]);
    expect(standIn.bulkStarts - starts).toBe(3);
  });

  it('a crash right after starting an export polls that export on resume instead of starting another', async () => {
    const h = shopHarness();
    const first = await drain(shopifyConnector, h.ctx, null, 1);
    expect(first.batches[0]?.profiles).toEqual([]);
    const starts = standIn.bulkStarts;
    const rest = await drain(shopifyConnector, h.ctx, lastCursor(first.batches));
    expect(rest.error).toBeUndefined();
    expect(standIn.bulkStarts - starts).toBe(2);
    expect(flatten(rest.batches).profiles.filter((p) => p.email !== undefined)).toHaveLength(300);
  });

  it('adopts the export a crashed run started but never committed, instead of waiting for it', async () => {
    const { bulkQuery } = await import('../../../src/connectors/shopify/shopify-map.ts');
    // A run that crashed between bulkOperationRunQuery and committing its id left this export running.
    await fetch(`${standIn.baseUrl}/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': standIn.fixtures.token },
      body: JSON.stringify({
        query: 'mutation { bulkOperationRunQuery }',
        variables: { query: bulkQuery('customers') },
      }),
    });
    const starts = standIn.bulkStarts;
    const { batches, error } = await drain(shopifyConnector, shopHarness().ctx, null);
    expect(error).toBeUndefined();
    expectWholeShop(batches);
    // Customers came from the adopted export; only products and orders were started.
    expect(standIn.bulkStarts - starts).toBe(2);
  });

  it('syncs incrementally with updated_at:> the watermark: only what changed, new orders included', async () => {
    const fx = standIn.fixtures;
    const h = shopHarness();
    const full = await drain(shopifyConnector, h.ctx, null);
    const later = fx.now + 86_400_000;
    h.setNow(later);
    fx.touch('customers', 5, fx.now + 3_600_000);
    fx.touch('orders', fx.counts.orders, fx.now + 7_200_000);
    const next = await drain(shopifyConnector, h.ctx, lastCursor(full.batches));
    expect(next.error).toBeUndefined();
    const all = flatten(next.batches);
    expect(all.profiles.filter((p) => p.email !== undefined).map((p) => p.sourceId)).toEqual([
      fx.customer(5).id,
    ]);
    const newOrder = fx.order(fx.counts.orders - 1);
    expect(all.interactions.map((i) => i.sourceId)).toEqual(
      newOrder.customerId === null ? [] : newOrder.lines.map((l) => l.id),
    );
    expect(all.products).toEqual([]);
    const query = standIn.requests.at(-1)?.text ?? '';
    expect(query).toContain("updated_at:>'2026-12-01T11:50:00.000Z'");
  });
});

describe('Shopify faults end in the right ConnectorError', () => {
  it('a refused token (HTTP 401) is auth_expired', async () => {
    const h = harness({ baseUrl: standIn.baseUrl, credentials: { accessToken: 'shpat_wrong' }, now: 0 });
    expect((await codeOf(drain(shopifyConnector, h.ctx, null))).code).toBe('auth_expired');
  });

  it('THROTTLED is rate_limited, waiting what the bucket needs (cost - available) / restoreRate', async () => {
    standIn.failNextQuery(/customers\(first/, throttledAnswer(752, 252));
    const error = await codeOf(drain(shopifyConnector, shopHarness({ fullSync: 'pages' }).ctx, null));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(5000);
  });

  it('waits before a query the bucket cannot pay for yet (cost-based throttle)', async () => {
    const h = shopHarness({ fullSync: 'pages' });
    standIn.setAvailable(50);
    const first = await drain(shopifyConnector, h.ctx, null, 1);
    standIn.setAvailable(2000);
    expect(first.error).toBeUndefined();
    // Customers pages cost 102 points; with 50 available at 100/s the client waits 520 ms before each next query.
    expect(h.sleeps).toContain(520);
  });

  it('ACCESS_DENIED is permission; a bulk export FAILED with ACCESS_DENIED too', async () => {
    standIn.failNextQuery(/products\(first/, {
      body: {
        errors: [{ message: 'Access denied for products field.', extensions: { code: 'ACCESS_DENIED' } }],
      },
    });
    const paged = await codeOf(drain(shopifyConnector, shopHarness({ fullSync: 'pages' }).ctx, null));
    expect(paged.code).toBe('permission');
    standIn.failNextQuery(/node\(id:/, {
      body: {
        data: {
          node: {
            id: 'gid://shopify/BulkOperation/x',
            status: 'FAILED',
            errorCode: 'ACCESS_DENIED',
            url: null,
          },
        },
      },
    });
    expect((await codeOf(drain(shopifyConnector, shopHarness().ctx, null))).code).toBe('permission');
  });

  it('a 5xx and a hanging answer are transient', async () => {
    standIn.failNext('/graphql.json', {
      kind: 'answer',
      answer: { status: 502, body: '<html>Bad Gateway</html>' },
    });
    expect((await codeOf(drain(shopifyConnector, shopHarness().ctx, null))).code).toBe('transient');
    standIn.failNext('/graphql.json', { kind: 'hang' });
    expect((await codeOf(drain(shopifyConnector, shopHarness({}, 300).ctx, null))).code).toBe('transient');
  });

  it('a malformed page is rejected whole, keeping the cursor', async () => {
    standIn.failNextQuery(/orders\(first/, {
      body: { data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [{ id: 12 }] } } },
    });
    const { batches, error } = await drain(shopifyConnector, shopHarness({ fullSync: 'pages' }).ctx, null);
    expect((error as ConnectorError).code).toBe('malformed');
    expect(batches.flatMap((b) => b.interactions)).toEqual([]);
  });

  it('a malformed bulk line stops the sync at that line; a download that breaks off resumes without duplicates', async () => {
    const fx = standIn.fixtures;
    standIn.failNext('/bulk/', {
      kind: 'answer',
      answer: { lines: ['{"id":"gid://shopify/Customer/1"', 'x'] },
    });
    const bad = await codeOf(drain(shopifyConnector, shopHarness().ctx, null));
    expect(bad.code).toBe('malformed');
    expect(bad.message).toContain('Line 1');
    const h = shopHarness();
    const lines = (await import('../../support/stand-ins/shopify-stand-in.ts')).bulkLines('customers', fx);
    standIn.failNext('/bulk/', { kind: 'answer', answer: { lines, breakAfterLines: 250 } });
    const broken = await drain(shopifyConnector, h.ctx, null);
    expect((broken.error as ConnectorError).code).toBe('transient');
    const rest = await drain(shopifyConnector, h.ctx, lastCursor(broken.batches));
    expect(rest.error).toBeUndefined();
    const emails = [...broken.batches, ...rest.batches]
      .flatMap((b) => b.profiles)
      .filter((p) => p.email !== undefined);
    expect(emails).toHaveLength(fx.counts.customers);
  });
});

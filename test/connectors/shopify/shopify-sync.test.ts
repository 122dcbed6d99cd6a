/**
 * The Shopify connector through the real sync engine into a real data file, against the Shopify stand-in: a bulk
 * first sync, an incremental paged one, a process killed mid-sync resuming with no duplicates and no second export,
 * e-mails pseudonymised as imports do.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncConnection } from '../../../src/connectors/sync.ts';
import { createPseudonymizer } from '../../../src/privacy/pseudonym.ts';
import { expectedPurchases, shopFixtures } from '../../support/stand-ins/fixtures-shopify.ts';
import { type ShopifyStandIn, startShopifyStandIn } from '../../support/stand-ins/shopify-stand-in.ts';
import { PSEUDONYM_KEY } from '../helpers.ts';
import { connectStandIn, socialSetup, syncAndKill } from '../social-engine.ts';

const NOW = Date.UTC(2026, 5, 1, 9);
const DAY = 86_400_000;
let env: Awaited<ReturnType<typeof socialSetup>>;
let standIn: ShopifyStandIn;

beforeEach(async () => {
  env = await socialSetup(NOW);
  standIn = await startShopifyStandIn(shopFixtures({ customers: 250, products: 30, orders: 500, now: NOW }));
  const fx = standIn.fixtures;
  await connectStandIn(
    env,
    'shopify',
    standIn.baseUrl,
    { shop: fx.shop.domain, batchRows: '200' },
    { accessToken: fx.token },
  );
});
afterEach(async () => {
  await standIn.close();
  await env.cleanup();
});

describe('Shopify through the sync engine', () => {
  it('a bulk first sync stores customers (e-mail pseudonymised), products and every purchase once', async () => {
    const fx = standIn.fixtures;
    const outcome = await syncConnection(env.deps, 'shopify');
    expect(outcome).toMatchObject({ status: 'ok', interactions: { added: expectedPurchases(fx) } });
    expect(outcome.currencies).toEqual(['EUR']);
    expect(standIn.bulkStarts).toBe(3);
    const counts = await env.store.audience.counts();
    expect(counts).toMatchObject({
      profiles: fx.counts.customers,
      products: fx.counts.products,
      interactions: expectedPurchases(fx),
    });
    const [customer] = await env.store.audience.profiles({ ids: [`shopify:${fx.customer(0).id}`] });
    expect(customer?.attrs.email).toBe(
      createPseudonymizer(PSEUDONYM_KEY).pseudonym(fx.customer(0).email, 'email'),
    );
    expect(customer?.country).toBe(fx.customer(0).country);
    const order = fx.order(0);
    const bought = (await env.store.audience.interactions()).filter(
      (i) => i.user_id === `shopify:${order.customerId}`,
    );
    expect(bought.map((i) => i.value)).toEqual(expect.arrayContaining(order.lines.map((l) => l.amount)));
    await env.store.flush();
    const onDisk = await readFile(env.file, 'utf8');
    for (const secret of [fx.customer(0).email, fx.customer(1).email, fx.token])
      expect(onDisk).not.toContain(secret);
  });

  it('an incremental sync pages only what changed since the watermark', async () => {
    const fx = standIn.fixtures;
    await syncConnection(env.deps, 'shopify');
    env.clock.now = NOW + DAY;
    const index = fx.counts.orders;
    fx.touch('orders', index, NOW + DAY / 2);
    fx.touch('customers', 3, NOW + DAY / 2);
    const next = await syncConnection(env.deps, 'shopify');
    const lines = fx.order(index).customerId === null ? 0 : fx.order(index).lines.length;
    expect(next).toMatchObject({ status: 'ok', interactions: { added: lines }, profiles: { inserted: 0 } });
    expect(standIn.bulkStarts).toBe(3);
    expect((await env.store.audience.counts()).interactions).toBe(expectedPurchases(fx));
  });

  it('a process killed mid-sync resumes the same export, with no duplicates', async () => {
    const fx = standIn.fixtures;
    const store = await syncAndKill(env, standIn, 'shopify', (r) => r.path === '/bulk/3.jsonl');
    expect((await store.audience.counts()).profiles).toBe(fx.counts.customers);
    expect((await store.audience.counts()).interactions).toBe(0);
    env.clock.now = NOW + 11 * 60_000;
    const resumed = await syncConnection(env.deps, 'shopify');
    expect(resumed.status).toBe('ok');
    expect(standIn.bulkStarts).toBe(3);
    expect((await store.audience.counts()).interactions).toBe(expectedPurchases(fx));
    expect(await store.connections.syncedKeyCount('shopify')).toBe(expectedPurchases(fx));
  }, 60_000);
});

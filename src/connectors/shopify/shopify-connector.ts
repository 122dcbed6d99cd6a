/**
 * The Shopify connector (Admin GraphQL API 2025-01). Credentials: `accessToken` (an Admin API access token of a
 * custom or installed app). Settings: `shop` (e.g. `acme.myshopify.com`; the base URL is derived from it),
 * optional `fullSync` (`bulk`, the default, or `pages`), `batchRows` (default 1000), `orderWindow` (default
 * 100000).
 */
import type { Connector, ConnectorContext, SyncBatch } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { positiveSetting } from '../shared/settings.ts';
import { ShopifyClient } from './shopify-client.ts';
import { shopAnswer } from './shopify-shapes.ts';
import { shopifyChanges } from './shopify-sync.ts';

export { SHOPIFY_API_VERSION, shopifyBaseUrl } from './shopify-client.ts';

/** The access scopes a sync needs (documented in the README). */
export const SHOPIFY_SCOPES = ['read_customers', 'read_products', 'read_orders'] as const;

const SHOP_QUERY = '{ shop { id name myshopifyDomain } currentAppInstallation { accessScopes { handle } } }';

/** The Shopify connector. */
export const shopifyConnector: Connector = {
  kind: 'shopify',

  async authenticate(ctx) {
    const answer = await client(ctx).query(shopAnswer, 'the shop', SHOP_QUERY);
    return {
      accountId: answer.shop.id,
      accountName: answer.shop.name,
      scopes: answer.currentAppInstallation?.accessScopes.map((s) => s.handle) ?? [],
    };
  },

  async listSources(ctx) {
    const answer = await client(ctx).query(shopAnswer, 'the shop', SHOP_QUERY);
    return [{ id: answer.shop.id, name: answer.shop.myshopifyDomain ?? answer.shop.name, kind: 'shop' }];
  },

  async *fetchChanges(ctx, cursor): AsyncGenerator<SyncBatch> {
    const fullSync = ctx.settings.fullSync ?? 'bulk';
    if (fullSync !== 'bulk' && fullSync !== 'pages') {
      throw new ConnectorError(
        'config',
        `The setting fullSync must be "bulk" or "pages", not "${fullSync}".`,
      );
    }
    yield* shopifyChanges(
      ctx,
      {
        client: client(ctx),
        bulk: fullSync === 'bulk',
        batchRows: positiveSetting(ctx, 'batchRows', 1000),
        orderWindow: positiveSetting(ctx, 'orderWindow', 100_000),
      },
      cursor,
    );
  },
};

function client(ctx: ConnectorContext): ShopifyClient {
  const token = ctx.credentials.accessToken;
  if (token === undefined || token === '') {
    throw new ConnectorError(
      'auth_expired',
      'This Shopify connection has no access token; connect the shop again.',
    );
  }
  return new ShopifyClient(ctx, token);
}

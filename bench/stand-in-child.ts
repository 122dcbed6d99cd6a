/**
 * Serves one platform stand-in from its own process, so the connector benchmark's memory figures are the
 * connector's alone. Prints `{"baseUrl": …, "token": …}` on its first line, then serves until killed.
 * Usage: node --import tsx bench/stand-in-child.ts shopify <orders> <customers> <products>
 */
import { shopFixtures } from '../test/support/stand-ins/fixtures-shopify.ts';
import { startShopifyStandIn } from '../test/support/stand-ins/shopify-stand-in.ts';

const [kind, orders, customers, products] = process.argv.slice(2);
if (kind !== 'shopify') throw new Error('usage: stand-in-child.ts shopify <orders> <customers> <products>');
const fixtures = shopFixtures({
  orders: Number(orders),
  customers: Number(customers),
  products: Number(products),
});
// One poll to completion: the benchmark measures the download and mapping, not Shopify's export time.
const standIn = await startShopifyStandIn(fixtures, { pollsToComplete: 1 });
process.stdout.write(`${JSON.stringify({ baseUrl: standIn.baseUrl, token: fixtures.token })}\n`);
process.on('SIGTERM', () => {
  void standIn.close().then(() => process.exit(0));
});

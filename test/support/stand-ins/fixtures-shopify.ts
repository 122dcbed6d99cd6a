/**
 * Seeded Shopify fixtures, generated per index so a million orders never sit in memory: customer(i), product(i),
 * order(i) (with 1–4 line items, a few long orders with more than a page of them, a few guest orders without a
 * customer). The same seed and index give the same record. Overrides move a record's update time (or create a new
 * record) for incremental tests.
 */
import { Rng } from '../../../src/domain/random.ts';

const HOUR = 3_600_000;

/** A customer as the stand-in serves it. */
export interface FixtureCustomer {
  id: string;
  email: string;
  createdAt: number;
  updatedAt: number;
  numberOfOrders: number;
  amountSpent: number;
  country: string;
}

/** A product. */
export interface FixtureProduct {
  id: string;
  title: string;
  productType: string;
  updatedAt: number;
  totalInventory: number;
  price: number;
}

/** A line item. */
export interface FixtureLine {
  id: string;
  quantity: number;
  productId: string;
  amount: number;
}

/** An order. */
export interface FixtureOrder {
  id: string;
  createdAt: number;
  updatedAt: number;
  customerId: string | null;
  lines: FixtureLine[];
}

/** The fixtures of one shop. */
export interface ShopFixtures {
  token: string;
  shop: { id: string; name: string; domain: string };
  scopes: string[];
  currency: string;
  counts: { customers: number; products: number; orders: number };
  now: number;
  /** Bumped by every touch, so a server may cache listings between changes. */
  version: number;
  customer(i: number): FixtureCustomer;
  product(i: number): FixtureProduct;
  order(i: number): FixtureOrder;
  /** Sets a record's update time (an index at or past the count adds a new record, created then). */
  touch(kind: 'customers' | 'products' | 'orders', i: number, at: number): void;
}

const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'ES', 'IT', 'SE'];
const TYPES = ['Shoes', 'Shirts', 'Bags', 'Hats', ''];

/** Generates the fixtures. */
export function shopFixtures(
  options: { seed?: number; customers?: number; products?: number; orders?: number; now?: number } = {},
): ShopFixtures {
  const seed = options.seed ?? 15;
  const now = options.now ?? Date.UTC(2026, 11, 1, 12);
  const counts = {
    customers: options.customers ?? 300,
    products: options.products ?? 40,
    orders: options.orders ?? 600,
  };
  const touched = {
    customers: new Map<number, number>(),
    products: new Map<number, number>(),
    orders: new Map<number, number>(),
  };
  const rngOf = (kind: number, i: number) => new Rng(seed * 7919 + kind * 1_000_003 + i);
  // Whole seconds, as the API's DateTimes are.
  const created = (rng: Rng) => now - Math.floor(rng.uniform(1, 500) * 86_400) * 1000;
  const fx: ShopFixtures = {
    token: 'shpat_fixture_token_0123456789',
    shop: { id: 'gid://shopify/Shop/5550001', name: 'Acme Store', domain: 'acme-store.myshopify.com' },
    scopes: ['read_customers', 'read_products', 'read_orders'],
    currency: 'EUR',
    counts,
    now,
    version: 0,
    customer(i) {
      const rng = rngOf(1, i);
      const createdAt =
        touched.customers.has(i) && i >= (options.customers ?? 300)
          ? (touched.customers.get(i) as number)
          : created(rng);
      return {
        id: `gid://shopify/Customer/${7_000_000 + i}`,
        email: `buyer${i}@example.com`,
        createdAt,
        updatedAt:
          touched.customers.get(i) ??
          Math.min(now - HOUR, createdAt + Math.floor(rng.uniform(0, 20) * 86_400) * 1000),
        numberOfOrders: rng.int(0, 12),
        amountSpent: Math.round(rng.uniform(0, 900) * 100) / 100,
        country: COUNTRIES[rng.int(0, COUNTRIES.length - 1)] as string,
      };
    },
    product(i) {
      const rng = rngOf(2, i);
      return {
        id: `gid://shopify/Product/${8_000_000 + i}`,
        title: `Product ${i}`,
        productType: TYPES[rng.int(0, TYPES.length - 1)] as string,
        updatedAt: touched.products.get(i) ?? created(rng),
        totalInventory: rng.int(0, 50),
        price: Math.round(rng.uniform(5, 200) * 100) / 100,
      };
    },
    order(i) {
      const rng = rngOf(3, i);
      const base =
        touched.orders.has(i) && i >= (options.orders ?? 600)
          ? (touched.orders.get(i) as number)
          : created(rng);
      const long = rng.bernoulli(0.03);
      const n = long ? rng.int(12, 14) : rng.int(1, 4);
      const lines: FixtureLine[] = [];
      for (let k = 0; k < n; k++) {
        const quantity = rng.int(1, 3);
        lines.push({
          id: `gid://shopify/LineItem/${(9_000_000 + i) * 20 + k}`,
          quantity,
          productId: `gid://shopify/Product/${8_000_000 + rng.int(0, counts.products - 1)}`,
          amount: Math.round(quantity * rng.uniform(5, 200) * 100) / 100,
        });
      }
      const guest = rng.bernoulli(0.02);
      return {
        id: `gid://shopify/Order/${5_000_000 + i}`,
        createdAt: base,
        updatedAt:
          touched.orders.get(i) ?? Math.min(now - HOUR, base + Math.floor(rng.uniform(0, 3) * 86_400) * 1000),
        customerId: guest ? null : `gid://shopify/Customer/${7_000_000 + rng.int(0, counts.customers - 1)}`,
        lines,
      };
    },
    touch(kind, i, at) {
      touched[kind].set(i, at);
      fx.version += 1;
      if (i >= counts[kind]) counts[kind] = i + 1;
    },
  };
  return fx;
}

/** Line items of orders with a customer, over the first `orders` orders: what a full sync must turn into purchases. */
export function expectedPurchases(fx: ShopFixtures): number {
  let sum = 0;
  for (let i = 0; i < fx.counts.orders; i++) {
    const order = fx.order(i);
    if (order.customerId !== null) sum += order.lines.length;
  }
  return sum;
}

/**
 * The GraphQL documents the connector sends, and how their answers map: a Customer is a profile (its e-mail raw
 * here, pseudonymised by the sync engine), a Product is a product, each order LineItem is one `purchase`
 * interaction (amount = the line's discounted total in shop currency, with that currency; time = when the order
 * was processed) by the order's customer. Orders without a customer (guest checkouts with no record) are skipped:
 * their buyer is never guessed.
 */
import type { ProductPatch } from '../../domain/types.ts';
import type { SourceInteraction, SourceProfile } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { parseTime } from '../shared/http.ts';
import type { ShopifyCustomer, ShopifyLineItem, ShopifyOrder, ShopifyProduct } from './shopify-shapes.ts';

const CUSTOMER_FIELDS =
  'id email createdAt updatedAt numberOfOrders amountSpent { amount currencyCode } defaultAddress { countryCodeV2 }';
const PRODUCT_FIELDS =
  'id title productType updatedAt totalInventory priceRangeV2 { minVariantPrice { amount currencyCode } }';
const ORDER_FIELDS = 'id createdAt processedAt updatedAt currencyCode customer { id }';
const LINE_ITEM_FIELDS =
  'id quantity product { id } discountedTotalSet { shopMoney { amount currencyCode } }';

/** Which top-level resource. */
export type Resource = 'customers' | 'products' | 'orders';
/** The resources in sync order: people and products first, so purchases refer to rows that exist. */
export const RESOURCES: readonly Resource[] = ['customers', 'products', 'orders'];

/** Orders per page of a paged query: with LINES_PER_ORDER it keeps a query's cost well under the 1,000 cap. */
export const ORDERS_PER_PAGE = 25;
/** Line items read with each order on a page (a longer order's rest comes through `order(id:)`). */
export const LINES_PER_ORDER = 10;
/** Customers / products per page. */
export const NODES_PER_PAGE = 100;

/** The paged query of a resource, filtered by `$query` (`updated_at:>'…'`) and sorted by UPDATED_AT. */
export function pagedQuery(resource: Resource): string {
  const nodes =
    resource === 'customers'
      ? CUSTOMER_FIELDS
      : resource === 'products'
        ? PRODUCT_FIELDS
        : `${ORDER_FIELDS} lineItems(first: ${LINES_PER_ORDER}) { pageInfo { hasNextPage endCursor } nodes { ${LINE_ITEM_FIELDS} } }`;
  return `query Sync($first: Int!, $after: String, $query: String) { ${resource}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { pageInfo { hasNextPage endCursor } nodes { ${nodes} } } }`;
}

/** The rest of a long order's line items. */
export const ORDER_LINE_ITEMS_QUERY = `query OrderLines($id: ID!, $after: String) { order(id: $id) { lineItems(first: 250, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${LINE_ITEM_FIELDS} } } } }`;

/** The bulk query of a resource: the whole connection (bulk operations take no `first`), line items nested. */
export function bulkQuery(resource: Resource): string {
  const nodes =
    resource === 'customers'
      ? CUSTOMER_FIELDS
      : resource === 'products'
        ? PRODUCT_FIELDS
        : `${ORDER_FIELDS} lineItems { edges { node { ${LINE_ITEM_FIELDS} } } }`;
  return `{ ${resource} { edges { node { ${nodes} } } } }`;
}

/** The `updated_at:>` search filter for an incremental run (null: everything). */
export function updatedSince(watermark: number | null): string | null {
  return watermark === null ? null : `updated_at:>'${new Date(watermark).toISOString()}'`;
}

/** A Customer as a profile. */
export function customerProfile(customer: ShopifyCustomer): SourceProfile {
  const orders = customer.numberOfOrders === undefined ? null : Number(customer.numberOfOrders);
  const spent = customer.amountSpent === undefined ? null : Number(customer.amountSpent.amount);
  const attrs: Record<string, number> = {};
  if (orders !== null && Number.isFinite(orders)) attrs.orders_count = orders;
  if (spent !== null && Number.isFinite(spent)) attrs.amount_spent = spent;
  return {
    sourceId: customer.id,
    email: customer.email ?? null,
    platform: 'shopify',
    country: customer.defaultAddress?.countryCodeV2 ?? null,
    created_at: time(customer.createdAt, 'a customer'),
    attrs,
  };
}

/** A Product as a product row (price: the cheapest variant). */
export function productPatch(product: ShopifyProduct): ProductPatch {
  const price =
    product.priceRangeV2 === undefined ? null : Number(product.priceRangeV2.minVariantPrice.amount);
  return {
    id: product.id,
    name: product.title,
    category:
      product.productType === undefined || product.productType === '' ? 'uncategorised' : product.productType,
    price: price !== null && Number.isFinite(price) ? price : null,
    in_stock:
      product.totalInventory === null || product.totalInventory === undefined
        ? null
        : product.totalInventory > 0,
  };
}

/** What a line item needs of its order. */
export interface OrderFacts {
  customerId: string;
  at: number;
}

/** An order's facts, or null when it has no customer (never guessed). */
export function orderFacts(order: ShopifyOrder): OrderFacts | null {
  const customerId = order.customer?.id;
  if (customerId === undefined) return null;
  return { customerId, at: time(order.processedAt ?? order.createdAt, 'an order') };
}

/** The buyer as a minimal profile (so a purchase never points at a person the store lacks). */
export function buyerProfile(facts: OrderFacts): SourceProfile {
  return { sourceId: facts.customerId, platform: 'shopify', last_active_at: facts.at };
}

/** A line item as a `purchase` interaction. */
export function purchase(line: ShopifyLineItem, facts: OrderFacts): SourceInteraction {
  const amount = Number(line.discountedTotalSet.shopMoney.amount);
  if (!Number.isFinite(amount)) {
    throw new ConnectorError(
      'malformed',
      'Shopify sent a line item whose amount is not a number; nothing from that page was stored.',
    );
  }
  return {
    sourceId: line.id,
    userSourceId: facts.customerId,
    item_id: line.product?.id ?? null,
    type: 'purchase',
    value: amount,
    timestamp: facts.at,
    currency: line.discountedTotalSet.shopMoney.currencyCode,
  };
}

/** Epoch ms of a documented DateTime; an unreadable one makes the page malformed. */
export function time(value: string, what: string): number {
  const ms = parseTime(value);
  if (ms === null) {
    throw new ConnectorError(
      'malformed',
      `Shopify sent ${what} with an unreadable time; nothing from that page was stored.`,
    );
  }
  return ms;
}

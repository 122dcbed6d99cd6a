/**
 * The documented shapes (Admin GraphQL 2025-01) of what the connector reads: customers, products, orders with line
 * items (paged, `pageInfo { hasNextPage endCursor }`), and the bulk operation objects. The same node shapes check
 * each line of a bulk JSONL result (where a nested line item carries `__parentId` instead of being nested).
 */
import { z } from 'zod';

const money = z.object({ amount: z.string(), currencyCode: z.string() });
const moneyBag = z.object({ shopMoney: money });
const pageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });

/** A Customer (2025-01: `email` is the address; `numberOfOrders` is an UnsignedInt64 as a string). */
export const customerShape = z.object({
  id: z.string().startsWith('gid://shopify/Customer/'),
  email: z.string().nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  numberOfOrders: z.union([z.string(), z.number()]).optional(),
  amountSpent: money.optional(),
  defaultAddress: z.object({ countryCodeV2: z.string().nullable().optional() }).nullable().optional(),
});
/** A Customer. */
export type ShopifyCustomer = z.infer<typeof customerShape>;

/** A Product. */
export const productShape = z.object({
  id: z.string().startsWith('gid://shopify/Product/'),
  title: z.string(),
  productType: z.string().optional(),
  updatedAt: z.string(),
  totalInventory: z.number().nullable().optional(),
  priceRangeV2: z.object({ minVariantPrice: money }).optional(),
});
/** A Product. */
export type ShopifyProduct = z.infer<typeof productShape>;

/** A LineItem (in a bulk result it carries `__parentId`, the order's id). */
export const lineItemShape = z.object({
  id: z.string().startsWith('gid://shopify/LineItem/'),
  quantity: z.number(),
  product: z.object({ id: z.string() }).nullable().optional(),
  discountedTotalSet: moneyBag,
  __parentId: z.string().optional(),
});
/** A LineItem. */
export type ShopifyLineItem = z.infer<typeof lineItemShape>;

/** An Order's own fields (its line items come nested when paged, as separate lines in bulk). */
export const orderFieldsShape = z.object({
  id: z.string().startsWith('gid://shopify/Order/'),
  createdAt: z.string(),
  processedAt: z.string().nullable().optional(),
  updatedAt: z.string(),
  currencyCode: z.string().optional(),
  customer: z.object({ id: z.string() }).nullable().optional(),
});
/** An Order's own fields. */
export type ShopifyOrder = z.infer<typeof orderFieldsShape>;

const lineItemsConnection = z.object({ pageInfo, nodes: z.array(lineItemShape) });

/** One page of a top-level connection with nodes of `node`. */
function connection<T extends z.ZodType>(node: T) {
  return z.object({ pageInfo, nodes: z.array(node) });
}

/** `customers(...)` answer. */
export const customersPage = z.object({ customers: connection(customerShape) });
/** `products(...)` answer. */
export const productsPage = z.object({ products: connection(productShape) });
/** An order as paged, with its first line items. */
export const pagedOrderShape = orderFieldsShape.extend({ lineItems: lineItemsConnection });
/** `orders(...)` answer. */
export const ordersPage = z.object({ orders: connection(pagedOrderShape) });
/** `order(id:) { lineItems }` answer: the rest of a long order. */
export const orderLineItemsPage = z.object({
  order: z.object({ lineItems: lineItemsConnection }).nullable(),
});

/** A BulkOperation as polled. */
export const bulkOperationShape = z.object({
  id: z.string(),
  status: z.enum(['CANCELED', 'CANCELING', 'COMPLETED', 'CREATED', 'EXPIRED', 'FAILED', 'RUNNING']),
  errorCode: z.string().nullable().optional(),
  objectCount: z.union([z.string(), z.number()]).optional(),
  url: z.string().nullable().optional(),
  query: z.string().optional(),
});
/** A BulkOperation. */
export type BulkOperation = z.infer<typeof bulkOperationShape>;

/** `bulkOperationRunQuery` answer. */
export const bulkRunAnswer = z.object({
  bulkOperationRunQuery: z.object({
    bulkOperation: bulkOperationShape.nullable(),
    userErrors: z.array(z.object({ field: z.array(z.string()).nullable().optional(), message: z.string() })),
  }),
});
/** `node(id:)` answer for a bulk operation. */
export const bulkNodeAnswer = z.object({ node: bulkOperationShape.nullable() });
/** `currentBulkOperation` answer. */
export const currentBulkAnswer = z.object({ currentBulkOperation: bulkOperationShape.nullable() });

/** `shop` + granted scopes, for authenticate. */
export const shopAnswer = z.object({
  shop: z.object({ id: z.string(), name: z.string(), myshopifyDomain: z.string().optional() }),
  currentAppInstallation: z.object({ accessScopes: z.array(z.object({ handle: z.string() })) }).optional(),
});

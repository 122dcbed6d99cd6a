/**
 * One Shopify sync run. A first full sync (no cursor) exports each resource with a bulk operation and streams its
 * JSONL result; later runs page each resource with `updated_at:>` the watermark, sorted by UPDATED_AT, following
 * `pageInfo { hasNextPage endCursor }`. The cursor (JSON) records where a run stopped (resource, bulk operation and
 * line, or page cursor), so a crash resumes after the last committed batch; a finished run leaves the watermark.
 */
import { z } from 'zod';
import type { ConnectorContext, SyncBatch } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { BatchBuilder } from '../shared/batch-builder.ts';
import { decodeCursor, parseShape } from '../shared/http.ts';
import { awaitBulk, jsonlLines, parseLine, RecentWindow, startBulk } from './shopify-bulk.ts';
import type { ShopifyClient } from './shopify-client.ts';
import {
  buyerProfile,
  customerProfile,
  NODES_PER_PAGE,
  ORDER_LINE_ITEMS_QUERY,
  ORDERS_PER_PAGE,
  type OrderFacts,
  orderFacts,
  pagedQuery,
  productPatch,
  purchase,
  RESOURCES,
  type Resource,
  updatedSince,
} from './shopify-map.ts';
import {
  customerShape,
  customersPage,
  lineItemShape,
  orderFieldsShape,
  orderLineItemsPage,
  ordersPage,
  productShape,
  productsPage,
  type ShopifyLineItem,
} from './shopify-shapes.ts';

/** Records changed while a run reads may be missed by its pages; the watermark trails the run's start by this. */
const WATERMARK_OVERLAP_MS = 10 * 60_000;
/** A bulk export gone (cancelled, expired) is started again at most this often in one run. */
const MAX_BULK_STARTS = 3;

const runShape = z.object({
  startedAt: z.number(),
  mode: z.enum(['bulk', 'pages']),
  resource: z.enum(['customers', 'products', 'orders']),
  /** Bulk: the operation id (null: not started yet) and how many result lines are committed. */
  op: z.string().nullable().default(null),
  line: z.number().int().nonnegative().default(0),
  /** Pages: the endCursor to continue after (null: the first page). */
  after: z.string().nullable().default(null),
});
type Run = z.infer<typeof runShape>;
const cursorShape = z.object({ v: z.literal(1), watermark: z.number().nullable(), run: runShape.nullable() });

/** What a run needs besides the context. */
export interface ShopifyRun {
  client: ShopifyClient;
  /** Whether a first full sync uses bulk operations (default) or paging. */
  bulk: boolean;
  batchRows: number;
  /** How many recent orders the bulk reader remembers for the line items that follow them. */
  orderWindow: number;
}

/** The batches of one run from `cursor` (null: the first, full sync). */
export async function* shopifyChanges(
  ctx: ConnectorContext,
  options: ShopifyRun,
  cursor: string | null,
): AsyncGenerator<SyncBatch> {
  const state =
    cursor === null
      ? { v: 1 as const, watermark: null, run: null }
      : decodeCursor(cursorShape, cursor, 'Shopify');
  let run: Run = state.run ?? {
    startedAt: ctx.now().getTime(),
    mode: state.watermark === null && options.bulk ? 'bulk' : 'pages',
    resource: 'customers',
    op: null,
    line: 0,
    after: null,
  };
  const encode = (r: Run) => JSON.stringify({ v: 1, watermark: state.watermark, run: r });
  const rows = new BatchBuilder();
  for (let i = RESOURCES.indexOf(run.resource); i < RESOURCES.length; i++) {
    const resource = RESOURCES[i] as Resource;
    if (resource !== run.resource) run = { ...run, resource, op: null, line: 0, after: null };
    if (run.mode === 'bulk') yield* bulkResource(ctx, options, run, rows, encode);
    else yield* pagedResource(options, run, state.watermark, rows, encode);
  }
  const watermark = Math.max(state.watermark ?? 0, run.startedAt - WATERMARK_OVERLAP_MS);
  yield rows.take(JSON.stringify({ v: 1, watermark, run: null }), true);
}

/** Pages one resource to the end. */
async function* pagedResource(
  options: ShopifyRun,
  start: Run,
  watermark: number | null,
  rows: BatchBuilder,
  encode: (r: Run) => string,
): AsyncGenerator<SyncBatch> {
  let after = start.after;
  const resource = start.resource;
  const variables = (a: string | null) => ({
    first: resource === 'orders' ? ORDERS_PER_PAGE : NODES_PER_PAGE,
    after: a,
    query: updatedSince(watermark),
  });
  for (;;) {
    let pageInfo: { hasNextPage: boolean; endCursor: string | null };
    if (resource === 'customers') {
      const page = await options.client.query(
        customersPage,
        'a page of customers',
        pagedQuery(resource),
        variables(after),
      );
      for (const c of page.customers.nodes) rows.profile(customerProfile(c));
      pageInfo = page.customers.pageInfo;
    } else if (resource === 'products') {
      const page = await options.client.query(
        productsPage,
        'a page of products',
        pagedQuery(resource),
        variables(after),
      );
      for (const p of page.products.nodes) rows.product(productPatch(p));
      pageInfo = page.products.pageInfo;
    } else {
      const page = await options.client.query(
        ordersPage,
        'a page of orders',
        pagedQuery(resource),
        variables(after),
      );
      for (const order of page.orders.nodes) {
        const facts = orderFacts(order);
        if (facts === null) continue;
        rows.profile(buyerProfile(facts));
        for (const line of order.lineItems.nodes) rows.interaction(purchase(line, facts));
        if (order.lineItems.pageInfo.hasNextPage) {
          await restOfOrder(options.client, order.id, order.lineItems.pageInfo.endCursor, facts, rows);
        }
      }
      pageInfo = page.orders.pageInfo;
    }
    if (!pageInfo.hasNextPage || pageInfo.endCursor === null) return;
    after = pageInfo.endCursor;
    if (rows.size >= options.batchRows) yield rows.take(encode({ ...start, after }), false);
  }
}

/** Reads the line items of a long order beyond the first page. */
async function restOfOrder(
  client: ShopifyClient,
  id: string,
  after: string | null,
  facts: OrderFacts,
  rows: BatchBuilder,
): Promise<void> {
  let cursor = after;
  while (cursor !== null) {
    const page = await client.query(orderLineItemsPage, 'the rest of an order', ORDER_LINE_ITEMS_QUERY, {
      id,
      after: cursor,
    });
    if (page.order === null) return;
    for (const line of page.order.lineItems.nodes) rows.interaction(purchase(line, facts));
    const info = page.order.lineItems.pageInfo;
    cursor = info.hasNextPage ? info.endCursor : null;
  }
}

/** Exports one resource with a bulk operation and streams its result from the committed line on. */
async function* bulkResource(
  ctx: ConnectorContext,
  options: ShopifyRun,
  start: Run,
  rows: BatchBuilder,
  encode: (r: Run) => string,
): AsyncGenerator<SyncBatch> {
  let run = start;
  for (let starts = 0; ; ) {
    let op = run.op;
    if (op === null) {
      if (starts++ >= MAX_BULK_STARTS) {
        throw new ConnectorError(
          'transient',
          'Shopify cancelled the bulk export again and again; the sync retries later.',
        );
      }
      op = await startBulk(options.client, run.resource);
      run = { ...run, op, line: 0 };
      // Commit the operation's id before waiting on it, so a crash polls this export instead of starting another.
      yield rows.take(encode(run), false);
    }
    const end = await awaitBulk(ctx, options.client, op);
    if (end.kind === 'gone') {
      run = { ...run, op: null, line: 0 };
      continue;
    }
    if (end.url !== null) yield* bulkLines(ctx, options, run, end.url, rows, encode);
    return;
  }
}

/** Maps the result lines after `run.line`; earlier lines only refill the order window. */
async function* bulkLines(
  ctx: ConnectorContext,
  options: ShopifyRun,
  run: Run,
  url: string,
  rows: BatchBuilder,
  encode: (r: Run) => string,
): AsyncGenerator<SyncBatch> {
  const orders = new RecentWindow<OrderFacts | null>(options.orderWindow);
  let number = 0;
  for await (const text of jsonlLines(ctx, url)) {
    number += 1;
    if (text.trim() === '') continue;
    const replay = number <= run.line;
    if (replay && (run.resource !== 'orders' || text.includes('"__parentId"'))) continue;
    const value = parseLine(text, number);
    if (run.resource === 'customers')
      rows.profile(customerProfile(parseShape(customerShape, value, 'a customer line', 'Shopify')));
    else if (run.resource === 'products')
      rows.product(productPatch(parseShape(productShape, value, 'a product line', 'Shopify')));
    else if (isChild(value))
      bulkPurchase(parseShape(lineItemShape, value, 'a line item line', 'Shopify'), orders, rows, number);
    else {
      const facts = orderFacts(parseShape(orderFieldsShape, value, 'an order line', 'Shopify'));
      orders.set((value as { id: string }).id, facts);
      if (facts !== null && !replay) rows.profile(buyerProfile(facts));
    }
    if (rows.size >= options.batchRows) yield rows.take(encode({ ...run, line: number }), false);
  }
}

function bulkPurchase(
  line: ShopifyLineItem,
  orders: RecentWindow<OrderFacts | null>,
  rows: BatchBuilder,
  number: number,
) {
  const parent = line.__parentId ?? '';
  if (!orders.has(parent)) {
    throw new ConnectorError(
      'malformed',
      `Line ${number} of the Shopify bulk result is a line item whose order is not among the preceding orders; the sync stopped there and keeps its cursor.`,
    );
  }
  const facts = orders.get(parent);
  if (facts !== null && facts !== undefined) rows.interaction(purchase(line, facts));
}

function isChild(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '__parentId' in value;
}

/**
 * One sync run over the configured Graph surfaces: page the content edge (newest first) with
 * `paging.cursors.after`, map each page's content to products and metrics, then page every item's comments,
 * committing a batch every few hundred rows with a cursor that says exactly where to pick up (surface, content
 * page, item, comment page). A finished run leaves only a watermark: the next run reads comments newer than it, on
 * content published within the look-back window before it (new comments mostly land on recent posts; older posts
 * are revisited by a full sync).
 */
import { z } from 'zod';
import type { ConnectorContext, SyncBatch } from '../connector.ts';
import { BatchBuilder } from '../shared/batch-builder.ts';
import { decodeCursor } from '../shared/http.ts';
import type { GraphClient } from './graph-client.ts';
import { edgeShape } from './graph-shapes.ts';
import { readInsights, requireTime, type Surface } from './graph-surfaces.ts';

const DAY_MS = 86_400_000;
/** Comments may show up on the API a little after their timestamp; the watermark trails the run's start by this. */
const WATERMARK_OVERLAP_MS = 15 * 60_000;
/** Content per page and comments per page asked for (Graph allows up to 100 on these edges). */
const CONTENT_PAGE = 50;
const COMMENT_PAGE = 100;

const positionShape = z.object({
  surface: z.enum(['instagram', 'facebook']),
  /** The `after` that fetched the content page being worked on (null: the first page). */
  contentAfter: z.string().nullable(),
  /** Index on that page of the item whose comments come next. */
  item: z.number().int().nonnegative(),
  /** The `after` of that item's next comment page (null: its first page). */
  commentsAfter: z.string().nullable(),
});
type Position = z.infer<typeof positionShape>;

const cursorShape = z.object({
  v: z.literal(1),
  /** Comments at or before this (epoch ms) are stored already; null before the first finished run. */
  watermark: z.number().nullable(),
  /** The run in progress: when it started and where it stopped; null between runs. */
  run: z.object({ startedAt: z.number(), at: positionShape }).nullable(),
});
type GraphCursor = z.infer<typeof cursorShape>;

/** What a run needs besides the context. */
export interface GraphRun {
  // biome-ignore lint/suspicious/noExplicitAny: surfaces differ in content and comment types; each is used whole.
  surfaces: { surface: Surface<any, any>; client: GraphClient }[];
  /** Commit a batch once this many rows are waiting. */
  batchRows: number;
  /** Incremental runs revisit content published this many days before the watermark. */
  lookbackDays: number;
}

/** The batches of one run from `cursor` (null: a first, full sync). */
export async function* graphChanges(ctx: ConnectorContext, run: GraphRun, cursor: string | null) {
  const state: GraphCursor =
    cursor === null ? { v: 1, watermark: null, run: null } : decodeCursor(cursorShape, cursor, 'Graph API');
  const startedAt = state.run?.startedAt ?? ctx.now().getTime();
  const names = run.surfaces.map((s) => s.surface.name);
  const resumeAt = state.run !== null && names.includes(state.run.at.surface) ? state.run.at : null;
  const rows = new BatchBuilder();
  const encode = (at: Position) =>
    JSON.stringify({ v: 1, watermark: state.watermark, run: { startedAt, at } });
  let started = resumeAt === null;
  for (const { surface, client } of run.surfaces) {
    if (!started && surface.name !== resumeAt?.surface) continue;
    const from = started ? null : resumeAt;
    started = true;
    yield* surfaceChanges(ctx, run, { surface, client }, { from, watermark: state.watermark, rows, encode });
  }
  const watermark = Math.max(state.watermark ?? 0, startedAt - WATERMARK_OVERLAP_MS);
  yield rows.take(JSON.stringify({ v: 1, watermark, run: null } satisfies GraphCursor), true);
}

interface Walk {
  from: Position | null;
  watermark: number | null;
  rows: BatchBuilder;
  encode: (at: Position) => string;
}

/** The batches for one surface, from `walk.from` (null: its first content page). */
async function* surfaceChanges<C, K>(
  ctx: ConnectorContext,
  run: GraphRun,
  { surface, client }: { surface: Surface<C, K>; client: GraphClient },
  walk: Walk,
): AsyncGenerator<SyncBatch> {
  const windowStart = walk.watermark === null ? null : walk.watermark - run.lookbackDays * DAY_MS;
  let at: Position = walk.from ?? { surface: surface.name, contentAfter: null, item: 0, commentsAfter: null };
  const contentPage = edgeShape(surface.contentShape);
  for (;;) {
    const page = await client.getShape(contentPage, `a page of ${surface.contentPath}`, surface.contentPath, {
      fields: surface.contentFields,
      limit: String(CONTENT_PAGE),
      after: at.contentAfter ?? undefined,
    });
    const items = page.data.filter((c) => windowStart === null || timeOf(surface, c) >= windowStart);
    // Content and its figures are added on the first visit of a page; a resumed page committed them already.
    if (at.item === 0 && at.commentsAfter === null) {
      const now = ctx.now().getTime();
      for (const content of items) {
        walk.rows.product(surface.product(content));
        walk.rows.metric(...surface.inlineMetrics(content, now));
        walk.rows.metric(...(await readInsights(client, surface, content, now)));
      }
    }
    for (; at.item < items.length; at = { ...at, item: at.item + 1, commentsAfter: null }) {
      const content = items[at.item] as C;
      if (!surface.mayHaveComments(content)) continue;
      for (;;) {
        const next = await readComments(ctx, surface, client, content, at.commentsAfter, walk);
        if (next === null) break;
        at = { ...at, commentsAfter: next };
        if (walk.rows.size >= run.batchRows) yield walk.rows.take(walk.encode(at), false);
      }
      if (walk.rows.size >= run.batchRows)
        yield walk.rows.take(walk.encode({ ...at, item: at.item + 1, commentsAfter: null }), false);
    }
    const after = page.paging?.next === undefined ? undefined : page.paging.cursors?.after;
    // The edge is newest first: once a page reaches past the look-back window, older pages are all outside it.
    const reachedWindow = items.length < page.data.length;
    if (after === undefined || reachedWindow) return;
    at = { surface: surface.name, contentAfter: after, item: 0, commentsAfter: null };
    if (!walk.rows.empty) yield walk.rows.take(walk.encode(at), false);
  }
}

/** Reads one comment page of `content` into the batch; answers the next page's `after`, or null after the last. */
async function readComments<C, K>(
  ctx: ConnectorContext,
  surface: Surface<C, K>,
  client: GraphClient,
  content: C,
  after: string | null,
  walk: Walk,
): Promise<string | null> {
  const id = surface.idOf(content);
  const page = await client.getShape(
    edgeShape(surface.commentShape),
    'a page of comments',
    `${id}/comments`,
    {
      fields: surface.commentFields,
      limit: String(COMMENT_PAGE),
      after: after ?? undefined,
    },
  );
  const now = ctx.now().getTime();
  for (const raw of page.data) {
    const mapped = surface.comment(raw, id, now);
    if (mapped === null) continue;
    if (walk.watermark !== null && mapped.interaction.timestamp <= walk.watermark) continue;
    walk.rows.profile(mapped.profile);
    walk.rows.interaction(mapped.interaction);
  }
  return page.paging?.next === undefined ? null : (page.paging.cursors?.after ?? null);
}

function timeOf<C>(surface: Surface<C, unknown>, content: C): number {
  return requireTime(surface.timeOf(content), `content on ${surface.contentPath}`);
}

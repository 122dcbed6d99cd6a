/**
 * One YouTube sync run: the channel's uploads playlist (channels.list contentDetails.relatedPlaylists.uploads),
 * paged with `nextPageToken` (newest first); per page of up to 50 uploads one videos.list for their statistics
 * (views, likes, comment counts as metrics); per video its commentThreads (order=time, newest first), whose
 * top-level comments become `comment` interactions by the author's channel id. The cursor records the playlist
 * page, the video on it and its comment page, plus the quota units spent today; a finished run leaves a watermark:
 * the next run reads comments newer than it on videos published within the look-back window, and stops paging a
 * video's comments at the first older one.
 */
import { z } from 'zod';
import type { ConnectorContext, SyncBatch } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { BatchBuilder } from '../shared/batch-builder.ts';
import { decodeCursor, parseTime } from '../shared/http.ts';
import type { YouTubeClient } from './youtube-client.ts';
import {
  type CommentThread,
  commentThreadsAnswer,
  playlistItemsAnswer,
  type Video,
  videosAnswer,
} from './youtube-shapes.ts';

const DAY_MS = 86_400_000;
const WATERMARK_OVERLAP_MS = 15 * 60_000;
/** A comment thread answered with these reasons means "no comments to read here", not a failed sync. */
const SKIP_VIDEO = new Set(['commentsDisabled', 'videoNotFound']);

const cursorShape = z.object({
  v: z.literal(1),
  watermark: z.number().nullable(),
  quota: z.object({ day: z.string(), used: z.number().int().nonnegative() }),
  run: z
    .object({
      startedAt: z.number(),
      uploads: z.string(),
      /** The token that fetched the playlist page being worked on (null: the first page). */
      pageToken: z.string().nullable(),
      item: z.number().int().nonnegative(),
      commentsToken: z.string().nullable(),
    })
    .nullable(),
});
type YouTubeCursor = z.infer<typeof cursorShape>;
type Position = NonNullable<YouTubeCursor['run']>;

/** What a run needs besides the context. */
export interface YouTubeRun {
  client: YouTubeClient;
  /** Finds the channel's uploads playlist id (one channels.list). */
  uploadsPlaylist: () => Promise<string>;
  batchRows: number;
  lookbackDays: number;
}

/** The batches of one run from `cursor` (null: the first, full sync). */
export async function* youtubeChanges(
  ctx: ConnectorContext,
  run: YouTubeRun,
  cursor: string | null,
): AsyncGenerator<SyncBatch> {
  const state: YouTubeCursor =
    cursor === null
      ? { v: 1, watermark: null, quota: { day: '', used: 0 }, run: null }
      : decodeCursor(cursorShape, cursor, 'YouTube');
  run.client.quota = state.quota;
  let at: Position = state.run ?? {
    startedAt: ctx.now().getTime(),
    uploads: await run.uploadsPlaylist(),
    pageToken: null,
    item: 0,
    commentsToken: null,
  };
  const rows = new BatchBuilder();
  const encode = (p: Position) =>
    JSON.stringify({ v: 1, watermark: state.watermark, quota: run.client.quota, run: p });
  const windowStart = state.watermark === null ? null : state.watermark - run.lookbackDays * DAY_MS;
  for (;;) {
    const page = await run.client.list(playlistItemsAnswer, 'playlistItems.list', {
      part: 'contentDetails',
      playlistId: at.uploads,
      maxResults: '50',
      pageToken: at.pageToken ?? undefined,
    });
    const items = page.items.filter((i) => windowStart === null || publishedAt(i) >= windowStart);
    const counts = new Map<string, number>();
    if (at.item === 0 && at.commentsToken === null && items.length > 0) {
      for (const video of await videoStats(
        run.client,
        items.map((i) => i.contentDetails.videoId),
      )) {
        addVideo(rows, video, ctx.now().getTime());
        counts.set(video.id, Number(video.statistics?.commentCount ?? Number.NaN));
      }
    }
    for (; at.item < items.length; at = { ...at, item: at.item + 1, commentsToken: null }) {
      const videoId = (items[at.item] as (typeof items)[number]).contentDetails.videoId;
      if (counts.get(videoId) === 0) continue;
      for (;;) {
        const next = await readComments(run.client, videoId, at.commentsToken, state.watermark, rows, ctx);
        if (next === null) break;
        at = { ...at, commentsToken: next };
        if (rows.size >= run.batchRows) yield rows.take(encode(at), false);
      }
      if (rows.size >= run.batchRows)
        yield rows.take(encode({ ...at, item: at.item + 1, commentsToken: null }), false);
    }
    const reachedWindow = items.length < page.items.length;
    if (page.nextPageToken === undefined || reachedWindow) break;
    at = { ...at, pageToken: page.nextPageToken, item: 0, commentsToken: null };
    if (!rows.empty) yield rows.take(encode(at), false);
  }
  const watermark = Math.max(state.watermark ?? 0, at.startedAt - WATERMARK_OVERLAP_MS);
  yield rows.take(
    JSON.stringify({ v: 1, watermark, quota: run.client.quota, run: null } satisfies YouTubeCursor),
    true,
  );
}

async function videoStats(client: YouTubeClient, ids: string[]): Promise<Video[]> {
  const answer = await client.list(videosAnswer, 'videos.list', {
    part: 'statistics,snippet',
    id: ids.join(','),
    maxResults: '50',
  });
  return answer.items;
}

function addVideo(rows: BatchBuilder, video: Video, at: number): void {
  const published = video.snippet?.publishedAt.slice(0, 10) ?? '';
  // No title: it can name people; the id and date identify the video for the team.
  rows.product({
    id: video.id,
    name: `YouTube video ${published}`.trim(),
    category: 'youtube-video',
    price: 0,
    in_stock: true,
  });
  const stats = video.statistics ?? {};
  for (const [name, raw] of [
    ['views', stats.viewCount],
    ['likes', stats.likeCount],
    ['comments', stats.commentCount],
  ] as const) {
    const value = Number(raw);
    if (raw !== undefined && Number.isFinite(value)) rows.metric({ contentId: video.id, name, value, at });
  }
}

/** Reads one comment page of a video; answers the next page token, or null when done (or past the watermark). */
async function readComments(
  client: YouTubeClient,
  videoId: string,
  pageToken: string | null,
  watermark: number | null,
  rows: BatchBuilder,
  ctx: ConnectorContext,
): Promise<string | null> {
  let page: z.infer<typeof commentThreadsAnswer>;
  try {
    page = await client.list(commentThreadsAnswer, 'commentThreads.list', {
      part: 'snippet',
      videoId,
      maxResults: '100',
      order: 'time',
      textFormat: 'plainText',
      pageToken: pageToken ?? undefined,
    });
  } catch (error) {
    if (error instanceof ConnectorError && SKIP_VIDEO.has(String(error.platformCode))) return null;
    throw error;
  }
  let reachedOld = false;
  const now = ctx.now().getTime();
  for (const thread of page.items) {
    const mapped = comment(thread, videoId, now);
    if (mapped === null) continue;
    if (watermark !== null && mapped.at <= watermark) {
      reachedOld = true;
      continue;
    }
    rows.profile(mapped.profile);
    rows.interaction(mapped.interaction);
  }
  return reachedOld ? null : (page.nextPageToken ?? null);
}

function comment(thread: CommentThread, videoId: string, now: number) {
  const top = thread.snippet.topLevelComment;
  const author = top.snippet.authorChannelId?.value;
  // A comment without its author's channel (e.g. a deleted account) is never attributed by display name.
  if (author === undefined) return null;
  const at = parseTime(top.snippet.publishedAt);
  if (at === null) {
    throw new ConnectorError(
      'malformed',
      'YouTube sent a comment with an unreadable publishedAt; nothing from that page was stored.',
    );
  }
  return {
    at,
    profile: {
      sourceId: author,
      handle: top.snippet.authorDisplayName ?? null,
      platform: 'youtube',
      last_active_at: Math.min(at, now),
    },
    interaction: {
      sourceId: top.id,
      userSourceId: author,
      item_id: videoId,
      type: 'comment' as const,
      value: null,
      timestamp: at,
    },
  };
}

function publishedAt(item: { contentDetails: { videoPublishedAt?: string | undefined } }): number {
  const raw = item.contentDetails.videoPublishedAt;
  // Uploads not yet published (scheduled) have no date: treat them as new.
  return raw === undefined ? Number.POSITIVE_INFINITY : (parseTime(raw) ?? Number.POSITIVE_INFINITY);
}

/**
 * The two Graph surfaces the connector reads, described the same way so one traversal walks both: Instagram
 * professional accounts (IG User media -> IG Comments, media insights) and Facebook Pages (published_posts ->
 * post comments, post insights). Each surface says which edge to page, which fields to ask for, and how a
 * documented answer maps to products (the content), profiles and `comment` interactions, and metrics.
 */
import type { z } from 'zod';
import type { ProductPatch } from '../../domain/types.ts';
import type { SourceInteraction, SourceMetric, SourceProfile } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { parseTime } from '../shared/http.ts';
import type { GraphClient } from './graph-client.ts';
import {
  type IgComment,
  type IgMedia,
  igCommentShape,
  igMediaShape,
  insightsShape,
  type PageComment,
  type PagePost,
  pageCommentShape,
  pagePostShape,
} from './graph-shapes.ts';

/** Which surface. */
export type SurfaceName = 'instagram' | 'facebook';

/** A commenter and their comment, mapped. */
export interface MappedComment {
  profile: SourceProfile;
  interaction: SourceInteraction;
}

/** One Graph surface: content items with comments and insights. */
export interface Surface<C, K> {
  name: SurfaceName;
  /** The content edge, e.g. `<ig-user-id>/media`. */
  contentPath: string;
  contentFields: string;
  contentShape: z.ZodType<C>;
  commentFields: string;
  commentShape: z.ZodType<K>;
  /** Which token reads this surface (Pages want a Page token when there is one). */
  token: 'user' | 'page';
  idOf(content: C): string;
  /** When the content was published, as the platform writes it. */
  timeOf(content: C): string;
  /** Whether the content can have comments worth asking for (IG says how many it has). */
  mayHaveComments(content: C): boolean;
  product(content: C): ProductPatch;
  /** Figures that come with the content itself (likes, comment counts), no extra request. */
  inlineMetrics(content: C, at: number): SourceMetric[];
  /** The `metric=` list of the content's insights edge, or null when it has none. */
  insightMetrics(content: C): string | null;
  commentTime(comment: K): string;
  /** Maps one comment, or null when the platform left out who wrote it (never guessed). */
  comment(comment: K, contentId: string, at: number): MappedComment | null;
}

/** The Instagram surface of an IG professional account. */
export function instagramSurface(igUserId: string): Surface<IgMedia, IgComment> {
  return {
    name: 'instagram',
    contentPath: `${igUserId}/media`,
    contentFields: 'id,timestamp,media_type,media_product_type,like_count,comments_count',
    contentShape: igMediaShape,
    commentFields: 'id,timestamp,username,from{id,username},like_count',
    commentShape: igCommentShape,
    token: 'user',
    idOf: (media) => media.id,
    timeOf: (media) => media.timestamp,
    mayHaveComments: (media) => media.comments_count === undefined || media.comments_count > 0,
    product: (media) => ({
      id: media.id,
      // No caption: it can carry @handles and names, which must not reach the store unpseudonymised.
      name: `Instagram ${kindLabel(media.media_product_type ?? media.media_type ?? 'post')} ${media.timestamp.slice(0, 10)}`,
      category: `instagram-${(media.media_product_type ?? media.media_type ?? 'post').toLowerCase()}`,
      price: 0,
      in_stock: true,
    }),
    inlineMetrics: (media, at) => [
      ...(media.like_count === undefined
        ? []
        : [{ contentId: media.id, name: 'likes', value: media.like_count, at }]),
      ...(media.comments_count === undefined
        ? []
        : [{ contentId: media.id, name: 'comments', value: media.comments_count, at }]),
    ],
    insightMetrics: (media) => igInsightMetrics(media),
    commentTime: (comment) => comment.timestamp,
    comment: (comment, mediaId, at) => {
      if (comment.from === undefined) return null;
      const timestamp = requireTime(comment.timestamp, 'an IG Comment');
      return {
        profile: {
          sourceId: comment.from.id,
          handle: comment.from.username ?? comment.username ?? null,
          platform: 'instagram',
          last_active_at: Math.min(timestamp, at),
        },
        interaction: {
          sourceId: comment.id,
          userSourceId: comment.from.id,
          item_id: mediaId,
          type: 'comment',
          value: null,
          timestamp,
        },
      };
    },
  };
}

/** The Facebook Page surface. */
export function facebookSurface(pageId: string): Surface<PagePost, PageComment> {
  return {
    name: 'facebook',
    contentPath: `${pageId}/published_posts`,
    contentFields: 'id,created_time,status_type',
    contentShape: pagePostShape,
    commentFields: 'id,created_time,from{id,name}',
    commentShape: pageCommentShape,
    token: 'page',
    idOf: (post) => post.id,
    timeOf: (post) => post.created_time,
    mayHaveComments: () => true,
    product: (post) => ({
      id: post.id,
      name: `Facebook post ${post.created_time.slice(0, 10)}`,
      category: 'facebook-post',
      price: 0,
      in_stock: true,
    }),
    inlineMetrics: () => [],
    insightMetrics: () => 'post_impressions,post_impressions_unique',
    commentTime: (comment) => comment.created_time,
    comment: (comment, postId, at) => {
      if (comment.from === undefined) return null;
      const timestamp = requireTime(comment.created_time, 'a Page comment');
      return {
        profile: {
          sourceId: comment.from.id,
          name: comment.from.name ?? null,
          platform: 'facebook',
          last_active_at: Math.min(timestamp, at),
        },
        interaction: {
          sourceId: comment.id,
          userSourceId: comment.from.id,
          item_id: postId,
          type: 'comment',
          value: null,
          timestamp,
        },
      };
    },
  };
}

/** Our metric names for the Graph insight names (IG `saved` is "saves"; Page post_impressions_unique is reach). */
const METRIC_NAMES: Readonly<Record<string, string>> = {
  reach: 'reach',
  impressions: 'impressions',
  saved: 'saves',
  views: 'views',
  post_impressions: 'impressions',
  post_impressions_unique: 'reach',
};

/**
 * Reads one content item's insights. Graph answers code 10 "not enough viewers" and code 100 "metric not supported
 * for this media product type" for content that simply has no figures: those are no metrics, not a failed sync.
 */
export async function readInsights<C>(
  client: GraphClient,
  surface: Surface<C, unknown>,
  content: C,
  at: number,
): Promise<SourceMetric[]> {
  const metric = surface.insightMetrics(content);
  if (metric === null) return [];
  const id = surface.idOf(content);
  let answer: z.infer<typeof insightsShape>;
  try {
    answer = await client.getShape(insightsShape, 'an insights page', `${id}/insights`, { metric });
  } catch (error) {
    if (error instanceof ConnectorError && error.platformCode === 100) return [];
    if (
      error instanceof ConnectorError &&
      error.platformCode === 10 &&
      /viewers/i.test(platformMessage(error))
    ) {
      return [];
    }
    throw error;
  }
  const metrics: SourceMetric[] = [];
  for (const insight of answer.data) {
    const name = METRIC_NAMES[insight.name];
    const value = insight.values[0]?.value;
    if (name !== undefined && typeof value === 'number') metrics.push({ contentId: id, name, value, at });
  }
  return metrics;
}

/** Epoch ms of a documented timestamp; an unreadable one means the page is not what the docs promise. */
export function requireTime(value: string, what: string): number {
  const ms = parseTime(value);
  if (ms === null) {
    throw new ConnectorError(
      'malformed',
      `The Graph API sent ${what} with an unreadable timestamp; nothing from that page was stored.`,
    );
  }
  return ms;
}

/**
 * Which insights an IG media has, by media product type (v21.0): feed posts reach, impressions and saves; reels
 * have no impressions; stories have no saves.
 */
function igInsightMetrics(media: IgMedia): string | null {
  switch (media.media_product_type ?? 'FEED') {
    case 'FEED':
      return 'reach,impressions,saved';
    case 'REELS':
      return 'reach,saved';
    case 'STORY':
      return 'reach,impressions';
    default:
      return null;
  }
}

/** The platform's own error text, kept as the error's cause (never shown: it can echo ids). */
function platformMessage(error: ConnectorError): string {
  const cause = error.cause as { message?: unknown } | undefined;
  return typeof cause?.message === 'string' ? cause.message : '';
}

function kindLabel(kind: string): string {
  return kind.toLowerCase().replace(/_/g, ' ');
}

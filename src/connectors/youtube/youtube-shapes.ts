/**
 * The documented shapes (YouTube Data API v3) of the list answers the connector reads: channels (the uploads
 * playlist), playlistItems (the uploads), videos (statistics, counts as strings), commentThreads (the top-level
 * comment's author channel id). Only requested fields are checked.
 */
import { z } from 'zod';

const listPage = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextPageToken: z.string().optional() });

/** channels.list?part=contentDetails,snippet. */
export const channelsAnswer = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        snippet: z.object({ title: z.string() }).optional(),
        contentDetails: z.object({ relatedPlaylists: z.object({ uploads: z.string() }) }),
      }),
    )
    .optional(),
});

/** playlistItems.list?part=contentDetails. */
export const playlistItemsAnswer = listPage(
  z.object({
    contentDetails: z.object({ videoId: z.string().min(1), videoPublishedAt: z.string().optional() }),
  }),
);
/** One upload. */
export type PlaylistItem = z.infer<typeof playlistItemsAnswer>['items'][number];

/** videos.list?part=statistics,snippet: counts are strings (uint64); hidden ones are absent. */
export const videosAnswer = listPage(
  z.object({
    id: z.string(),
    snippet: z.object({ publishedAt: z.string() }).optional(),
    statistics: z
      .object({
        viewCount: z.string().optional(),
        likeCount: z.string().optional(),
        commentCount: z.string().optional(),
      })
      .optional(),
  }),
);
/** One video. */
export type Video = z.infer<typeof videosAnswer>['items'][number];

/** commentThreads.list?part=snippet: the thread's top-level comment and its author's channel. */
export const commentThreadsAnswer = listPage(
  z.object({
    id: z.string().min(1),
    snippet: z.object({
      videoId: z.string().optional(),
      topLevelComment: z.object({
        id: z.string().min(1),
        snippet: z.object({
          authorDisplayName: z.string().optional(),
          authorChannelId: z.object({ value: z.string().min(1) }).optional(),
          publishedAt: z.string(),
        }),
      }),
    }),
  }),
);
/** One comment thread. */
export type CommentThread = z.infer<typeof commentThreadsAnswer>['items'][number];

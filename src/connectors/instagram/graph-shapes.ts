/**
 * The documented shapes of the Graph API answers this connector reads (IG User media, IG Comments, IG Media
 * insights; Page published_posts, Page post comments and insights). Only the fields we ask for are checked; extra
 * fields are ignored so additions on the platform's side never break a sync.
 */
import { z } from 'zod';

/** `paging` of a Graph edge: `cursors.after` is where the next page starts; no `next` means this was the last page. */
export const pagingShape = z.object({
  cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
  next: z.string().optional(),
  previous: z.string().optional(),
});

/** A page of a Graph edge with items of `item`. */
export function edgeShape<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), paging: pagingShape.optional() });
}

/** An IG Media object, with the fields the connector requests. */
export const igMediaShape = z.object({
  id: z.string().min(1),
  timestamp: z.string(),
  media_type: z.string().optional(),
  media_product_type: z.string().optional(),
  like_count: z.number().optional(),
  comments_count: z.number().optional(),
});
/** An IG Media object. */
export type IgMedia = z.infer<typeof igMediaShape>;

/** An IG Comment: `from` holds the commenter's Instagram-scoped id and username. */
export const igCommentShape = z.object({
  id: z.string().min(1),
  timestamp: z.string(),
  username: z.string().optional(),
  from: z.object({ id: z.string().min(1), username: z.string().optional() }).optional(),
  like_count: z.number().optional(),
});
/** An IG Comment. */
export type IgComment = z.infer<typeof igCommentShape>;

/** A Page post (published_posts edge). */
export const pagePostShape = z.object({
  id: z.string().min(1),
  created_time: z.string(),
  status_type: z.string().optional(),
});
/** A Page post. */
export type PagePost = z.infer<typeof pagePostShape>;

/** A comment on a Page post; `from` needs a Page token with pages_read_user_content. */
export const pageCommentShape = z.object({
  id: z.string().min(1),
  created_time: z.string(),
  from: z.object({ id: z.string().min(1), name: z.string().optional() }).optional(),
});
/** A comment on a Page post. */
export type PageComment = z.infer<typeof pageCommentShape>;

/** One insights metric: `values[0].value` is the lifetime figure for media/posts. */
export const insightShape = z.object({
  name: z.string(),
  period: z.string().optional(),
  values: z.array(z.object({ value: z.union([z.number(), z.record(z.string(), z.number())]) })),
});
/** The insights edge answer. */
export const insightsShape = z.object({ data: z.array(insightShape) });

/** `GET /me?fields=id,name`. */
export const meShape = z.object({ id: z.string().min(1), name: z.string().optional() });

/** `GET /me/permissions`. */
export const permissionsShape = z.object({
  data: z.array(z.object({ permission: z.string(), status: z.string() })),
});

/** `GET /me/accounts?fields=id,name,instagram_business_account{id,username}`: the Pages the token can manage. */
export const accountsShape = z.object({
  data: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string().optional(),
      instagram_business_account: z
        .object({ id: z.string().min(1), username: z.string().optional() })
        .optional(),
    }),
  ),
  paging: pagingShape.optional(),
});

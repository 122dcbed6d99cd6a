/**
 * A stand-in for the YouTube Data API v3: channels.list (id= or mine=true), playlistItems.list of the uploads
 * playlist, videos.list (statistics as strings), commentThreads.list (order=time, newest first), with
 * `nextPageToken` paging, an API key (`key=`) or an OAuth bearer token, the documented error objects (bad key,
 * bad token, commentsDisabled) and its own quota counter: once the units used pass `quotaLimit` every call answers
 * 403 `quotaExceeded`, as Google does.
 */
import { type FixtureVideo, type YouTubeFixtures, youtubeFixtures } from './fixtures-youtube.ts';
import {
  type Answer,
  type StandInRequest,
  type StandInServer,
  startStandInServer,
} from './stand-in-server.ts';

/** The running YouTube stand-in. */
export interface YouTubeStandIn extends StandInServer {
  readonly baseUrl: string;
  readonly fixtures: YouTubeFixtures;
  /** Units the stand-in has counted (1 per list call). */
  readonly unitsUsed: number;
  /** From now on, calls beyond `units` in total answer quotaExceeded. */
  setQuotaLimit(units: number): void;
  /** Adds a new top-level comment to a video. */
  addComment(videoId: string, at: number, authorIndex?: number): string;
}

/** A Google API error object. */
export function googleError(code: number, reason: string, message: string, domain = 'youtube.api') {
  return { error: { code, message, errors: [{ message, domain, reason }] } };
}

/** Ready-made faults. */
export const youtubeFaults = {
  quotaExceeded: (): Answer => ({
    status: 403,
    body: googleError(
      403,
      'quotaExceeded',
      'The request cannot be completed because you have exceeded your quota.',
      'youtube.quota',
    ),
  }),
  rateLimited: (): Answer => ({
    status: 403,
    body: googleError(403, 'rateLimitExceeded', 'Rate limit exceeded.', 'usageLimits'),
  }),
  forbidden: (): Answer => ({ status: 403, body: googleError(403, 'forbidden', 'Access forbidden.') }),
  serverError: (): Answer => ({
    status: 500,
    body: googleError(500, 'backendError', 'Backend Error', 'global'),
  }),
  malformed: (): Answer => ({
    status: 200,
    body: { kind: 'youtube#commentThreadListResponse', items: 'none' },
  }),
};

/** Starts the stand-in. */
export async function startYouTubeStandIn(
  fixtures: YouTubeFixtures = youtubeFixtures(),
): Promise<YouTubeStandIn> {
  let units = 0;
  let limit = Number.POSITIVE_INFINITY;
  let added = 0;
  const byId = new Map(fixtures.videos.map((v) => [v.id, v]));
  const server = await startStandInServer((req) => {
    const auth = authFault(req, fixtures);
    if (auth !== null) return auth;
    units += 1;
    if (units > limit) return youtubeFaults.quotaExceeded();
    return route(req, fixtures, byId);
  });
  return {
    ...server,
    requests: server.requests,
    baseUrl: `${server.origin}/youtube/v3`,
    fixtures,
    get unitsUsed() {
      return units;
    },
    setQuotaLimit(n) {
      limit = n;
    },
    addComment(videoId, at, authorIndex = 0) {
      const video = byId.get(videoId);
      const author =
        fixtures.videos.flatMap((v) => v.comments).find((c) => c.author !== null)?.author ?? null;
      if (video === undefined) throw new Error(`no video ${videoId}`);
      const id = `UgzNew${added++}x${authorIndex}`;
      video.comments.unshift({ id, at, author });
      return id;
    },
  };
}

function authFault(req: StandInRequest, fx: YouTubeFixtures): Answer | null {
  const bearer = req.headers.authorization;
  if (bearer !== undefined) {
    if (bearer === `Bearer ${fx.accessToken}`) return null;
    return {
      status: 401,
      body: googleError(401, 'authError', 'Request had invalid authentication credentials.', 'global'),
    };
  }
  if (req.url.searchParams.get('key') === fx.apiKey) return null;
  const message = 'API key not valid. Please pass a valid API key.';
  const body = googleError(400, 'badRequest', message, 'global');
  return {
    status: 400,
    body: {
      error: {
        ...body.error,
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
      },
    },
  };
}

function route(req: StandInRequest, fx: YouTubeFixtures, byId: Map<string, FixtureVideo>): Answer {
  const method = req.url.pathname.replace('/youtube/v3/', '');
  const q = req.url.searchParams;
  if (method === 'channels') {
    const match = q.get('mine') === 'true' || q.get('id') === fx.channel.id;
    const items = match
      ? [
          {
            kind: 'youtube#channel',
            id: fx.channel.id,
            snippet: { title: fx.channel.title },
            contentDetails: { relatedPlaylists: { likes: '', uploads: fx.channel.uploads } },
          },
        ]
      : [];
    return {
      body: {
        kind: 'youtube#channelListResponse',
        pageInfo: { totalResults: items.length, resultsPerPage: 5 },
        items,
      },
    };
  }
  if (method === 'playlistItems') {
    if (q.get('playlistId') !== fx.channel.uploads) {
      return {
        status: 404,
        body: googleError(
          404,
          'playlistNotFound',
          "The playlist identified with the request's playlistId parameter cannot be found.",
        ),
      };
    }
    return {
      body: paged(q, Math.min(50, Number(q.get('maxResults') ?? 5)), fx.videos.map(playlistItemJson)),
    };
  }
  if (method === 'videos') {
    const ids = (q.get('id') ?? '').split(',');
    const items = ids
      .map((id) => byId.get(id))
      .filter((v) => v !== undefined)
      .map(videoJson);
    return {
      body: {
        kind: 'youtube#videoListResponse',
        items,
        pageInfo: { totalResults: items.length, resultsPerPage: items.length },
      },
    };
  }
  if (method === 'commentThreads') {
    const video = byId.get(q.get('videoId') ?? '');
    if (video === undefined)
      return {
        status: 404,
        body: googleError(
          404,
          'videoNotFound',
          'The video identified by the videoId parameter could not be found.',
        ),
      };
    if (video.commentsDisabled) {
      return {
        status: 403,
        body: googleError(
          403,
          'commentsDisabled',
          'The video identified by the videoId parameter has disabled comments.',
        ),
      };
    }
    const items = video.comments.map((c) => threadJson(video.id, c));
    return { body: paged(q, Math.min(100, Number(q.get('maxResults') ?? 20)), items) };
  }
  return { status: 404, body: googleError(404, 'notFound', 'Not Found', 'global') };
}

function paged(q: URLSearchParams, size: number, all: unknown[]) {
  const token = q.get('pageToken');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8').slice(3));
  const items = all.slice(start, start + size);
  const more = start + size < all.length;
  return {
    items,
    pageInfo: { totalResults: all.length, resultsPerPage: size },
    ...(more ? { nextPageToken: Buffer.from(`CAE${start + size}`, 'utf8').toString('base64url') } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function playlistItemJson(v: FixtureVideo) {
  return {
    kind: 'youtube#playlistItem',
    id: `PLI${v.id}`,
    contentDetails: { videoId: v.id, videoPublishedAt: iso(v.at) },
  };
}

function videoJson(v: FixtureVideo) {
  const statistics: Record<string, string> = {
    viewCount: String(v.views),
    likeCount: String(v.likes),
    favoriteCount: '0',
  };
  if (!v.commentsDisabled) statistics.commentCount = String(v.comments.length);
  return {
    kind: 'youtube#video',
    id: v.id,
    snippet: { publishedAt: iso(v.at), title: 'Our new drop' },
    statistics,
  };
}

function threadJson(videoId: string, c: FixtureVideo['comments'][number]) {
  const author =
    c.author === null
      ? {}
      : { authorDisplayName: c.author.displayName, authorChannelId: { value: c.author.channelId } };
  return {
    kind: 'youtube#commentThread',
    id: c.id,
    snippet: {
      videoId,
      topLevelComment: {
        kind: 'youtube#comment',
        id: c.id,
        snippet: {
          videoId,
          textDisplay: 'Great video',
          ...author,
          publishedAt: iso(c.at),
          updatedAt: iso(c.at),
          likeCount: 0,
        },
      },
      totalReplyCount: 0,
      isPublic: true,
    },
  };
}

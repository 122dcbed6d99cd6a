/**
 * A stand-in for the Graph API (v21.0) serving the documented shapes from seeded fixtures: /me,
 * /me/permissions, /me/accounts, IG User media, IG Media comments and insights, Page published_posts, post
 * comments and insights; cursor paging (`paging.cursors.after`, `paging.next` only when there is more); the
 * `X-App-Usage` / `X-Business-Use-Case-Usage` headers on every answer; and the documented error object for a bad
 * token (190). Faults (throttling, permission, 5xx, malformed, hang) are planned with `failNext` and `graphFaults`.
 */

import {
  type FixtureComment,
  type FixtureContent,
  type GraphFixtures,
  graphFixtures,
} from './fixtures-instagram.ts';
import {
  type Answer,
  type StandInRequest,
  type StandInServer,
  startStandInServer,
} from './stand-in-server.ts';

/** The running Graph stand-in. */
export interface GraphStandIn extends StandInServer {
  /** The API root to use as ConnectorContext.baseUrl. */
  readonly baseUrl: string;
  readonly fixtures: GraphFixtures;
  /** Usage percentages reported in the headers of every answer from now on. */
  setUsage(usage: { app?: number; buc?: number; regainMinutes?: number }): void;
  /** Adds a comment (from a known commenter) to a media or post; answers it. */
  addComment(contentId: string, at: number, commenterIndex?: number): FixtureComment;
}

/** The Graph error object as the API sends it. */
export function graphErrorBody(code: number, message: string, subcode?: number) {
  return {
    error: {
      message,
      type: code === 190 ? 'OAuthException' : 'GraphMethodException',
      code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      fbtrace_id: 'AbCdEfGhIjK',
    },
  };
}

/** Ready-made faults, in the shapes the docs give. */
export const graphFaults = {
  expiredToken: (): Answer => ({
    status: 400,
    body: graphErrorBody(190, 'Error validating access token: Session has expired.', 463),
  }),
  throttled: (code: 4 | 17 | 32 | 613 | 80002, regainMinutes = 12): Answer => ({
    status: 400,
    headers: {
      'x-app-usage': JSON.stringify({ call_count: 100, total_time: 40, total_cputime: 30 }),
      'x-business-use-case-usage': JSON.stringify({
        '17841400000000001': [
          {
            type: 'instagram',
            call_count: 100,
            total_cputime: 20,
            total_time: 30,
            estimated_time_to_regain_access: regainMinutes,
          },
        ],
      }),
    },
    body: graphErrorBody(
      code,
      code === 4 ? 'Application request limit reached' : 'User request limit reached',
    ),
  }),
  permission: (code = 10): Answer => ({
    status: 403,
    body: graphErrorBody(code, '(#10) Application does not have permission for this action'),
  }),
  serverError: (): Answer => ({ status: 503, body: '<html><body>Service Unavailable</body></html>' }),
  /** A page whose `data` is not a list. */
  malformed: (): Answer => ({ status: 200, body: { data: { id: 'x' }, paging: {} } }),
};

/** Starts the stand-in (fixtures generated from `options`, or given). */
export async function startGraphStandIn(fixtures: GraphFixtures = graphFixtures()): Promise<GraphStandIn> {
  let usage = { app: 8, buc: 5, regainMinutes: 0 };
  const byId = new Map<string, FixtureContent>();
  for (const c of [...fixtures.media, ...fixtures.posts]) byId.set(c.id, c);
  let nextComment = 1;
  const headers = (): Record<string, string> => ({
    'x-app-usage': JSON.stringify({ call_count: usage.app, total_time: usage.app, total_cputime: 1 }),
    'x-business-use-case-usage': JSON.stringify({
      [fixtures.igUser.id]: [
        {
          type: 'instagram',
          call_count: usage.buc,
          total_cputime: 1,
          total_time: usage.buc,
          estimated_time_to_regain_access: usage.regainMinutes,
        },
      ],
    }),
  });
  const server = await startStandInServer((req) => {
    const answer = route(req, fixtures, byId);
    return { ...answer, headers: { ...headers(), ...answer.headers } };
  });
  return {
    ...server,
    requests: server.requests,
    baseUrl: `${server.origin}/v21.0`,
    fixtures,
    setUsage(next) {
      usage = { ...usage, ...next };
    },
    addComment(contentId, at, commenterIndex = 0) {
      const content = byId.get(contentId);
      if (content === undefined) throw new Error(`no content ${contentId}`);
      const donor = fixtures.media
        .flatMap((m) => m.comments)
        .map((c) => c.from)
        .filter((f) => f !== null)[commenterIndex];
      const comment: FixtureComment = { id: `new${nextComment++}`, at, from: donor ?? null };
      content.comments.push(comment);
      return comment;
    },
  };
}

function route(req: StandInRequest, fx: GraphFixtures, byId: Map<string, FixtureContent>): Answer {
  const parts = req.url.pathname.split('/').filter((p) => p !== '');
  if (parts[0] !== 'v21.0') return { status: 404, body: graphErrorBody(803, 'Unknown path') };
  const token = req.url.searchParams.get('access_token');
  if (token !== fx.token && token !== fx.pageToken) {
    return {
      status: 400,
      body: graphErrorBody(190, 'Invalid OAuth access token - Cannot parse access token'),
    };
  }
  const [node, edge] = [parts[1] ?? '', parts[2]];
  if (node === 'me' && edge === undefined) return { body: { id: fx.user.id, name: fx.user.name } };
  if (node === 'me' && edge === 'permissions') {
    return { body: { data: fx.permissions.map((permission) => ({ permission, status: 'granted' })) } };
  }
  if (node === 'me' && edge === 'accounts') {
    const account = { id: fx.page.id, name: fx.page.name, instagram_business_account: fx.igUser };
    return { body: { data: [account], paging: { cursors: { before: 'MA', after: 'MA' } } } };
  }
  if (node === fx.igUser.id && edge === 'media') return { body: page(req, fx.media.map(mediaJson)) };
  if (node === fx.page.id && edge === 'published_posts') return { body: page(req, fx.posts.map(postJson)) };
  const content = byId.get(node);
  if (content !== undefined && edge === 'comments') {
    const isPost = node.includes('_');
    // Page comments carry `from` only with a Page token (pages_read_user_content).
    const withFrom = !isPost || token === fx.pageToken;
    return {
      body: page(
        req,
        content.comments.map((c) => commentJson(c, isPost, withFrom)),
      ),
    };
  }
  if (content !== undefined && edge === 'insights') return insightsJson(req, content);
  return {
    status: 400,
    body: graphErrorBody(100, 'Unsupported get request. Object does not exist or missing permissions', 33),
  };
}

/** One cursor page of `all`, as Graph pages an edge: `after` is an opaque cursor; `next` only when more follow. */
function page(req: StandInRequest, all: unknown[]) {
  const limit = Math.min(100, Number(req.url.searchParams.get('limit') ?? 25));
  const after = req.url.searchParams.get('after');
  const start = after === null ? 0 : Number(Buffer.from(after, 'base64url').toString('utf8')) + 1;
  const data = all.slice(start, start + limit);
  const end = start + data.length - 1;
  const cursor = (i: number) => Buffer.from(String(i), 'utf8').toString('base64url');
  const paging: Record<string, unknown> = {
    cursors: { before: cursor(start), after: cursor(Math.max(end, 0)) },
  };
  if (start + limit < all.length) {
    const next = new URL(req.url.toString());
    next.searchParams.set('after', cursor(end));
    paging.next = `https://graph.facebook.com${next.pathname}${next.search}`;
  }
  return data.length === 0 ? { data } : { data, paging };
}

function iso(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

function mediaJson(m: FixtureContent) {
  return {
    id: m.id,
    timestamp: iso(m.at),
    media_type: m.productType === 'REELS' ? 'VIDEO' : m.mediaType,
    media_product_type: m.productType,
    like_count: m.likes,
    comments_count: m.comments.length,
  };
}

function postJson(p: FixtureContent) {
  return { id: p.id, created_time: iso(p.at), status_type: 'added_photos' };
}

function commentJson(c: FixtureComment, isPost: boolean, withFrom: boolean) {
  if (isPost) {
    const from = withFrom && c.from !== null ? { from: { id: c.from.id, name: c.from.name } } : {};
    return { id: c.id, created_time: iso(c.at), message: 'Nice!', ...from };
  }
  const from =
    c.from === null ? {} : { from: { id: c.from.id, username: c.from.username }, username: c.from.username };
  return { id: c.id, timestamp: iso(c.at), text: 'Love it', like_count: 0, ...from };
}

function insightsJson(req: StandInRequest, c: FixtureContent): Answer {
  const asked = (req.url.searchParams.get('metric') ?? '').split(',');
  const values: Record<string, number> = {
    reach: c.insights.reach,
    impressions: c.insights.impressions,
    saved: c.insights.saved,
    post_impressions: c.insights.impressions,
    post_impressions_unique: c.insights.reach,
  };
  if (c.productType === 'REELS' && asked.includes('impressions')) {
    const message =
      'The Media Insights API does not support the impressions metric for this media product type.';
    return { status: 400, body: graphErrorBody(100, message) };
  }
  return {
    body: {
      data: asked
        .filter((name) => values[name] !== undefined)
        .map((name) => ({
          name,
          period: 'lifetime',
          values: [{ value: values[name] }],
          title: name,
          id: `${c.id}/insights/${name}/lifetime`,
        })),
    },
  };
}

/**
 * A tiny fake platform for the sync engine's tests: an HTTP server with a paged list of comments (each page
 * repeats the last comment of the page before, as real "since" queries overlap), and a connector for it written
 * against the contract like a real one (ctx.fetch, ctx.baseUrl, ctx.credentials). Faults are queued per page
 * request: a status with headers and a body, a malformed page, or a request that never answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connector, SyncBatch } from '../../src/connectors/connector.ts';
import { ConnectorError } from '../../src/connectors/errors.ts';

/** One comment of the fake platform. */
export interface FakeComment {
  id: string;
  userId: string;
  username: string;
  email: string;
  mediaId: string;
  at: number;
}

/** A queued fault for the next page request. */
export type Fault =
  | { status: number; headers?: Record<string, string>; body: unknown }
  | { malformed: true }
  | { hang: true };

/** The fake platform's state, open to the test. */
export interface FakePlatform {
  url: string;
  comments: FakeComment[];
  pageSize: number;
  faults: Fault[];
  /** Page requests seen, by their `after` cursor ('' for the first). */
  requests: string[];
  /** Called on every page request before it is answered (the crash test kills its child here). */
  onRequest: (after: string) => void;
  close(): Promise<void>;
}

/** `n` comments by `users` people on 3 media, one a minute from `start`. */
export function makeComments(n: number, users: number, start = Date.UTC(2026, 4, 1)): FakeComment[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i + 1}`,
    userId: `u${(i % users) + 1}`,
    username: `@Fan_${(i % users) + 1}`,
    email: `fan${(i % users) + 1}@example.com`,
    mediaId: `m${(i % 3) + 1}`,
    at: start + i * 60_000,
  }));
}

/** Starts the fake platform on a free local port. */
export async function startFakePlatform(comments: FakeComment[], pageSize = 10): Promise<FakePlatform> {
  const sockets = new Set<import('node:net').Socket>();
  const platform: FakePlatform = {
    url: '',
    comments,
    pageSize,
    faults: [],
    requests: [],
    onRequest: () => undefined,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => answer(platform, req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  platform.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return platform;
}

function answer(platform: FakePlatform, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', platform.url);
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== 'Bearer good-token') {
    send(401, { error: { code: 190, message: 'Error validating access token: Session has expired' } });
    return;
  }
  if (url.pathname === '/me') {
    send(200, { id: 'acct1', name: 'Demo shop', scopes: ['comments.read'] });
    return;
  }
  const after = url.searchParams.get('after') ?? '';
  platform.requests.push(after);
  platform.onRequest(after);
  const fault = platform.faults.shift();
  if (fault && 'hang' in fault) return;
  if (fault && 'malformed' in fault) {
    send(200, { items: 'not a list' });
    return;
  }
  if (fault) {
    send(fault.status, fault.body, fault.headers);
    return;
  }
  // The page after comment index `after` starts one comment earlier: pages overlap by one.
  const from = after === '' ? 0 : Number(after);
  const start = Math.max(0, from - 1);
  const end = Math.min(platform.comments.length, from + platform.pageSize);
  const data = platform.comments.slice(start, end);
  send(200, { data, next: end < platform.comments.length ? String(end) : null, last: String(end) });
}

/** A connector for the fake platform, written against the contract the way a real one is. */
export const fakeConnector: Connector = {
  kind: 'instagram',
  async authenticate(ctx) {
    const res = await call(ctx, '/me');
    return { accountId: res.id, accountName: res.name, scopes: res.scopes };
  },
  async listSources() {
    return [{ id: 'acct1', name: 'Demo shop', kind: 'account' }];
  },
  async *fetchChanges(ctx, cursor): AsyncGenerator<SyncBatch> {
    let after = cursor ?? '';
    for (;;) {
      const page = await call(ctx, `/comments?after=${encodeURIComponent(after)}`);
      if (!Array.isArray(page.data)) {
        throw new ConnectorError('malformed', 'the comments page has no data list');
      }
      const comments = page.data as FakeComment[];
      yield {
        profiles: comments.map((c) => ({
          sourceId: c.userId,
          handle: c.username,
          email: c.email,
          platform: 'instagram',
          attrs: { comments_seen: 1 },
        })),
        products: [...new Set(comments.map((c) => c.mediaId))].map((id) => ({ id, name: `Post ${id}` })),
        interactions: comments.map((c) => ({
          sourceId: c.id,
          userSourceId: c.userId,
          item_id: c.mediaId,
          type: 'comment' as const,
          value: null,
          timestamp: c.at,
        })),
        metrics: [...new Set(comments.map((c) => c.mediaId))].map((id) => ({
          contentId: id,
          name: 'reach',
          value: 100,
          at: ctx.now().getTime(),
        })),
        // Resume after the last comment of this page, whether or not there is a next one.
        cursor: page.last,
        done: page.next === null,
      };
      if (page.next === null) return;
      after = page.next;
    }
  },
};

// biome-ignore lint/suspicious/noExplicitAny: the fake platform's JSON, checked by the caller
async function call(ctx: Parameters<Connector['authenticate']>[0], path: string): Promise<any> {
  const res = await ctx.fetch(`${ctx.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${ctx.credentials.accessToken ?? ''}` },
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.ok) return body;
  const retryAfter = res.headers.get('retry-after');
  const retryAfterMs = retryAfter === null ? undefined : Number(retryAfter) * 1000;
  if (res.status === 401)
    throw new ConnectorError('auth_expired', 'the access token has expired', { status: 401 });
  if (res.status === 403) {
    const resumeAt = Number((body.error as { resumeAt?: number } | undefined)?.resumeAt ?? 0);
    if (resumeAt > 0)
      throw new ConnectorError('quota', 'the daily quota is spent', { resumeAt, status: 403 });
    throw new ConnectorError('permission', 'the comments permission is missing', { status: 403 });
  }
  if (res.status === 429)
    throw new ConnectorError('rate_limited', 'rate limited', { retryAfterMs, status: 429 });
  throw new ConnectorError('transient', `the platform answered ${res.status}`, { status: res.status });
}

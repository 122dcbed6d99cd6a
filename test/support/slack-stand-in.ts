/**
 * A stand-in for the Slack Web API and for response_url endpoints, for tests and benchmarks: an HTTP
 * server on 127.0.0.1 that records every call, answers like Slack does for the methods the app uses,
 * models channel membership (so `not_in_channel` and `conversations.join` behave), injects faults on
 * demand, and checks every `blocks` payload against Slack's Block Kit limits.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertWithinLimits, type BlockSurface, findBroadcastMentions } from './block-limits.ts';
import { attachSocketEndpoint, type SocketEndpoint } from './socket-stand-in.ts';

/** One request the stand-in received. */
export interface RecordedCall {
  seq: number;
  /** Web API method name (`chat.postMessage`), `response_url`, or `upload`. */
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Form fields or JSON, with `blocks`/`view` decoded from their JSON strings. */
  body: Record<string, unknown>;
  /** performance.now() when the request was fully read. */
  at: number;
  /** Resolves when the stand-in has answered this call. */
  answered: Promise<void>;
}

/** A planned failure for the next call(s) to a method. */
export type Fault =
  | { kind: 'ratelimited'; retryAfter?: number }
  | { kind: 'error'; error: string }
  | { kind: 'http'; status: number; body?: string };

/** A conversation as the stand-in knows it. */
export interface StandInChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_im?: boolean;
  is_mpim?: boolean;
  is_archived?: boolean;
  /** Whether the bot is a member (public channels can be joined; private ones need an invite). */
  member: boolean;
}

/** The running stand-in. */
export interface SlackStandIn {
  /** Base URL for SLACK_API_URL, ending in `/api/`. */
  readonly apiUrl: string;
  /** Socket Mode: the URL apps.connections.open hands out, and what came back over it. */
  readonly socket: SocketEndpoint;
  readonly calls: RecordedCall[];
  /** Block Kit limit violations and broadcast mentions found in payloads, as readable lines. */
  readonly violations: string[];
  /** A response_url that records what is posted to it under `id`. */
  responseUrl(id?: string): string;
  /** The next `times` calls to `method` fail with `fault`. */
  failNext(method: string, fault: Fault, times?: number): void;
  /** Holds answers to response_url posts (they are recorded on arrival) until the returned function runs. */
  holdResponses(): () => void;
  addChannel(channel: StandInChannel): void;
  channel(id: string): StandInChannel | undefined;
  /** Calls to a method (or `response_url`, optionally for one id). */
  callsTo(method: string, responseId?: string): RecordedCall[];
  /** Waits for a call matching `match` (already recorded or still to come). */
  waitFor(match: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Called for every recorded call (benchmarks measure reply times with it). */
  onCall(listener: (call: RecordedCall) => void): void;
  /** Forgets recorded calls and violations (channels and faults stay). */
  reset(): void;
  close(): Promise<void>;
}

export const STAND_IN_BOT = {
  user_id: 'UBOT0001',
  bot_id: 'BBOT0001',
  team_id: 'T0000001',
  team: 'Stand-in',
};

/** Starts the stand-in on an ephemeral port of 127.0.0.1. */
export async function startSlackStandIn(): Promise<SlackStandIn> {
  const calls: RecordedCall[] = [];
  const violations: string[] = [];
  const faults = new Map<string, Fault[]>();
  const channels = new Map<string, StandInChannel>();
  const waiters: Array<{ match: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }> = [];
  const listeners: Array<(c: RecordedCall) => void> = [];
  let held: Array<() => void> | null = null;
  let seq = 0;
  let ts = 1_780_000_000;
  let origin = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    let method: string;
    if (path.startsWith('/api/')) method = path.slice('/api/'.length);
    else if (path.startsWith('/response/')) method = 'response_url';
    else if (path.startsWith('/upload/')) method = 'upload';
    else method = `unknown:${path}`;
    const body = method === 'upload' ? { bytes: raw.length } : parseBody(raw, req.headers['content-type']);

    let answer!: () => void;
    const answered = new Promise<void>((r) => {
      answer = r;
    });
    const call: RecordedCall = {
      seq: ++seq,
      method,
      path,
      headers: req.headers,
      body,
      at: performance.now(),
      answered,
    };
    calls.push(call);
    inspect(call);
    for (const l of listeners) l(call);
    for (const w of [...waiters]) {
      if (w.match(call)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }

    if (method === 'response_url' && held) await new Promise<void>((r) => held?.push(r));
    const fault = takeFault(method);
    try {
      if (fault) sendFault(res, fault);
      else if (method === 'response_url' || method === 'upload') send(res, 200, 'ok', 'text/plain');
      else sendJson(res, api(method, body));
    } finally {
      answer();
    }
  }

  function api(method: string, body: Record<string, unknown>): Record<string, unknown> {
    const channelId = typeof body.channel === 'string' ? body.channel : '';
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: `${origin.replace(/^http/, 'ws')}/socket` };
      case 'auth.test':
        return { ok: true, url: 'https://stand-in.slack.com/', user: 'audience-insights', ...STAND_IN_BOT };
      case 'chat.postMessage': {
        const ch = channels.get(channelId);
        const hidden = ch?.is_private || ch?.is_im || ch?.is_mpim;
        if (!ch || (hidden && !ch.member)) return { ok: false, error: 'channel_not_found' };
        if (ch.is_archived) return { ok: false, error: 'is_archived' };
        if (!ch.member) return { ok: false, error: 'not_in_channel' };
        return posted(channelId);
      }
      case 'conversations.history': {
        // Messages posted to the channel, newest first, with their metadata (how a sender finds out whether
        // an earlier attempt of its own reached the channel).
        const messages = calls
          .filter((c) => c.method === 'chat.postMessage' && c.body.channel === channelId)
          .map((c) => ({ type: 'message', text: c.body.text, metadata: c.body.metadata }))
          .reverse();
        return { ok: true, messages, has_more: false };
      }
      case 'conversations.info': {
        const ch = channels.get(channelId);
        const hidden = ch?.is_private || ch?.is_im || ch?.is_mpim;
        if (!ch || (hidden && !ch.member)) return { ok: false, error: 'channel_not_found' };
        return { ok: true, channel: describe(ch) };
      }
      case 'conversations.list': {
        // Channels the bot can see (public ones, private ones it is in), two per page to exercise cursors.
        const visible = [...channels.values()].filter(
          (c) => !c.is_im && !c.is_mpim && !c.is_archived && (!c.is_private || c.member),
        );
        const from = Number(body.cursor ?? 0) || 0;
        const page = visible.slice(from, from + 2);
        const next = from + 2 < visible.length ? String(from + 2) : '';
        return { ok: true, channels: page.map(describe), response_metadata: { next_cursor: next } };
      }
      case 'conversations.join': {
        const ch = channels.get(channelId);
        if (!ch || (ch.is_private && !ch.member)) return { ok: false, error: 'channel_not_found' };
        if (ch.is_private || ch.is_im || ch.is_mpim)
          return { ok: false, error: 'method_not_supported_for_channel_type' };
        if (ch.is_archived) return { ok: false, error: 'is_archived' };
        ch.member = true;
        return { ok: true, channel: describe(ch) };
      }
      case 'views.publish':
      case 'views.open':
        return { ok: true, view: { id: `V${seq}`, ...(body.view as object) } };
      case 'conversations.open': {
        // A direct message with the bot: known from now on, with the bot as a member.
        const user = String(body.users ?? '').split(',')[0] ?? '';
        const id = `D${user}`;
        if (!channels.has(id)) channels.set(id, { id, name: user, is_im: true, member: true });
        return { ok: true, channel: { id } };
      }
      case 'users.info':
        return {
          ok: true,
          user: { id: body.user, name: 'someone', tz: 'Europe/Berlin', tz_offset: 7200, is_bot: false },
        };
      case 'files.getUploadURLExternal':
        return { ok: true, upload_url: `${origin}/upload/F${seq}`, file_id: `F${seq}` };
      case 'files.completeUploadExternal': {
        const files = JSON.parse(String(body.files ?? '[]')) as Array<{ id: string; title?: string }>;
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  function posted(channel: string) {
    ts += 1;
    return { ok: true, channel, ts: `${ts}.000100`, message: { type: 'message', ts: `${ts}.000100` } };
  }

  function inspect(call: RecordedCall): void {
    const where = `${call.method}#${call.seq}`;
    if (call.body.blocks !== undefined) {
      const surface: BlockSurface = 'message';
      for (const v of assertWithinLimits(call.body.blocks, surface)) violations.push(`${where} ${v.message}`);
    }
    if (
      (call.method === 'views.publish' || call.method === 'views.open') &&
      call.body.view &&
      typeof call.body.view === 'object'
    ) {
      const view = call.body.view as { blocks?: unknown; type?: unknown };
      for (const v of assertWithinLimits(view.blocks, view.type === 'modal' ? 'modal' : 'home')) {
        violations.push(`${where} ${v.message}`);
      }
    }
    for (const path of findBroadcastMentions(call.body))
      violations.push(`${where} ${path}: unescaped broadcast mention`);
    if (typeof call.body.text === 'string' && call.body.text.length > 40_000) {
      violations.push(`${where} text: longer than 40000 characters`);
    }
  }

  function takeFault(method: string): Fault | undefined {
    const queue = faults.get(method);
    const fault = queue?.shift();
    if (queue && queue.length === 0) faults.delete(method);
    return fault;
  }

  function sendFault(res: ServerResponse, fault: Fault): void {
    if (fault.kind === 'ratelimited') {
      res.setHeader('Retry-After', String(fault.retryAfter ?? 1));
      sendJson(res, { ok: false, error: 'ratelimited' }, 429);
    } else if (fault.kind === 'error') {
      sendJson(res, { ok: false, error: fault.error });
    } else {
      send(res, fault.status, fault.body ?? '', 'text/plain');
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  const socket = attachSocketEndpoint(server);

  return {
    apiUrl: `${origin}/api/`,
    socket,
    calls,
    violations,
    responseUrl: (id = String(Math.random()).slice(2)) => `${origin}/response/${encodeURIComponent(id)}`,
    failNext(method, fault, times = 1) {
      const queue = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) queue.push(fault);
      faults.set(method, queue);
    },
    holdResponses() {
      const waiting: Array<() => void> = [];
      held = waiting;
      return () => {
        held = null;
        for (const release of waiting) release();
      };
    },
    addChannel(channel) {
      channels.set(channel.id, { ...channel });
    },
    channel: (id) => channels.get(id),
    callsTo(method, responseId) {
      return calls.filter(
        (c) =>
          c.method === method &&
          (responseId === undefined || c.path === `/response/${encodeURIComponent(responseId)}`),
      );
    },
    waitFor(match, timeoutMs = 15_000) {
      const found = calls.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<RecordedCall>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (c: RecordedCall) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(
              `stand-in: no matching call within ${timeoutMs} ms; saw ${calls.map((c) => c.method).join(', ')}`,
            ),
          );
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    onCall(listener) {
      listeners.push(listener);
    },
    reset() {
      calls.length = 0;
      violations.length = 0;
    },
    close() {
      socket.closeAll();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function describe(ch: StandInChannel) {
  return {
    id: ch.id,
    name: ch.name,
    is_channel: !ch.is_private && !ch.is_im && !ch.is_mpim,
    is_private: ch.is_private === true,
    is_im: ch.is_im === true,
    is_mpim: ch.is_mpim === true,
    is_archived: ch.is_archived === true,
    is_member: ch.member,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const JSON_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata']);

function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { raw: text };
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (JSON_FIELDS.has(key)) {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // Left as text; the limits check will report it.
      }
    }
    out[key] = value;
  }
  return out;
}

function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

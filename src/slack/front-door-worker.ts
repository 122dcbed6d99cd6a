/**
 * The front door, run in a worker thread by front-door-receiver.ts. In HTTP mode it verifies Slack's signature;
 * in Socket Mode it holds the socket. Either way it acknowledges slash commands, button presses and events at
 * once, whatever the main thread is doing (engine work and store saves block that thread for seconds on large
 * audiences), then hands each request to Bolt on the main thread. Other interactions (modal submissions,
 * menus) wait for Bolt's own ack, since their acknowledgement can carry an answer. In HTTP mode it imports
 * nothing but Node at run time (types are erased), so the thread starts fast; Socket Mode loads Bolt's socket
 * receiver here. It loads the same from the TypeScript source (through tsx) and from compiled output.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { drainRefusedBody } from './body-limit.ts';
import type { FromWorker, FrontDoorSettings, ToWorker } from './front-door-protocol.ts';

const settings = workerData as FrontDoorSettings;
const MAX_SKEW_SECONDS = 5 * 60;

/** Health as the main thread last reported it. */
let health: { status: number; body: unknown; at: number } | null = null;
/** Requests waiting for Bolt's ack: how to answer each (an HTTP response or a socket ack). */
const waiting = new Map<number, { answer: (response: unknown) => void; timer: NodeJS.Timeout }>();
let nextId = 0;

function tell(message: FromWorker): void {
  parentPort?.postMessage(message);
}

class BodyTooLarge extends Error {}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    tell({
      type: 'log',
      level: 'error',
      message: 'front door failed on a request',
      error: String((error as Error | null)?.stack ?? error),
    });
    if (!res.headersSent) send(res, 500, '');
  });
});
server.keepAliveTimeout = 65_000;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://front-door').pathname;
  if (req.method === 'GET' && path === '/healthz') return sendHealth(res);
  if (req.method !== 'POST' || path !== settings.endpoint || settings.socket) return send(res, 404, '');

  let raw: Buffer;
  try {
    raw = await readBody(req, settings.bodyLimit);
  } catch (error) {
    if (error instanceof BodyTooLarge) return refuseTooLarge(req, res);
    throw error;
  }
  const problem = verify(req.headers, raw);
  if (problem) {
    tell({ type: 'log', level: 'warn', message: `rejected a request: ${problem}` });
    return send(res, 401, '');
  }
  let body: Record<string, unknown>;
  try {
    body = parse(raw, req.headers['content-type']);
  } catch {
    return send(res, 400, '');
  }
  if (body.ssl_check === '1') return send(res, 200, '');
  if (body.type === 'url_verification')
    return send(res, 200, JSON.stringify({ challenge: body.challenge }), 'application/json');
  handOver(req, res, body);
}

/** Acknowledges now or waits for Bolt, and passes the request to the main thread. */
function handOver(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): void {
  const retryNum = header(req.headers, 'x-slack-retry-num');
  const retryReason = header(req.headers, 'x-slack-retry-reason');
  hand(body, (response) => answerHttp(res, response), {
    ...(retryNum === undefined ? {} : { retryNum: Number.parseInt(retryNum, 10) }),
    ...(retryReason === undefined ? {} : { retryReason }),
  });
}

/** The one hand-over for both doors: ack at once where it carries nothing, else wait for Bolt (bounded). */
function hand(
  body: Record<string, unknown>,
  answer: (response: unknown) => void,
  retry: { retryNum?: number; retryReason?: string },
): void {
  const id = ++nextId;
  const acked = acknowledgedAtOnce(body);
  if (acked) {
    answer('');
  } else {
    // Slack gives up after 3 seconds; answer empty just before that if Bolt has not.
    const timer = setTimeout(() => finish(id, ''), settings.ackTimeoutMs);
    waiting.set(id, { answer, timer });
  }
  tell({ type: 'request', id, acked, body, ...retry });
}

/**
 * 413, as docs/PRIVACY.md promises. The answer goes out at once, and the connection stays open while the rest
 * of the body is read and dropped (body-limit.ts): closing it now would reset it under a client still sending.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  tell({ type: 'log', level: 'warn', message: 'refused a request body over the size limit (413)' });
  send(res, 413, 'request body too large');
  drainRefusedBody(req);
}

// Commands, buttons and events are always acknowledged empty: the app answers them through the response_url,
// chat.postMessage or views.publish. Anything else may need its ack to carry a response.
function acknowledgedAtOnce(body: Record<string, unknown>): boolean {
  if (typeof body.command === 'string') return true;
  return body.type === 'block_actions' || body.type === 'event_callback';
}

function verify(headers: IncomingHttpHeaders, raw: Buffer): string | null {
  const timestamp = Number(header(headers, 'x-slack-request-timestamp'));
  const signature = header(headers, 'x-slack-signature') ?? '';
  if (!Number.isFinite(timestamp)) return 'missing or invalid X-Slack-Request-Timestamp';
  if (Math.abs(Date.now() / 1000 - timestamp) > MAX_SKEW_SECONDS)
    return 'timestamp more than 5 minutes off (stale or replayed)';
  const [version, hash] = signature.split('=');
  if (version !== 'v0' || !hash) return 'missing or unknown X-Slack-Signature';
  const expected = createHmac('sha256', settings.signingSecret)
    .update(`v0:${timestamp}:`)
    .update(raw)
    .digest();
  const given = Buffer.from(hash, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature mismatch';
  return null;
}

function parse(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (String(contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form: Record<string, unknown> = Object.fromEntries(new URLSearchParams(text));
    return typeof form.payload === 'string' ? (JSON.parse(form.payload) as Record<string, unknown>) : form;
  }
  return JSON.parse(text) as Record<string, unknown>;
}

/** Reads the body, or rejects with BodyTooLarge as soon as it passes `limit` (told by Content-Length or counted). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendHealth(res: ServerResponse): void {
  if (!health) {
    send(res, 503, JSON.stringify({ status: 'starting' }), 'application/json');
    return;
  }
  // The main thread reports every second unless busy; the age tells a probe how long it has been busy.
  const body = { ...(health.body as object), snapshotAgeMs: Date.now() - health.at };
  send(res, health.status, JSON.stringify(body), 'application/json');
}

function finish(id: number, response: unknown): void {
  const entry = waiting.get(id);
  if (!entry) return;
  waiting.delete(id);
  clearTimeout(entry.timer);
  entry.answer(response);
}

function answerHttp(res: ServerResponse, response: unknown): void {
  if (response === undefined || response === '') send(res, 200, '');
  else if (typeof response === 'string') send(res, 200, response, 'text/plain; charset=utf-8');
  else send(res, 200, JSON.stringify(response), 'application/json');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

/** Socket Mode: Bolt's socket receiver, with this thread standing in for the app it hands requests to. */
async function openSocket(socket: NonNullable<FrontDoorSettings['socket']>): Promise<() => Promise<void>> {
  const { LogLevel, SocketModeReceiver } = await import('@slack/bolt');
  const receiver = new SocketModeReceiver({
    appToken: socket.appToken,
    logger: workerLogger(LogLevel.WARN),
    installerOptions: { clientOptions: socket.apiUrl ? { slackApiUrl: socket.apiUrl } : {} },
  });
  const door = {
    async processEvent(event: {
      body: Record<string, unknown>;
      ack: (response?: unknown) => Promise<void>;
      retryNum?: number;
      retryReason?: string;
    }) {
      const answer = (response: unknown) => {
        event.ack(response === '' ? undefined : response).catch((error: unknown) =>
          tell({
            type: 'log',
            level: 'warn',
            message: 'could not acknowledge over the socket',
            error: String(error),
          }),
        );
      };
      const retry = {
        ...(event.retryNum === undefined ? {} : { retryNum: event.retryNum }),
        ...(event.retryReason === undefined ? {} : { retryReason: event.retryReason }),
      };
      hand(event.body, answer, retry);
    },
  };
  receiver.init(door as unknown as Parameters<typeof receiver.init>[0]);
  await receiver.start();
  return () => receiver.stop();
}

/** Bolt's logger interface, reporting warnings and errors to the main thread's logger. */
function workerLogger(level: string) {
  const report =
    (at: 'warn' | 'error') =>
    (...msg: unknown[]) =>
      tell({ type: 'log', level: at, message: `[socket] ${msg.map(String).join(' ')}` });
  const quiet = () => undefined;
  return {
    debug: quiet,
    info: quiet,
    warn: report('warn'),
    error: report('error'),
    setLevel: quiet,
    getLevel: () => level as never,
    setName: quiet,
  };
}

let closeSocket: (() => Promise<void>) | null = null;

parentPort?.on('message', (message: ToWorker) => {
  if (message.type === 'health') health = { status: message.status, body: message.body, at: Date.now() };
  else if (message.type === 'ack') {
    // Too late: Slack already got an empty answer (the modal closed). Tell the main thread, which tells the person.
    if (!waiting.has(message.id)) tell({ type: 'late-ack', id: message.id, response: message.response });
    else finish(message.id, message.response);
  } else if (message.type === 'stop') {
    for (const id of [...waiting.keys()]) finish(id, '');
    const closing = closeSocket?.().catch(() => undefined) ?? Promise.resolve();
    void closing.then(() => server.close(() => tell({ type: 'stopped' })));
    server.closeIdleConnections?.();
  }
});

server.on('error', (error: Error) => tell({ type: 'failed', error: String(error?.message ?? error) }));
server.listen(settings.port, settings.host, () => {
  const address = server.address();
  tell({ type: 'listening', port: typeof address === 'object' && address ? address.port : settings.port });
  if (!settings.socket) return;
  openSocket(settings.socket).then(
    (close) => {
      closeSocket = close;
      tell({ type: 'connected' });
    },
    (error: unknown) => tell({ type: 'failed', error: String((error as Error | null)?.message ?? error) }),
  );
});

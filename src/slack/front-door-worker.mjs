/**
 * The HTTP front door, run in a worker thread by front-door-receiver.ts. It verifies Slack's signature and
 * acknowledges slash commands, button presses and events at once, whatever the main thread is doing (engine
 * work and store saves block that thread for seconds on large audiences), then hands each request to Bolt
 * on the main thread. Other interactions (modal submissions, menus) wait for Bolt's own ack, since their
 * acknowledgement can carry an answer. Plain JavaScript with no dependencies, so it loads without a
 * TypeScript loader.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { signingSecret, port, host, endpoint, bodyLimit, ackTimeoutMs } = workerData;
const MAX_SKEW_SECONDS = 5 * 60;

/** Health as the main thread last reported it: { status, body, at }. */
let health = null;
/** Requests waiting for Bolt's ack: id -> { res, timer }. */
const waiting = new Map();
let nextId = 0;

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    parentPort.postMessage({
      type: 'log',
      level: 'error',
      message: 'front door failed on a request',
      error: String(error?.stack ?? error),
    });
    if (!res.headersSent) send(res, 500, '');
  });
});
server.keepAliveTimeout = 65_000;

async function handle(req, res) {
  const path = new URL(req.url ?? '/', 'http://front-door').pathname;
  if (req.method === 'GET' && path === '/healthz') return sendHealth(res);
  if (req.method !== 'POST' || path !== endpoint) return send(res, 404, '');

  let raw;
  try {
    raw = await readBody(req, bodyLimit);
  } catch {
    return send(res, 413, '');
  }
  const problem = verify(req.headers, raw);
  if (problem) {
    parentPort.postMessage({ type: 'log', level: 'warn', message: `rejected a request: ${problem}` });
    return send(res, 401, '');
  }
  let body;
  try {
    body = parse(raw, req.headers['content-type']);
  } catch {
    return send(res, 400, '');
  }
  if (body.ssl_check === '1') return send(res, 200, '');
  if (body.type === 'url_verification')
    return send(res, 200, JSON.stringify({ challenge: body.challenge }), 'application/json');

  const id = ++nextId;
  const retryNum = header(req.headers, 'x-slack-retry-num');
  const retryReason = header(req.headers, 'x-slack-retry-reason');
  const acked = acknowledgedAtOnce(body);
  if (acked) {
    send(res, 200, '');
  } else {
    // Slack gives up after 3 seconds; answer empty just before that if Bolt has not.
    const timer = setTimeout(() => finish(id, ''), ackTimeoutMs);
    waiting.set(id, { res, timer });
  }
  parentPort.postMessage({
    type: 'request',
    id,
    acked,
    body,
    ...(retryNum === undefined ? {} : { retryNum: Number.parseInt(retryNum, 10) }),
    ...(retryReason === undefined ? {} : { retryReason }),
  });
}

// Commands, buttons and events are always acknowledged empty: the app answers them through respond(),
// chat.postMessage or views.publish. Anything else may need its ack to carry a response.
function acknowledgedAtOnce(body) {
  if (typeof body.command === 'string') return true;
  return body.type === 'block_actions' || body.type === 'event_callback';
}

function verify(headers, raw) {
  const timestamp = Number(header(headers, 'x-slack-request-timestamp'));
  const signature = header(headers, 'x-slack-signature') ?? '';
  if (!Number.isFinite(timestamp)) return 'missing or invalid X-Slack-Request-Timestamp';
  if (Math.abs(Date.now() / 1000 - timestamp) > MAX_SKEW_SECONDS)
    return 'timestamp more than 5 minutes off (stale or replayed)';
  const [version, hash] = signature.split('=');
  if (version !== 'v0' || !hash) return 'missing or unknown X-Slack-Signature';
  const expected = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(raw).digest();
  const given = Buffer.from(hash, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature mismatch';
  return null;
}

function parse(raw, contentType) {
  const text = raw.toString('utf8');
  if (String(contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(text));
    return typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
  }
  return JSON.parse(text);
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendHealth(res) {
  if (!health) return send(res, 503, JSON.stringify({ status: 'starting' }), 'application/json');
  // The main thread reports every second unless busy; the age tells a probe how long it has been busy.
  const body = { ...health.body, snapshotAgeMs: Date.now() - health.at };
  send(res, health.status, JSON.stringify(body), 'application/json');
}

function finish(id, response) {
  const entry = waiting.get(id);
  if (!entry) return;
  waiting.delete(id);
  clearTimeout(entry.timer);
  if (response === undefined || response === '') send(entry.res, 200, '');
  else if (typeof response === 'string') send(entry.res, 200, response, 'text/plain; charset=utf-8');
  else send(entry.res, 200, JSON.stringify(response), 'application/json');
}

function header(headers, name) {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

parentPort.on('message', (message) => {
  if (message.type === 'health') health = { status: message.status, body: message.body, at: Date.now() };
  else if (message.type === 'ack') {
    // Too late: Slack already got an empty answer (the modal closed). Tell the main thread, which tells the person.
    if (!waiting.has(message.id))
      parentPort.postMessage({ type: 'late-ack', id: message.id, response: message.response });
    else finish(message.id, message.response);
  } else if (message.type === 'stop') {
    for (const id of [...waiting.keys()]) finish(id, '');
    server.close(() => parentPort.postMessage({ type: 'stopped' }));
    server.closeIdleConnections?.();
  }
});

server.on('error', (error) =>
  parentPort.postMessage({ type: 'failed', error: String(error?.message ?? error) }),
);
server.listen(port, host, () => {
  const address = server.address();
  parentPort.postMessage({
    type: 'listening',
    port: typeof address === 'object' && address ? address.port : port,
  });
});

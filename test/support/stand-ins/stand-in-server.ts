/**
 * The HTTP part every platform stand-in shares: a node:http server on 127.0.0.1 (a free port), a log of the
 * requests it got, and planned faults for the next matching request(s): an HTTP error with any body and headers,
 * a broken body, or a hang (headers never sent, so the client's timeout fires). Each platform stand-in supplies
 * the routes that answer in its platform's documented shapes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One answer: status, headers and a body (JSON-encoded unless it is a string or a stream of lines). */
export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Lines written one at a time (a JSONL download), so the client can read them as a stream. */
  lines?: Iterable<string>;
  /** Drop the connection after this many lines (a download that breaks off). */
  breakAfterLines?: number;
}

/** What a route sees of a request. */
export interface StandInRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** The body as text ('' for a GET). */
  text: string;
}

/** A planned fault for the next request(s) whose path matches. */
export type Fault =
  | { kind: 'answer'; answer: Answer }
  /** Never answer (until the stand-in closes): the client's timeout must fire. */
  | { kind: 'hang' };

/** One logged request. */
export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  text: string;
}

/** The running server. */
export interface StandInServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly requests: LoggedRequest[];
  /** The next `times` requests whose path matches `path` (a substring or a pattern) get `fault` instead. */
  failNext(path: string | RegExp, fault: Fault, times?: number): void;
  /** Calls `listener` with each request as it arrives (before it is answered); null stops. */
  watch(listener: ((request: LoggedRequest) => void) | null): void;
  close(): Promise<void>;
}

/** Starts a server that answers with `route` (sync or async) unless a planned fault matches first. */
export async function startStandInServer(
  route: (request: StandInRequest) => Answer | Promise<Answer>,
): Promise<StandInServer> {
  const requests: LoggedRequest[] = [];
  const faults: { path: string | RegExp; fault: Fault; left: number }[] = [];
  const hanging = new Set<ServerResponse>();
  let watcher: ((request: LoggedRequest) => void) | null = null;
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`stand-in failure: ${String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const logged: LoggedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      text,
    };
    requests.push(logged);
    watcher?.(logged);
    const planned = faults.find((f) => f.left > 0 && matches(f.path, url.pathname));
    if (planned !== undefined) {
      planned.left -= 1;
      if (planned.fault.kind === 'hang') {
        hanging.add(res);
        return;
      }
      await write(res, planned.fault.answer);
      return;
    }
    await write(res, await route({ method, url, headers: req.headers, text }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    failNext(path, fault, times = 1) {
      faults.push({ path, fault, left: times });
    },
    watch(listener) {
      watcher = listener;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}

async function write(res: ServerResponse, answer: Answer): Promise<void> {
  const headers = { ...answer.headers };
  if (answer.lines !== undefined) {
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/jsonl', ...headers });
    let written = 0;
    for (const line of answer.lines) {
      if (written++ === answer.breakAfterLines) {
        res.destroy();
        return;
      }
      // Respect back-pressure so a million-line file streams in flat memory on this side too.
      if (!res.write(`${line}\n`)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
        if (res.destroyed) return;
      }
    }
    res.end();
    return;
  }
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? null);
  const type = typeof answer.body === 'string' ? 'text/plain' : 'application/json';
  res.writeHead(answer.status ?? 200, { 'content-type': type, ...headers });
  res.end(text);
}

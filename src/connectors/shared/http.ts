/**
 * What every platform client needs from HTTP, with the faults sorted the same way for all of them: a request
 * that never got an answer (network, timeout) is `transient`, a body that is not the documented JSON is
 * `malformed`, a cursor we cannot read back is `malformed`. The platform-specific meaning of an error body stays in
 * each platform's own client.
 */
import type { z } from 'zod';
import type { ConnectorContext } from '../connector.ts';
import { ConnectorError } from '../errors.ts';

/** Sends one request through the injected fetch; no answer at all (network, timeout) becomes `transient`. */
export async function send(
  ctx: ConnectorContext,
  url: URL | string,
  init: RequestInit,
  platform: string,
): Promise<Response> {
  try {
    return await ctx.fetch(url, ctx.signal === undefined ? init : { ...init, signal: ctx.signal });
  } catch (error) {
    if (ctx.signal?.aborted === true) throw error;
    throw new ConnectorError(
      'transient',
      `${platform} did not answer (${fetchFailure(error)}); the sync retries.`,
      {
        cause: error,
      },
    );
  }
}

/** Reads the whole body as JSON. A body cut off by a timeout is `transient`; one that is not JSON is `malformed`. */
export async function readJson(response: Response, platform: string): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ConnectorError(
      'transient',
      `${platform} stopped answering mid-response (${fetchFailure(error)}).`,
      {
        cause: error,
        status: response.status,
      },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A gateway's HTML error page on a 5xx is an outage, not a change of format.
    if (response.status >= 500) {
      throw new ConnectorError(
        'transient',
        `${platform} answered HTTP ${response.status}; the sync retries.`,
        {
          status: response.status,
        },
      );
    }
    throw new ConnectorError(
      'malformed',
      `${platform} answered HTTP ${response.status} with a body that is not JSON; nothing from it was stored.`,
      { status: response.status },
    );
  }
}

/**
 * Checks a response against the documented shape; a mismatch is `malformed`, naming the first wrong field (never
 * its value, which may be personal data).
 */
export function parseShape<T>(schema: z.ZodType<T>, value: unknown, what: string, platform: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'the top level' : issue.path.join('.');
  throw new ConnectorError(
    'malformed',
    `${platform} sent ${what} that does not match its documented shape (at ${where}: ${issue?.message ?? 'invalid'}); nothing from that page was stored and the sync keeps its last cursor.`,
  );
}

/** Reads back a cursor this connector wrote (JSON); anything else is `malformed`. */
export function decodeCursor<T>(schema: z.ZodType<T>, cursor: string, platform: string): T {
  let value: unknown;
  try {
    value = JSON.parse(cursor) as unknown;
  } catch {
    value = undefined;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConnectorError(
    'malformed',
    `The stored ${platform} sync cursor is not one this version wrote; reset the connection's cursor to run a full sync.`,
  );
}

/** `Retry-After` in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: Date): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** Parses an ISO-8601 time as the platforms write it (Graph writes `+0000` without a colon) to epoch ms. */
export function parseTime(value: string): number | null {
  const normalised = value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? null : ms;
}

/** Joins the API root and a path without doubling or dropping the slash. */
export function apiUrl(baseUrl: string, path: string): URL {
  return new URL(`${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
}

function fetchFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause !== undefined && typeof cause.code === 'string') return cause.code;
    return error.name;
  }
  return 'unknown failure';
}

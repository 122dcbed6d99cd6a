/**
 * The Graph API over HTTP (graph.facebook.com/vXX.X, or a stand-in): GET with the access token, the documented
 * error object mapped to a ConnectorError, and the rate-limit usage headers read after every answer so the client
 * slows down as usage nears 100% and stops (rate_limited) before the platform blocks the app.
 */
import { z } from 'zod';
import type { ConnectorContext } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { apiUrl, parseShape, readJson, retryAfterMs, send } from '../shared/http.ts';

const PLATFORM = 'The Graph API';

/** From this usage (percent of the app's / business use case's allowance) on, requests are spaced out. */
export const SLOW_DOWN_FROM = 75;
/** From this usage on, the client stops and reports rate_limited instead of spending the last calls. */
export const STOP_AT = 95;
/** The longest pause between two requests while slowing down. */
const MAX_SPACING_MS = 30_000;
/** App and user limits are over a rolling hour; without a hint, wait a few minutes before trying again. */
const DEFAULT_RATE_WAIT_MS = 5 * 60_000;

/** Graph error codes that mean "throttled": app (4), user (17), page (32), custom/per-endpoint (613), BUC (80001–80014). */
const RATE_CODES = new Set([4, 17, 32, 613]);

const graphErrorShape = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number(),
    error_subcode: z.number().optional(),
  }),
});

const usageShape = z.object({
  call_count: z.number().optional(),
  total_time: z.number().optional(),
  total_cputime: z.number().optional(),
});
const bucShape = z.record(
  z.string(),
  z.array(
    usageShape.extend({
      type: z.string().optional(),
      estimated_time_to_regain_access: z.number().optional(),
    }),
  ),
);

/** What the usage headers of the latest answer said. */
export interface GraphUsage {
  /** The highest percentage over call count, CPU time and total time, app-level and business-use-case. */
  percent: number;
  /** `estimated_time_to_regain_access` (minutes in the header) in ms, when the BUC header gave one. */
  regainMs: number | null;
}

/** Reads `X-App-Usage` and `X-Business-Use-Case-Usage`; unreadable headers count as no usage (never fail a page). */
export function readUsage(headers: Headers): GraphUsage {
  let percent = 0;
  let regainMs: number | null = null;
  const app = usageShape.safeParse(parseJsonHeader(headers.get('x-app-usage')));
  if (app.success) percent = Math.max(percent, maxOf(app.data));
  const buc = bucShape.safeParse(parseJsonHeader(headers.get('x-business-use-case-usage')));
  if (buc.success) {
    for (const entries of Object.values(buc.data)) {
      for (const entry of entries) {
        percent = Math.max(percent, maxOf(entry));
        const minutes = entry.estimated_time_to_regain_access;
        if (minutes !== undefined && minutes > 0) regainMs = Math.max(regainMs ?? 0, minutes * 60_000);
      }
    }
  }
  return { percent, regainMs };
}

/**
 * Maps a Graph error answer to a ConnectorError. The message says what the owner can do and never repeats the
 * platform's text verbatim beyond its code (it can echo ids).
 */
export function graphError(status: number, body: unknown, usage: GraphUsage, headers: Headers, now: Date) {
  const parsed = graphErrorShape.safeParse(body);
  if (!parsed.success) {
    if (status >= 500)
      return new ConnectorError('transient', `${PLATFORM} answered HTTP ${status}.`, { status });
    if (status === 429) return rateLimited(usage, headers, now, 429, status);
    return new ConnectorError(
      'malformed',
      `${PLATFORM} answered HTTP ${status} without its documented error object.`,
      {
        status,
      },
    );
  }
  const { code, error_subcode: subcode } = parsed.data.error;
  // The platform's error object rides along as the cause: callers may look at it, people never see it.
  const details = { platformCode: code, status, cause: parsed.data.error };
  if (code === 190) {
    return new ConnectorError(
      'auth_expired',
      `The Facebook/Instagram access token has expired or was revoked (Graph code 190${subcode === undefined ? '' : `/${subcode}`}); connect the account again to give a fresh token.`,
      details,
    );
  }
  if (RATE_CODES.has(code) || (code >= 80001 && code <= 80014) || status === 429) {
    return rateLimited(usage, headers, now, code, status);
  }
  if (code === 10 || (code >= 200 && code <= 299)) {
    return new ConnectorError(
      'permission',
      `The token lacks a permission this sync needs (Graph code ${code}); grant instagram_basic, instagram_manage_comments, instagram_manage_insights, pages_show_list, pages_read_engagement and pages_read_user_content, then connect again.`,
      details,
    );
  }
  if (code === 803 || (code === 100 && subcode === 33)) {
    return new ConnectorError(
      'config',
      `The page or Instagram account id in this connection does not exist or this token cannot see it (Graph code ${code}); pick a source from the list of available ones.`,
      details,
    );
  }
  if (code === 1 || code === 2 || status >= 500) {
    return new ConnectorError('transient', `${PLATFORM} had a temporary problem (code ${code}).`, details);
  }
  return new ConnectorError(
    'malformed',
    `${PLATFORM} refused a request with code ${code}${subcode === undefined ? '' : `/${subcode}`}; the sync stopped without storing that page.`,
    details,
  );
}

function rateLimited(usage: GraphUsage, headers: Headers, now: Date, code: number, status: number) {
  const retry = usage.regainMs ?? retryAfterMs(headers, now) ?? DEFAULT_RATE_WAIT_MS;
  return new ConnectorError(
    'rate_limited',
    `${PLATFORM} is throttling this app (code ${code}); the sync waits ${Math.ceil(retry / 60_000)} min and resumes.`,
    { retryAfterMs: retry, platformCode: code, status },
  );
}

/** A GET-only Graph API client bound to one token. */
export class GraphClient {
  private usage: GraphUsage = { percent: 0, regainMs: null };
  /** How many requests were sent (for tests and the bench). */
  requests = 0;

  constructor(
    private readonly ctx: ConnectorContext,
    private readonly token: string,
  ) {}

  /** GETs `path` (relative to the API root) with query `params`; answers the JSON body or throws ConnectorError. */
  async get(path: string, params: Record<string, string | undefined> = {}): Promise<unknown> {
    await this.pace();
    const url = apiUrl(this.ctx.baseUrl, path);
    for (const [key, value] of Object.entries(params))
      if (value !== undefined) url.searchParams.set(key, value);
    url.searchParams.set('access_token', this.token);
    this.requests += 1;
    const response = await send(this.ctx, url, { headers: { accept: 'application/json' } }, PLATFORM);
    this.usage = readUsage(response.headers);
    const body = await readJson(response, PLATFORM);
    if (!response.ok || (typeof body === 'object' && body !== null && 'error' in body)) {
      throw graphError(response.status, body, this.usage, response.headers, this.ctx.now());
    }
    return body;
  }

  /** GET and check the documented shape in one step. */
  async getShape<T>(
    schema: z.ZodType<T>,
    what: string,
    path: string,
    params: Record<string, string | undefined> = {},
  ) {
    return parseShape(schema, await this.get(path, params), what, PLATFORM);
  }

  /** Space requests out as usage rises; refuse to go on near the limit (the engine waits, then resumes). */
  private async pace(): Promise<void> {
    const { percent, regainMs } = this.usage;
    if (percent >= STOP_AT) {
      const retry = regainMs ?? DEFAULT_RATE_WAIT_MS;
      throw new ConnectorError(
        'rate_limited',
        `${PLATFORM} usage for this app is at ${Math.round(percent)}%; the sync pauses ${Math.ceil(retry / 60_000)} min before the platform blocks it.`,
        { retryAfterMs: retry },
      );
    }
    if (percent >= SLOW_DOWN_FROM) {
      await this.ctx.sleep(((percent - SLOW_DOWN_FROM) / (STOP_AT - SLOW_DOWN_FROM)) * MAX_SPACING_MS);
    }
  }
}

function parseJsonHeader(value: string | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function maxOf(usage: z.infer<typeof usageShape>): number {
  return Math.max(usage.call_count ?? 0, usage.total_time ?? 0, usage.total_cputime ?? 0);
}

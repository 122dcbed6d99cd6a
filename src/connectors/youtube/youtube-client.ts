/**
 * The YouTube Data API v3 over HTTP (https://www.googleapis.com/youtube/v3, or a stand-in), with quota
 * accounting: every call is charged its documented cost (list methods: 1 unit) against the project's daily quota
 * (default 10,000 units), counted per quota day, which starts at midnight America/Los_Angeles. The client refuses
 * a call the remaining quota cannot pay for (`quota` until the next Pacific midnight) instead of letting the API
 * answer `quotaExceeded`, and maps the documented error object (`error.errors[].reason`) to ConnectorError codes.
 */
import { TZDate } from '@date-fns/tz';
import { addDays, format, startOfDay } from 'date-fns';
import { z } from 'zod';
import type { ConnectorContext } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { apiUrl, parseShape, readJson, retryAfterMs, send } from '../shared/http.ts';

const PLATFORM = 'The YouTube Data API';
/** The quota day's time zone (Google resets YouTube quotas at midnight Pacific Time). */
export const QUOTA_ZONE = 'America/Los_Angeles';
/** The default daily quota of a Google Cloud project. */
export const DEFAULT_DAILY_QUOTA = 10_000;
/** Units per call by method (the documented cost table; every read this connector makes is a `list`). */
export const QUOTA_COST: Readonly<Record<string, number>> = {
  'channels.list': 1,
  'playlistItems.list': 1,
  'videos.list': 1,
  'commentThreads.list': 1,
};

/** The quota day of an instant (`YYYY-MM-DD` in Pacific time). */
export function quotaDay(at: number): string {
  return format(new TZDate(at, QUOTA_ZONE), 'yyyy-MM-dd');
}

/** The next midnight in Pacific time after `at`, as epoch ms (when a spent quota is back). */
export function nextQuotaReset(at: number): number {
  return startOfDay(addDays(new TZDate(at, QUOTA_ZONE), 1)).getTime();
}

/** Units used on one quota day; carried in the cursor so runs on the same day add up. */
export interface QuotaUse {
  day: string;
  used: number;
}

const errorShape = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    errors: z.array(z.object({ reason: z.string().optional(), domain: z.string().optional() })).optional(),
    /** Newer answers name the cause here too (google.rpc.ErrorInfo, e.g. API_KEY_INVALID). */
    details: z.array(z.object({ reason: z.string().optional() }).passthrough()).optional(),
  }),
});

/** A YouTube error answer mapped to a ConnectorError (the first `reason` decides). */
export function youtubeError(status: number, body: unknown, headers: Headers, now: number): ConnectorError {
  const parsed = errorShape.safeParse(body);
  const reason = parsed.success ? (parsed.data.error.errors?.[0]?.reason ?? '') : '';
  const info = parsed.success ? (parsed.data.error.details ?? []).map((d) => d.reason ?? '') : [];
  const badKey = info.includes('API_KEY_INVALID') || info.includes('API_KEY_EXPIRED');
  const details = { status, platformCode: reason === '' ? status : reason };
  if (reason === 'quotaExceeded' || reason === 'dailyLimitExceeded') {
    const resumeAt = nextQuotaReset(now);
    return new ConnectorError(
      'quota',
      `The YouTube Data API quota of this Google project is spent for today; the sync resumes after midnight Pacific time (${new Date(resumeAt).toISOString()}).`,
      { ...details, resumeAt },
    );
  }
  if (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded' || status === 429) {
    return new ConnectorError(
      'rate_limited',
      'YouTube asks this app to slow down; the sync waits and resumes.',
      {
        ...details,
        retryAfterMs: retryAfterMs(headers, new Date(now)) ?? 60_000,
      },
    );
  }
  if (
    status === 401 ||
    badKey ||
    reason === 'keyInvalid' ||
    reason === 'keyExpired' ||
    reason === 'authError'
  ) {
    return new ConnectorError(
      'auth_expired',
      'YouTube refused the API key or OAuth token (invalid, expired or revoked); connect the channel again.',
      details,
    );
  }
  if (
    reason === 'accessNotConfigured' ||
    reason === 'channelNotFound' ||
    reason === 'playlistNotFound' ||
    status === 404
  ) {
    return new ConnectorError(
      'config',
      `YouTube cannot find the channel or its uploads, or the API is not enabled for this Google project (${reason || status}); check the channel id and enable the YouTube Data API v3.`,
      details,
    );
  }
  if (status === 403) {
    return new ConnectorError(
      'permission',
      `YouTube refused a read for lack of permission (${reason || 403}); reading comments needs an API key with public access or an OAuth token with youtube.readonly (youtube.force-ssl for comments on your own videos).`,
      details,
    );
  }
  if (status >= 500) return new ConnectorError('transient', `YouTube answered HTTP ${status}.`, details);
  return new ConnectorError(
    'malformed',
    `YouTube refused the sync's request (${reason || status}).`,
    details,
  );
}

/** A GET-only client with quota accounting. */
export class YouTubeClient {
  constructor(
    private readonly ctx: ConnectorContext,
    private readonly auth: { apiKey?: string; accessToken?: string },
    private readonly dailyQuota: number,
    /** Units spent on the current quota day (the caller persists it in the cursor). */
    public quota: QuotaUse,
  ) {}

  /** Calls `method` (e.g. `playlistItems.list`) with `params`; answers the body checked against `shape`. */
  async list<T>(shape: z.ZodType<T>, method: string, params: Record<string, string | undefined>): Promise<T> {
    const now = this.ctx.now().getTime();
    const cost = QUOTA_COST[method] ?? 1;
    const day = quotaDay(now);
    if (this.quota.day !== day) this.quota = { day, used: 0 };
    if (this.quota.used + cost > this.dailyQuota) {
      const resumeAt = nextQuotaReset(now);
      throw new ConnectorError(
        'quota',
        `This sync has used ${this.quota.used} of the ${this.dailyQuota} YouTube quota units for today; it resumes after midnight Pacific time (${new Date(resumeAt).toISOString()}).`,
        { resumeAt, platformCode: 'quotaBudget' },
      );
    }
    const url = apiUrl(this.ctx.baseUrl, method.split('.')[0] ?? method);
    for (const [key, value] of Object.entries(params))
      if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.auth.accessToken !== undefined) headers.authorization = `Bearer ${this.auth.accessToken}`;
    else if (this.auth.apiKey !== undefined) url.searchParams.set('key', this.auth.apiKey);
    // Charged before the answer: a call that reaches Google costs its units whatever comes back.
    this.quota = { day, used: this.quota.used + cost };
    const response = await send(this.ctx, url, { headers }, PLATFORM);
    const body = await readJson(response, PLATFORM);
    if (!response.ok) throw youtubeError(response.status, body, response.headers, now);
    return parseShape(shape, body, `a ${method} page`, PLATFORM);
  }
}

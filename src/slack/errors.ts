/**
 * Reading Slack failures: the Web API client and Bolt's respond() throw different error shapes; these
 * helpers reduce them to a short code for decisions, a kind for the one retry policy (post.ts), and a small
 * object for logs. Duck-typed on the documented `code` strings, so a second copy of @slack/web-api in
 * node_modules does not break them.
 */

/** The Web API error string (`not_in_channel`, `channel_not_found`, …), `ratelimited`, or a transport code. */
export function slackErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown };
  switch (e.code) {
    case 'slack_webapi_platform_error':
      return typeof e.data?.error === 'string' ? e.data.error : 'platform_error';
    case 'slack_webapi_rate_limited_error':
      return 'ratelimited';
    case 'slack_webapi_request_error':
      return 'request_error';
    case 'slack_webapi_http_error':
      return `http_${String(e.statusCode)}`;
    case 'slack_bolt_respond_error':
      return `respond_${String(e.statusCode)}`;
    default:
      return undefined;
  }
}

/** What a failure means to the posting policy. */
export type FailureKind = 'rate_limited' | 'transient' | 'not_in_channel' | 'pause' | 'blocks' | 'other';

/** Codes after which posting to that channel again will not help: a person has to change something. */
export const PAUSE_CODES: ReadonlySet<string> = new Set([
  'channel_not_found',
  'is_archived',
  'channel_is_archived',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'invalid_auth',
  'not_authed',
]);

// Slack documents these as temporary on its side. `fatal_error` is not among them: Slack says part of the
// operation may have succeeded, so trying again could post twice.
const TRANSIENT_CODES = new Set(['internal_error', 'service_unavailable', 'request_timeout']);

/** Reads a Web API client error into a decision and a short code. */
export function classifyFailure(error: unknown): { kind: FailureKind; code: string; retryAfterMs?: number } {
  const code = slackErrorCode(error);
  const e = error as { retryAfter?: unknown; statusCode?: unknown; name?: unknown } | null;
  if (code === undefined) {
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'transient', code: 'timeout' };
    return { kind: 'other', code: error instanceof Error ? error.message.slice(0, 80) : 'unknown' };
  }
  if ((e as { code?: unknown }).code === 'slack_webapi_rate_limited_error') {
    const seconds = typeof e?.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter : 1;
    return { kind: 'rate_limited', code, retryAfterMs: seconds * 1000 };
  }
  if (code === 'request_error') return { kind: 'transient', code };
  if (code.startsWith('http_')) return { kind: Number(e?.statusCode) >= 500 ? 'transient' : 'other', code };
  if (code === 'not_in_channel') return { kind: 'not_in_channel', code };
  if (PAUSE_CODES.has(code)) return { kind: 'pause', code };
  if (code === 'invalid_blocks' || code === 'invalid_blocks_format') return { kind: 'blocks', code };
  if (TRANSIENT_CODES.has(code)) return { kind: 'transient', code };
  if (code === 'ratelimited') return { kind: 'rate_limited', code, retryAfterMs: 1000 };
  return { kind: 'other', code };
}

/** The HTTP status of a failed respond() call, if that is what `error` is. */
export function respondStatus(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown } | null;
  return e && e.code === 'slack_bolt_respond_error' && typeof e.statusCode === 'number'
    ? e.statusCode
    : undefined;
}

/** A compact description of an error for log context (the logger serialises Error objects itself). */
export function describeError(error: unknown): Record<string, unknown> {
  const code = slackErrorCode(error);
  // fetch() hides the network reason (ECONNRESET, timeout…) in `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const reason = cause ? { cause: String(cause.code ?? cause.message ?? cause) } : {};
  return code ? { slackError: code, ...reason, error } : { ...reason, error };
}

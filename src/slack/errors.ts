/**
 * Reading Slack failures: the Web API client and Bolt's respond() throw different error shapes; these
 * helpers reduce them to a short code for decisions and a small object for logs. Duck-typed on the
 * documented `code` strings, so a second copy of @slack/web-api in node_modules does not break them.
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

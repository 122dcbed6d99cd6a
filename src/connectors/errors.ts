/**
 * The one error type every connector reports. The sync engine decides on `code` alone (never on the wording or
 * the platform): retry, pause until a time, or pause until the owner acts. The message is one line a person can
 * act on and never holds a token, an e-mail address or a handle.
 */
import { UserError } from '../domain/errors.ts';

/**
 * What kind of failure, and so what the sync engine does:
 * - `auth_expired`: the token expired or was revoked (Graph code 190, HTTP 401) -> pause, tell the owner;
 * - `permission`: a scope/permission is missing (Graph 10/200, YouTube 403 forbidden) -> pause, tell the owner;
 * - `rate_limited`: slow down (Graph 4/17/32/613, Shopify THROTTLED, HTTP 429) -> retry after `retryAfterMs`;
 * - `quota`: the quota for a period is spent (YouTube quotaExceeded) -> pause until `resumeAt`;
 * - `transient`: 5xx, a timeout, a dropped connection -> retry with backoff;
 * - `malformed`: the response did not have the documented shape -> fail this batch, keep the cursor;
 * - `config`: the connection's settings are wrong (unknown page/channel/shop) -> pause, tell the owner.
 */
export type ConnectorErrorCode =
  | 'auth_expired'
  | 'permission'
  | 'rate_limited'
  | 'quota'
  | 'transient'
  | 'malformed'
  | 'config';

/** Details a connector may attach to its error. */
export interface ConnectorErrorDetails {
  /** Wait at least this long before the next request (rate limits; from Retry-After or usage headers). */
  retryAfterMs?: number;
  /** Epoch ms when the quota resets (`quota`). */
  resumeAt?: number;
  /** The platform's own error code (Graph `error.code`, YouTube `reason`, Shopify `extensions.code`). */
  platformCode?: string | number;
  /** The HTTP status, when there was a response. */
  status?: number;
  cause?: unknown;
}

/** A connector failure the sync engine knows how to handle (see ConnectorErrorCode). */
export class ConnectorError extends UserError {
  override name = 'ConnectorError';
  readonly code: ConnectorErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly resumeAt: number | undefined;
  readonly platformCode: string | number | undefined;
  readonly status: number | undefined;

  constructor(code: ConnectorErrorCode, message: string, details: ConnectorErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryAfterMs = details.retryAfterMs;
    this.resumeAt = details.resumeAt;
    this.platformCode = details.platformCode;
    this.status = details.status;
  }
}

/** Whether the sync engine retries this failure within the same run (rate limits and transient faults). */
export function isRetryable(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError && (error.code === 'rate_limited' || error.code === 'transient');
}

/** Whether this failure pauses the connection until its owner acts (new token, grant, settings). */
export function needsOwner(error: unknown): error is ConnectorError {
  return (
    error instanceof ConnectorError &&
    (error.code === 'auth_expired' || error.code === 'permission' || error.code === 'config')
  );
}

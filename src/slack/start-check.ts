/**
 * Checking at start that Slack answers and accepts our tokens, so a broken setup ends in one clear line and a
 * non-zero exit instead of a stack trace: a rejected token says which token and where to get a good one (no
 * retry can fix it), an unreachable Web API is retried with backoff (a network that is still coming up) and
 * then reported with the address tried and the reason.
 */
import { ConfigError } from '../config.ts';
import { systemTimers, type Timers } from '../domain/timers.ts';
import type { Logger } from '../logger.ts';
import { classifyFailure, describeError } from './errors.ts';

/** Slack could not be reached or would not start the connection; the message is one line for the operator. */
export class SlackStartError extends ConfigError {
  override name = 'SlackStartError';
}

/** How often and how patiently a start check retries an unreachable Slack. */
export interface StartRetry {
  /** Tries in all, the first included (default 6). */
  attempts: number;
  /** Wait before the second try; doubles each time (default 1 s: 1 + 2 + 4 + 8 + 16 s in all). */
  firstDelayMs: number;
}

/** The default: about half a minute of retries before giving up. */
export const DEFAULT_START_RETRY: StartRetry = { attempts: 6, firstDelayMs: 1000 };

/** What one check calls and which token it proves. */
export interface StartCheck {
  /** The Web API method, for messages (`auth.test`, `apps.connections.open`). */
  method: string;
  /** The setting that holds the token (`SLACK_BOT_TOKEN`). */
  token: string;
  /** What to do when Slack rejects the token. */
  fix: string;
}

const REJECTED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'user_removed_from_team',
  'team_disabled',
  'not_allowed_token_type',
]);

/** Runs `call` until Slack answers; throws ConfigError (token rejected) or SlackStartError (never answered). */
export async function untilSlackAnswers<T>(
  check: StartCheck,
  call: () => Promise<T>,
  options: { apiUrl: string; logger: Logger; retry?: StartRetry; timers?: Timers },
): Promise<T> {
  const retry = options.retry ?? DEFAULT_START_RETRY;
  const timers = options.timers ?? systemTimers;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const failure = classifyFailure(error);
      if (REJECTED.has(failure.code))
        throw new ConfigError(`Slack rejected ${check.token} (${failure.code}): ${check.fix}`);
      const reason = reasonOf(error, failure.code);
      const retryable = failure.kind === 'transient' || failure.kind === 'rate_limited';
      if (!retryable)
        throw new SlackStartError(`Slack answered ${check.method} with ${reason}; the app cannot start.`);
      if (attempt >= retry.attempts) {
        throw new SlackStartError(
          `Could not reach the Slack Web API at ${options.apiUrl} (${check.method}: ${reason}) after ${attempt} tries; check the network, a proxy or SLACK_API_URL.`,
        );
      }
      const waitMs = Math.max(failure.retryAfterMs ?? 0, retry.firstDelayMs * 2 ** (attempt - 1));
      options.logger.warn(`Slack did not answer ${check.method}; trying again`, {
        attempt,
        retryInMs: waitMs,
        ...describeError(error),
        error: undefined,
      });
      await timers.sleep(waitMs);
    }
  }
}

// The network reason hides in `original.cause` (the Web API client) or `cause` (fetch).
function reasonOf(error: unknown, code: string): string {
  const e = error as { original?: { cause?: { code?: unknown } }; cause?: { code?: unknown } } | null;
  const cause = e?.original?.cause?.code ?? e?.cause?.code;
  return typeof cause === 'string' ? `${code}, ${cause}` : code;
}

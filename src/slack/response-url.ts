/**
 * Posting to a response_url, the way private answers reach a person. Slack accepts at most 5 posts per
 * response_url within 30 minutes of the request, and answers 429 with a Retry-After when posts come too fast.
 * Each URL's posts are counted here, so a retry never spends a post Slack would refuse anyway.
 */
import type { KnownBlock } from '@slack/types';
import { systemTimers, type Timers } from '../domain/timers.ts';
import type { Logger } from '../logger.ts';
import { describeError, respondStatus } from './errors.ts';

/** Posts Slack accepts per response_url. */
export const RESPONSE_URL_POSTS = 5;
/** How long a response_url accepts posts after the request. */
export const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

/** A message sent through a response_url. */
export interface SlackMessage {
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  delete_original?: boolean;
  text?: string;
  blocks?: KnownBlock[];
}

/** A refused post, shaped like Bolt's respond() error so the same readers apply. */
export class ResponseUrlError extends Error {
  readonly code = 'slack_bolt_respond_error';
  constructor(
    readonly statusCode: number,
    readonly retryAfterMs: number | null,
  ) {
    super(`Failed to respond to the response_url: ${statusCode}`);
  }
}

/** Posts to response URLs within Slack's limits. */
export interface ResponseUrls {
  /** Posts `message`, retrying what can succeed; resolves whether Slack took it. Never throws. */
  post(url: string, message: SlackMessage, context: Record<string, unknown>): Promise<boolean>;
}

interface Use {
  posts: number;
  firstAt: number;
}

const NETWORK_RETRIES = 2;

/** Creates the poster; `timers` decide how Retry-After waits pass (tests), `timeoutMs` bounds each post. */
export function createResponseUrls(options: {
  logger: Logger;
  timers?: Timers;
  timeoutMs?: number;
}): ResponseUrls {
  const { logger } = options;
  const timers = options.timers ?? systemTimers;
  const uses = new Map<string, Use>();

  function useOf(url: string): Use {
    const now = timers.monotonic();
    if (uses.size > 1000) {
      for (const [u, use] of uses) if (now - use.firstAt > RESPONSE_URL_LIFETIME_MS) uses.delete(u);
    }
    let use = uses.get(url);
    if (!use) {
      use = { posts: 0, firstAt: now };
      uses.set(url, use);
    }
    return use;
  }

  async function post(
    url: string,
    message: SlackMessage,
    context: Record<string, unknown>,
  ): Promise<boolean> {
    const use = useOf(url);
    let attempt = message;
    let networkRetries = 0;
    for (;;) {
      if (use.posts >= RESPONSE_URL_POSTS) {
        logger.error('response_url has no posts left (Slack allows 5)', context);
        return false;
      }
      use.posts++;
      try {
        await send(url, attempt, options.timeoutMs ?? 10_000);
        return true;
      } catch (error) {
        const status = respondStatus(error);
        const log = { ...context, attempt: use.posts, ...describeError(error) };
        if (status === 429) {
          const waitMs =
            error instanceof ResponseUrlError && error.retryAfterMs !== null ? error.retryAfterMs : 1000;
          if (timers.monotonic() + waitMs - use.firstAt >= RESPONSE_URL_LIFETIME_MS) {
            logger.error('response_url rate limited past its 30 minutes', log);
            return false;
          }
          logger.warn('response_url rate limited; waiting Retry-After', { ...log, retryAfterMs: waitMs });
          await timers.sleep(waitMs);
          continue;
        }
        // No status: the request never got an answer (a pooled connection closed under us).
        if (status === undefined && networkRetries++ < NETWORK_RETRIES) {
          logger.warn('a reply through response_url failed; trying again', log);
          await timers.sleep(250);
          continue;
        }
        // 400: Slack did not accept the blocks, so the plain fallback text still goes out.
        if (status === 400 && attempt.blocks !== undefined) {
          logger.warn('Slack refused the blocks of a reply; sending the text only', log);
          const { blocks: _blocks, ...plain } = attempt;
          attempt = plain;
          continue;
        }
        // Anything else (404, 410: an expired response_url) will not get better by trying again.
        logger.error('could not deliver a reply through response_url', log);
        return false;
      }
    }
  }

  return { post };
}

async function send(url: string, message: SlackMessage, timeoutMs: number): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(timeoutMs),
  });
  // Drain the body so the connection is released; its content is not needed.
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return;
  const header = response.headers.get('retry-after');
  const seconds = header === null ? Number.NaN : Number(header);
  throw new ResponseUrlError(
    response.status,
    Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null,
  );
}

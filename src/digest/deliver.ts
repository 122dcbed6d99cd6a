/**
 * Getting one digest message into its channel. The transport is Slack (chat.postMessage) or, in local
 * mode, the console. The policy around it:
 *
 * - HTTP 429: wait the Retry-After, holding back every post meanwhile (Slack's limits are per workspace too).
 * - 5xx, timeouts, network errors: retry with exponential backoff, at most 3 attempts in all.
 * - `not_in_channel`: join the (public) channel and post again; a private channel needs an invitation.
 * - `channel_not_found`, `is_archived`, revoked or invalid tokens: give up; the caller pauses the schedule
 *   and tells the owner (`pause: true`).
 * - Posts to one channel are spaced (Slack allows about one message per second per channel).
 */

import type { Writable } from 'node:stream';
import { webApi as slackWebApi, type webApi } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { renderText } from '../blocks/plain-text.ts';
import type { RenderedChart } from '../charts/types.ts';
import type { UploadChartResult } from '../charts/upload.ts';
import { uploadChart } from '../charts/upload.ts';
import type { Reply } from '../domain/reply.ts';
import type { Timers } from '../domain/timers.ts';
import { saveReplyFiles } from '../export/save-files.ts';
import type { Logger } from '../logger.ts';
import { boltLogger } from '../slack/bolt-logger.ts';
import { sendDirectMessage } from '../slack/post.ts';

/** A digest message for one channel. */
export interface DigestPost {
  channel: string;
  text: string;
  blocks: KnownBlock[];
  /** The occurrence key, attached as message metadata so a post can be recognised later. */
  key: string;
}

/** Where digests go: Slack, or the console in local mode. Errors are thrown as the Web API client throws them. */
export interface DigestTransport {
  readonly kind: 'slack' | 'console';
  /** Posts; resolves with the message ts and the channel id Slack reports (a `#name` becomes its id). */
  post(message: DigestPost): Promise<{ ts: string | null; channel: string }>;
  join(channel: string): Promise<void>;
  /** A direct message to a person (the owner of a failing digest). */
  notifyUser(userId: string, message: Reply): Promise<void>;
  /** Uploads a chart into the digest's thread; never throws. Absent where pictures cannot go. */
  uploadChart?(channel: string, threadTs: string, chart: RenderedChart): Promise<UploadChartResult>;
}

/** Creates the Slack transport on a Web API client of its own: retries are decided here, not in the client. */
export function createSlackTransport(options: {
  token: string;
  apiUrl?: string;
  /** Per-call timeout (default 10 s); a timeout counts as a failed attempt. */
  timeoutMs?: number;
  logger: Logger;
  /** An existing client, for tests; it should not retry by itself. */
  client?: webApi.WebClient;
}): DigestTransport {
  const client =
    options.client ??
    new slackWebApi.WebClient(options.token, {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 10_000,
      // The client's own lines go through our logger (format, secret redaction); failures are logged here.
      logger: boltLogger(options.logger, slackWebApi.LogLevel.ERROR),
    });
  const channelIdOf = createChannelNames(client);
  return {
    kind: 'slack',
    async post(message) {
      const result = await client.chat.postMessage({
        channel: await channelIdOf(message.channel),
        text: message.text,
        // Our blocks come from @slack/types 2; the client declares its own copy of the same shapes.
        blocks: message.blocks as never,
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: 'audience_digest', event_payload: { key: message.key } },
      });
      return { ts: result.ts ?? null, channel: result.channel ?? message.channel };
    },
    async join(channel) {
      await client.conversations.join({ channel: await channelIdOf(channel) });
    },
    async notifyUser(userId, message) {
      await sendDirectMessage(client, userId, message);
    },
    uploadChart(channel, threadTs, chart) {
      return uploadChart(client, { channelId: channel, threadTs, chart, logger: options.logger });
    },
  };
}

const CHANNEL_NAMES_TTL_MS = 10 * 60_000;

/**
 * Turns a `#name` typed in `/audience digest add` (slash commands arrive unescaped, so a channel picked from
 * Slack's autocomplete is plain `#growth`) into its channel id; ids pass through. conversations.join takes ids
 * only, and a rename would otherwise break a schedule. Names are listed once per 10 minutes, not per post
 * (1,000 digests due at once must not list the workspace 1,000 times). An unknown name fails like Slack's own
 * `channel_not_found`, so the schedule is paused and its owner told how to fix it.
 */
function createChannelNames(client: webApi.WebClient): (channel: string) => Promise<string> {
  let listed: { at: number; ids: Promise<Map<string, string>> } | null = null;
  const list = async (): Promise<Map<string, string>> => {
    const ids = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = await client.conversations.list({
        types: 'public_channel,private_channel',
        exclude_archived: true,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      for (const c of page.channels ?? []) if (c.name && c.id) ids.set(c.name.toLowerCase(), c.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return ids;
  };
  const names = (refresh: boolean): Promise<Map<string, string>> => {
    if (refresh || !listed || performance.now() - listed.at > CHANNEL_NAMES_TTL_MS) {
      const ids = list();
      listed = { at: performance.now(), ids };
      // A failed listing is not kept: the next post tries again.
      ids.catch(() => {
        if (listed?.ids === ids) listed = null;
      });
    }
    return listed.ids;
  };
  return async (channel) => {
    if (!channel.startsWith('#')) return channel;
    const name = channel.slice(1).toLowerCase();
    const before = listed;
    let id = (await names(false)).get(name);
    // Perhaps made since an older listing was taken: look once more before giving up.
    if (id === undefined && before !== null && before === listed && performance.now() - before.at > 5_000)
      id = (await names(true)).get(name);
    return id ?? notFound(channel);
  };
}

function notFound(channel: string): never {
  throw Object.assign(new Error(`no channel named ${channel} that the app can see`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: 'channel_not_found' },
  });
}

/** The local-mode transport: a digest "posts" by printing, under a header line naming the channel. */
export function createConsoleTransport(output: Writable): DigestTransport {
  return {
    kind: 'console',
    async post(message) {
      output.write(
        `\n──── Digest to ${message.channel} (${message.key}) ────\n${renderText({ text: message.text, blocks: message.blocks })}\n\n`,
      );
      // The occurrence key stands in for Slack's message ts, so a chart can follow "in the thread".
      return { ts: message.key, channel: message.channel };
    },
    async join() {},
    async notifyUser(userId, message) {
      output.write(`\n──── Message to ${userId} ────\n${renderText(message)}\n\n`);
    },
    async uploadChart(_channel, threadTs, chart) {
      try {
        const [path] = await saveReplyFiles([
          {
            filename: `${chart.name}-${threadTs.replace(/[^\w-]/g, '_')}.png`,
            title: chart.title,
            content: chart.png,
          },
        ]);
        output.write(`Chart for ${threadTs}: ${chart.title} saved to ${path}\n`);
        return { ok: true, fileId: path ?? '' };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

/** How hard to try. */
export interface DeliveryPolicy {
  /** Attempts for 5xx, timeouts and network errors, first included (default 3). */
  maxAttempts: number;
  /** First backoff; doubles each retry (default 1 s). */
  backoffMs: number;
  /** Rate-limit waits before giving up (default 5). */
  maxRateLimitWaits: number;
}

/** The default policy. */
export const DEFAULT_POLICY: DeliveryPolicy = { maxAttempts: 3, backoffMs: 1000, maxRateLimitWaits: 5 };

/** Spaces posts per channel and holds every post back after a rate limit. */
export interface Pacer {
  /** Resolves when a post to `channel` may start, and reserves that slot. */
  wait(channel: string): Promise<void>;
  /** Nothing is posted anywhere for the next `ms`. */
  holdAll(ms: number): void;
}

/** A pacer allowing one post per `intervalMs` per channel. */
export function createPacer(timers: Timers, intervalMs: number): Pacer {
  const next = new Map<string, number>();
  let heldUntil = 0;
  return {
    async wait(channel) {
      for (;;) {
        const now = timers.monotonic();
        const at = Math.max(next.get(channel) ?? 0, heldUntil);
        if (at <= now) {
          // Reserved before any await, so two posts to one channel can never take the same slot.
          next.set(channel, now + intervalMs);
          if (next.size > 10_000) {
            for (const [c, t] of next) if (t < now) next.delete(c);
          }
          return;
        }
        await timers.sleep(at - now);
      }
    },
    holdAll(ms) {
      heldUntil = Math.max(heldUntil, timers.monotonic() + ms);
    },
  };
}

/** The outcome of posting one digest. */
export type PostOutcome =
  | { ok: true; ts: string | null; channel: string; joined: boolean; attempts: number }
  | { ok: false; code: string; pause: boolean; attempts: number };

/** What a failure means. */
export type FailureKind = 'rate_limited' | 'transient' | 'not_in_channel' | 'pause' | 'blocks' | 'other';

const PAUSE_CODES = new Set([
  'channel_not_found',
  'is_archived',
  'channel_is_archived',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'invalid_auth',
  'not_authed',
]);

/** Reads a Web API client error (duck-typed on its documented codes) into a decision and a short code. */
export function classifyFailure(error: unknown): { kind: FailureKind; code: string; retryAfterMs?: number } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    data?: { error?: unknown };
    statusCode?: unknown;
    retryAfter?: unknown;
  };
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      const seconds = typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter : 1;
      return { kind: 'rate_limited', code: 'ratelimited', retryAfterMs: seconds * 1000 };
    }
    case 'slack_webapi_http_error': {
      const status = Number(e.statusCode);
      return { kind: status >= 500 ? 'transient' : 'other', code: `http_${String(e.statusCode)}` };
    }
    case 'slack_webapi_request_error':
      return { kind: 'transient', code: 'request_error' };
    case 'slack_webapi_platform_error': {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'platform_error';
      if (code === 'not_in_channel') return { kind: 'not_in_channel', code };
      if (PAUSE_CODES.has(code)) return { kind: 'pause', code };
      if (code === 'invalid_blocks' || code === 'invalid_blocks_format') return { kind: 'blocks', code };
      if (code === 'internal_error' || code === 'fatal_error' || code === 'service_unavailable')
        return { kind: 'transient', code };
      if (code === 'ratelimited') return { kind: 'rate_limited', code, retryAfterMs: 1000 };
      return { kind: 'other', code };
    }
    default: {
      const name = (error as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'transient', code: 'timeout' };
      return { kind: 'other', code: error instanceof Error ? error.message.slice(0, 80) : 'unknown' };
    }
  }
}

/**
 * Posts one digest with the policy above; never throws. Retries after a timeout could in rare cases post
 * twice (the first request may have arrived); 5xx answers from Slack mean it was not posted.
 */
export async function postDigest(
  deps: { transport: DigestTransport; timers: Timers; pacer: Pacer; logger: Logger; policy?: DeliveryPolicy },
  message: DigestPost,
  context: Record<string, unknown>,
): Promise<PostOutcome> {
  const { transport, timers, pacer, logger } = deps;
  const policy = deps.policy ?? DEFAULT_POLICY;
  let attempts = 0;
  let rateLimitWaits = 0;
  let joined = false;
  let post = message;
  for (;;) {
    await pacer.wait(post.channel);
    attempts++;
    try {
      const { ts, channel } = await transport.post(post);
      return { ok: true, ts, channel, joined, attempts };
    } catch (error) {
      const failure = classifyFailure(error);
      const log = { ...context, code: failure.code, attempt: attempts };
      switch (failure.kind) {
        case 'rate_limited':
          if (++rateLimitWaits > policy.maxRateLimitWaits) {
            logger.error('digest still rate limited; giving up for now', log);
            return { ok: false, code: failure.code, pause: false, attempts };
          }
          logger.warn('digest rate limited; waiting Retry-After', {
            ...log,
            retryAfterMs: failure.retryAfterMs,
          });
          pacer.holdAll(failure.retryAfterMs ?? 1000);
          attempts--;
          continue;
        case 'transient': {
          if (attempts >= policy.maxAttempts) {
            logger.error('digest failed after retries', log);
            return { ok: false, code: failure.code, pause: false, attempts };
          }
          const wait = policy.backoffMs * 2 ** (attempts - 1);
          logger.warn('digest post failed; retrying', { ...log, retryInMs: wait });
          await timers.sleep(wait);
          continue;
        }
        case 'not_in_channel': {
          if (joined) return { ok: false, code: failure.code, pause: true, attempts };
          try {
            await transport.join(post.channel);
            joined = true;
            attempts--;
            logger.info('joined a public channel to post a digest', { ...context, channel: post.channel });
            continue;
          } catch (joinError) {
            const joinFailure = classifyFailure(joinError);
            logger.warn('could not join the channel of a digest', { ...context, code: joinFailure.code });
            // A private channel cannot be joined, only invited to: that needs the owner.
            const code = joinFailure.kind === 'pause' ? joinFailure.code : failure.code;
            return { ok: false, code, pause: true, attempts };
          }
        }
        case 'pause':
          logger.error('digest cannot reach its channel', log);
          return { ok: false, code: failure.code, pause: true, attempts };
        case 'blocks':
          if (post.blocks.length > 0) {
            // The text alone is a complete digest: send that rather than nothing.
            logger.error('Slack refused the digest blocks; sending the text only', log);
            post = { ...post, blocks: [] };
            attempts--;
            continue;
          }
          return { ok: false, code: failure.code, pause: false, attempts };
        default:
          logger.error('digest post failed', log);
          return { ok: false, code: failure.code, pause: false, attempts };
      }
    }
  }
}

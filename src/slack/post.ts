/**
 * The one way anything of ours reaches a channel: shared replies, digests and files all go through
 * `sendToChannel`, with one policy.
 *
 * - HTTP 429: wait the Retry-After (holding back every paced post meanwhile), at most `maxRateLimitWaits` times.
 * - 5xx, timeouts, network errors, Slack's temporary errors: retry with exponential backoff, `maxAttempts` in all.
 * - `not_in_channel` / `channel_not_found`: look the conversation up; join it and try again if it is public,
 *   otherwise say what keeps us out (a private channel needs an invitation, an archived one cannot take posts).
 * - Blocks Slack refuses: the text alone is a complete message, so send that rather than nothing.
 * - Anything else: give up at once with a classified problem; the caller tells the person.
 *
 * The Web API client used here must not retry by itself (createPostingClient), or there would be two policies.
 */
import { webApi as slackWebApi, type webApi } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { PostProblem } from '../blocks/share-messages.ts';
import { DEFAULT_POLICY, type DeliveryPolicy, type Pacer } from '../digest/deliver.ts';
import type { Reply } from '../domain/reply.ts';
import { systemTimers, type Timers } from '../domain/timers.ts';
import type { Logger } from '../logger.ts';
import { boltLogger } from './bolt-logger.ts';
import { classifyFailure, describeError, PAUSE_CODES, slackErrorCode } from './errors.ts';

/** The part of a Web API client the posting path needs; a real `WebClient` fits. */
export type SlackCaller = Pick<webApi.WebClient, 'apiCall'>;

/** How one send is paced, retried and logged. */
export interface SendOptions {
  /** What is being posted, for log lines: "digest", "shared reply", "file". */
  what: string;
  logger: Logger;
  context: Record<string, unknown>;
  policy?: DeliveryPolicy;
  timers?: Timers;
  /** Spaces posts per channel and holds all of them after a 429; without one, a 429 just waits. */
  pacer?: Pacer;
}

/** The outcome of a send: its value, or the problem with the code Slack gave and whether to stop trying. */
export type ChannelOutcome<T> =
  | { ok: true; value: T; joined: boolean; attempts: number }
  | { ok: false; code: string; problem: PostProblem; pause: boolean; attempts: number; error: unknown };

/** A message for a channel. */
export interface ChannelMessage {
  text: string;
  blocks?: KnownBlock[];
  /** Message metadata, so a post can be recognised later (digests carry their occurrence key). */
  metadata?: { event_type: string; event_payload: Record<string, string> };
}

const NOT_THERE = new Set(['not_in_channel', 'channel_not_found']);
const RESTRICTED = new Set([
  'restricted_action',
  'restricted_action_read_only_channel',
  'ekm_access_denied',
  'team_access_not_granted',
]);
// Problems only a person can solve (an invitation, another channel): retrying later will not help.
const PAUSING_PROBLEMS = new Set<PostProblem>([
  'not_in_private_channel',
  'archived',
  'direct_message',
  'join_failed',
]);

/** What a posting client is made from. */
export interface PostingClientOptions {
  token: string;
  apiUrl?: string;
  /** Per-call timeout (default 10 s); a timeout counts as a failed attempt. */
  timeoutMs?: number;
  logger: Logger;
}

/** A Web API client for posting that never retries or waits by itself: `sendToChannel` decides both. */
export function createPostingClient(options: PostingClientOptions): webApi.WebClient {
  return new slackWebApi.WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 10_000,
    // The client's own lines go through our logger (format, secret redaction); failures are logged by callers.
    logger: boltLogger(options.logger, slackWebApi.LogLevel.ERROR),
  });
}

/** Posts a message to a channel with the one policy; resolves with its ts and the channel id Slack reports. */
export function postToChannel(
  client: SlackCaller,
  channel: string,
  message: ChannelMessage,
  options: SendOptions,
): Promise<ChannelOutcome<{ ts: string | null; channel: string }>> {
  return sendToChannel(
    client,
    channel,
    async (textOnly) => {
      const result = (await client.apiCall('chat.postMessage', {
        channel,
        text: message.text,
        ...(textOnly || !message.blocks ? {} : { blocks: message.blocks }),
        unfurl_links: false,
        unfurl_media: false,
        ...(message.metadata ? { metadata: message.metadata } : {}),
      })) as { ts?: string; channel?: string };
      return { ts: result.ts ?? null, channel: result.channel ?? channel };
    },
    options,
  );
}

/**
 * Runs `send` (anything that puts something in `channel`) under the policy above; never throws. `send` is
 * told when Slack refused the blocks, so it can send the text alone. Retries after a timeout could in rare
 * cases post twice (the first request may have arrived); 5xx answers from Slack mean it was not posted.
 */
export async function sendToChannel<T>(
  client: SlackCaller,
  channel: string,
  send: (textOnly: boolean) => Promise<T>,
  options: SendOptions,
): Promise<ChannelOutcome<T>> {
  const { logger, what, pacer } = options;
  const policy = options.policy ?? DEFAULT_POLICY;
  const timers = options.timers ?? systemTimers;
  const state = { attempts: 0, rateLimitWaits: 0, joined: false, textOnly: false };
  for (;;) {
    await pacer?.wait(channel);
    state.attempts++;
    try {
      return { ok: true, value: await send(state.textOnly), joined: state.joined, attempts: state.attempts };
    } catch (error) {
      const failure = classifyFailure(error);
      const log = { ...options.context, code: failure.code, attempt: state.attempts };
      const fail = (problem: PostProblem, code = failure.code): ChannelOutcome<T> => ({
        ok: false,
        code,
        problem,
        pause: PAUSING_PROBLEMS.has(problem) || PAUSE_CODES.has(code),
        attempts: state.attempts,
        error,
      });
      switch (failure.kind) {
        case 'rate_limited': {
          const waitMs = failure.retryAfterMs ?? 1000;
          if (
            ++state.rateLimitWaits > policy.maxRateLimitWaits ||
            waitMs > (policy.maxRetryAfterMs ?? Infinity)
          )
            return fail('rate_limited');
          logger.warn(`${what} rate limited; waiting Retry-After`, { ...log, retryAfterMs: waitMs });
          if (pacer) pacer.holdAll(waitMs);
          else await timers.sleep(waitMs);
          state.attempts--;
          continue;
        }
        case 'transient': {
          if (state.attempts >= policy.maxAttempts) return fail('other');
          const wait = policy.backoffMs * 2 ** (state.attempts - 1);
          logger.warn(`${what} failed; retrying`, { ...log, retryInMs: wait });
          await timers.sleep(wait);
          continue;
        }
        case 'blocks':
          if (state.textOnly) return fail('other');
          logger.error(`Slack refused the blocks of a ${what}; sending the text only`, log);
          state.textOnly = true;
          state.attempts--;
          continue;
        default: {
          if (!NOT_THERE.has(failure.code) || state.joined) return fail(problemOf(failure.code));
          const refused = await joinIfPublic(client, channel, failure.code, options);
          if (refused) return fail(refused.problem, refused.code);
          state.joined = true;
          state.attempts--;
        }
      }
    }
  }
}

/**
 * After `not_in_channel` or `channel_not_found`: joins the conversation if it is a public channel (null), or
 * says what keeps the bot out. A private channel or a DM the bot is not part of is invisible to it.
 */
async function joinIfPublic(
  client: SlackCaller,
  channel: string,
  code: string,
  options: SendOptions,
): Promise<{ problem: PostProblem; code: string } | null> {
  let info: { is_private?: boolean; is_im?: boolean; is_mpim?: boolean; is_archived?: boolean } | undefined;
  try {
    info = ((await client.apiCall('conversations.info', { channel })) as { channel?: typeof info }).channel;
  } catch (error) {
    const infoCode = slackErrorCode(error) ?? 'unknown';
    if (NOT_THERE.has(infoCode)) return { problem: 'not_in_private_channel', code };
    return { problem: problemOf(infoCode), code: infoCode };
  }
  if (!info) return { problem: 'not_in_private_channel', code };
  if (info.is_archived) return { problem: 'archived', code: 'is_archived' };
  if (info.is_im || info.is_mpim) return { problem: 'direct_message', code };
  if (info.is_private) return { problem: 'not_in_private_channel', code };
  try {
    await client.apiCall('conversations.join', { channel });
  } catch (error) {
    const joinCode = slackErrorCode(error) ?? 'unknown';
    options.logger.warn(`could not join a public channel to post a ${options.what}`, {
      ...options.context,
      ...describeError(error),
    });
    const problem = problemOf(joinCode);
    return { problem: problem === 'other' ? 'join_failed' : problem, code: joinCode };
  }
  options.logger.info(`joined a public channel to post a ${options.what}`, { ...options.context, channel });
  return null;
}

function problemOf(code: string): PostProblem {
  if (code === 'is_archived' || code === 'channel_is_archived') return 'archived';
  if (code === 'ratelimited') return 'rate_limited';
  if (RESTRICTED.has(code)) return 'restricted';
  if (NOT_THERE.has(code)) return 'not_in_private_channel';
  return 'other';
}

/**
 * The app's direct-message conversation with a person, opened if needed. Falls back to the user id, which
 * chat.postMessage also accepts as a DM target.
 */
export async function openDirectMessage(client: SlackCaller, userId: string): Promise<string> {
  const opened = (await client.apiCall('conversations.open', { users: userId })) as {
    channel?: { id?: string };
  };
  return opened.channel?.id ?? userId;
}

/** Sends a message to a person as a direct message from the app; Slack API errors are thrown to the caller. */
export async function sendDirectMessage(
  client: SlackCaller,
  userId: string,
  message: Pick<Reply, 'text' | 'blocks'>,
): Promise<void> {
  const channel = await openDirectMessage(client, userId);
  await client.apiCall('chat.postMessage', { channel, text: message.text, blocks: message.blocks });
}

/**
 * Posting a message to a channel for everyone, joining public channels the bot is not in yet.
 * Rate limits are handled by the Web API client (it waits Retry-After and retries); what remains
 * here are the answers that need a decision.
 */
import type { webApi } from '@slack/bolt';
import type { PostProblem } from '../blocks/share.ts';
import type { Reply } from '../domain/reply.ts';
import type { Logger } from '../logger.ts';
import { describeError, slackErrorCode } from './errors.ts';

/** Whether the post reached the channel, and if not, what the user can do about it. */
export type PostResult =
  | { ok: true; ts: string | undefined; joined: boolean }
  | { ok: false; problem: PostProblem; code: string };

const NOT_THERE = new Set(['not_in_channel', 'channel_not_found']);
const RESTRICTED = new Set([
  'restricted_action',
  'restricted_action_read_only_channel',
  'ekm_access_denied',
  'team_access_not_granted',
]);

/** Posts `message` to `channel`; on `not_in_channel` joins the channel if it is public and tries once more. */
export async function postToChannel(
  client: webApi.WebClient,
  channel: string,
  message: Reply,
  logger: Logger,
  context: Record<string, unknown>,
): Promise<PostResult> {
  const post = async () => {
    const result = await client.chat.postMessage({
      channel,
      text: message.text,
      // Our blocks come from @slack/types 2; the client declares its own copy of the same shapes.
      blocks: message.blocks as never,
      unfurl_links: false,
      unfurl_media: false,
    });
    return result.ts;
  };

  let code: string;
  try {
    return { ok: true, ts: await post(), joined: false };
  } catch (error) {
    code = slackErrorCode(error) ?? 'unknown';
    if (!NOT_THERE.has(code)) return failed(code, error, logger, context);
  }

  // Not a member (or cannot see the channel): find out what kind of conversation it is.
  let info: { is_private?: boolean; is_im?: boolean; is_mpim?: boolean; is_archived?: boolean } | undefined;
  try {
    info = (await client.conversations.info({ channel })).channel;
  } catch (error) {
    const infoCode = slackErrorCode(error) ?? 'unknown';
    // A private channel or a DM the bot is not part of is invisible to it: that is the invite case.
    if (NOT_THERE.has(infoCode)) return { ok: false, problem: 'not_in_private_channel', code };
    return failed(infoCode, error, logger, context);
  }
  if (!info) return { ok: false, problem: 'not_in_private_channel', code };
  if (info.is_archived) return { ok: false, problem: 'archived', code: 'is_archived' };
  if (info.is_im || info.is_mpim) return { ok: false, problem: 'direct_message', code };
  if (info.is_private) return { ok: false, problem: 'not_in_private_channel', code };

  try {
    await client.conversations.join({ channel });
  } catch (error) {
    const joinCode = slackErrorCode(error) ?? 'unknown';
    logger.warn('could not join a public channel to share a reply', { ...context, ...describeError(error) });
    if (joinCode === 'is_archived') return { ok: false, problem: 'archived', code: joinCode };
    if (joinCode === 'ratelimited') return { ok: false, problem: 'rate_limited', code: joinCode };
    return { ok: false, problem: 'join_failed', code: joinCode };
  }
  try {
    return { ok: true, ts: await post(), joined: true };
  } catch (error) {
    return failed(slackErrorCode(error) ?? 'unknown', error, logger, context);
  }
}

function failed(code: string, error: unknown, logger: Logger, context: Record<string, unknown>): PostResult {
  logger.error('could not post a shared reply to the channel', { ...context, ...describeError(error) });
  if (code === 'is_archived' || code === 'channel_is_archived')
    return { ok: false, problem: 'archived', code };
  if (code === 'ratelimited') return { ok: false, problem: 'rate_limited', code };
  if (RESTRICTED.has(code)) return { ok: false, problem: 'restricted', code };
  if (NOT_THERE.has(code)) return { ok: false, problem: 'not_in_private_channel', code };
  return { ok: false, problem: 'other', code };
}

/**
 * The app's direct-message conversation with a person, opened if needed. Falls back to the user id, which
 * chat.postMessage also accepts as a DM target.
 */
export async function openDirectMessage(
  client: Pick<webApi.WebClient, 'apiCall'>,
  userId: string,
): Promise<string> {
  const opened = (await client.apiCall('conversations.open', { users: userId })) as {
    channel?: { id?: string };
  };
  return opened.channel?.id ?? userId;
}

/** Sends a message to a person as a direct message from the app; Slack API errors are thrown to the caller. */
export async function sendDirectMessage(
  client: Pick<webApi.WebClient, 'apiCall'>,
  userId: string,
  message: Pick<Reply, 'text' | 'blocks'>,
): Promise<void> {
  const channel = await openDirectMessage(client, userId);
  await client.apiCall('chat.postMessage', { channel, text: message.text, blocks: message.blocks });
}

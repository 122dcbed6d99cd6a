/**
 * Builders for what the Slack layer adds around command replies: the "Share to channel" button, the shared
 * channel version, "Working on it…", and the short private notes when sharing cannot happen.
 *
 * Share convention for reply builders: a Reply whose `data.perPerson === true` is about one person
 * (user-level predictions, recommendations) and is never shared; `data.cohortSize` (a number of people)
 * below MIN_COHORT_SIZE is not shared either; error replies (`data.error`) are not shareable.
 */
import type { KnownBlock } from '@slack/types';
import type { CommandLine, Reply } from '../domain/reply.ts';
import { SHARE_REPLY_ACTION, stripPrefix } from './command-buttons.ts';
import {
  actions,
  button,
  capBlocks,
  context,
  escapeMrkdwn,
  fallbackText,
  LIMITS,
  section,
  truncate,
} from './kit.ts';

/** Whether a reply may be posted to a channel, and if not, why. */
export type ShareVerdict =
  | { ok: true }
  | { ok: false; reason: 'per_person' | 'error' | 'small_cohort' | 'too_long'; cohortSize?: number };

/** Block id of the actions block that carries the Share button. */
export const SHARE_BLOCK_ID = 'reply_share';

/** Decides whether `reply` (the answer to the parsed `line`) may be shared with a channel. */
export function shareVerdict(
  reply: Reply,
  line: CommandLine,
  options: { minCohortSize: number },
): ShareVerdict {
  const data = (typeof reply.data === 'object' && reply.data !== null ? reply.data : {}) as Record<
    string,
    unknown
  >;
  if (data.perPerson === true || addressesOnePerson(line)) return { ok: false, reason: 'per_person' };
  if (typeof data.error === 'string') return { ok: false, reason: 'error' };
  if (typeof data.cohortSize === 'number' && data.cohortSize < options.minCohortSize) {
    return { ok: false, reason: 'small_cohort', cohortSize: data.cohortSize };
  }
  if (stripPrefix(line.text).length > LIMITS.buttonValue) return { ok: false, reason: 'too_long' };
  return { ok: true };
}

/**
 * The private reply as sent to the person who asked: the builder's blocks plus a "Share to channel" button
 * when the verdict allows it. Keeps within the 50-block message limit.
 */
export function withShareButton(reply: Reply, line: CommandLine, verdict: ShareVerdict): Reply {
  if (!verdict.ok) {
    if (verdict.reason !== 'too_long') return { ...reply, blocks: capBlocks(reply.blocks) };
    const note = context(['This command is too long to share; shorten it to share the answer.']);
    return { ...reply, blocks: [...capBlocks(reply.blocks, LIMITS.messageBlocks - 1), note] };
  }
  const share = actions(
    [button('Share to channel', SHARE_REPLY_ACTION, stripPrefix(line.text), 'primary')],
    SHARE_BLOCK_ID,
  );
  return { ...reply, blocks: [...capBlocks(reply.blocks, LIMITS.messageBlocks - 1), share] };
}

/** The version of a reply posted to a channel: the same blocks, plus who shared it and the command. */
export function buildSharedMessage(reply: Reply, options: { userId: string; command: string }): Reply {
  const command = truncate(`/audience ${stripPrefix(options.command)}`, 300);
  // The user id comes from Slack's own payload, so the mention is safe; the command is typed text.
  const userMention = /^[UW][A-Z0-9]+$/.test(options.userId)
    ? `<@${options.userId}>`
    : escapeMrkdwn(options.userId);
  const note = context([`Shared by ${userMention} · \`${escapeMrkdwn(command)}\``]);
  const blocks: KnownBlock[] = [...capBlocks(reply.blocks, LIMITS.messageBlocks - 1), note];
  return { text: reply.text, blocks, data: reply.data };
}

/** The placeholder shown while a slow command runs; replaced by the answer. */
export function buildWorkingMessage(command: string): Reply {
  const line = escapeMrkdwn(truncate(`/audience ${stripPrefix(command)}`.trim(), 200));
  return {
    text: fallbackText(`Working on it… ${line}`),
    blocks: [section(`:hourglass_flowing_sand: Working on it… \`${line}\``)],
  };
}

/** Why a reply stays private, said in one line with what to do instead. */
export function buildShareRefused(
  verdict: Exclude<ShareVerdict, { ok: true }>,
  minCohortSize: number,
): Reply {
  const reasons: Record<typeof verdict.reason, string> = {
    per_person:
      'This answer is about one person, so it stays private to you. Share a segment-level or audience-level answer instead.',
    error: 'There is nothing to share: the command did not produce an answer. Fix the command and try again.',
    small_cohort: `This answer covers fewer than ${minCohortSize} people, so it is not shown in channels. Widen the filter to share it.`,
    too_long: 'This command is too long to share. Shorten it and run it again.',
  };
  return notice(reasons[verdict.reason]);
}

/** What keeps the bot from posting in a conversation, as the Slack layer found out. */
export type PostProblem =
  | 'not_in_private_channel'
  | 'join_failed'
  | 'archived'
  | 'direct_message'
  | 'restricted'
  | 'rate_limited'
  | 'other';

/** A private note saying why the share did not reach the channel and how to fix it. */
export function buildPostProblem(problem: PostProblem, detail?: string): Reply {
  const lines: Record<PostProblem, string> = {
    not_in_private_channel:
      "I'm not a member of this channel, so I can't post here. Invite me with `/invite @Audience Insights`, then press Share again.",
    join_failed:
      "I couldn't join this channel. Invite me with `/invite @Audience Insights`, then press Share again.",
    archived: 'This channel is archived, so nothing can be posted to it. Share from an active channel.',
    direct_message:
      "I can't post in this conversation. Run the command in a channel I'm in (or invite me with `/invite @Audience Insights`) and share from there.",
    restricted:
      "Your workspace settings don't allow me to post here. Ask a Slack admin, or share from another channel.",
    rate_limited: 'Slack is asking me to slow down right now. Wait a minute and press Share again.',
    other: 'Something went wrong while posting to the channel. It has been logged; try again in a minute.',
  };
  const suffix = detail ? ` (Slack said: \`${escapeMrkdwn(truncate(detail, 100))}\`)` : '';
  return notice(`${lines[problem]}${problem === 'other' ? suffix : ''}`);
}

/** A one-line private notice with a warning sign; `message` is mrkdwn whose typed parts are already escaped. */
export function notice(message: string): Reply {
  return { text: fallbackText(message), blocks: [section(`:warning: ${message}`)] };
}

// A command naming one profile (user=…) answers about one person whatever its reply data says.
function addressesOnePerson(line: CommandLine): boolean {
  return line.args !== null && Object.hasOwn(line.args.options, 'user');
}

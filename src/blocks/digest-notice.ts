/**
 * The direct message a digest owner gets when their digest cannot be delivered and was paused: what
 * happened, in one sentence, and exactly how to fix it. Pure.
 */
import type { Reply } from '../domain/reply.ts';
import { context, escapeMrkdwn, fallbackText, section } from './kit.ts';

/** What a delivery failure means for people: a short reason (also stored as `last_error`) and the fix. */
export interface DeliveryProblem {
  code: string;
  /** One line, stored as the schedule's `last_error`. */
  reason: string;
  /** What the owner should do. */
  fix: string;
}

/** Explains a Slack error code of a failed digest delivery for `channel` of digest `scheduleId`. */
export function describeDeliveryProblem(code: string, channel: string, scheduleId: string): DeliveryProblem {
  const where = channelLabel(channel);
  const resume = `then resume it with \`/audience digest resume ${scheduleId}\``;
  const recreate = `or delete it (\`/audience digest delete ${scheduleId}\`) and create one for another channel with \`/audience digest\``;
  switch (code) {
    case 'channel_not_found':
      return {
        code,
        reason: `${code}: the channel no longer exists, or it is private and the app is not in it`,
        fix: `If ${where} is private, invite the app with \`/invite @Audience Insights\`, ${resume}; ${recreate}.`,
      };
    case 'is_archived':
    case 'channel_is_archived':
      return {
        code,
        reason: `${code}: the channel is archived`,
        fix: `Unarchive ${where}, ${resume}; ${recreate}.`,
      };
    case 'not_in_channel':
    case 'method_not_supported_for_channel_type':
      return {
        code,
        reason: `${code}: the app is not a member of this private channel`,
        fix: `Invite the app to ${where} with \`/invite @Audience Insights\`, ${resume}.`,
      };
    case 'account_inactive':
    case 'token_revoked':
    case 'token_expired':
    case 'invalid_auth':
    case 'not_authed':
      return {
        code,
        reason: `${code}: Slack no longer accepts the app's token`,
        fix: `A workspace admin has to reinstall Audience Insights (or update SLACK_BOT_TOKEN), ${resume}.`,
      };
    case 'request_error':
    case 'timeout':
    case 'ratelimited':
      return {
        code,
        reason: `${code}: Slack could not be reached or kept refusing for now, after several tries`,
        fix: "Press Retry in the app's Home tab to send it again.",
      };
    case 'content_error':
      return {
        code,
        reason: `${code}: the digest could not be computed from the data (see the app's log)`,
        fix: "Check the data (for example with `/audience segments`), then press Retry in the app's Home tab.",
      };
    default:
      return {
        code,
        reason: /^http_5/.test(code)
          ? `${code}: Slack had an error, after several tries`
          : `${code}: Slack refused the message`,
        fix: `Check the app's access to ${where}, ${resume}; press Retry in the app's Home tab to send the missed digest.`,
      };
  }
}

/** The DM to the owner of a paused digest. */
export function buildDeliveryProblemNotice(options: {
  scheduleId: string;
  channel: string;
  problem: DeliveryProblem;
  /** The occurrence that failed, as people in the schedule's zone read it. */
  due: string | null;
}): Reply {
  const { problem } = options;
  const where = channelLabel(options.channel);
  const when = options.due ? ` due ${escapeMrkdwn(options.due)}` : '';
  const lines = [
    `:warning: Your audience digest *${escapeMrkdwn(options.scheduleId)}* for ${where}${when} could not be delivered, so it is paused.`,
    `*Why:* ${escapeMrkdwn(problem.reason)}.`,
    `*How to fix it:* ${problem.fix}`,
  ];
  return {
    text: fallbackText(
      `Your digest ${options.scheduleId} could not be delivered and is paused (${problem.code}). ${stripMarkup(problem.fix)}`,
    ),
    blocks: [section(lines.join('\n')), context(['Sent by Audience Insights because you own this digest.'])],
    data: { perPerson: true, scheduleId: options.scheduleId, code: problem.code },
  };
}

/** A channel as a link when it is an id, else the escaped name as typed. */
export function channelLabel(channel: string): string {
  return /^[CGD][A-Z0-9]{2,}$/.test(channel) ? `<#${channel}>` : escapeMrkdwn(channel);
}

function stripMarkup(text: string): string {
  return text.replace(/`/g, '').replace(/<#([A-Z0-9]+)>/g, '#$1');
}

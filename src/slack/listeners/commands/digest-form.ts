import type { SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { buildDigestModal } from '../../../blocks/digest-modal.ts';
import { buildErrorMessage } from '../../../blocks/help-message.ts';
import { ADD_EXAMPLE } from '../../../digest/validate.ts';
import { canonicalTimeZone } from '../../../domain/zoned-time.ts';
import { answerPrivately } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { describeError } from '../../errors.ts';

/** Whether a `/audience` line asks for the digest form: `digest` with nothing after it. */
export function isDigestFormRequest(text: string): boolean {
  return /^\s*(\/audience\s+)?digest\s*$/i.test(text);
}

/**
 * `/audience digest` without words, in Slack: opens the "New audience digest" modal with the person's own
 * time zone (users.info) and the current channel preselected. Called right after the acknowledgement,
 * since the trigger_id expires 3 seconds after the command. If the modal cannot open, the person gets
 * the text form instead.
 */
export async function openDigestForm(
  deps: SlackDeps,
  args: { client: webApi.WebClient; command: SlackCommandMiddlewareArgs['command'] },
): Promise<void> {
  const { client, command } = args;
  const context = { user: command.user_id, channel: command.channel_id };
  let timeZone = 'UTC';
  try {
    const info = await client.users.info({ user: command.user_id });
    timeZone = canonicalTimeZone(info.user?.tz ?? '') ?? 'UTC';
  } catch (error) {
    deps.logger.warn('could not read the time zone of a digest creator; defaulting to UTC', {
      ...context,
      ...describeError(error),
    });
  }
  const metadata = JSON.stringify({ responseUrl: command.response_url, channelId: command.channel_id });
  try {
    await client.views.open({
      trigger_id: command.trigger_id,
      view: buildDigestModal({
        channelId: command.channel_id || null,
        timeZone,
        privateMetadata: metadata,
      }),
    });
  } catch (error) {
    deps.logger.error('could not open the digest form', { ...context, ...describeError(error) });
    const reply = buildErrorMessage(
      'The digest form could not be opened (it has to open within 3 seconds). Try again, or use the text form.',
      `Example: ${ADD_EXAMPLE}`,
    );
    await answerPrivately(
      deps,
      { responseUrl: command.response_url, userId: command.user_id },
      { response_type: 'ephemeral', text: reply.text, blocks: reply.blocks },
      context,
    );
  }
}

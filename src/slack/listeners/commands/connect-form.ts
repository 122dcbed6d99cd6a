import type { SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import { buildConnectModal } from '../../../blocks/connections-message.ts';
import { buildErrorMessage } from '../../../blocks/help-message.ts';
import { buildRefusal } from '../../../blocks/refusal.ts';
import { CONNECTORS } from '../../../connectors/registry.ts';
import { adminRefusal } from '../../../privacy/roles.ts';
import { answerPrivately } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { describeError } from '../../errors.ts';

/** Whether a `/audience` line asks for the connect form: `connect` with nothing after it. */
export function isConnectFormRequest(text: string): boolean {
  return /^\s*(\/audience\s+)?connect\s*$/i.test(text);
}

/**
 * `/audience connect` in Slack: admins get the "Connect a platform" modal (opened at once: the trigger_id expires
 * 3 seconds after the command); anyone else gets the same refusal the router gives for admin-only commands.
 */
export async function openConnectForm(
  deps: SlackDeps,
  args: { client: webApi.WebClient; command: SlackCommandMiddlewareArgs['command'] },
): Promise<void> {
  const { client, command } = args;
  const context = { user: command.user_id, channel: command.channel_id };
  const target = { responseUrl: command.response_url, userId: command.user_id };
  const refused = adminRefusal(deps.config, 'connect', {
    userId: command.user_id,
    channelId: command.channel_id || null,
    surface: 'slack',
  });
  if (refused) {
    const reply = buildRefusal(`${refused.charAt(0).toUpperCase()}${refused.slice(1)}.`);
    await answerPrivately(
      deps,
      target,
      { response_type: 'ephemeral', text: reply.text, blocks: reply.blocks },
      context,
    );
    return;
  }
  const platforms = Object.entries(CONNECTORS).flatMap(([kind, entry]) =>
    entry ? [{ kind, label: entry.label }] : [],
  );
  try {
    await client.views.open({
      trigger_id: command.trigger_id,
      view: buildConnectModal(platforms, JSON.stringify({ responseUrl: command.response_url })),
    });
  } catch (error) {
    deps.logger.error('could not open the connect form', { ...context, ...describeError(error) });
    const reply = buildErrorMessage(
      'The connect form could not be opened (it has to open within 3 seconds). Try again.',
      'On the server: audience connect instagram|youtube|shopify --token-file FILE …',
    );
    await answerPrivately(
      deps,
      target,
      { response_type: 'ephemeral', text: reply.text, blocks: reply.blocks },
      context,
    );
  }
}

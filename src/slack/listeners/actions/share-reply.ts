import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { notice } from '../../../blocks/share.ts';
import { deliver } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { shareReply } from '../../share.ts';

/** "Share to channel" (`share_reply`): posts the answer of the command in the button value to the channel. */
export function createShareReplyListener(deps: SlackDeps) {
  return async ({
    ack,
    body,
    action,
    respond,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    try {
      await ack();
    } catch (error) {
      deps.logger.error('could not acknowledge a Share press', { error, user: body.user.id });
      return;
    }
    const channelId = body.channel?.id ?? (body.container?.channel_id as string | undefined) ?? null;
    const context = { user: body.user.id, channel: channelId, action: action.action_id };
    try {
      const command = action.value ?? '';
      if (command.trim() === '') {
        await deliver(
          respond,
          {
            ...notice(
              'This Share button has no command attached. Run the command again and share its answer.',
            ),
            response_type: 'ephemeral',
            replace_original: false,
          },
          deps,
          context,
        );
        return;
      }
      await shareReply(deps, { command, userId: body.user.id, channelId, client, respond, context });
    } catch (error) {
      deps.logger.error('Share failed unexpectedly', { ...context, error });
    }
  };
}

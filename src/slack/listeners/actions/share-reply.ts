import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { notice } from '../../../blocks/share-messages.ts';
import { answerPrivately } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { shareReply } from '../../share-reply.ts';
import { channelOf, listener, pressContext } from '../ack.ts';

/** "Share to channel" (`share_reply`): posts the answer of the command in the button value to the channel. */
export function createShareReplyListener(deps: SlackDeps) {
  return listener<SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs>(
    deps,
    { what: 'a Share press', context: pressContext },
    async ({ body, action }, context) => {
      const command = action.value ?? '';
      const responseUrl = body.response_url ?? null;
      if (command.trim() === '') {
        await answerPrivately(
          deps,
          { responseUrl, userId: body.user.id },
          {
            ...notice(
              'This Share button has no command attached. Run the command again and share its answer.',
            ),
            response_type: 'ephemeral',
            replace_original: false,
          },
          context,
        );
        return;
      }
      await shareReply(deps, {
        command,
        userId: body.user.id,
        channelId: channelOf(body),
        responseUrl,
        context,
      });
    },
  );
}

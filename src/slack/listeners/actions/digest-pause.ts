import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { answerPrivately } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { channelOf, listener, pressContext } from '../ack.ts';

/**
 * "Pause this digest" (`digest_pause`, value = schedule id) on a digest in a channel: runs
 * `digest pause <id>` for the person who pressed, so the owner/admin check is the command's, and answers
 * privately. Anyone else is told who can pause it.
 */
export function createDigestPauseListener(deps: SlackDeps) {
  return listener<SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs>(
    deps,
    {
      what: 'a digest Pause press',
      context: (args) => ({ ...pressContext(args), schedule: args.action.value }),
    },
    async ({ body, action }, context) => {
      const reply = await deps.router.dispatch(`digest pause ${action.value ?? ''}`.trim(), {
        userId: body.user.id,
        channelId: channelOf(body),
        surface: 'slack',
      });
      if (!body.response_url) {
        deps.logger.warn('a digest Pause press had nowhere to answer', context);
        return;
      }
      await answerPrivately(
        deps,
        { responseUrl: body.response_url, userId: body.user.id },
        { response_type: 'ephemeral', replace_original: false, text: reply.text, blocks: reply.blocks },
        context,
      );
    },
  );
}

import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { deliver } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';

/**
 * "Pause this digest" (`digest_pause`, value = schedule id) on a digest in a channel: runs
 * `digest pause <id>` for the person who pressed, so the owner/admin check is the command's, and answers
 * privately. Anyone else is told who can pause it.
 */
export function createDigestPauseListener(deps: SlackDeps) {
  return async ({
    ack,
    body,
    action,
    respond,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    try {
      await ack();
    } catch (error) {
      deps.logger.error('could not acknowledge a digest Pause press', { error, user: body.user.id });
      return;
    }
    const channelId = body.channel?.id ?? (body.container?.channel_id as string | undefined) ?? null;
    const context = {
      user: body.user.id,
      channel: channelId,
      action: action.action_id,
      schedule: action.value,
    };
    try {
      const reply = await deps.router.dispatch(`digest pause ${action.value ?? ''}`.trim(), {
        userId: body.user.id,
        channelId,
        surface: 'slack',
      });
      if (!body.response_url) {
        deps.logger.warn('a digest Pause press had nowhere to answer', context);
        return;
      }
      await deliver(
        respond,
        { response_type: 'ephemeral', replace_original: false, text: reply.text, blocks: reply.blocks },
        deps,
        context,
      );
    } catch (error) {
      deps.logger.error('digest Pause failed unexpectedly', { ...context, error });
    }
  };
}

import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { answerCommand } from '../../slack/answer.ts';
import type { SlackDeps } from '../../slack/deps.ts';

/**
 * Buttons with action id `run_command:<anything>` (e.g. "Recommend for this segment"): the value is a
 * command line; it runs for the person who pressed and the answer arrives as a new private message.
 */
export function createRunCommandListener(deps: SlackDeps) {
  return async ({
    ack,
    body,
    action,
    respond,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    const receivedAt = performance.now();
    try {
      await ack();
    } catch (error) {
      deps.logger.error('could not acknowledge a command button', { error, user: body.user.id });
      return;
    }
    const channelId = body.channel?.id ?? (body.container?.channel_id as string | undefined) ?? null;
    const context = { user: body.user.id, channel: channelId, action: action.action_id };
    if (!body.response_url) {
      // Buttons outside messages (the Home tab) have nowhere to answer.
      deps.logger.warn('a command button was pressed where no reply is possible', context);
      return;
    }
    try {
      await answerCommand(deps, {
        command: action.value ?? 'help',
        invocation: { userId: body.user.id, channelId, surface: 'slack' },
        respond,
        // A placeholder here could not be replaced later (the response_url points at the button's
        // message), so the answer simply arrives as a new message.
        placement: 'new',
        placeholder: false,
        receivedAt,
        context,
      });
    } catch (error) {
      deps.logger.error('a command button failed unexpectedly', { ...context, error });
    }
  };
}

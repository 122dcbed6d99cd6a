import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { answerCommand } from '../../slack/answer.ts';
import type { SlackDeps } from '../../slack/deps.ts';

/**
 * Paging buttons (`page_command:<anything>`, e.g. "More"): the value is a command line with page=N. In a
 * private answer the next page replaces it; in a channel message (a shared answer) the page arrives as a
 * new private message, so one person's paging never changes what the channel sees.
 */
export function createPageCommandListener(deps: SlackDeps) {
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
      deps.logger.error('could not acknowledge a paging button', { error, user: body.user.id });
      return;
    }
    const channelId = body.channel?.id ?? (body.container?.channel_id as string | undefined) ?? null;
    const context = { user: body.user.id, channel: channelId, action: action.action_id };
    if (!body.response_url) {
      deps.logger.warn('a paging button was pressed where no reply is possible', context);
      return;
    }
    const inPlace = body.container?.is_ephemeral === true;
    try {
      await answerCommand(deps, {
        command: action.value ?? 'help',
        invocation: { userId: body.user.id, channelId, surface: 'slack' },
        respond,
        placement: inPlace ? 'replace' : 'new',
        placeholder: inPlace,
        receivedAt,
        context,
      });
    } catch (error) {
      deps.logger.error('a paging button failed unexpectedly', { ...context, error });
    }
  };
}

import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { answerCommand } from './answer.ts';
import type { SlackDeps } from './deps.ts';

/**
 * A button whose value is a command line, run through the router for the person who pressed it.
 * `inPlace` decides whether the answer replaces the button's message (with a "Working on it…" first) or
 * arrives as a new private message.
 */
export function createCommandButtonHandler(
  deps: SlackDeps,
  options: { what: string; inPlace: (body: BlockButtonAction) => boolean },
) {
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
      deps.logger.error(`could not acknowledge a ${options.what}`, { error, user: body.user.id });
      return;
    }
    const channelId = body.channel?.id ?? (body.container?.channel_id as string | undefined) ?? null;
    const context = { user: body.user.id, channel: channelId, action: action.action_id };
    if (!body.response_url) {
      // Buttons outside messages (the Home tab) have nowhere to answer.
      deps.logger.warn(`a ${options.what} was pressed where no reply is possible`, context);
      return;
    }
    const inPlace = options.inPlace(body);
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
      deps.logger.error(`a ${options.what} failed unexpectedly`, { ...context, error });
    }
  };
}

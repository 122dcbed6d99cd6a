import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { answerCommand } from './answer.ts';
import type { SlackDeps } from './deps.ts';
import { channelOf, listener, pressContext } from './listeners/ack.ts';

/**
 * A button whose value is a command line, run through the router for the person who pressed it.
 * `inPlace` decides whether the answer replaces the button's message (with a "Working on it…" first) or
 * arrives as a new private message.
 */
export function createCommandButtonHandler(
  deps: SlackDeps,
  options: { what: string; inPlace: (body: BlockButtonAction) => boolean },
) {
  return listener<SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs>(
    deps,
    { what: `a ${options.what}`, context: pressContext },
    async ({ body, action }, context, receivedAt) => {
      if (!body.response_url) {
        // Buttons outside messages (the Home tab) have nowhere to answer.
        deps.logger.warn(`a ${options.what} was pressed where no reply is possible`, context);
        return;
      }
      const inPlace = options.inPlace(body);
      await answerCommand(deps, {
        command: action.value ?? 'help',
        invocation: { userId: body.user.id, channelId: channelOf(body), surface: 'slack' },
        responseUrl: body.response_url,
        placement: inPlace ? 'replace' : 'new',
        placeholder: inPlace,
        receivedAt,
        context,
        withFiles: false,
      });
    },
  );
}

import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps.ts';
import { describeError } from '../../errors.ts';
import { sendDirectMessage } from '../../post.ts';
import { listener } from '../ack.ts';

/**
 * "Retry <key>" on the App Home (`digest_retry:<n>`, value = delivery key): runs `digest retry <key>` for
 * the person who pressed (the command checks they own the digest or are an admin), then re-publishes their
 * Home tab with the new status. A refusal or failure also reaches them as a direct message, since a Home
 * button has no private reply.
 */
export function createDigestRetryListener(deps: SlackDeps) {
  return listener<SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs>(
    deps,
    {
      what: 'a digest Retry press',
      context: ({ body, action }) => ({ user: body.user.id, action: action.action_id, key: action.value }),
    },
    async ({ body, action, client }, context) => {
      const userId = body.user.id;
      const reply = await deps.router.dispatch(`digest retry ${action.value ?? ''}`.trim(), {
        userId,
        channelId: null,
        surface: 'slack',
      });
      const data = (reply.data ?? {}) as { status?: unknown };
      if (data.status !== 'delivered') {
        try {
          await sendDirectMessage(client, userId, reply);
        } catch (error) {
          deps.logger.warn('could not tell someone why a digest retry did not go out', {
            ...context,
            ...describeError(error),
          });
        }
      }
      await deps.home.opened(client, userId, false);
    },
  );
}

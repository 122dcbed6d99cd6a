import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps.ts';
import { describeError } from '../../errors.ts';
import { sendDirectMessage } from '../../post.ts';

/**
 * "Retry <key>" on the App Home (`digest_retry:<n>`, value = delivery key): runs `digest retry <key>` for
 * the person who pressed (the command checks they own the digest or are an admin), then re-publishes their
 * Home tab with the new status. A refusal or failure also reaches them as a direct message, since a Home
 * button has no private reply.
 */
export function createDigestRetryListener(deps: SlackDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    try {
      await ack();
    } catch (error) {
      deps.logger.error('could not acknowledge a digest Retry press', { error, user: body.user.id });
      return;
    }
    const userId = body.user.id;
    const context = { user: userId, action: action.action_id, key: action.value };
    try {
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
    } catch (error) {
      deps.logger.error('digest Retry failed unexpectedly', { ...context, error });
    }
  };
}

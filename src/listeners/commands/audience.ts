import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../../logger.ts';
import type { Router } from '../../router/router.ts';

/** The `/audience` slash command: acknowledge at once, then answer privately through respond(). */
export function createAudienceCommandListener(router: Router, logger: Logger) {
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    // Slack drops a command that is not acknowledged within 3 seconds, so nothing may run before ack().
    await ack();
    const reply = await router.dispatch(command.text, {
      userId: command.user_id,
      channelId: command.channel_id,
      surface: 'slack',
    });
    try {
      await respond({ response_type: 'ephemeral', text: reply.text, blocks: reply.blocks });
    } catch (error) {
      logger.error('could not deliver the /audience reply', {
        error,
        user: command.user_id,
        text: command.text,
      });
    }
  };
}

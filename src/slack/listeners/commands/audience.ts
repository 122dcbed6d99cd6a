import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { answerCommand } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { isDigestFormRequest, openDigestForm } from './digest-form.ts';

/** The `/audience` slash command: acknowledge at once, then answer privately through respond(). */
export function createAudienceCommandListener(deps: SlackDeps) {
  return async ({
    command,
    ack,
    respond,
    client,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const receivedAt = performance.now();
    // Slack drops a command that is not acknowledged within 3 seconds, so nothing may run before ack().
    try {
      await ack();
    } catch (error) {
      deps.logger.error('could not acknowledge /audience', { error, user: command.user_id });
      return;
    }
    // `/audience digest` alone opens a form; its trigger_id expires in 3 s, so this cannot wait in the queue.
    if (isDigestFormRequest(command.text)) {
      await openDigestForm(deps, { client, command, respond });
      return;
    }
    const context = {
      user: command.user_id,
      channel: command.channel_id,
      team: command.team_id,
      text: command.text,
    };
    try {
      await answerCommand(deps, {
        command: command.text,
        invocation: { userId: command.user_id, channelId: command.channel_id || null, surface: 'slack' },
        respond,
        placement: 'new',
        placeholder: true,
        receivedAt,
        context,
        client,
      });
    } catch (error) {
      // answerCommand does not throw by design; this is the last line of defence for the process.
      deps.logger.error('/audience failed unexpectedly', { ...context, error });
    }
  };
}

import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { answerCommand } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { listener } from '../ack.ts';
import { isConnectFormRequest, openConnectForm } from './connect-form.ts';
import { isDigestFormRequest, openDigestForm } from './digest-form.ts';

/** The `/audience` slash command: acknowledge at once, then answer privately through the response_url. */
export function createAudienceCommandListener(deps: SlackDeps) {
  return listener<SlackCommandMiddlewareArgs & AllMiddlewareArgs>(
    deps,
    {
      what: '/audience',
      context: ({ command }) => ({
        user: command.user_id,
        channel: command.channel_id,
        team: command.team_id,
        text: command.text,
      }),
    },
    async ({ command, client }, context, receivedAt) => {
      // `/audience digest` alone opens a form; its trigger_id expires in 3 s, so this cannot wait in the queue.
      if (isDigestFormRequest(command.text)) {
        await openDigestForm(deps, { client, command });
        return;
      }
      if (isConnectFormRequest(command.text)) {
        await openConnectForm(deps, { client, command });
        return;
      }
      await answerCommand(deps, {
        command: command.text,
        invocation: { userId: command.user_id, channelId: command.channel_id || null, surface: 'slack' },
        responseUrl: command.response_url,
        placement: 'new',
        placeholder: true,
        receivedAt,
        context,
        withFiles: true,
      });
    },
  );
}

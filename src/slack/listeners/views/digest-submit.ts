import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { buildDigestNotice, buildScheduleCreated } from '../../../blocks/digest-list.ts';
import { readDigestModal } from '../../../blocks/digest-modal.ts';
import { nextOccurrences } from '../../../digest/occurrences.ts';
import { createSchedule } from '../../../digest/schedules.ts';
import { validateScheduleForm } from '../../../digest/validate.ts';
import type { Reply } from '../../../domain/reply.ts';
import type { SlackDeps } from '../../deps.ts';
import { describeError } from '../../errors.ts';
import { sendDirectMessage } from '../../post.ts';

/**
 * Submission of the "New audience digest" modal. Invalid fields are answered in the modal itself
 * (`response_action: 'errors'`) and nothing is saved; a valid schedule closes the modal, is saved, and the
 * creator gets the confirmation with the next three deliveries where they typed the command.
 */
export function createDigestSubmitListener(deps: SlackDeps) {
  return async ({
    ack,
    body,
    view,
    client,
  }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const userId = body.user.id;
    const checked = validateScheduleForm(readDigestModal(view.state.values as never));
    if (!checked.ok) {
      await ack({ response_action: 'errors', errors: checked.errors as Record<string, string> });
      return;
    }
    await ack();
    const metadata = parseMetadata(view.private_metadata);
    const context = { user: userId, channel: checked.input.channel_id };
    let reply: Reply;
    try {
      const now = deps.clock().getTime();
      const schedule = await createSchedule(deps.store, checked.input, userId, now);
      deps.logger.info('digest created', { ...context, schedule: schedule.id });
      reply = buildScheduleCreated(
        schedule,
        nextOccurrences(schedule, now, 3).map((o) => o.at),
      );
    } catch (error) {
      deps.logger.error('could not save a digest from the form', { ...context, error });
      reply = buildDigestNotice(
        ':warning: The digest could not be saved. It has been logged; try again, or use `/audience digest add`.',
      );
    }
    try {
      if (metadata.responseUrl) {
        const response = await fetch(metadata.responseUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ response_type: 'ephemeral', text: reply.text, blocks: reply.blocks }),
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return;
      }
      // No (working) response_url: tell them in a direct message from the app.
      await sendDirectMessage(client, userId, reply);
    } catch (error) {
      deps.logger.error('could not confirm a digest created from the form', {
        ...context,
        ...describeError(error),
      });
    }
  };
}

function parseMetadata(text: string | undefined): { responseUrl: string | null } {
  try {
    const parsed = JSON.parse(text ?? '{}') as { responseUrl?: unknown };
    // The metadata comes back from Slack signed with the request, but only ever post to Slack's own hooks.
    const url = typeof parsed.responseUrl === 'string' ? parsed.responseUrl : null;
    return { responseUrl: url && /^https?:\/\//.test(url) ? url : null };
  } catch {
    return { responseUrl: null };
  }
}

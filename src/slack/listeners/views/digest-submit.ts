import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { buildDigestNotice, buildScheduleCreated } from '../../../blocks/digest-list.ts';
import { readDigestModal } from '../../../blocks/digest-modal.ts';
import { nextOccurrences } from '../../../digest/occurrences.ts';
import { createSchedule } from '../../../digest/schedules.ts';
import { validateScheduleForm } from '../../../digest/validate.ts';
import type { Reply } from '../../../domain/reply.ts';
import { answerPrivately } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { listener } from '../ack.ts';

/**
 * Submission of the "New audience digest" modal. Invalid fields are answered in the modal itself
 * (`response_action: 'errors'`) and nothing is saved; a valid schedule closes the modal, is saved, and the
 * creator gets the confirmation with the next three deliveries where they typed the command.
 */
export function createDigestSubmitListener(deps: SlackDeps) {
  return listener<SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs>(
    deps,
    { what: 'a digest form', acks: 'by-handler', context: ({ body }) => ({ user: body.user.id }) },
    async ({ ack, body, view }) => {
      const userId = body.user.id;
      const checked = validateScheduleForm(readDigestModal(view.state.values));
      if (!checked.ok) {
        await ack({ response_action: 'errors', errors: checked.errors as Record<string, string> });
        return;
      }
      await ack();
      const context = { user: userId, channel: checked.input.channel_id };
      const reply = await saveSchedule(deps, checked.input, userId, context);
      // Where they typed the command, or by direct message when that is gone.
      await answerPrivately(
        deps,
        { responseUrl: parseMetadata(view.private_metadata).responseUrl, userId },
        { response_type: 'ephemeral', text: reply.text, blocks: reply.blocks },
        { ...context, part: 'digest confirmation' },
      );
    },
  );
}

/** Saves the schedule; the reply confirms it with its next three deliveries, or says it was not saved. */
async function saveSchedule(
  deps: SlackDeps,
  input: Parameters<typeof createSchedule>[1],
  userId: string,
  context: Record<string, unknown>,
): Promise<Reply> {
  try {
    const now = deps.clock().getTime();
    const schedule = await createSchedule(deps.store, input, userId, now);
    deps.logger.info('digest created', { ...context, schedule: schedule.id });
    return buildScheduleCreated(
      schedule,
      nextOccurrences(schedule, now, 3).map((o) => o.at),
    );
  } catch (error) {
    deps.logger.error('could not save a digest from the form', { ...context, error });
    return buildDigestNotice(
      ':warning: The digest could not be saved. It has been logged; try again, or use `/audience digest add`.',
    );
  }
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

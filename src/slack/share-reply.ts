/**
 * "Share to channel": re-runs the command stored in the button through the router (so the channel sees
 * fresh numbers computed exactly like the private answer), checks the answer may be shown to everyone,
 * posts it, and removes the private copy. Every failure ends in a private note saying what to do.
 */
import {
  buildPostProblem,
  buildSharedMessage,
  buildShareRefused,
  notice,
  shareVerdict,
} from '../blocks/share-messages.ts';
import type { Reply } from '../domain/reply.ts';
import { answerPrivately, workKind } from './answer.ts';
import type { SlackDeps } from './deps.ts';
import { describeError } from './errors.ts';
import { postToChannel } from './post.ts';
import { uploadFile } from './upload.ts';
import { QueueFullError } from './work-queue.ts';

/** One press of a Share button. */
export interface ShareRequest {
  command: string;
  userId: string;
  channelId: string | null;
  responseUrl: string | null;
  context: Record<string, unknown>;
}

/** Shares the answer to `command` with the channel the button was pressed in. Never throws. */
export async function shareReply(deps: SlackDeps, request: ShareRequest): Promise<void> {
  const { logger } = deps;
  const { command, userId, channelId, context } = request;
  const tell = (reply: Reply, part: string) =>
    answerPrivately(
      deps,
      { responseUrl: request.responseUrl, userId },
      { response_type: 'ephemeral', replace_original: false, text: reply.text, blocks: reply.blocks },
      { ...context, part },
    );

  if (!channelId) {
    await tell(
      notice("I can't tell which channel this is. Run the command in a channel and share from there."),
      'no channel',
    );
    return;
  }
  // Parsed once: the same parse is run and decides whether the answer may be shared.
  const line = deps.router.parse(command);
  let reply: Reply;
  try {
    reply = await deps.queue.run(workKind(line), () =>
      // audience 'channel': builders hide figures about small groups in what everyone will see.
      deps.router.dispatch(line, { userId, channelId, surface: 'slack', audience: 'channel' }),
    );
  } catch (error) {
    const busy = error instanceof QueueFullError;
    if (!busy) logger.error('share: the command failed outside the router', { ...context, command, error });
    await tell(
      notice(
        busy
          ? 'Audience Insights is very busy right now. Try again in a minute.'
          : 'Something went wrong while preparing the answer to share. It has been logged; try again.',
      ),
      'share failed',
    );
    return;
  }

  const verdict = shareVerdict(reply, line, deps.config);
  if (!verdict.ok) {
    logger.info('share refused', { ...context, reason: verdict.reason });
    await tell(buildShareRefused(verdict, deps.config.minCohortSize), 'share refused');
    return;
  }

  const message = buildSharedMessage(reply, { userId, command });
  const result = await postToChannel(deps.poster, channelId, message, {
    what: 'shared reply',
    logger,
    context: { ...context, command },
  });
  if (!result.ok) {
    // Problems a person can fix (an invitation, another channel) are not errors of ours.
    const log = { ...context, command, code: result.code, problem: result.problem };
    if (result.pause) logger.info('could not share a reply to that channel', log);
    else
      logger.error('could not post a shared reply to the channel', {
        ...log,
        ...describeError(result.error),
      });
    await tell(buildPostProblem(result.problem, result.code), 'share problem');
    return;
  }
  // Charts go into the thread of the shared message; per-person files never reach a channel (refused above).
  const charts = (reply.files ?? []).filter((f) => f.filename.endsWith('.png'));
  for (const file of charts) {
    await uploadFile(deps.poster, {
      channelId,
      ...(result.value.ts ? { threadTs: result.value.ts } : {}),
      file,
      logger,
    });
  }
  // The channel now has the answer; the private copy with its Share button would only be a duplicate.
  if (!request.responseUrl) return;
  const removed = await deps.responses.post(request.responseUrl, { delete_original: true }, context);
  if (!removed) logger.warn('shared, but could not remove the private copy', context);
}

/**
 * "Share to channel": re-runs the command stored in the button through the router (so the channel sees
 * fresh numbers computed exactly like the private answer), checks the answer may be shown to everyone,
 * posts it, and removes the private copy. Every failure ends in a private note saying what to do.
 */
import type { RespondFn, webApi } from '@slack/bolt';
import {
  buildPostProblem,
  buildSharedMessage,
  buildShareRefused,
  notice,
  shareVerdict,
} from '../blocks/share.ts';
import { uploadFile } from '../charts/upload.ts';
import type { Reply } from '../domain/reply.ts';
import { deliver, subcommandOf } from './answer.ts';
import type { SlackDeps } from './deps.ts';
import { postToChannel } from './post.ts';
import { QueueFullError } from './work-queue.ts';

/** One press of a Share button. */
export interface ShareRequest {
  command: string;
  userId: string;
  channelId: string | null;
  client: webApi.WebClient;
  respond: RespondFn;
  context: Record<string, unknown>;
}

/** Shares the answer to `command` with the channel the button was pressed in. Never throws. */
export async function shareReply(deps: SlackDeps, request: ShareRequest): Promise<void> {
  const { logger } = deps;
  const { command, userId, channelId, respond, context } = request;
  const tell = (reply: Reply, part: string) =>
    deliver(
      respond,
      { response_type: 'ephemeral', replace_original: false, text: reply.text, blocks: reply.blocks },
      deps,
      { ...context, part },
    );

  if (!channelId) {
    await tell(
      notice("I can't tell which channel this is. Run the command in a channel and share from there."),
      'no channel',
    );
    return;
  }
  let reply: Reply;
  try {
    reply = await deps.queue.run(subcommandOf(command), () =>
      // audience 'channel': builders hide figures about small groups in what everyone will see.
      deps.router.dispatch(command, { userId, channelId, surface: 'slack', audience: 'channel' }),
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

  const verdict = shareVerdict(reply, command, { minCohortSize: deps.config.minCohortSize });
  if (!verdict.ok) {
    logger.info('share refused', { ...context, reason: verdict.reason });
    await tell(buildShareRefused(verdict, deps.config.minCohortSize), 'share refused');
    return;
  }

  const message = buildSharedMessage(reply, { userId, command });
  const result = await postToChannel(request.client, channelId, message, logger, { ...context, command });
  if (!result.ok) {
    await tell(buildPostProblem(result.problem, result.code), 'share problem');
    return;
  }
  if (result.joined)
    logger.info('joined a public channel to share a reply', { ...context, channel: channelId });
  // Charts go into the thread of the shared message; per-person files never reach a channel (refused above).
  const charts = (reply.files ?? []).filter((f) => f.filename.endsWith('.png'));
  for (const file of charts) {
    await uploadFile(request.client, {
      channelId,
      ...(result.ts ? { threadTs: result.ts } : {}),
      file,
      logger,
    });
  }
  // The channel now has the answer; the private copy with its Share button would only be a duplicate.
  try {
    await respond({ delete_original: true });
  } catch (error) {
    logger.warn('shared, but could not remove the private copy', { ...context, error });
  }
}

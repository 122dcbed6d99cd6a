/**
 * The one way a command line becomes a private Slack answer: run it through the router on the work queue,
 * show "Working on it…" when it will take a while, then deliver the reply with its Share button.
 * Nothing here throws: every failure is logged with context and, where possible, told to the user.
 */
import type { RespondArguments, RespondFn } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { parseCommand } from '../../commands/parse.ts';
import { buildErrorMessage } from '../blocks/help-message.ts';
import { buildWorkingMessage, shareVerdict, withShareButton } from '../blocks/share.ts';
import { type ChartUploadClient, uploadFile } from '../charts/upload.ts';
import type { Invocation, Reply, ReplyFile } from '../domain/reply.ts';
import type { SlackDeps } from './deps.ts';
import { describeError, respondStatus } from './errors.ts';
import { openDirectMessage } from './post.ts';
import { QueueFullError } from './work-queue.ts';

// Only work expected to block the loop at least this long waits for its placeholder to go out.
const PLACEHOLDER_HEAD_START_MIN_MS = 300;

/** A message sent through a response_url. */
export interface SlackMessage {
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  text: string;
  blocks?: KnownBlock[];
}

/** One command to answer, and how its answer is placed. */
export interface AnswerRequest {
  /** The command line, with or without the leading `/audience`. */
  command: string;
  invocation: Invocation;
  respond: RespondFn;
  /** `new` posts a new private message; `replace` replaces the private message the button was in. */
  placement: 'new' | 'replace';
  /** Whether a "Working on it…" placeholder may be shown (it can only be replaced later through `replace`
   * or on a slash command's own response_url). */
  placeholder: boolean;
  /** When the request reached us (performance.now()), so the placeholder delay counts from there. */
  receivedAt: number;
  /** Extra log context (who, where, which action). */
  context: Record<string, unknown>;
  /** The Web API client, for files that come with the reply (exports, charts); none means text only. */
  client?: ChartUploadClient;
}

/** Answers one command privately; resolves once the answer was delivered or the failure logged. */
export async function answerCommand(deps: SlackDeps, request: AnswerRequest): Promise<void> {
  const { logger, queue } = deps;
  const { respond, placement, context } = request;
  const kind = subcommandOf(request.command);

  // Held in an object: it is set from a timer callback, which control-flow narrowing cannot see.
  const placeholder: { sent: Promise<boolean> | null } = { sent: null };
  const showWorking = () => {
    if (placeholder.sent) return;
    const message = buildWorkingMessage(request.command);
    placeholder.sent = deliver(
      respond,
      {
        response_type: 'ephemeral',
        replace_original: placement === 'replace',
        text: message.text,
        blocks: message.blocks,
      },
      deps,
      { ...context, part: 'working message' },
    );
  };
  let timer: NodeJS.Timeout | null = null;
  if (request.placeholder) {
    // Work is synchronous, so a timer cannot fire while the command runs: decide up front when the queue
    // already predicts a slow answer, and keep the timer for time spent waiting in the queue.
    const waited = performance.now() - request.receivedAt;
    if (waited + queue.estimate(kind) >= deps.workingAfterMs) showWorking();
    else timer = setTimeout(showWorking, deps.workingAfterMs - waited);
  }

  let reply: Reply;
  try {
    reply = await queue.run(kind, async () => {
      // Once slow work starts nothing else goes out until it ends, so give a just-sent placeholder a short
      // head start; quick work does not wait (the queue must not idle on I/O).
      if (placeholder.sent && queue.typical(kind) >= PLACEHOLDER_HEAD_START_MIN_MS) {
        await Promise.race([placeholder.sent, delay(100)]);
      }
      const started = performance.now();
      const result = await deps.router.dispatch(request.command, request.invocation);
      logger.debug('command answered', {
        ...context,
        kind,
        queuedMs: Math.round(started - request.receivedAt),
        ranMs: Math.round(performance.now() - started),
      });
      return result;
    });
  } catch (error) {
    if (error instanceof QueueFullError) {
      logger.warn('work queue full; turned a command away', { ...context, command: request.command });
      reply = buildErrorMessage('Audience Insights is very busy right now. Try again in a minute.');
    } else {
      logger.error('command failed outside the router', { ...context, command: request.command, error });
      reply = buildErrorMessage(
        'Something went wrong while answering. It has been logged; try again, or run /audience help.',
      );
    }
  } finally {
    if (timer) clearTimeout(timer);
  }

  const verdict = shareVerdict(reply, request.command, { minCohortSize: deps.config.minCohortSize });
  const answer = withShareButton(reply, request.command, verdict);
  const placeholderShown = placeholder.sent ? await placeholder.sent : false;
  await deliver(
    respond,
    {
      response_type: 'ephemeral',
      replace_original: placement === 'replace' || placeholderShown,
      text: answer.text,
      blocks: answer.blocks,
    },
    deps,
    { ...context, command: request.command, part: 'answer' },
  );
  if (reply.files?.length && request.client) {
    await sendFilesPrivately(deps, request.client, request.invocation.userId, reply.files, context);
  }
}

/**
 * Files of a private answer go to the person's direct messages with the app: an upload into the channel would
 * show per-person exports to everyone. A failed upload is logged; the text answer has already arrived.
 */
async function sendFilesPrivately(
  deps: SlackDeps,
  client: ChartUploadClient,
  userId: string,
  files: readonly ReplyFile[],
  context: Record<string, unknown>,
): Promise<void> {
  try {
    const channelId = await openDirectMessage(client, userId);
    for (const file of files) {
      await uploadFile(client, { channelId, file, logger: deps.logger });
    }
  } catch (error) {
    deps.logger.warn('could not send the files of an answer', { ...context, error: describeError(error) });
  }
}

/**
 * Sends one message through a response_url. A network failure (a pooled connection closed under us) is
 * tried once more; a 400 from Slack means it did not accept the blocks, so the plain fallback text still
 * goes out. Returns whether Slack took the message; never throws.
 */
export async function deliver(
  respond: RespondFn,
  message: SlackMessage,
  deps: Pick<SlackDeps, 'logger'>,
  context: Record<string, unknown>,
): Promise<boolean> {
  let attempt: SlackMessage = message;
  for (let tries = 1; ; tries++) {
    try {
      await respond(attempt as RespondArguments);
      return true;
    } catch (error) {
      const status = respondStatus(error);
      // No status: the request never got an answer. 400: Slack did not accept the blocks. Anything else
      // (404, 410: an expired response_url) will not get better by trying again.
      const retry = tries < 3 && (status === undefined || (status === 400 && attempt.blocks !== undefined));
      const log = { ...context, ...describeError(error) };
      if (!retry) {
        deps.logger.error('could not deliver a reply through response_url', log);
        return false;
      }
      deps.logger.warn('a reply through response_url failed; trying again', log);
      if (status === 400) {
        const { blocks: _blocks, ...plain } = attempt;
        attempt = plain;
      } else {
        await delay(250);
      }
    }
  }
}

/** The subcommand a line asks for (queue statistics are kept per subcommand). */
export function subcommandOf(command: string): string {
  try {
    return parseCommand(command).subcommand || 'help';
  } catch {
    return 'invalid';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

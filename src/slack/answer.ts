/**
 * Answering a person privately, the one way: `answerPrivately` posts to the request's response_url within
 * Slack's limits (response-url.ts) and, when that cannot take the answer, sends it as a direct message.
 * `answerCommand` is how a command line becomes such an answer: run it through the router on the work
 * queue, show "Working on it…" when it will take a while, then deliver the reply with its Share button.
 * Nothing here throws: every failure is logged with context and, where possible, told to the user.
 */
import { parseCommand } from '../../commands/parse.ts';
import { buildErrorMessage } from '../blocks/help-message.ts';
import { buildWorkingMessage, shareVerdict, withShareButton } from '../blocks/share-messages.ts';
import type { Invocation, Reply, ReplyFile } from '../domain/reply.ts';
import type { SlackDeps } from './deps.ts';
import { describeError } from './errors.ts';
import { openDirectMessage, sendDirectMessage } from './post.ts';
import type { SlackMessage } from './response-url.ts';
import { type ChartUploadClient, uploadFile } from './upload.ts';
import { QueueFullError } from './work-queue.ts';

// Only work expected to block the loop at least this long waits for its placeholder to go out.
const PLACEHOLDER_HEAD_START_MIN_MS = 300;

/** One command to answer, and how its answer is placed. */
export interface AnswerRequest {
  /** The command line, with or without the leading `/audience`. */
  command: string;
  invocation: Invocation;
  /** Where the answer goes: the request's response_url (a direct message when that fails). */
  responseUrl: string;
  /** `new` posts a new private message; `replace` replaces the private message the button was in. */
  placement: 'new' | 'replace';
  /** Whether a "Working on it…" placeholder may be shown (it can only be replaced later through `replace`
   * or on a slash command's own response_url). */
  placeholder: boolean;
  /** When the request reached us (performance.now()), so the placeholder delay counts from there. */
  receivedAt: number;
  /** Extra log context (who, where, which action). */
  context: Record<string, unknown>;
  /** Whether files that come with the reply (exports, charts) are sent too; buttons answer with text only. */
  withFiles: boolean;
}

/** Answers one command privately; resolves once the answer was delivered or the failure logged. */
export async function answerCommand(deps: SlackDeps, request: AnswerRequest): Promise<void> {
  const { logger, queue } = deps;
  const { placement, context } = request;
  const target = { responseUrl: request.responseUrl, userId: request.invocation.userId };
  const kind = subcommandOf(request.command);

  // Held in an object: it is set from a timer callback, which control-flow narrowing cannot see.
  const placeholder: { sent: Promise<boolean> | null } = { sent: null };
  const showWorking = () => {
    if (placeholder.sent) return;
    const message = buildWorkingMessage(request.command);
    placeholder.sent = answerPrivately(
      deps,
      target,
      {
        response_type: 'ephemeral',
        replace_original: placement === 'replace',
        text: message.text,
        blocks: message.blocks,
      },
      { ...context, part: 'working message' },
      // A placeholder by direct message would outlive the answer it stands for.
      'none',
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
  await answerPrivately(
    deps,
    target,
    {
      response_type: 'ephemeral',
      replace_original: placement === 'replace' || placeholderShown,
      text: answer.text,
      blocks: answer.blocks,
    },
    { ...context, command: request.command, part: 'answer' },
  );
  if (reply.files?.length && request.withFiles) {
    await sendFilesPrivately(deps, deps.poster, request.invocation.userId, reply.files, context);
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

/** Where a private answer goes: the request's response_url, and the person for a direct message. */
export interface AnswerTarget {
  responseUrl: string | null;
  userId: string;
}

/**
 * Answers a person privately: through the response_url (retried within Slack's limits) and, if that cannot
 * take it, as a direct message from the app (`fallback: 'dm'`), so a reply is never lost silently.
 * Resolves whether the response_url took it; never throws.
 */
export async function answerPrivately(
  deps: Pick<SlackDeps, 'logger' | 'responses' | 'poster'>,
  target: AnswerTarget,
  message: SlackMessage,
  context: Record<string, unknown>,
  fallback: 'dm' | 'none' = 'dm',
): Promise<boolean> {
  if (target.responseUrl && (await deps.responses.post(target.responseUrl, message, context))) return true;
  if (fallback === 'none' || message.text === undefined) return false;
  try {
    await sendDirectMessage(deps.poster, target.userId, { text: message.text, blocks: message.blocks ?? [] });
    deps.logger.info('answered by direct message instead of response_url', context);
  } catch (error) {
    deps.logger.error('could not answer someone at all: response_url and direct message failed', {
      ...context,
      ...describeError(error),
    });
  }
  return false;
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

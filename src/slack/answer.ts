/**
 * Answering a person privately, the one way: `answerPrivately` posts to the request's response_url within
 * Slack's limits (response-url.ts) and, when that cannot take the answer, sends it as a direct message.
 * `answerCommand` is how a command line becomes such an answer: parsed once by the router, run on the work
 * queue, "Working on it…" shown when it will take a while, then the reply delivered with its Share button.
 * Nothing here throws: every failure is logged with context and, where possible, told to the user.
 */
import { buildErrorMessage } from '../blocks/help-message.ts';
import { buildWorkingMessage, shareVerdict, withShareButton } from '../blocks/share-messages.ts';
import type { CommandLine, Invocation, Reply, ReplyFile } from '../domain/reply.ts';
import type { SlackDeps } from './deps.ts';
import { describeError } from './errors.ts';
import { openDirectMessage, sendDirectMessage } from './post.ts';
import type { SlackMessage } from './response-url.ts';
import { uploadFile } from './upload.ts';
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

/** Where a private answer goes: the request's response_url, and the person for a direct message. */
export interface AnswerTarget {
  responseUrl: string | null;
  userId: string;
}

/** The "Working on it…" placeholder of one answer: whether it was sent, once it has been. */
interface Placeholder {
  sent: Promise<boolean> | null;
}

/** Answers one command privately; resolves once the answer was delivered or the failure logged. */
export async function answerCommand(deps: SlackDeps, request: AnswerRequest): Promise<void> {
  const line = deps.router.parse(request.command);
  const target = { responseUrl: request.responseUrl, userId: request.invocation.userId };
  // Held in an object: it is set from a timer callback, which control-flow narrowing cannot see.
  const placeholder: Placeholder = { sent: null };
  const timer = request.placeholder ? schedulePlaceholder(deps, request, line, target, placeholder) : null;
  let reply: Reply;
  try {
    reply = await runQueued(deps, request, line, placeholder);
  } finally {
    if (timer) clearTimeout(timer);
  }
  const answer = withShareButton(reply, line, shareVerdict(reply, line, deps.config));
  const placeholderShown = placeholder.sent ? await placeholder.sent : false;
  await answerPrivately(
    deps,
    target,
    {
      response_type: 'ephemeral',
      replace_original: request.placement === 'replace' || placeholderShown,
      text: answer.text,
      blocks: answer.blocks,
    },
    { ...request.context, command: request.command, part: 'answer' },
  );
  if (reply.files?.length && request.withFiles) {
    await sendFilesPrivately(deps, request.invocation.userId, reply.files, request.context);
  }
}

/** The queue's name for the work a line asks for (statistics are kept per subcommand). */
export function workKind(line: CommandLine): string {
  return line.args ? line.args.subcommand || 'help' : 'invalid';
}

/**
 * Shows "Working on it…" now when the queue already predicts a slow answer, or sets a timer for the time
 * spent waiting in the queue: work is synchronous, so a timer cannot fire while the command runs.
 */
function schedulePlaceholder(
  deps: SlackDeps,
  request: AnswerRequest,
  line: CommandLine,
  target: AnswerTarget,
  placeholder: Placeholder,
): NodeJS.Timeout | null {
  const show = () => {
    if (placeholder.sent) return;
    const message = buildWorkingMessage(request.command);
    placeholder.sent = answerPrivately(
      deps,
      target,
      {
        response_type: 'ephemeral',
        replace_original: request.placement === 'replace',
        text: message.text,
        blocks: message.blocks,
      },
      { ...request.context, part: 'working message' },
      // A placeholder by direct message would outlive the answer it stands for.
      'none',
    );
  };
  const waited = performance.now() - request.receivedAt;
  if (waited + deps.queue.estimate(workKind(line)) >= deps.workingAfterMs) {
    show();
    return null;
  }
  return setTimeout(show, deps.workingAfterMs - waited);
}

/** Runs the parsed line on the work queue; a full queue or an unexpected failure becomes a short reply. */
async function runQueued(
  deps: SlackDeps,
  request: AnswerRequest,
  line: CommandLine,
  placeholder: Placeholder,
): Promise<Reply> {
  const { logger, queue } = deps;
  const { context } = request;
  const kind = workKind(line);
  try {
    return await queue.run(kind, async () => {
      // Once slow work starts nothing else goes out until it ends, so give a just-sent placeholder a short
      // head start; quick work does not wait (the queue must not idle on I/O).
      if (placeholder.sent && queue.typical(kind) >= PLACEHOLDER_HEAD_START_MIN_MS) {
        await Promise.race([placeholder.sent, delay(100)]);
      }
      const started = performance.now();
      const result = await deps.router.dispatch(line, request.invocation);
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
      return buildErrorMessage('Audience Insights is very busy right now. Try again in a minute.');
    }
    logger.error('command failed outside the router', { ...context, command: request.command, error });
    return buildErrorMessage(
      'Something went wrong while answering. It has been logged; try again, or run /audience help.',
    );
  }
}

/**
 * Files of a private answer go to the person's direct messages with the app: an upload into the channel would
 * show per-person exports to everyone. A failed upload is logged; the text answer has already arrived.
 */
async function sendFilesPrivately(
  deps: SlackDeps,
  userId: string,
  files: readonly ReplyFile[],
  context: Record<string, unknown>,
): Promise<void> {
  try {
    const channelId = await openDirectMessage(deps.poster, userId);
    for (const file of files) {
      await uploadFile(deps.poster, { channelId, file, logger: deps.logger });
    }
  } catch (error) {
    deps.logger.warn('could not send the files of an answer', { ...context, error: describeError(error) });
  }
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

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

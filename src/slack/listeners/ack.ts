/**
 * The one listener shape: acknowledge first, then handle, and log anything thrown with the request's context.
 * Slack drops a request not acknowledged within 3 seconds, so nothing may run before ack(); a failed handler
 * must never reach Bolt's global error handler without saying who and where.
 */
import type { BlockButtonAction } from '@slack/bolt';
import type { SlackDeps } from '../deps.ts';

/** How a listener is acknowledged: by the wrapper before anything else, or by the handler (its ack carries an answer). */
export type AckMode = 'first' | 'by-handler';

/** Wraps `handle` as a Bolt listener; `what` names the request in log lines ("a Share press", "/audience"). */
export function listener<A extends { ack?: ((response?: undefined) => Promise<void>) | undefined }>(
  deps: Pick<SlackDeps, 'logger'>,
  options: { what: string; acks?: AckMode; context: (args: A) => Record<string, unknown> },
  handle: (args: A, context: Record<string, unknown>, receivedAt: number) => Promise<void>,
): (args: A) => Promise<void> {
  return async (args) => {
    const receivedAt = performance.now();
    const context = options.context(args);
    if ((options.acks ?? 'first') === 'first' && args.ack) {
      try {
        await args.ack();
      } catch (error) {
        deps.logger.error(`could not acknowledge ${options.what}`, { ...context, error });
        return;
      }
    }
    try {
      await handle(args, context, receivedAt);
    } catch (error) {
      deps.logger.error(`${options.what} failed unexpectedly`, { ...context, error });
    }
  };
}

/** The channel a button was pressed in (a message's channel, or its container's), if any. */
export function channelOf(body: BlockButtonAction): string | null {
  return body.channel?.id ?? (body.container?.channel_id as string | undefined) ?? null;
}

/** Log context of a button press. */
export function pressContext(args: { body: BlockButtonAction; action: { action_id: string } }) {
  return { user: args.body.user.id, channel: channelOf(args.body), action: args.action.action_id };
}

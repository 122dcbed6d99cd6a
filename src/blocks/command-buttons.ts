/**
 * Buttons that run an `/audience` command line when pressed. Any builder may add them; the Slack listeners
 * handle them generically, so a new button needs no new listener:
 *
 * - `run_command:<anything>`  value = a command line (e.g. `recommend segment=2`). The command runs through
 *   the router for the person who pressed, and the answer arrives as a new private (ephemeral) message.
 * - `page_command:<anything>` value = a command line with `page=N`. Same, but the answer replaces the
 *   message the button is in (when that message is private; in a channel it arrives as a new private one).
 * - `share_reply`             value = the command line of the reply; posts it to the channel for everyone.
 *   Added by the Slack layer to every shareable reply; builders do not add it themselves.
 *
 * The part after the colon only has to keep action ids unique within one actions block.
 */
import type { Button } from '@slack/types';
import { button, LIMITS } from './kit.ts';

/** Action id prefix of buttons whose value is a command line answered as a new private message. */
export const RUN_COMMAND_PREFIX = 'run_command:';
/** Action id prefix of paging buttons whose value is a command line with page=N; the answer replaces the message. */
export const PAGE_COMMAND_PREFIX = 'page_command:';
/** Action id of the "Share to channel" button. */
export const SHARE_REPLY_ACTION = 'share_reply';
/** Matches run-command action ids (for `app.action`). */
export const RUN_COMMAND_PATTERN = /^run_command:/;
/** Matches paging action ids (for `app.action`). */
export const PAGE_COMMAND_PATTERN = /^page_command:/;

/**
 * A button that runs `command` (with or without the leading `/audience`) for whoever presses it. Returns
 * null when the command line is longer than a button value may be, since a cut command would run
 * something else than what the label says.
 */
export function commandButton(
  label: string,
  command: string,
  options: { key?: string; style?: 'primary' | 'danger' } = {},
): Button | null {
  const value = stripPrefix(command);
  if (value.length === 0 || value.length > LIMITS.buttonValue) return null;
  return button(label, actionId(RUN_COMMAND_PREFIX, options.key ?? value), value, options.style);
}

/** A "More" (or any paging) button: runs `command` with `page=<page>` and replaces the current message. */
export function pageButton(command: string, page: number, label = 'More'): Button | null {
  const value = withPage(stripPrefix(command), page);
  if (value.length > LIMITS.buttonValue) return null;
  return button(label, actionId(PAGE_COMMAND_PREFIX, `page-${page}`), value);
}

/** Sets (or replaces) the `page=` option of a command line. */
export function withPage(command: string, page: number): string {
  const rest = command
    .replace(/(^|\s)page=\S*/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return `${rest} page=${Math.max(1, Math.floor(page))}`.trim();
}

/** Drops a leading `/audience` so stored command lines are short and uniform. */
export function stripPrefix(command: string): string {
  return command
    .trim()
    .replace(/^\/audience(\s+|$)/i, '')
    .trim();
}

function actionId(prefix: string, key: string): string {
  const slug = key
    .toLowerCase()
    .replace(/[^a-z0-9=]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${prefix}${slug || 'command'}`.slice(0, LIMITS.actionId);
}

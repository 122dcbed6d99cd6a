import { createCommandButtonHandler } from '../../command-button.ts';
import type { SlackDeps } from '../../deps.ts';

/**
 * Paging buttons (`page_command:<anything>`, e.g. "More"): the value is a command line with page=N. In a
 * private answer the next page replaces it; in a channel message (a shared answer) the page arrives as a
 * new private message, so one person's paging never changes what the channel sees.
 */
export function createPageCommandListener(deps: SlackDeps) {
  return createCommandButtonHandler(deps, {
    what: 'paging button',
    inPlace: (body) => body.container?.is_ephemeral === true,
  });
}

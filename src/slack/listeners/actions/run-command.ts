import { createCommandButtonHandler } from '../../command-button.ts';
import type { SlackDeps } from '../../deps.ts';

/**
 * Buttons with action id `run_command:<anything>` (e.g. "Recommend for this segment"): the value is a
 * command line; it runs for the person who pressed and the answer arrives as a new private message (a
 * placeholder could not be replaced later: the response_url points at the button's message).
 */
export function createRunCommandListener(deps: SlackDeps) {
  return createCommandButtonHandler(deps, { what: 'command button', inPlace: () => false });
}

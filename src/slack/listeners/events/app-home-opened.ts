import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps.ts';

/** `app_home_opened`: publishes the overview on the Home tab when the person's copy is out of date. */
export function createAppHomeOpenedListener(deps: SlackDeps) {
  return async ({
    event,
    client,
  }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    // The same event fires for the Messages tab, which this app does not use.
    if (event.tab !== undefined && event.tab !== 'home') return;
    try {
      await deps.home.opened(client, event.user, event.view !== undefined);
    } catch (error) {
      deps.logger.error('App Home failed unexpectedly', { user: event.user, error });
    }
  };
}

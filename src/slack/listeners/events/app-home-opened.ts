import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../../deps.ts';
import { listener } from '../ack.ts';

/** `app_home_opened`: publishes the overview on the Home tab when the person's copy is out of date. */
export function createAppHomeOpenedListener(deps: SlackDeps) {
  return listener<SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs>(
    deps,
    { what: 'App Home', context: ({ event }) => ({ user: event.user }) },
    async ({ event, client }) => {
      // The same event fires for the Messages tab, which this app does not use.
      if (event.tab !== undefined && event.tab !== 'home') return;
      await deps.home.opened(client, event.user, event.view !== undefined);
    },
  );
}

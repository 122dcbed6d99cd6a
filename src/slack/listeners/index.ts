import type { App, BlockButtonAction } from '@slack/bolt';
import {
  PAGE_COMMAND_PATTERN,
  RUN_COMMAND_PATTERN,
  SHARE_REPLY_ACTION,
} from '../../blocks/command-buttons.ts';
import { CONNECT_MODAL_CALLBACK } from '../../blocks/connections-message.ts';
import { DIGEST_RETRY_PATTERN } from '../../blocks/digest-list.ts';
import { DIGEST_PAUSE_ACTION } from '../../blocks/digest-message.ts';
import { DIGEST_MODAL_CALLBACK } from '../../blocks/digest-modal.ts';
import type { SlackDeps } from '../deps.ts';
import { createDigestPauseListener } from './actions/digest-pause.ts';
import { createDigestRetryListener } from './actions/digest-retry.ts';
import { createPageCommandListener } from './actions/page-command.ts';
import { createRunCommandListener } from './actions/run-command.ts';
import { createShareReplyListener } from './actions/share-reply.ts';
import { createAudienceCommandListener } from './commands/audience.ts';
import { createAppHomeOpenedListener } from './events/app-home-opened.ts';
import { createConnectSubmitListener } from './views/connect-submit.ts';
import { createDigestSubmitListener } from './views/digest-submit.ts';

// Buttons, by action id (or pattern) -> listener.
const BUTTONS: ReadonlyArray<[string | RegExp, typeof createShareReplyListener]> = [
  [SHARE_REPLY_ACTION, createShareReplyListener],
  [RUN_COMMAND_PATTERN, createRunCommandListener],
  [PAGE_COMMAND_PATTERN, createPageCommandListener],
  [DIGEST_PAUSE_ACTION, createDigestPauseListener],
  [DIGEST_RETRY_PATTERN, createDigestRetryListener],
];

/** Registers every Slack listener of the app. */
export function registerListeners(app: App, deps: SlackDeps): void {
  app.command('/audience', createAudienceCommandListener(deps));
  for (const [actionId, create] of BUTTONS) {
    app.action<BlockButtonAction>({ type: 'block_actions', action_id: actionId }, create(deps));
  }
  app.event('app_home_opened', createAppHomeOpenedListener(deps));
  app.view(DIGEST_MODAL_CALLBACK, createDigestSubmitListener(deps));
  app.view(CONNECT_MODAL_CALLBACK, createConnectSubmitListener(deps));
}

import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../config.ts';
import type { Clock } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { HomeTab } from './home.ts';
import type { WorkQueue } from './work-queue.ts';

/** What the Slack listeners share: the one command path, the data, and the Slack-side services. */
export interface SlackDeps {
  router: Router;
  store: Store;
  clock: Clock;
  config: AppConfig;
  logger: Logger;
  queue: WorkQueue;
  home: HomeTab;
  /** A command still unanswered after this long first shows "Working on it…" (default 1000 ms). */
  workingAfterMs: number;
}

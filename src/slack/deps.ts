import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../config.ts';
import type { Clock } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { HomeTab } from './home.ts';
import type { SlackCaller } from './post.ts';
import type { ResponseUrls } from './response-url.ts';
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
  /** The Web API client for posts and files: it never retries by itself (post.ts applies the one policy). */
  poster: SlackCaller;
  /** Private answers through response URLs, within Slack's limits. */
  responses: ResponseUrls;
  /** A command still unanswered after this long first shows "Working on it…" (default 1000 ms). */
  workingAfterMs: number;
}

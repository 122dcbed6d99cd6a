import type { AppConfig } from '../src/config.ts';
import type { DigestScheduler } from '../src/digest/scheduler.ts';
import type { Clock } from '../src/domain/types.ts';
import type { Store } from '../src/store/store.ts';

/** What every subcommand factory may depend on. */
export interface CommandDeps {
  store: Store;
  clock: Clock;
  config: AppConfig;
  /** The running digest scheduler, where digests can be sent (the app); absent in the CLI. */
  digests?: Pick<DigestScheduler, 'runNow' | 'retry' | 'content'>;
}

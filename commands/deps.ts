import type { AppConfig } from '../src/config.ts';
import type { Clock } from '../src/model/types.ts';
import type { Store } from '../src/store/store.ts';

/** What every subcommand factory may depend on. */
export interface CommandDeps {
  store: Store;
  clock: Clock;
  config: AppConfig;
}

/**
 * What the CLI's commands share: configuration, the clock, and the store, opened only when a command needs it.
 * `audience help` or `--version` never read the data file, and a mistyped option is refused before it is read.
 */
import type { AppConfig } from '../config.ts';
import type { Clock } from '../domain/types.ts';
import type { AdapterEncryption } from '../store/file-adapter.ts';
import type { Store } from '../store/store.ts';

/** The CLI's shared dependencies; `store()` opens the data file (or the database) on first use. */
export interface CliContext {
  config: AppConfig;
  clock: Clock;
  store(): Promise<Store>;
}

/** A context over an already open store (tests, and callers that hold a store). */
export function contextWithStore(config: AppConfig, store: Store, clock: Clock): CliContext {
  return { config, clock, store: async () => store };
}

/** A context that opens the data file on the first `store()` call; `close()` saves it if it was opened. */
export function lazyStoreContext(
  config: AppConfig,
  clock: Clock,
  encryption: AdapterEncryption,
): CliContext & { close(): Promise<void> } {
  let opening: Promise<Store> | null = null;
  const open = async () => {
    const { openBackend } = await import('../store/open-backend.ts');
    // DATABASE_URL: the database the app uses; otherwise the data file.
    return openBackend({
      database: config.database,
      file: { file: config.dataFile, flushDelayMs: config.flushDelayMs, encryption },
    });
  };
  return {
    config,
    clock,
    store: () => {
      opening ??= open();
      return opening;
    },
    async close() {
      // A failed open has nothing to save; its error was already reported by the command that asked.
      const store = await opening?.catch(() => null);
      await store?.close();
    },
  };
}

/**
 * A Store for the router's command factories before the file is open: they keep it and use it only when they
 * run, and the CLI opens the real store before running any command that reads data. Touching it earlier is a
 * bug, so it says so instead of answering from an empty audience.
 */
export function deferredStore(opened: () => Store | null): Store {
  return new Proxy({} as Store, {
    get(_target, key) {
      const store = opened();
      if (store === null) throw new Error(`the store was used (${String(key)}) before the CLI opened it`);
      const value: unknown = Reflect.get(store, key);
      return typeof value === 'function' ? value.bind(store) : value;
    },
  });
}

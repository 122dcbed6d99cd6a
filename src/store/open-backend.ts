/**
 * Opening the configured backend: PostgreSQL when a database is configured (DATABASE_URL), the data file
 * otherwise. The app and the CLI both open their store here, so they always agree on where the data lives.
 * The PostgreSQL driver is loaded only when it is used: a file-store start pays nothing for it.
 */
import { type OpenStoreOptions, openStore } from './file-store.ts';
import type { Store } from './store.ts';

/** Where the audience lives: a database (URL and workspace id), or the data file. */
export interface BackendOptions {
  /** PostgreSQL (DATABASE_URL and SLACK_TEAM_ID); null: the data file. */
  database: { url: string; teamId: string; snapshotMaxRows?: number | null } | null;
  /** The data file and how to open it (used when `database` is null). */
  file: OpenStoreOptions;
  /** Hears about schema migrations of either backend. */
  onNotice?: (message: string) => void;
}

/** Opens the configured store: PgStore when a database is given, FileStore otherwise. */
export async function openBackend(options: BackendOptions): Promise<Store> {
  const notice = options.onNotice ? { onNotice: options.onNotice } : {};
  if (options.database === null) return openStore({ ...options.file, ...notice });
  const { openPgStore } = await import('./postgres/pg-store.ts');
  const { url, teamId, snapshotMaxRows } = options.database;
  return openPgStore({ url, teamId, snapshotMaxRows: snapshotMaxRows ?? null, ...notice });
}

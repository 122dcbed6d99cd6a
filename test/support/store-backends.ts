/**
 * The storage backends a behaviour suite runs against: the data file in a temp directory, and PostgreSQL in the
 * test file's schema (each opened store a fresh workspace id, so tests of one file never see each other's rows).
 * The PostgreSQL backend is skipped, with the run's one line saying why, when no test database answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPgStore, type SeamStore } from '../../src/store/postgres/pg-store.ts';
import { openStore } from '../../src/store/store.ts';
import { postgresUrl, type TestSchema } from './postgres.ts';

/** One backend under test. */
export interface Backend {
  name: 'file' | 'postgres';
  /** True when the backend cannot run here (no test database). */
  skip: boolean;
  /** Opens a fresh, empty store; `reopen` opens the same data again (after `close`). */
  open(): Promise<{ store: SeamStore; reopen: () => Promise<SeamStore>; cleanup: () => Promise<void> }>;
}

/** The file backend, in a fresh temp directory per store. */
export const fileBackend: Backend = {
  name: 'file',
  skip: false,
  async open() {
    const dir = await mkdtemp(path.join(tmpdir(), 'contract-'));
    const file = path.join(dir, 'audience.db');
    const open = () => openStore({ file, flushDelayMs: 0, onNotice: () => undefined });
    return { store: await open(), reopen: open, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
};

/** The PostgreSQL backend in `schema` (from usePostgresSchema), a fresh workspace id per store. */
export function postgresBackend(schema: TestSchema): Backend {
  return {
    name: 'postgres',
    skip: postgresUrl() === null,
    async open() {
      const teamId = `T${randomBytes(5).toString('hex').toUpperCase()}`;
      const open = () =>
        openPgStore({
          url: schema.url,
          schema: schema.schema,
          teamId,
          maxConnections: 4,
          onNotice: () => undefined,
        });
      return { store: await open(), reopen: open, cleanup: async () => undefined };
    },
  };
}

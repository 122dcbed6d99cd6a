/** Shared set-up of the connector tests: a temp data file, keys, a connection to the fake platform. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../../src/connectors/connections.ts';
import type { SyncDeps } from '../../src/connectors/sync.ts';
import { createRng } from '../../src/domain/random.ts';
import { createPseudonymizer } from '../../src/privacy/pseudonym.ts';
import { generateDataKey, parseDataKey } from '../../src/store/encryption.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';
import { fakeConnector } from './fake-platform.ts';

/** The pinned "now" of the connector tests. */
export const NOW = new Date('2026-06-01T09:00:00Z');
/** A pseudonym key for tests (never a real one). */
export const PSEUDONYM_KEY = 'test-pseudonym-key-0123456789';

/** A data file in a fresh temp dir, a data key, and sync deps whose clock and sleeps the test controls. */
export async function syncSetup() {
  const dir = await mkdtemp(path.join(tmpdir(), 'connectors-'));
  const file = path.join(dir, 'audience.db');
  const keyText = generateDataKey();
  const dataKey = parseDataKey(keyText);
  const store: FileStore = await openStore({ file, flushDelayMs: 0, onNotice: () => undefined });
  const clock = { now: NOW.getTime() };
  const slept: number[] = [];
  const notices: Array<{ owner: string; message: string }> = [];
  const rng = createRng(7);
  const deps: SyncDeps = {
    store,
    clock: () => new Date(clock.now),
    connectors: { instagram: fakeConnector },
    pseudonymizer: createPseudonymizer(PSEUDONYM_KEY),
    dataKey,
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => rng.next(),
    notify: async (record, message) => {
      notices.push({ owner: record.owner_id, message });
    },
    holder: 'test',
  };
  return {
    dir,
    file,
    keyText,
    dataKey,
    store,
    clock,
    slept,
    notices,
    deps,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Connects "insta" to the fake platform at `url` with `token`, without checking it. */
export function connectFake(deps: SyncDeps, url: string, token = 'good-token', name = 'insta') {
  return connect(
    {
      store: deps.store,
      clock: deps.clock,
      connectors: deps.connectors,
      dataKey: deps.dataKey,
      defaultBaseUrl: () => url,
    },
    {
      kind: 'instagram',
      name,
      owner: 'U_OWNER',
      settings: { account: 'acct1' },
      credentials: { accessToken: token },
      baseUrl: url,
      check: false,
    },
  );
}

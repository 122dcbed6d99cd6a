/**
 * `/audience predict` gives the same reply on both backends: PostgreSQL fits and forecasts in SQL without a
 * snapshot (the test makes any snapshot fail), the file backend with the engine on its snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../commands/parse.ts';
import { createPredictCommand } from '../../commands/predict.ts';
import { loadConfig } from '../../src/config.ts';
import type { Invocation, Reply } from '../../src/domain/reply.ts';
import { generateSample } from '../../src/sample/generate.ts';
import type { Store } from '../../src/store/store.ts';
import { usePostgresSchema } from '../support/postgres.ts';
import { type Backend, fileBackend, postgresBackend } from '../support/store-backends.ts';

const END = new Date('2026-06-01T00:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };
const schema = usePostgresSchema('predict_backends');
const replies = new Map<string, Map<string, Reply>>();
const ASKED = [
  'predict',
  'predict validate=cv',
  'predict user=u000042',
  'predict target=nps_score',
  'predict features=monetary,frequency,app_sessions_per_week',
];

describe.each([fileBackend, postgresBackend(schema)])('predict on the $name backend', (backend: Backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (backend.skip) return;
    const opened = await backend.open();
    store = opened.store;
    cleanup = opened.cleanup;
    await store.change((tx) => tx.replaceAudience(generateSample({ profiles: 1_200, seed: 5, end: END })));
    if (backend.name === 'postgres') {
      // Nothing here may read the whole audience into the app.
      store.audience.snapshot = () => Promise.reject(new Error('predict read a snapshot'));
    }
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it.skipIf(backend.skip).each(ASKED)('/audience %s', async (text) => {
    const config = loadConfig({ DATA_FILE: '/nonexistent/audience.db', MIN_COHORT_SIZE: '10' });
    const command = createPredictCommand({ store, clock: () => END, config });
    const reply = await command.run(parseCommand(`/audience ${text}`), invocation);
    const byText = replies.get(text) ?? new Map<string, Reply>();
    byText.set(backend.name, reply);
    replies.set(text, byText);
    const other = byText.get(backend.name === 'file' ? 'postgres' : 'file');
    // The same words; figures are rounded for display, so sums in another order cannot show.
    if (other) expect(reply.text).toBe(other.text);
    if (other) expect(JSON.stringify(reply.blocks)).toBe(JSON.stringify(other.blocks));
  });
});

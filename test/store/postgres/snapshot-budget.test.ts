/**
 * The snapshot budget (SNAPSHOT_MAX_ROWS): above it PostgreSQL refuses to read the audience into the app
 * (StoreError 'too_large') before reading a row; what the database answers itself (stats, predict) still
 * answers; what needs the whole audience replies with what to use instead, in Slack too; the warm-up finishes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createExportCommand } from '../../../commands/export.ts';
import { createPredictCommand } from '../../../commands/predict.ts';
import { createRouter } from '../../../commands/router.ts';
import { createStatsCommand } from '../../../commands/stats.ts';
import { loadConfig } from '../../../src/config.ts';
import type { Invocation } from '../../../src/domain/reply.ts';
import { warmUpSteps } from '../../../src/queries/warm-up.ts';
import { generateSample } from '../../../src/sample/generate.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { StoreError } from '../../../src/store/store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const END = new Date(Date.UTC(2026, 5, 1));
const slack: Invocation = { userId: 'U1', channelId: 'C1', surface: 'slack' };

describePostgres('a snapshot above SNAPSHOT_MAX_ROWS', () => {
  const db = usePostgresSchema('snapshot_budget');
  let store: PgStore;
  beforeAll(async () => {
    const open = (snapshotMaxRows: number | null) =>
      openPgStore({
        url: db.url,
        schema: db.schema,
        teamId: 'TBUDGET',
        onNotice: () => undefined,
        snapshotMaxRows,
      });
    const loader = await open(null);
    await loader.change((tx) => tx.replaceAudience(generateSample({ profiles: 400, seed: 3, end: END })));
    await loader.close();
    store = await open(1_000);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('is refused before a row is read, naming the size and the setting', async () => {
    const counts = await store.audience.counts();
    expect(counts.profiles + counts.interactions).toBeGreaterThan(1_000);
    const refusal = await store.audience.snapshot().then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(StoreError);
    expect((refusal as StoreError).code).toBe('too_large');
    expect((refusal as StoreError).message).toMatch(
      /400 profiles, .* interactions\) .*SNAPSHOT_MAX_ROWS=1,000/,
    );
  });

  it('leaves what the database answers working, and says what to use instead for the rest', async () => {
    const config = loadConfig({ DATA_FILE: '/nonexistent/audience.db', MIN_COHORT_SIZE: '10' });
    const deps = { store, clock: () => END, config };
    const router = createRouter(
      [createStatsCommand(deps), createPredictCommand(deps), createExportCommand(deps)],
      (error) => {
        throw error;
      },
    );
    const ask = async (text: string) => (await router.dispatch(`/audience ${text}`, slack)).text;
    expect(await ask('stats')).toMatch(/Audience/);
    expect(await ask('predict')).toMatch(/Expected revenue next 30 days/);
    expect(await ask('predict validate=holdout')).toMatch(
      /this prediction needs the whole audience in the app's memory, .*SNAPSHOT_MAX_ROWS.*validate=time, cv or none/,
    );
    expect(await ask('export predictions')).toMatch(/export predictions needs the whole audience/);
  });

  it('lets the warm-up finish its steps', async () => {
    for (const step of warmUpSteps(store, { now: END.getTime(), currency: 'USD' })) await step.run();
  });
});

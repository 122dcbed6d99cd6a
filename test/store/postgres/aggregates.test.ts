import { afterAll, beforeAll, expect, it } from 'vitest';
import { computeStats } from '../../../src/engine/stats.ts';
import { generateSample, type SampleData } from '../../../src/sample/generate.ts';
import type { PgStore } from '../../../src/store/postgres/pg-store.ts';
import { openPgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const END = new Date(Date.UTC(2026, 2, 2, 9));
const DAY = 86_400_000;

describePostgres('aggregates in SQL equal the engine on the same data', () => {
  const db = usePostgresSchema('aggregates');
  let store: PgStore;
  let sample: SampleData;
  beforeAll(async () => {
    sample = generateSample({ profiles: 1_500, seed: 11, end: END });
    // People without a profile, and a profile seen on its platform only, take the engine's odd paths too.
    sample.interactions.push(
      { user_id: 'stranger', item_id: null, type: 'view', value: null, timestamp: END.getTime() - DAY },
      { user_id: 'stranger', item_id: null, type: 'purchase', value: 99, timestamp: END.getTime() - 2 * DAY },
    );
    store = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: 'TSTATS',
      onNotice: () => undefined,
    });
    await store.change((tx) => tx.replaceAudience(sample));
  });
  afterAll(async () => {
    await store.close();
  });

  it.each([
    ['at the end of the data', 0],
    ['a week earlier', 7],
    ['after the data', -40],
  ])('stats %s', async (_label, daysBack) => {
    const asOf = END.getTime() - daysBack * DAY;
    const expected = computeStats(sample.profiles, sample.interactions, { asOf });
    expect(await store.audience.aggregate({ kind: 'stats', params: { asOf } })).toEqual(expected);
  });

  it('leaves what it does not answer to the app', async () => {
    expect(
      await store.audience.aggregate({ kind: 'stats', params: { asOf: 1, where: 'country=FR' } }),
    ).toBeUndefined();
    expect(await store.audience.aggregate({ kind: 'segments', params: {} })).toBeUndefined();
  });
});

/**
 * A delivery batch whose save fails on a shared database (src/digest/batch.ts): the save rolled back, nothing was
 * posted, and the occurrences must be tried again by the next tick, not recorded as failed for a person to retry.
 * The failure is PostgreSQL's own: a trigger in the test's schema raises `deadlock_detected` once, as the
 * heartbeat's deadlock did in CI.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { storeSample } from '../../src/sample/load.ts';
import { openPgStore, type PgStore } from '../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../support/postgres.ts';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';
import { captureLogger, fakeClock, SAMPLE_END, schedule, smallSample, testScheduler } from './helpers.ts';

const TEAM = 'T0BATCHSAVE';
const CREATED = Date.parse('2026-05-01T00:00:00Z');

describePostgres('a delivery batch whose save fails on PostgreSQL', () => {
  const db = usePostgresSchema('batch_save');
  let store: PgStore;
  let standIn: SlackStandIn;
  beforeAll(async () => {
    standIn = await startSlackStandIn();
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    await storeSample(store, smallSample(), SAMPLE_END);
    await store.change(async (tx) => {
      for (const i of [1, 2, 3])
        await tx.addSchedule(schedule({ id: `sch_${i}`, channel_id: `C0SAVE000${i}`, created_at: CREATED }));
    });
    for (const i of [1, 2, 3]) standIn.addChannel({ id: `C0SAVE000${i}`, name: `save-${i}`, member: true });
    // The first `started` record written raises a deadlock; later ones go through.
    await store.pool.query(`
      CREATE SEQUENCE started_writes;
      CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A sequence, not a counter table: the failure rolls back everything else the transaction wrote.
        IF NEW.status = 'started' AND nextval('started_writes') = 1 THEN
          RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_once BEFORE INSERT OR UPDATE ON digest_deliveries FOR EACH ROW EXECUTE FUNCTION fail_once();`);
  });
  afterAll(async () => {
    await store?.close();
    await standIn?.close();
  });

  it('posts nothing then, and delivers every occurrence exactly once at the next tick', async () => {
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const { logger, lines } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn, leaseMs: 60_000 });
    await scheduler.start();
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(0);
    expect(lines.some((l) => l.includes('trying again at the next tick'))).toBe(true);
    expect((await store.digests.deliveries()).filter((d) => d.status === 'failed')).toEqual([]);

    clock.advance(30_000);
    await scheduler.tick();
    const keys = standIn
      .callsTo('chat.postMessage')
      .map((c) => (c.body.metadata as { event_payload: { key: string } }).event_payload.key);
    expect(keys.sort()).toEqual(['sch_1:2026-06-01', 'sch_2:2026-06-01', 'sch_3:2026-06-01']);
    const deliveries = (await store.digests.deliveries()).filter((d) => d.key.endsWith(':2026-06-01'));
    expect(deliveries.map((d) => `${d.key} ${d.status}`).sort()).toEqual([
      'sch_1:2026-06-01 delivered',
      'sch_2:2026-06-01 delivered',
      'sch_3:2026-06-01 delivered',
    ]);

    clock.advance(3_600_000);
    await scheduler.tick();
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(3);
    await scheduler.stop();
  });
});

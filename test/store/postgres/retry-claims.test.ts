import { afterAll, beforeAll, expect, it } from 'vitest';
import { DigestError } from '../../../src/digest/validate.ts';
import { storeSample } from '../../../src/sample/load.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import {
  captureLogger,
  fakeClock,
  SAMPLE_END,
  schedule,
  smallSample,
  testScheduler,
} from '../../digest/helpers.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';
import { type SlackStandIn, startSlackStandIn } from '../../support/slack-stand-in.ts';

const TEAM = 'T0RETRY';
const OWNER = { userId: 'U0OWNER01', surface: 'slack' as const };
const KEY = 'sch_1:2026-06-01';

describePostgres('a manual digest retry is claimed in the database like a scheduled occurrence', () => {
  const db = usePostgresSchema('retry_claims');
  let slack: SlackStandIn;
  let a: PgStore;
  let b: PgStore;
  beforeAll(async () => {
    slack = await startSlackStandIn();
    slack.addChannel({ id: 'C0GROWTH1', name: 'growth', member: true });
    // Two replicas: two stores (two pools, two claim holders) on one schema.
    a = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    b = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    await storeSample(a, smallSample(), SAMPLE_END);
    await a.change(async (tx) => {
      await tx.addSchedule(schedule({ created_at: Date.parse('2026-05-01T00:00:00Z') }));
      await tx.putDelivery({
        key: KEY,
        schedule_id: 'sch_1',
        status: 'failed',
        at: Date.parse('2026-06-01T07:00:00Z'),
        detail: 'channel_not_found',
      });
    });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await slack?.close();
  });

  const posts = () =>
    slack
      .callsTo('chat.postMessage')
      .filter((c) => (c.body.metadata as { event_payload?: { key?: string } })?.event_payload?.key === KEY);

  it('two presses of Retry on two replicas post it once; the other press is told why', async () => {
    const clock = fakeClock('2026-06-01T08:00:00Z');
    const { logger } = captureLogger();
    const first = testScheduler({ store: a, clock, logger, standIn: slack });
    const second = testScheduler({ store: b, clock, logger, standIn: slack });
    const outcomes = await Promise.allSettled([first.retry(KEY, OWNER), second.retry(KEY, OWNER)]);

    expect(posts()).toHaveLength(1);
    const delivered = outcomes.filter((o) => o.status === 'fulfilled');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ value: { status: 'delivered' } });
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(DigestError);
    expect(String(refused?.reason?.message)).toMatch(/being sent|already delivered/);
    expect((await b.digests.delivery(KEY))?.status).toBe('delivered');
    // The claim ended with the record: nothing is left due for a scheduler to pick up.
    expect(await a.occurrences.abandoned()).toEqual(new Set());

    // Once delivered, a later press on either replica is refused and posts nothing.
    await expect(second.retry(KEY, OWNER)).rejects.toThrow(/already delivered/);
    expect(posts()).toHaveLength(1);
    await first.stop();
    await second.stop();
  });

  it('a retry claim given back leaves the occurrence finished, not due to every scheduler', async () => {
    await a.change((tx) =>
      tx.putDelivery({
        key: 'sch_1:2026-06-08',
        schedule_id: 'sch_1',
        status: 'failed',
        at: 1,
        detail: null,
      }),
    );
    const claim = await a.occurrences.claim('sch_1:2026-06-08', 'sch_1', 60_000, { again: true });
    expect(claim).toMatchObject({ again: true, mayHavePosted: false });
    // While it is held, the other replica's press cannot claim it.
    expect(await b.occurrences.claim('sch_1:2026-06-08', 'sch_1', 60_000, { again: true })).toBeNull();
    if (claim) await a.occurrences.release(claim);
    expect(await b.occurrences.abandoned()).toEqual(new Set());
    // A scheduled claim does not reopen a finished occurrence; a retry does.
    expect(await b.occurrences.claim('sch_1:2026-06-08', 'sch_1', 60_000)).toBeNull();
    expect(await b.occurrences.claim('sch_1:2026-06-08', 'sch_1', 60_000, { again: true })).not.toBeNull();
  });
});

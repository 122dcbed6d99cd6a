import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DigestTransport } from '../../src/digest/deliver.ts';
import { createDigestScheduler, INTERRUPTED } from '../../src/digest/scheduler.ts';
import { setPaused } from '../../src/digest/schedules.ts';
import type { DeliveryRecord } from '../../src/domain/types.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';
import { blockText } from '../support/test-app.ts';
import {
  captureLogger,
  FAST_POLICY,
  fakeClock,
  manualTimers,
  sampleStore,
  schedule,
  standInTransport,
  testScheduler,
} from './helpers.ts';

const OWNER = { userId: 'U0OWNER01', surface: 'slack' as const };
const CREATED = Date.parse('2026-05-31T00:00:00Z');
// Monday 1 June 2026, 09:00 in Berlin.
const DUE = '2026-06-01T07:00:00Z';

let standIn: SlackStandIn;
let env: Awaited<ReturnType<typeof sampleStore>>;
let store: FileStore;

beforeAll(async () => {
  standIn = await startSlackStandIn();
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(async () => {
  standIn.reset();
  standIn.addChannel({ id: 'C0GROWTH1', name: 'growth', member: true });
  env = await sampleStore();
  store = env.store;
});
afterEach(async () => {
  expect(standIn.violations).toEqual([]);
  await env.cleanup();
});

const posts = (key?: string): RecordedCall[] =>
  standIn
    .callsTo('chat.postMessage')
    .filter(
      (c) =>
        key === undefined ||
        (c.body.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key === key,
    );
const record = (key: string): DeliveryRecord | undefined => store.data.deliveries.find((d) => d.key === key);

describe('the digest scheduler', () => {
  it('records started (on disk) before posting, then delivered, and never sends an occurrence twice', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn });
    await scheduler.start();
    expect(posts('sch_1:2026-06-01')).toHaveLength(1);
    expect(record('sch_1:2026-06-01')).toMatchObject({ status: 'delivered' });
    const text = blockText(posts()[0]?.body.blocks);
    expect(text).toContain('Weekly audience digest');
    expect(text).not.toContain('goes out');

    clock.advance(30_000);
    await scheduler.tick();
    clock.advance(3_600_000);
    await scheduler.tick();
    expect(posts()).toHaveLength(1);
    await scheduler.stop();

    // A restart on the same data: the occurrence is recorded, so nothing is sent again.
    const again = testScheduler({ store, clock, logger, standIn });
    await again.start();
    expect(posts()).toHaveLength(1);
    await again.stop();
  });

  it('a restart in the middle of a delivery does not send it again (it may have been posted)', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    await store.flush();
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const { logger, lines } = captureLogger();
    const real = standInTransport(standIn, logger);
    // The process dies right after Slack took the post: the outcome is never recorded.
    const dying: DigestTransport = {
      ...real,
      async post(message) {
        await real.post(message);
        return new Promise(() => undefined);
      },
    };
    const first = createDigestScheduler({
      store,
      clock,
      logger,
      transport: dying,
      config: { currency: 'USD', minCohortSize: 10, digestGraceHours: 6 },
      timers: manualTimers(),
      channelIntervalMs: 0,
    });
    void first.start();
    await standIn.waitFor((c) => c.method === 'chat.postMessage');
    // The crash: only what was saved survives. `started` was committed before the post.
    await store.close();
    const onDisk = await openStore({ file: env.file, onNotice: () => undefined });
    expect(onDisk.data.deliveries.find((d) => d.key === 'sch_1:2026-06-01')?.status).toBe('started');

    clock.advance(60_000);
    store = onDisk;
    env.store = onDisk;
    const second = testScheduler({ store, clock, logger, standIn });
    await second.start();
    await second.tick();
    expect(posts('sch_1:2026-06-01')).toHaveLength(1);
    expect(record('sch_1:2026-06-01')?.status).toBe('started');
    expect(record('sch_1:2026-06-01')?.detail).toMatch(new RegExp(`^${INTERRUPTED}`));
    expect(lines.some((l) => l.includes('not resending it (it may have been posted)'))).toBe(true);

    // Someone checked the channel: a deliberate retry sends it.
    const retried = await second.retry('sch_1:2026-06-01', OWNER);
    expect(retried.status).toBe('delivered');
    expect(posts('sch_1:2026-06-01')).toHaveLength(2);
    await second.stop();
  });

  it('after 2 hours of downtime sends the missed digest once, late, with a note', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    const clock = fakeClock('2026-06-01T09:00:00Z');
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn });
    await scheduler.start();
    expect(posts('sch_1:2026-06-01')).toHaveLength(1);
    const text = blockText(posts()[0]?.body.blocks);
    expect(text).toContain('was due Mon 1 Jun 2026, 09:00 GMT+2 and goes out 2 h late');
    clock.advance(60_000);
    await scheduler.tick();
    expect(posts()).toHaveLength(1);
    await scheduler.stop();
  });

  it('after 2 days of downtime skips the missed digest and logs it', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    const clock = fakeClock('2026-06-03T07:00:00Z');
    const { logger, lines } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn });
    await scheduler.start();
    expect(posts()).toHaveLength(0);
    expect(record('sch_1:2026-06-01')).toMatchObject({ status: 'skipped' });
    expect(record('sch_1:2026-06-01')?.detail).toMatch(
      /missed by 2 days .*grace period 6 h, DIGEST_GRACE_HOURS/,
    );
    expect(
      lines.some((l) => l.startsWith('WARN skipped a digest missed while the app was not running')),
    ).toBe(true);
    await scheduler.stop();
  });

  it('waits out a 429 (Retry-After) and then delivers', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    standIn.failNext('chat.postMessage', { kind: 'ratelimited', retryAfter: 1 });
    const { logger, lines } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock('2026-06-01T07:00:10Z'), logger, standIn });
    await scheduler.start();
    expect(posts()).toHaveLength(2);
    expect(record('sch_1:2026-06-01')?.status).toBe('delivered');
    expect(lines.some((l) => l.includes('digest rate limited; waiting Retry-After'))).toBe(true);
    await scheduler.stop();
  });

  it('retries 5xx answers with backoff, at most 3 attempts, and then records a failure without pausing', async () => {
    store.update((d) => {
      d.schedules.push(schedule({ created_at: CREATED }));
      d.schedules.push(schedule({ id: 'sch_2', channel_id: 'C0OTHER01', created_at: CREATED }));
    });
    standIn.addChannel({ id: 'C0OTHER01', name: 'other', member: true });
    standIn.failNext('chat.postMessage', { kind: 'http', status: 503 }, 2);
    const { logger } = captureLogger();
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const scheduler = testScheduler({ store, clock, logger, standIn, concurrency: 1 });
    await scheduler.start();
    expect(record('sch_1:2026-06-01')?.status).toBe('delivered');
    expect(posts('sch_1:2026-06-01')).toHaveLength(3);

    standIn.failNext('chat.postMessage', { kind: 'http', status: 500 }, 3);
    clock.set('2026-06-08T07:00:10Z');
    await scheduler.tick();
    const failed = [record('sch_1:2026-06-08'), record('sch_2:2026-06-08')].filter(
      (r) => r?.status === 'failed',
    );
    expect(failed).toHaveLength(1);
    const s = store.data.schedules.find((x) => x.id === failed[0]?.schedule_id);
    expect(s?.paused).toBe(false);
    expect(s?.last_error).toMatch(/^http_500/);
    expect(standIn.callsTo('conversations.open')).toHaveLength(0);
    await scheduler.stop();
  });

  it('joins a public channel on not_in_channel and posts again', async () => {
    standIn.addChannel({ id: 'C0PUBLIC1', name: 'public', member: false });
    store.update((d) => d.schedules.push(schedule({ channel_id: 'C0PUBLIC1', created_at: CREATED })));
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock('2026-06-01T07:00:10Z'), logger, standIn });
    await scheduler.start();
    expect(standIn.callsTo('conversations.join').map((c) => c.body.channel)).toEqual(['C0PUBLIC1']);
    expect(posts()).toHaveLength(2);
    expect(record('sch_1:2026-06-01')).toMatchObject({ status: 'delivered' });
    expect(record('sch_1:2026-06-01')?.detail).toContain('joined the channel');
    await scheduler.stop();
  });

  it('posts to a channel typed as #name by its id (joining it first), and keeps the id from then on', async () => {
    // More channels than one page of the listing holds.
    for (const [id, name] of [
      ['C0A000001', 'alpha'],
      ['C0B000001', 'beta'],
      ['C0LAUNCH1', 'launch-team'],
      ['C0D000001', 'delta'],
    ])
      standIn.addChannel({ id: id as string, name: name as string, member: false });
    store.update((d) => d.schedules.push(schedule({ channel_id: '#Launch-Team', created_at: CREATED })));
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock('2026-06-01T07:00:10Z'), logger, standIn });
    await scheduler.start();
    // One listing, followed across pages, served both the post and the join.
    const listing = standIn.callsTo('conversations.list');
    expect(listing.filter((c) => !c.body.cursor)).toHaveLength(1);
    expect(listing.length).toBeGreaterThanOrEqual(3);
    expect(standIn.callsTo('conversations.join').map((c) => c.body.channel)).toEqual(['C0LAUNCH1']);
    expect(posts().map((c) => c.body.channel)).toEqual(['C0LAUNCH1', 'C0LAUNCH1']);
    expect(record('sch_1:2026-06-01')).toMatchObject({ status: 'delivered' });
    expect(store.data.schedules[0]?.channel_id).toBe('C0LAUNCH1');
    await scheduler.stop();
  });

  it('pauses a schedule whose #name matches no channel the app can see, as channel_not_found', async () => {
    standIn.addChannel({ id: 'C0SECRET1', name: 'secret', is_private: true, member: false });
    store.update((d) => d.schedules.push(schedule({ channel_id: '#secret', created_at: CREATED })));
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock('2026-06-01T07:00:10Z'), logger, standIn });
    await scheduler.start();
    expect(posts().filter((c) => c.body.channel !== 'DU0OWNER01')).toEqual([]);
    expect(store.data.schedules[0]?.paused).toBe(true);
    expect(store.data.schedules[0]?.last_error).toMatch(/^channel_not_found: /);
    await scheduler.stop();
  });

  it('on channel_not_found pauses the schedule, records the error and tells the owner how to fix it', async () => {
    store.update((d) => d.schedules.push(schedule({ channel_id: 'C0GONE001', created_at: CREATED })));
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock('2026-06-01T07:00:10Z'), logger, standIn });
    await scheduler.start();
    expect(record('sch_1:2026-06-01')?.status).toBe('failed');
    const s = store.data.schedules[0];
    expect(s?.paused).toBe(true);
    expect(s?.last_error).toMatch(/^channel_not_found: /);
    expect(standIn.callsTo('conversations.open').map((c) => c.body.users)).toEqual(['U0OWNER01']);
    const dm = standIn.callsTo('chat.postMessage').find((c) => c.body.channel === 'DU0OWNER01');
    expect(blockText(dm?.body.blocks)).toContain('could not be delivered, so it is paused');
    expect(blockText(dm?.body.blocks)).toContain('/audience digest resume sch_1');

    // Paused from now on: next week's occurrence is skipped, not attempted.
    await scheduler.tick();
    const clock2 = fakeClock('2026-06-08T07:00:10Z');
    const later = testScheduler({ store, clock: clock2, logger, standIn });
    await later.start();
    expect(record('sch_1:2026-06-08')).toMatchObject({ status: 'skipped', detail: 'paused at the time' });
    await scheduler.stop();
    await later.stop();
  });

  it('computes content once per distinct configuration, however many schedules share it', async () => {
    standIn.addChannel({ id: 'C0SECOND1', name: 'second', member: true });
    standIn.addChannel({ id: 'C0THIRD01', name: 'third', member: true });
    const channels = ['C0GROWTH1', 'C0SECOND1', 'C0THIRD01'];
    store.update((d) => {
      for (let i = 0; i < 6; i++) {
        d.schedules.push(
          schedule({
            id: `sch_${i + 1}`,
            channel_id: channels[i % 3] as string,
            created_at: CREATED,
            options: { predictions: false, recommendations: false, k: i % 2 === 0 ? 4 : 3, chart: false },
          }),
        );
      }
    });
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock('2026-06-01T07:00:30Z'), logger, standIn });
    await scheduler.start();
    expect(posts()).toHaveLength(6);
    expect(scheduler.content.computed).toBe(2);
    expect(store.data.deliveries.filter((d) => d.status === 'delivered')).toHaveLength(6);
    await scheduler.stop();
  });

  it('ticks every 30 s, or just after the next occurrence when it is sooner', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    const timers = manualTimers();
    const clock = fakeClock('2026-06-01T06:59:50Z');
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn, timers });
    await scheduler.start();
    expect(timers.delays.at(-1)).toBe(10_050);
    clock.set('2026-06-01T07:00:00.050Z');
    timers.fire();
    await scheduler.tick();
    expect(posts()).toHaveLength(1);
    expect(timers.delays.at(-1)).toBe(30_000);
    await scheduler.stop();
  });

  it('a week later on unchanged data compares with the segmentation the last digest showed, and says the figures are old', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED })));
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn });
    await scheduler.start();
    expect(posts('sch_1:2026-06-01')).toHaveLength(1);
    // The delivery recorded what it showed (computing it did not), with its request: the whole audience.
    expect(store.data.segmentRuns.map((r) => r.request?.where)).toEqual([null]);

    clock.set('2026-06-08T07:00:10Z');
    await scheduler.tick();
    const text = blockText(posts('sch_1:2026-06-08')[0]?.body.blocks);
    expect(text).not.toContain('no segmentation from a week earlier');
    expect(text).toContain('compared with the segmentation of 1 Jun 2026');
    expect(text).toContain('±0 vs last week');
    expect(text).toContain('No new data since 1 Jun 2026: these figures are 7 days old');
    await scheduler.stop();
  });

  it('skips occurrences while paused, and resuming does not send them late', async () => {
    store.update((d) => d.schedules.push(schedule({ created_at: CREATED, paused: true })));
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock, logger, standIn });
    await scheduler.start();
    expect(record('sch_1:2026-06-01')).toMatchObject({ status: 'skipped', detail: 'paused at the time' });
    clock.advance(600_000);
    await setPaused(store, store.data.schedules[0] as never, false, OWNER, clock.now(), 6 * 3_600_000);
    await scheduler.tick();
    expect(posts()).toHaveLength(0);
    await scheduler.stop();
  });
});

describe('a digest posted through the real transport', () => {
  it('is text first: complete without images, with Open details and Pause buttons', async () => {
    store.update((d) =>
      d.schedules.push(
        schedule({
          created_at: CREATED,
          options: { predictions: true, recommendations: true, k: 4, chart: false },
        }),
      ),
    );
    const { logger } = captureLogger();
    const scheduler = testScheduler({ store, clock: fakeClock(DUE), logger, standIn, policy: FAST_POLICY });
    await scheduler.start();
    const post = posts()[0];
    expect(post?.body.text).toMatch(/^Weekly audience digest: 300, 4 segments\./);
    const text = blockText(post?.body.blocks);
    expect(text).toContain('4 segments this week');
    expect(text).toContain('expected next 30 days');
    expect(text).toContain('top picks:');
    const blocks = (post?.body.blocks ?? []) as Array<{
      type: string;
      elements?: Array<{ action_id: string; value: string }>;
    }>;
    const actions = blocks.at(-1);
    expect(actions?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ['run_command:digest-details', 'segments k=4'],
      ['digest_pause', 'sch_1'],
    ]);
    await scheduler.stop();
  });
});

describe('the segment-sizes chart', () => {
  it('is uploaded into the digest thread, and a failed upload does not hold back the text', async () => {
    const { renderChart } = await import('../../src/charts/render.ts');
    const run = (weeksAgo: number, sizes: number[]) => ({
      id: `run-${weeksAgo}`,
      created_at: Date.parse('2026-05-31T12:00:00Z') - weeksAgo * 7 * 86_400_000,
      data_version: 0,
      k: 4,
      features: [],
      scaling: 'zscore',
      names: ['Bargain hunters', 'Quiet followers', 'Trend-setters', 'Dormant followers'],
      sizes,
      centroids: [],
      user_ids: [],
      labels: [],
    });
    store.update((d) => {
      d.schedules.push(
        schedule({
          created_at: CREATED,
          options: { predictions: false, recommendations: false, k: 4, chart: true },
        }),
      );
      d.schedules.push(
        schedule({
          id: 'sch_2',
          channel_id: 'C0OTHER01',
          created_at: CREATED,
          options: { predictions: false, recommendations: false, k: 4, chart: true },
        }),
      );
    });
    standIn.addChannel({ id: 'C0OTHER01', name: 'other', member: true });
    const { logger, lines } = captureLogger();
    const clock = fakeClock('2026-06-01T07:00:10Z');
    const scheduler = testScheduler({
      store,
      clock,
      logger,
      standIn,
      renderChart: (spec) => renderChart(spec),
      concurrency: 1,
    });
    // Earlier weekly runs with the features this week's run will have.
    const features = (await import('../../src/engine/features.ts')).DEFAULT_SEGMENT_FEATURES;
    store.update((d) => {
      for (let w = 1; w <= 3; w++) d.segmentRuns.push({ ...run(w, [100 + w, 80, 60, 40]), features });
    });
    // The second upload fails at its first step.
    standIn.failNext('files.getUploadURLExternal', { kind: 'error', error: 'missing_scope' }, 1);
    await scheduler.start();
    expect(store.data.deliveries.filter((d) => d.status === 'delivered')).toHaveLength(2);
    const completed = standIn.callsTo('files.completeUploadExternal');
    expect(completed).toHaveLength(1);
    const thread = completed[0]?.body.thread_ts;
    // In the thread of the digest it belongs to.
    expect(String(thread)).toMatch(/^\d+\.\d+$/);
    expect(lines.some((l) => l.includes('digest chart not attached; the digest text was delivered'))).toBe(
      true,
    );
    await scheduler.stop();
  });
});

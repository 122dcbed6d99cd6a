import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DigestSchedule, SegmentRun } from '../../src/domain/types.ts';
import { blockText, startTestApp, TEST_NOW, type TestApp } from '../support/test-app.ts';

const opened = (user: string, withView = false) => ({
  type: 'app_home_opened',
  user,
  channel: 'D0HOME001',
  tab: 'home',
  event_ts: '1780000000.000100',
  ...(withView ? { view: { id: 'V1', type: 'home', blocks: [] } } : {}),
});

describe('App Home', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ slack: { homeRefreshMs: 50 } });
  });
  afterAll(async () => {
    await app?.stop();
  });
  // Tests that change data come last: the background refresh then re-publishes for everyone seen so far.
  beforeEach(() => {
    app.standIn.reset();
  });
  afterEach(() => {
    expect(app.standIn.violations).toEqual([]);
  });

  it('publishes the overview when someone opens the Home tab', async () => {
    const res = await app.event(opened('U0HOME001'));
    expect(res.status).toBe(200);
    const publish = await app.standIn.waitFor((c) => c.method === 'views.publish');
    expect(publish.body.user_id).toBe('U0HOME001');
    const view = publish.body.view as { type: string; blocks: unknown[] };
    expect(view.type).toBe('home');
    const text = blockText(view.blocks);
    expect(text).toContain('*Audience*\n500 people');
    expect(text).toContain('*Revenue, 30 days*');
    expect(text).toContain('No segments yet');
    expect(text).not.toContain('Digest schedules');
  });

  it('ignores the Messages tab', async () => {
    await app.event({ ...opened('U0HOME007'), tab: 'messages' });
    await app.event(opened('U0HOME008'));
    await app.standIn.waitFor((c) => c.method === 'views.publish' && c.body.user_id === 'U0HOME008');
    expect(app.standIn.callsTo('views.publish').map((c) => c.body.user_id)).toEqual(['U0HOME008']);
  });

  it('waits out a rate-limited views.publish and publishes', async () => {
    app.standIn.failNext('views.publish', { kind: 'ratelimited', retryAfter: 1 });
    await app.event(opened('U0HOME005'));
    await expect.poll(() => app.standIn.callsTo('views.publish').length, { timeout: 10_000 }).toBe(2);
    await app.standIn.callsTo('views.publish')[1]?.answered;
    expect(app.standIn.calls.filter((c) => c.method === 'views.publish').map((c) => c.body.user_id)).toEqual([
      'U0HOME005',
      'U0HOME005',
    ]);
  });

  it('survives a failing views.publish and publishes on the next open', async () => {
    app.standIn.failNext('views.publish', { kind: 'error', error: 'internal_error' });
    await app.event(opened('U0HOME006'));
    await expect
      .poll(() => app.logs.some((l) => l.includes('could not publish the App Home tab')))
      .toBe(true);
    await app.event(opened('U0HOME006', true));
    await expect.poll(() => app.standIn.callsTo('views.publish').length).toBe(2);
  });

  it('does not publish again while the data is unchanged, and does once it changed', async () => {
    await app.event(opened('U0HOME002'));
    await app.standIn.waitFor((c) => c.method === 'views.publish' && c.body.user_id === 'U0HOME002');
    await app.event(opened('U0HOME002', true));
    // A later, different event proves the second open was handled (listeners run in order of arrival).
    await app.event(opened('U0HOME003'));
    await app.standIn.waitFor((c) => c.method === 'views.publish' && c.body.user_id === 'U0HOME003');
    expect(app.standIn.callsTo('views.publish').filter((c) => c.body.user_id === 'U0HOME002')).toHaveLength(
      1,
    );

    app.store.update((data) => {
      data.segmentRuns.push(segmentRun(['Bargain <!here> hunters', 'Loyal fans'], [300, 200]));
      data.schedules.push(schedule());
    });
    await app.event(opened('U0HOME002', true));
    // Whether the open or the background refresh publishes first, U0HOME002 ends up with the new view.
    const publish = await app.standIn.waitFor(
      (c) =>
        c.method === 'views.publish' &&
        c.body.user_id === 'U0HOME002' &&
        blockText(c.body.view).includes('Bargain'),
    );
    const text = blockText((publish.body.view as { blocks: unknown[] }).blocks);
    expect(text).toContain('*1. Bargain &lt;!here&gt; hunters*: 300 people (60%)');
    expect(text).toContain(
      '<#C0DIGEST1>: weekly Mon at 09:00 Europe/Berlin · paused · :warning: last error: not_in_channel',
    );
    // Two digests to one channel at one time are told apart by their id.
    expect(text).toContain('*sched-1* <#C0DIGEST1>: weekly');
  });

  it('refreshHome, and the background check, re-publish for people whose view is out of date', async () => {
    await app.event(opened('U0HOME004'));
    await app.standIn.waitFor((c) => c.method === 'views.publish' && c.body.user_id === 'U0HOME004');
    app.store.update((data) => {
      data.segmentRuns.push(segmentRun(['Night owls', 'Early birds', 'Weekenders'], [100, 150, 250]));
    });
    await app.slack.refreshHome();
    const fresh = app.standIn
      .callsTo('views.publish')
      .filter((c) => c.body.user_id === 'U0HOME004' && blockText(c.body.view).includes('Weekenders'));
    expect(fresh).toHaveLength(1);

    // Nobody calls refreshHome this time: the background check notices the change.
    app.store.update((data) => {
      data.segmentRuns.push(segmentRun(['Bookworms', 'Gamers'], [240, 260]));
    });
    await app.standIn.waitFor(
      (c) =>
        c.method === 'views.publish' &&
        c.body.user_id === 'U0HOME004' &&
        blockText(c.body.view).includes('Bookworms'),
    );
  });
});

function segmentRun(names: string[], sizes: number[]): SegmentRun {
  return {
    id: `run-${names.length}-${sizes.join('-')}`,
    created_at: TEST_NOW.getTime(),
    data_version: 1,
    k: names.length,
    features: ['monetary', 'frequency'],
    scaling: 'zscore',
    names,
    sizes,
    centroids: names.map(() => [0, 0]),
    user_ids: [],
    labels: [],
  };
}

function schedule(): DigestSchedule {
  return {
    id: 'sched-1',
    channel_id: 'C0DIGEST1',
    owner_id: 'U0000001',
    cadence: 'weekly',
    weekdays: [1],
    local_time: '09:00',
    time_zone: 'Europe/Berlin',
    paused: true,
    last_error: 'not_in_channel',
    created_at: TEST_NOW.getTime(),
    options: {},
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/connectors/errors.ts';
import { nextQuotaReset, quotaDay } from '../../../src/connectors/youtube/youtube-client.ts';
import { youtubeConnector } from '../../../src/connectors/youtube/youtube-connector.ts';
import { drain, flatten, harness, lastCursor } from '../../support/stand-ins/connector-harness.ts';
import { attributableYtComments, youtubeFixtures } from '../../support/stand-ins/fixtures-youtube.ts';
import {
  startYouTubeStandIn,
  type YouTubeStandIn,
  youtubeFaults,
} from '../../support/stand-ins/youtube-stand-in.ts';

const DAY = 86_400_000;
let standIn: YouTubeStandIn;

beforeAll(async () => {
  standIn = await startYouTubeStandIn(youtubeFixtures({ videos: 80, meanComments: 40 }));
});
afterAll(async () => {
  await standIn.close();
});

function ytHarness(
  settings: Record<string, string> = {},
  credentials?: Record<string, string>,
  timeoutMs?: number,
) {
  const fx = standIn.fixtures;
  return harness({
    baseUrl: standIn.baseUrl,
    credentials: credentials ?? { apiKey: fx.apiKey },
    settings: { channelId: fx.channel.id, ...settings },
    now: fx.now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

async function errorOf(promise: Promise<{ error: unknown }>) {
  const { error } = await promise;
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the YouTube connector (Data API v3)', () => {
  it('authenticates with an API key (channel by id) and lists the OAuth token’s own channel', async () => {
    const fx = standIn.fixtures;
    const account = await youtubeConnector.authenticate(ytHarness().ctx);
    expect(account).toEqual({ accountId: fx.channel.id, accountName: 'Acme Store', scopes: ['api_key'] });
    const oauth = ytHarness({ channelId: '' }, { accessToken: fx.accessToken });
    expect(await youtubeConnector.listSources(oauth.ctx)).toEqual([
      { id: fx.channel.id, name: 'Acme Store', kind: 'channel' },
    ]);
  });

  it('syncs the uploads to the end: videos, their statistics, every attributable top-level comment once', async () => {
    const fx = standIn.fixtures;
    const before = standIn.unitsUsed;
    const { batches, error } = await drain(youtubeConnector, ytHarness().ctx, null);
    expect(error).toBeUndefined();
    const all = flatten(batches);
    expect(new Set(all.products.map((p) => p.id))).toEqual(new Set(fx.videos.map((v) => v.id)));
    const expected = attributableYtComments(fx.videos);
    expect(expected).toBeGreaterThan(3000);
    expect(all.interactions).toHaveLength(expected);
    expect(new Set(all.interactions.map((i) => i.sourceId)).size).toBe(expected);
    const v = fx.videos[0];
    const metrics = Object.fromEntries(
      all.metrics.filter((m) => m.contentId === v?.id).map((m) => [m.name, m.value]),
    );
    expect(metrics).toEqual({ views: v?.views, likes: v?.likes, comments: v?.comments.length });
    const author = v?.comments.find((c) => c.author !== null)?.author;
    expect(all.profiles.find((p) => p.sourceId === author?.channelId)).toMatchObject({
      handle: author?.displayName,
      platform: 'youtube',
    });
    // Quota accounting: the cursor counts exactly the units the API was charged (1 per list call).
    const cursor = JSON.parse(lastCursor(batches) ?? '{}') as { quota: { day: string; used: number } };
    expect(cursor.quota).toEqual({ day: quotaDay(fx.now), used: standIn.unitsUsed - before });
  });

  it('resumes from a committed cursor after a crash without losing or repeating a comment', async () => {
    const h = ytHarness({ batchRows: '300' });
    const first = await drain(youtubeConnector, h.ctx, null, 3);
    const rest = await drain(youtubeConnector, h.ctx, lastCursor(first.batches));
    expect(rest.error).toBeUndefined();
    const ids = [...first.batches, ...rest.batches].flatMap((b) => b.interactions.map((i) => i.sourceId));
    expect(ids).toHaveLength(attributableYtComments(standIn.fixtures.videos));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('syncs incrementally: new comments only, stopping each video’s comments at the watermark', async () => {
    const fx = standIn.fixtures;
    const h = ytHarness();
    const full = await drain(youtubeConnector, h.ctx, null);
    h.setNow(fx.now + 2 * DAY);
    const fresh = standIn.addComment(fx.videos[1]?.id ?? '', fx.now + DAY);
    const before = standIn.requests.length;
    const next = await drain(youtubeConnector, h.ctx, lastCursor(full.batches));
    expect(next.error).toBeUndefined();
    const got = flatten(next.batches).interactions;
    expect(got.map((i) => i.sourceId)).toContain(fresh);
    expect(got.every((i) => i.sourceId === fresh || i.timestamp > fx.now - 15 * 60_000)).toBe(true);
    // About 30 days of uploads in the window, one comment page each: far fewer calls than the full sync.
    const threads = standIn.requests.slice(before).filter((r) => r.path.endsWith('/commentThreads'));
    expect(threads.length).toBeLessThan(15);
  });
});

describe('YouTube quota accounting and faults', () => {
  it('stops before the daily quota is spent: quota, resuming at the next midnight Pacific time', async () => {
    const fx = standIn.fixtures;
    const before = standIn.unitsUsed;
    const error = await errorOf(drain(youtubeConnector, ytHarness({ dailyQuota: '20' }).ctx, null));
    expect(error.code).toBe('quota');
    // 2026-12-01T12:00Z is 04:00 PST; the quota day ends at midnight PST = 08:00Z on Dec 2.
    expect(error.resumeAt).toBe(Date.UTC(2026, 11, 2, 8));
    expect(error.resumeAt).toBe(nextQuotaReset(fx.now));
    expect(standIn.unitsUsed - before).toBe(20);
  });

  it('adds up units across runs on the same quota day and starts afresh the next day', async () => {
    const fx = standIn.fixtures;
    const h = ytHarness({ dailyQuota: '30', batchRows: '50' });
    const first = await drain(youtubeConnector, h.ctx, null, 4);
    const spent = (JSON.parse(lastCursor(first.batches) ?? '{}') as { quota: { used: number } }).quota.used;
    const before = standIn.unitsUsed;
    const error = await errorOf(drain(youtubeConnector, h.ctx, lastCursor(first.batches)));
    expect(error.code).toBe('quota');
    expect(standIn.unitsUsed - before).toBe(30 - spent);
    h.setNow(Date.UTC(2026, 11, 2, 9));
    const nextDay = await drain(youtubeConnector, h.ctx, lastCursor(first.batches), 1);
    expect(nextDay.error).toBeUndefined();
    expect((JSON.parse(lastCursor(nextDay.batches) ?? '{}') as { quota: { day: string } }).quota.day).toBe(
      '2026-12-02',
    );
    expect(fx.now).toBeLessThan(Date.UTC(2026, 11, 2, 9));
  });

  it('quotaExceeded from the API is quota with the Pacific-midnight resumeAt', async () => {
    standIn.failNext('/commentThreads', { kind: 'answer', answer: youtubeFaults.quotaExceeded() });
    const error = await errorOf(drain(youtubeConnector, ytHarness().ctx, null));
    expect(error.code).toBe('quota');
    expect(error.platformCode).toBe('quotaExceeded');
    expect(error.resumeAt).toBe(Date.UTC(2026, 11, 2, 8));
  });

  it('a bad API key and a bad OAuth token are auth_expired; an unknown channel is config', async () => {
    expect((await errorOf(drain(youtubeConnector, ytHarness({}, { apiKey: 'nope' }).ctx, null))).code).toBe(
      'auth_expired',
    );
    expect(
      (await errorOf(drain(youtubeConnector, ytHarness({}, { accessToken: 'nope' }).ctx, null))).code,
    ).toBe('auth_expired');
    expect(
      (await errorOf(drain(youtubeConnector, ytHarness({ channelId: 'UCnobody' }).ctx, null))).code,
    ).toBe('config');
  });

  it('rateLimitExceeded is rate_limited, forbidden is permission, 5xx and a hang are transient, a bad page malformed', async () => {
    standIn.failNext('/playlistItems', { kind: 'answer', answer: youtubeFaults.rateLimited() });
    expect((await errorOf(drain(youtubeConnector, ytHarness().ctx, null))).code).toBe('rate_limited');
    standIn.failNext('/commentThreads', { kind: 'answer', answer: youtubeFaults.forbidden() });
    expect((await errorOf(drain(youtubeConnector, ytHarness().ctx, null))).code).toBe('permission');
    standIn.failNext('/videos', { kind: 'answer', answer: youtubeFaults.serverError() });
    expect((await errorOf(drain(youtubeConnector, ytHarness().ctx, null))).code).toBe('transient');
    standIn.failNext('/commentThreads', { kind: 'hang' });
    expect((await errorOf(drain(youtubeConnector, ytHarness({}, undefined, 300).ctx, null))).code).toBe(
      'transient',
    );
    standIn.failNext('/commentThreads', { kind: 'answer', answer: youtubeFaults.malformed() });
    const { batches, error } = await drain(youtubeConnector, ytHarness().ctx, null);
    expect((error as ConnectorError).code).toBe('malformed');
    expect(batches.flatMap((b) => b.interactions)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/connectors/errors.ts';
import { instagramConnector } from '../../../src/connectors/instagram/instagram-connector.ts';
import { drain, flatten, harness, lastCursor } from '../../support/stand-ins/connector-harness.ts';
import { attributableComments, graphFixtures } from '../../support/stand-ins/fixtures-instagram.ts';
import {
  type GraphStandIn,
  graphErrorBody,
  graphFaults,
  startGraphStandIn,
} from '../../support/stand-ins/instagram-stand-in.ts';

const DAY = 86_400_000;
let standIn: GraphStandIn;

beforeAll(async () => {
  standIn = await startGraphStandIn(graphFixtures({ media: 120, posts: 30, meanComments: 30 }));
});
afterAll(async () => {
  await standIn.close();
});

function igHarness(settings: Record<string, string> = { igUserId: '17841400000000001' }, timeoutMs?: number) {
  const fx = standIn.fixtures;
  return harness({
    baseUrl: standIn.baseUrl,
    credentials: { accessToken: fx.token, pageAccessToken: fx.pageToken },
    settings,
    now: fx.now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

async function expectCode(promise: Promise<{ error: unknown }>, code: string) {
  const { error } = await promise;
  expect(error).toBeInstanceOf(ConnectorError);
  expect((error as ConnectorError).code).toBe(code);
  return error as ConnectorError;
}

describe('the Graph API connector (Instagram professional accounts, Facebook Pages)', () => {
  it('authenticates: who the token is and which permissions are granted', async () => {
    const account = await instagramConnector.authenticate(igHarness().ctx);
    expect(account.accountId).toBe(standIn.fixtures.user.id);
    expect(account.scopes).toContain('instagram_manage_insights');
  });

  it('lists the Pages and their Instagram professional accounts as sources', async () => {
    const sources = await instagramConnector.listSources(igHarness().ctx);
    expect(sources).toEqual([
      { id: standIn.fixtures.page.id, name: 'Acme Store', kind: 'facebook_page' },
      { id: standIn.fixtures.igUser.id, name: 'acme.store', kind: 'instagram_account' },
    ]);
  });

  it('syncs an Instagram account to the end: all media, every attributable comment once, insights as metrics', async () => {
    const fx = standIn.fixtures;
    const { batches, error } = await drain(instagramConnector, igHarness().ctx, null);
    expect(error).toBeUndefined();
    expect(batches.at(-1)?.done).toBe(true);
    expect(batches.slice(0, -1).every((b) => !b.done)).toBe(true);
    const all = flatten(batches);
    expect(new Set(all.products.map((p) => p.id))).toEqual(new Set(fx.media.map((m) => m.id)));
    const expected = attributableComments(fx.media);
    expect(expected).toBeGreaterThan(3000);
    expect(all.interactions).toHaveLength(expected);
    expect(new Set(all.interactions.map((i) => i.sourceId)).size).toBe(expected);
    expect(all.interactions.every((i) => i.type === 'comment' && i.value === null)).toBe(true);
    // Commenters are profiles with their IG-scoped id and username (the engine pseudonymises the handle).
    const commenter = fx.media.flatMap((m) => m.comments).find((c) => c.from !== null)?.from;
    expect(all.profiles.find((p) => p.sourceId === commenter?.id)).toMatchObject({
      handle: commenter?.username,
      platform: 'instagram',
    });
    // Insights: reach, impressions and saves on feed posts; reels have no impressions.
    const feed = fx.media.find((m) => m.productType === 'FEED');
    const reel = fx.media.find((m) => m.productType === 'REELS');
    const metricsOf = (id: string | undefined) =>
      Object.fromEntries(all.metrics.filter((m) => m.contentId === id).map((m) => [m.name, m.value]));
    expect(metricsOf(feed?.id)).toMatchObject({
      reach: feed?.insights.reach,
      impressions: feed?.insights.impressions,
      saves: feed?.insights.saved,
      likes: feed?.likes,
    });
    expect(metricsOf(reel?.id)).toMatchObject({ reach: reel?.insights.reach, saves: reel?.insights.saved });
    expect(metricsOf(reel?.id).impressions).toBeUndefined();
  });

  it('resumes from a committed cursor after a crash without losing or repeating a comment', async () => {
    const h = igHarness();
    const first = await drain(instagramConnector, h.ctx, null, 4);
    expect(first.batches).toHaveLength(4);
    const rest = await drain(instagramConnector, h.ctx, lastCursor(first.batches));
    expect(rest.error).toBeUndefined();
    const ids = [...first.batches, ...rest.batches].flatMap((b) => b.interactions.map((i) => i.sourceId));
    expect(ids).toHaveLength(attributableComments(standIn.fixtures.media));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('syncs incrementally: only comments newer than the cursor, on content within the look-back window', async () => {
    const fx = standIn.fixtures;
    const h = igHarness();
    const full = await drain(instagramConnector, h.ctx, null);
    const later = fx.now + 2 * DAY;
    h.setNow(later);
    const recent = fx.media[0];
    const old = fx.media.at(-1);
    if (recent === undefined || old === undefined) throw new Error('fixtures have media');
    const fresh = [
      standIn.addComment(recent.id, fx.now + DAY, 3),
      standIn.addComment(recent.id, fx.now + DAY + 5, 4),
    ];
    // Content published long before the watermark is not revisited by an incremental run (a full sync is).
    const outside = standIn.addComment(old.id, fx.now + DAY, 5);
    const before = standIn.requests.length;
    const next = await drain(instagramConnector, h.ctx, lastCursor(full.batches));
    expect(next.error).toBeUndefined();
    const got = flatten(next.batches).interactions;
    expect(got.map((i) => i.sourceId)).toEqual(expect.arrayContaining(fresh.map((c) => c.id)));
    expect(got.map((i) => i.sourceId)).not.toContain(outside.id);
    // Besides the new ones, only comments from the watermark's overlap (the last 15 min of the previous run) come
    // again; the engine drops those by source id.
    const seen = new Set(flatten(full.batches).interactions.map((i) => i.sourceId));
    const again = got.filter((i) => !fresh.some((c) => c.id === i.sourceId));
    expect(again.every((i) => seen.has(i.sourceId) && i.timestamp > fx.now - 15 * 60_000)).toBe(true);
    // It stopped paging media once it passed the window instead of reading the whole account again.
    const mediaPages = standIn.requests.slice(before).filter((r) => r.path.endsWith('/media'));
    expect(mediaPages.length).toBeLessThan(Math.ceil(fx.media.length / 50));
  });

  it('reads a Facebook Page: posts, comments with their authors (Page token), post insights', async () => {
    const fx = standIn.fixtures;
    const { batches, error } = await drain(instagramConnector, igHarness({ pageId: fx.page.id }).ctx, null);
    expect(error).toBeUndefined();
    const all = flatten(batches);
    expect(all.products).toHaveLength(fx.posts.length);
    expect(all.interactions).toHaveLength(attributableComments(fx.posts));
    expect(all.profiles.every((p) => p.platform === 'facebook' && p.handle === undefined)).toBe(true);
    const post = fx.posts[0];
    const reach = all.metrics.find((m) => m.contentId === post?.id && m.name === 'reach');
    expect(reach?.value).toBe(post?.insights.reach);
  });

  it('never guesses an author: Page comments read without a Page token (no `from`) add no interactions', async () => {
    const fx = standIn.fixtures;
    const h = harness({
      baseUrl: standIn.baseUrl,
      credentials: { accessToken: fx.token },
      settings: { pageId: fx.page.id },
      now: fx.now,
    });
    const { batches } = await drain(instagramConnector, h.ctx, null);
    expect(flatten(batches).interactions).toEqual([]);
    expect(flatten(batches).products).toHaveLength(fx.posts.length);
  });
});

describe('Graph API faults end in the right ConnectorError', () => {
  it('an expired token (code 190) is auth_expired', async () => {
    standIn.failNext('/comments', { kind: 'answer', answer: graphFaults.expiredToken() });
    const error = await expectCode(drain(instagramConnector, igHarness().ctx, null), 'auth_expired');
    expect(error.platformCode).toBe(190);
    expect(error.message).not.toContain(standIn.fixtures.token);
  });

  it('a wrong token is auth_expired at authenticate', async () => {
    const h = harness({ baseUrl: standIn.baseUrl, credentials: { accessToken: 'nope' }, now: 0 });
    await expect(instagramConnector.authenticate(h.ctx)).rejects.toMatchObject({ code: 'auth_expired' });
  });

  it.each([4, 17, 32, 613, 80002] as const)(
    'throttling code %i is rate_limited, waiting as the BUC header says',
    async (code) => {
      standIn.failNext('/media', { kind: 'answer', answer: graphFaults.throttled(code, 12) });
      const error = await expectCode(drain(instagramConnector, igHarness().ctx, null), 'rate_limited');
      expect(error.retryAfterMs).toBe(12 * 60_000);
      expect(error.platformCode).toBe(code);
    },
  );

  it('a missing permission (code 10 / 200) is permission', async () => {
    standIn.failNext('/comments', { kind: 'answer', answer: graphFaults.permission(200) });
    await expectCode(drain(instagramConnector, igHarness().ctx, null), 'permission');
  });

  it('a 5xx is transient, and a page that hangs past the timeout is transient', async () => {
    standIn.failNext('/media', { kind: 'answer', answer: graphFaults.serverError() });
    await expectCode(drain(instagramConnector, igHarness().ctx, null), 'transient');
    standIn.failNext('/comments', { kind: 'hang' });
    const { batches, error } = await drain(instagramConnector, igHarness(undefined, 300).ctx, null);
    expect((error as ConnectorError).code).toBe('transient');
    expect(batches).toEqual([]);
  });

  it('a malformed page is rejected: nothing from it is handed over, the cursor stays where it was', async () => {
    const h = igHarness();
    const first = await drain(instagramConnector, h.ctx, null, 2);
    standIn.failNext('/comments', { kind: 'answer', answer: graphFaults.malformed() });
    const { batches, error } = await drain(instagramConnector, h.ctx, lastCursor(first.batches));
    expect((error as ConnectorError).code).toBe('malformed');
    expect(batches).toEqual([]);
  });

  it('slows down as X-App-Usage nears the limit, and stops (rate_limited) before hitting it', async () => {
    const h = igHarness();
    standIn.setUsage({ app: 85 });
    const slow = await drain(instagramConnector, h.ctx, null, 1);
    expect(slow.error).toBeUndefined();
    expect(h.sleeps.length).toBeGreaterThan(0);
    expect(h.sleeps.every((ms) => ms > 0)).toBe(true);
    standIn.setUsage({ app: 10, buc: 97, regainMinutes: 7 });
    const before = standIn.requests.length;
    const error = await expectCode(drain(instagramConnector, h.ctx, null), 'rate_limited');
    expect(error.retryAfterMs).toBe(7 * 60_000);
    // One request told it the usage; it sent no second one.
    expect(standIn.requests.length - before).toBe(1);
    standIn.setUsage({ app: 8, buc: 5, regainMinutes: 0 });
  });

  it('media without insights (code 10 "not enough viewers") sync without figures instead of failing', async () => {
    const first = standIn.fixtures.media.find((m) => m.productType === 'FEED');
    standIn.failNext(`/${first?.id}/insights`, {
      kind: 'answer',
      answer: {
        status: 400,
        body: graphErrorBody(10, '(#10) Not enough viewers for the media to show insights'),
      },
    });
    const { batches, error } = await drain(instagramConnector, igHarness().ctx, null, 1);
    expect(error).toBeUndefined();
    const metrics = flatten(batches).metrics.filter((m) => m.contentId === first?.id);
    expect(metrics.map((m) => m.name).sort()).toEqual(['comments', 'likes']);
  });

  it('a cursor it did not write is malformed; a connection without a source is config', async () => {
    await expectCode(drain(instagramConnector, igHarness().ctx, 'not-a-cursor'), 'malformed');
    await expectCode(drain(instagramConnector, igHarness({}).ctx, null), 'config');
  });
});

/**
 * The YouTube connector through the real sync engine into a real data file, against the YouTube stand-in: a full
 * sync, an incremental one, a process killed mid-sync resuming with no duplicates, display names pseudonymised,
 * a spent quota pausing the connection until midnight Pacific time.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncConnection } from '../../../src/connectors/sync.ts';
import { createPseudonymizer } from '../../../src/privacy/pseudonym.ts';
import { attributableYtComments, youtubeFixtures } from '../../support/stand-ins/fixtures-youtube.ts';
import { startYouTubeStandIn, type YouTubeStandIn } from '../../support/stand-ins/youtube-stand-in.ts';
import { PSEUDONYM_KEY } from '../helpers.ts';
import { connectStandIn, socialSetup, syncAndKill } from '../social-engine.ts';

const NOW = Date.UTC(2026, 5, 1, 9);
const DAY = 86_400_000;
let env: Awaited<ReturnType<typeof socialSetup>>;
let standIn: YouTubeStandIn;

beforeEach(async () => {
  env = await socialSetup(NOW);
  standIn = await startYouTubeStandIn(youtubeFixtures({ videos: 50, meanComments: 40, now: NOW }));
  const fx = standIn.fixtures;
  await connectStandIn(
    env,
    'youtube',
    standIn.baseUrl,
    { channelId: fx.channel.id, batchRows: '300' },
    { apiKey: fx.apiKey },
  );
});
afterEach(async () => {
  await standIn.close();
  await env.cleanup();
});

const expected = () => attributableYtComments(standIn.fixtures.videos);

describe('YouTube through the sync engine', () => {
  it('a full sync stores every comment once, the videos and their statistics; names pseudonymised; no key on disk', async () => {
    const fx = standIn.fixtures;
    const outcome = await syncConnection(env.deps, 'youtube');
    expect(outcome).toMatchObject({ status: 'ok', interactions: { added: expected() } });
    expect((await env.store.audience.counts()).products).toBe(fx.videos.length);
    const views = (await env.store.connections.metrics('youtube')).find(
      (m) => m.content_id === `youtube:${fx.videos[0]?.id}` && m.name === 'views',
    );
    expect(views?.value).toBe(fx.videos[0]?.views);
    const author = fx.videos.flatMap((v) => v.comments).find((c) => c.author !== null)?.author;
    const [profile] = await env.store.audience.profiles({ ids: [`youtube:${author?.channelId}`] });
    expect(profile?.attrs.handle).toBe(
      createPseudonymizer(PSEUDONYM_KEY).pseudonym(author?.displayName ?? '', 'handle'),
    );
    await env.store.flush();
    const onDisk = await readFile(env.file, 'utf8');
    for (const secret of [author?.displayName ?? '?', fx.apiKey]) expect(onDisk).not.toContain(secret);
  });

  it('an incremental sync adds only the new comments', async () => {
    const fx = standIn.fixtures;
    await syncConnection(env.deps, 'youtube');
    env.clock.now = NOW + DAY;
    standIn.addComment(fx.videos[0]?.id ?? '', NOW + DAY / 2);
    const next = await syncConnection(env.deps, 'youtube');
    expect(next).toMatchObject({ status: 'ok', interactions: { added: 1 } });
    // expected() counts the fixtures, which now hold the new comment too.
    expect((await env.store.audience.counts()).interactions).toBe(expected());
  });

  it('a process killed mid-sync resumes from the last committed page with no duplicates', async () => {
    let threads = 0;
    const store = await syncAndKill(
      env,
      standIn,
      'youtube',
      (r) => r.path.endsWith('/commentThreads') && ++threads === 30,
    );
    const committed = (await store.audience.counts()).interactions;
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(expected());
    env.clock.now = NOW + 11 * 60_000;
    expect((await syncConnection(env.deps, 'youtube')).status).toBe('ok');
    expect((await store.audience.counts()).interactions).toBe(expected());
    expect(await store.connections.syncedKeyCount('youtube')).toBe(expected());
  }, 60_000);

  it('a spent daily quota pauses the connection until midnight Pacific time, keeping what was committed', async () => {
    standIn.setQuotaLimit(25);
    const outcome = await syncConnection(env.deps, 'youtube');
    expect(outcome.status).toBe('paused');
    // 2026-06-01T09:00Z is 02:00 PDT: the quota day ends at midnight PDT = 07:00Z on June 2.
    expect(outcome.nextRunAt).toBe(Date.UTC(2026, 5, 2, 7));
  });
});

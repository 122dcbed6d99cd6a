/**
 * The Graph connector through the real sync engine into a real data file, against the Graph stand-in: a full sync,
 * an incremental one, a process killed mid-sync resuming with no duplicates, identifiers pseudonymised as imports
 * do, an expired token pausing the connection and telling its owner.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncConnection } from '../../../src/connectors/sync.ts';
import { createPseudonymizer } from '../../../src/privacy/pseudonym.ts';
import { attributableComments, graphFixtures } from '../../support/stand-ins/fixtures-instagram.ts';
import {
  type GraphStandIn,
  graphFaults,
  startGraphStandIn,
} from '../../support/stand-ins/instagram-stand-in.ts';
import { PSEUDONYM_KEY } from '../helpers.ts';
import { connectStandIn, socialSetup, syncAndKill } from '../social-engine.ts';

const NOW = Date.UTC(2026, 5, 1, 9);
const DAY = 86_400_000;
let env: Awaited<ReturnType<typeof socialSetup>>;
let standIn: GraphStandIn;

beforeEach(async () => {
  env = await socialSetup(NOW);
  standIn = await startGraphStandIn(graphFixtures({ media: 60, posts: 10, meanComments: 30, now: NOW }));
  const fx = standIn.fixtures;
  await connectStandIn(
    env,
    'instagram',
    standIn.baseUrl,
    { igUserId: fx.igUser.id, pageId: fx.page.id, batchRows: '300' },
    {
      accessToken: fx.token,
      pageAccessToken: fx.pageToken,
    },
  );
});
afterEach(async () => {
  await standIn.close();
  await env.cleanup();
});

const expected = () =>
  attributableComments(standIn.fixtures.media) + attributableComments(standIn.fixtures.posts);

describe('Instagram / Facebook Pages through the sync engine', () => {
  it('a full sync stores every comment once, the content, the insights; handles pseudonymised; no token on disk', async () => {
    const fx = standIn.fixtures;
    const outcome = await syncConnection(env.deps, 'instagram');
    expect(outcome).toMatchObject({ status: 'ok', interactions: { added: expected() } });
    expect((await env.store.audience.counts()).interactions).toBe(expected());
    expect(await env.store.connections.syncedKeyCount('instagram')).toBe(expected());
    expect((await env.store.audience.counts()).products).toBe(fx.media.length + fx.posts.length);
    const metrics = await env.store.connections.metrics('instagram');
    const feed = fx.media.find((m) => m.productType === 'FEED');
    expect(metrics.find((m) => m.content_id === `instagram:${feed?.id}` && m.name === 'reach')?.value).toBe(
      feed?.insights.reach,
    );
    const commenter = fx.media.flatMap((m) => m.comments).find((c) => c.from !== null)?.from;
    const [profile] = await env.store.audience.profiles({ ids: [`instagram:${commenter?.id}`] });
    expect(profile?.platform).toBe('instagram');
    expect(profile?.attrs.handle).toBe(
      createPseudonymizer(PSEUDONYM_KEY).pseudonym(commenter?.username ?? '', 'handle'),
    );
    await env.store.flush();
    const onDisk = await readFile(env.file, 'utf8');
    for (const secret of [commenter?.username ?? '?', commenter?.name ?? '?', fx.token, fx.pageToken]) {
      expect(onDisk).not.toContain(secret);
    }
  });

  it('an incremental sync adds only the new comments; a second one adds nothing', async () => {
    const fx = standIn.fixtures;
    await syncConnection(env.deps, 'instagram');
    env.clock.now = NOW + DAY;
    standIn.addComment(fx.media[0]?.id ?? '', NOW + DAY / 2, 2);
    standIn.addComment(fx.posts[0]?.id ?? '', NOW + DAY / 2, 3);
    const next = await syncConnection(env.deps, 'instagram');
    expect(next).toMatchObject({ status: 'ok', interactions: { added: 2 } });
    env.clock.now = NOW + 2 * DAY;
    const again = await syncConnection(env.deps, 'instagram');
    expect(again).toMatchObject({ status: 'ok', interactions: { added: 0 } });
    expect((await env.store.audience.counts()).interactions).toBe(expected());
  });

  it('a process killed mid-sync resumes from the last committed page with no duplicates', async () => {
    let comments = 0;
    const store = await syncAndKill(
      env,
      standIn,
      'instagram',
      (r) => r.path.endsWith('/comments') && ++comments === 25,
    );
    const committed = (await store.audience.counts()).interactions;
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(expected());
    env.clock.now = NOW + 11 * 60_000;
    const resumed = await syncConnection(env.deps, 'instagram');
    expect(resumed.status).toBe('ok');
    expect((await store.audience.counts()).interactions).toBe(expected());
    expect(await store.connections.syncedKeyCount('instagram')).toBe(expected());
  }, 60_000);

  it('an expired token pauses the connection and tells its owner; nothing half-written', async () => {
    standIn.failNext('/comments', { kind: 'answer', answer: graphFaults.expiredToken() });
    const outcome = await syncConnection(env.deps, 'instagram');
    expect(outcome.status).toBe('paused');
    expect(env.notices.at(-1)?.owner).toBe('U_OWNER');
    expect(env.notices.at(-1)?.message).toContain('190');
    expect(await env.store.connections.get('instagram')).toMatchObject({ paused: true });
  });
});

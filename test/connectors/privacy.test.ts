/**
 * Forget and retention apply to synced data: it lands in the normal audience tables, so `forget` and the
 * retention purge remove it like imported data, and a later sync neither brings a forgotten person back nor
 * re-adds purged events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncConnection } from '../../src/connectors/sync.ts';
import { createLogger } from '../../src/logger.ts';
import { forgetPeople } from '../../src/privacy/forget.ts';
import { runRetention } from '../../src/privacy/retention.ts';
import { type FakePlatform, makeComments, startFakePlatform } from './fake-platform.ts';
import { connectFake, NOW, syncSetup } from './helpers.ts';

let env: Awaited<ReturnType<typeof syncSetup>>;
let platform: FakePlatform;

beforeEach(async () => {
  env = await syncSetup();
  platform = await startFakePlatform(makeComments(45, 7), 10);
  await connectFake(env.deps, platform.url);
});
afterEach(async () => {
  await platform.close();
  await env.cleanup();
});

const u1Events = async () =>
  (await env.store.audience.interactions()).filter((i) => i.user_id === 'instagram:u1').length;

describe('synced data and privacy', () => {
  it('forget removes a synced person, and no later sync brings them back', async () => {
    await syncConnection(env.deps, 'insta');
    expect(await u1Events()).toBe(7);
    await env.store.change((tx) => forgetPeople(tx, new Set(['instagram:u1'])), { scrubBackup: true });
    expect(await env.store.audience.profiles({ ids: ['instagram:u1'] })).toEqual([]);
    expect(await u1Events()).toBe(0);

    // Everything again from the start, and a new comment of theirs: still gone.
    await env.store.change((tx) => tx.updateConnection('insta', { cursor: null }));
    platform.comments.push({
      ...makeComments(50, 7)[49],
      id: 'c-new',
      userId: 'u1',
    } as FakePlatform['comments'][number]);
    const again = await syncConnection(env.deps, 'insta');
    expect(again.status).toBe('ok');
    expect(again.interactions.forgotten).toBeGreaterThanOrEqual(8);
    expect(again.rowsAdded).toBe(0);
    expect(await env.store.audience.profiles({ ids: ['instagram:u1'] })).toEqual([]);
    expect(await u1Events()).toBe(0);
    expect((await env.store.audience.counts()).profiles).toBe(6);
  });

  it('retention purges synced events, and syncs neither re-add them nor ingest expired ones', async () => {
    await syncConnection(env.deps, 'insta');
    const logger = createLogger('error');
    const removed = await runRetention({
      store: env.store,
      config: { retentionDays: 30 },
      clock: () => NOW,
      logger,
    });
    // The comments are from 1 May, more than 30 days before NOW.
    expect(removed).toBe(45);
    expect((await env.store.audience.counts()).interactions).toBe(0);
    await env.store.change((tx) => tx.updateConnection('insta', { cursor: null }));
    const again = await syncConnection({ ...env.deps, retentionDays: 30 }, 'insta');
    expect(again).toMatchObject({ status: 'ok', rowsAdded: 0, interactions: { added: 0 } });
    expect(again.interactions.expired).toBeGreaterThanOrEqual(45);
    expect((await env.store.audience.counts()).interactions).toBe(0);
  });
});

/** The connector schedule: syncs what is due, one connection after another, skips paused ones, keeps ticking. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnectorSchedule } from '../../src/connectors/schedule.ts';
import type { Timers } from '../../src/domain/timers.ts';
import { type FakePlatform, makeComments, startFakePlatform } from './fake-platform.ts';
import { connectFake, NOW, syncSetup } from './helpers.ts';

let env: Awaited<ReturnType<typeof syncSetup>>;
let platform: FakePlatform;

beforeEach(async () => {
  env = await syncSetup();
  platform = await startFakePlatform(makeComments(25, 5), 10);
  for (const name of ['insta', 'later', 'paused'])
    await connectFake(env.deps, platform.url, 'good-token', name);
  await env.store.change(async (tx) => {
    await tx.updateConnection('later', { next_run_at: NOW.getTime() + 30 * 60_000 });
    await tx.updateConnection('paused', { paused: true, paused_reason: 'auth_expired' });
  });
});
afterEach(async () => {
  await platform.close();
  await env.cleanup();
});

describe('the connector schedule', () => {
  it('syncs each due connection once per interval and leaves paused ones alone', async () => {
    const schedule = createConnectorSchedule({ deps: env.deps });
    expect((await schedule.tick()).map((o) => [o.connection, o.status])).toEqual([['insta', 'ok']]);
    expect(await schedule.tick()).toEqual([]);
    env.clock.now = NOW.getTime() + 30 * 60_000;
    expect((await schedule.tick()).map((o) => o.connection)).toEqual(['later']);
    env.clock.now = NOW.getTime() + 60 * 60_000;
    expect((await schedule.tick()).map((o) => o.connection)).toEqual(['insta']);
    expect((await env.store.connections.get('paused'))?.last_sync_at).toBeNull();
    // Syncs of one connection, run one at a time: every comment stored once per connection key space.
    expect((await env.store.audience.counts()).interactions).toBe(25);
  });

  it('ticks on its timer until stopped', async () => {
    const pending: Array<() => void> = [];
    const timers: Timers = {
      setTimeout(fn) {
        pending.push(fn);
        return { cancel: () => pending.splice(0) };
      },
      sleep: async () => undefined,
      monotonic: () => 0,
    };
    const schedule = createConnectorSchedule({ deps: env.deps, timers, tickMs: 1_000 });
    schedule.start();
    await schedule.tick();
    await new Promise((r) => setImmediate(r));
    expect(pending).toHaveLength(1);
    env.clock.now = NOW.getTime() + 30 * 60_000;
    pending.shift()?.();
    await schedule.tick();
    expect((await env.store.connections.get('later'))?.last_sync_status).toBe('ok');
    await schedule.stop();
    expect(pending).toEqual([]);
  });
});

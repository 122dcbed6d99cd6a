import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import { loadConfig } from '../../src/config.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { loadSample } from '../../src/sample/load.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { assertWithinLimits } from '../support/block-limits.ts';

const NOW = new Date('2026-06-01T09:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };
let dir: string;
let store: Store;
let router: Router;
const errors: unknown[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-segments-'));
  const file = join(dir, 'audience.db');
  store = await openStore({ file, flushDelayMs: 0 });
  await loadSample(store, { profiles: 1500, seed: 42, now: NOW });
  router = registerCommands({ store, clock: () => NOW, config: loadConfig({ DATA_FILE: file }) }, (e) =>
    errors.push(e),
  );
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('/audience segments', () => {
  it('answers with named segments, next-step buttons and quality, inside Slack limits', async () => {
    const reply = await router.dispatch('/audience segments k=5', invocation);
    expect(errors).toEqual([]);
    expect(assertWithinLimits(reply.blocks, 'message')).toEqual([]);
    const data = reply.data as {
      k: number;
      profiles: number;
      segments: Array<{ size: number; name: string }>;
    };
    expect(data.k).toBe(5);
    expect(data.segments.reduce((a, s) => a + s.size, 0)).toBe(data.profiles);
    expect(new Set(data.segments.map((s) => s.name)).size).toBe(5);
    const json = JSON.stringify(reply.blocks);
    expect(json).toContain('"value":"recommend segment=1"');
    expect(json).toContain('"value":"predict segment=5"');
    expect(json).toMatch(/Silhouette \d\.\d\d/);
    expect(reply.text).toMatch(/^5 segments in 1\.5k profiles: /);
  });

  it('stores the assignments with a timestamp and reuses them on unchanged data', async () => {
    const before = store.data.segmentRuns.length;
    const first = await router.dispatch('segments k=3 seed=9', invocation);
    expect(store.data.segmentRuns).toHaveLength(before + 1);
    const run = store.data.segmentRuns.at(-1);
    expect(run?.created_at).toBe(NOW.getTime());
    expect(run?.k).toBe(3);
    expect(run?.user_ids).toHaveLength(run?.labels.length ?? -1);
    const again = await router.dispatch('segments k=3 seed=9', invocation);
    expect(store.data.segmentRuns).toHaveLength(before + 1);
    expect(again.data).toEqual(first.data);
    expect(JSON.stringify(again.blocks)).toContain('unchanged data: segments reused');
  });

  it('segments a filtered audience', async () => {
    const reply = await router.dispatch('segments k=2 where=country:US', invocation);
    const us = store.data.profiles.filter((p) => p.country === 'US').length;
    expect((reply.data as { profiles: number }).profiles).toBeLessThanOrEqual(us);
    expect(reply.text).toContain('2 segments in');
  });

  it('explains bad input in one line', async () => {
    const cases: Array<[string, RegExp]> = [
      ['segments k=40', /k=40 is not allowed: use k=auto or a whole number from 2 to 12/],
      ['segments k=two', /k=two is not allowed/],
      ['segments scaling=minmax', /scaling=minmax is not known/],
      ['segments features=shoe_size', /shoe_size/],
      ['segments colour=red', /segments does not take colour=/],
      ['segments where=planet:mars', /unknown filter field "planet"/],
    ];
    for (const [command, message] of cases) {
      const reply = await router.dispatch(command, invocation);
      expect(reply.text).toMatch(message);
      expect((reply.data as { error?: string }).error).toBeDefined();
    }
    expect(errors).toEqual([]);
  });
});

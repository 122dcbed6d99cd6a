import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import { loadConfig } from '../../src/config.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { loadSample } from '../../src/sample/load.ts';
import { type FileStore, markAudienceChanged, openStore } from '../../src/store/store.ts';
import { assertWithinLimits } from '../support/block-limits.ts';

const NOW = new Date('2026-06-01T09:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };
let dir: string;
let store: FileStore;
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

describe('stable segment identity: segment=N, buttons and exports use the default segmentation', () => {
  let own: { dir: string; store: FileStore; router: Router };
  const say = async (text: string) => {
    const reply = await own.router.dispatch(`/audience ${text}`, invocation);
    return { reply, data: reply.data as Record<string, unknown>, json: JSON.stringify(reply.blocks) };
  };

  beforeAll(async () => {
    const ownDir = await mkdtemp(join(tmpdir(), 'audience-segments-default-'));
    const file = join(ownDir, 'audience.db');
    const ownStore = await openStore({ file, flushDelayMs: 0 });
    await loadSample(ownStore, { profiles: 400, seed: 42, now: NOW });
    const config = loadConfig({ DATA_FILE: file, MIN_COHORT_SIZE: '5' });
    own = {
      dir: ownDir,
      store: ownStore,
      router: registerCommands({ store: ownStore, clock: () => NOW, config }, (e) => errors.push(e)),
    };
  });
  afterAll(async () => {
    await own.store.close();
    await rm(own.dir, { recursive: true, force: true });
  });

  it('an ad-hoc run is answered and stored with its request, but never renumbers the default', async () => {
    const plain = await say('segments');
    expect(plain.json).toContain('The 1 Jun segmentation, the default');
    const defaults = (plain.data.segments as Array<{ name: string }>).map((s) => s.name);

    const adHoc = await say('segments scaling=none k=3');
    expect((adHoc.data as { k: number }).k).toBe(3);
    expect(adHoc.json).toContain('An ad-hoc segmentation');
    expect(adHoc.json).toContain('the 1 Jun segmentation (the default)');
    expect(adHoc.json).toContain('/audience segments scaling=none k=3 save');
    // Its buttons would run `segment=N` on the default's numbers: an ad-hoc reply has none.
    expect(adHoc.json).not.toContain('"value":"recommend segment=1"');
    expect(own.store.data.segmentRuns.at(-1)?.request).toMatchObject({ k: 3, scaling: 'none', where: null });

    const recommend = await say('recommend segment=1 n=3');
    expect(recommend.data.segmentName).toBe(defaults[0]);
    expect(recommend.json).toContain(`Segment 1 '${defaults[0]}' of the 1 Jun segmentation`);
    const predict = await say('predict segment=1');
    expect(predict.json).toContain(`Segment 1 (${defaults[0]}) of the 1 Jun segmentation`);
    const exported = await say('export segments');
    expect(exported.json).toContain('Segments of the 1 Jun segmentation (the default)');
    const csv = String(exported.reply.files?.[0]?.content);
    expect(
      new Set(
        csv
          .split('\n')
          .slice(1, -1)
          .map((line) => line.split(',')[2]),
      ),
    ).toEqual(new Set(defaults));
    expect(errors).toEqual([]);
  });

  it('`save` makes a whole-audience run the default; a filtered one cannot be', async () => {
    const refused = await say('segments k=2 where=country:DE save');
    expect(refused.data.error).toBeDefined();
    expect(refused.reply.text).toMatch(/a filtered segmentation cannot be the default/);

    const saved = await say('segments scaling=none k=3 save');
    expect(saved.json).toContain('Saved as the default');
    // The stored ad-hoc run was found by its header; stored again as the default, it keeps everyone's segment.
    const runs = own.store.data.segmentRuns;
    const adHoc = runs.find((r) => !r.default && r.request?.k === 3 && r.request.scaling === 'none');
    const savedRun = runs.at(-1);
    expect(savedRun?.id).toBe(`${adHoc?.id}-default`);
    expect(savedRun?.user_ids).toHaveLength(400);
    expect(savedRun?.user_ids).toEqual(adHoc?.user_ids);
    expect(savedRun?.labels).toEqual(adHoc?.labels);
    const names = (saved.data.segments as Array<{ name: string }>).map((s) => s.name);
    expect((await say('recommend segment=1 n=3')).data.segmentName).toBe(names[0]);
    // Plain `segments` now shows the saved default.
    expect(((await say('segments')).data as { k: number }).k).toBe(3);
  });

  it('a data change recomputes the default (with its request) the next time segment=N is used', async () => {
    const before = own.store.data.segmentRuns.filter((r) => r.default).at(-1);
    await own.store.commit((d) => markAudienceChanged(d, NOW));
    const recommend = await say('recommend segment=1 n=3');
    expect(recommend.data.error).toBeUndefined();
    const after = own.store.data.segmentRuns.filter((r) => r.default).at(-1);
    expect(after?.id).not.toBe(before?.id);
    expect(after?.data_version).toBe(own.store.data.meta.dataVersion);
    expect(after?.request).toEqual(before?.request);
  });
});

describe('a filtered run on a fresh store', () => {
  it('does not leave segment=N saying "there are no segments yet": it says there is no default and what to do', async () => {
    const freshDir = await mkdtemp(join(tmpdir(), 'audience-segments-fresh-'));
    const file = join(freshDir, 'audience.db');
    const fresh = await openStore({ file, flushDelayMs: 0 });
    try {
      await loadSample(fresh, { profiles: 300, seed: 42, now: NOW });
      const config = loadConfig({ DATA_FILE: file, MIN_COHORT_SIZE: '5' });
      const local = registerCommands({ store: fresh, clock: () => NOW, config }, (e) => errors.push(e));
      const filtered = await local.dispatch('segments k=3 where=country:DE', invocation);
      expect(JSON.stringify(filtered.blocks)).toContain('An ad-hoc segmentation');
      const reply = await local.dispatch('recommend segment=1', invocation);
      expect(reply.text).not.toMatch(/there are no segments yet/);
      expect(reply.text).toMatch(
        /no default segmentation yet, only ad-hoc ones \(the latest: segments k=3 where=country:DE\)/,
      );
      expect(reply.text).toMatch(/run \/audience segments first/);
      await local.dispatch('segments', invocation);
      const after = await local.dispatch('recommend segment=1 n=3', invocation);
      expect(JSON.stringify(after.blocks)).toMatch(/Segment 1 '[^']+' of the 1 Jun segmentation/);
    } finally {
      await fresh.close();
      await rm(freshDir, { recursive: true, force: true });
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDigestMessage, people } from '../../src/blocks/digest-message.ts';
import { computeDigestContent, createContentCache, matchSegments } from '../../src/digest/content.ts';
import type { DigestOptions } from '../../src/digest/validate.ts';
import type { SegmentRun } from '../../src/domain/types.ts';
import { DEFAULT_SEGMENT_REQUEST, segmentationFor } from '../../src/queries/segmentation.ts';
import { assertWithinLimits, findBroadcastMentions } from '../support/block-limits.ts';
import { blockText } from '../support/test-app.ts';
import { SAMPLE_END, sampleStore } from './helpers.ts';

const NOW = SAMPLE_END.getTime();
const OPTIONS: DigestOptions = { predictions: true, recommendations: true, k: 4, chart: false };
const SETTINGS = { currency: 'USD', minCohortSize: 10, now: NOW };
const WEEK = 7 * 86_400_000;

let env: Awaited<ReturnType<typeof sampleStore>>;
beforeEach(async () => {
  env = await sampleStore();
});
afterEach(async () => {
  await env.cleanup();
});

describe('matchSegments', () => {
  it('pairs nearest centroids one to one and leaves far-away segments unmatched', () => {
    expect(
      matchSegments(
        [
          [0, 0],
          [5, 5],
        ],
        [
          [5.1, 5],
          [0.2, 0],
          [20, 20],
        ],
      ),
    ).toEqual([1, 0]);
    expect(
      matchSegments(
        [
          [0, 0],
          [30, 30],
        ],
        [[0.1, 0]],
      ),
    ).toEqual([0, -1]);
    // Different features cannot be compared.
    expect(matchSegments([[0, 0]], [[0, 0, 0]])).toEqual([-1]);
  });
});

describe('digest content', () => {
  it("compares with last week's segmentation: sizes, movements, vanished segments", async () => {
    const first = await computeDigestContent(env.store, OPTIONS, SETTINGS);
    expect(first.comparedWith).toBeNull();
    expect(first.k).toBe(4);
    // This week's segmentation as the digest computed it (in memory: computing content stores nothing).
    const run = first.segmentation?.run as SegmentRun;

    // Last week: the same segments, except that 50 of this week's segment 1 were in segment 2, 3 of
    // segment 3 were in segment 4, and 20 of segment 4 were in a segment that is gone ("Night owls").
    const labels = [...run.labels];
    const moveSome = (from: number, to: number, count: number) => {
      let moved = 0;
      for (let i = 0; i < labels.length && moved < count; i++) {
        if (run.labels[i] === from && labels[i] === from) {
          labels[i] = to;
          moved++;
        }
      }
    };
    moveSome(0, 1, 50);
    moveSome(2, 3, 3);
    moveSome(3, 4, 20);
    const previous: SegmentRun = {
      ...run,
      id: 'last-week',
      created_at: run.created_at - WEEK,
      k: 5,
      names: [...run.names, 'Night owls'],
      sizes: [...run.sizes, 40],
      centroids: [...run.centroids, run.centroids[0]?.map(() => 25) ?? []],
      labels,
    };
    env.store.update((d) => {
      d.segmentRuns.unshift(previous);
    });

    const content = await computeDigestContent(env.store, OPTIONS, SETTINGS);
    expect(content.comparedWith).toEqual({ runId: 'last-week', createdAt: previous.created_at });
    expect(content.segments.every((s) => s.previous !== null)).toBe(true);
    expect(content.vanished).toEqual([{ name: 'Night owls', size: 40 }]);
    expect(content.movements).toEqual([
      { from: run.names[1], to: run.names[0], count: 50 },
      { from: 'Night owls', to: run.names[3], count: 20 },
      { from: run.names[3], to: run.names[2], count: 3 },
    ]);
    expect(content.segments.every((s) => s.predictedRevenue !== null && s.predictedRevenue >= 0)).toBe(true);
    expect(content.segments.filter((s) => s.size >= 10).every((s) => s.topProducts.length > 0)).toBe(true);

    const message = buildDigestMessage(content, {
      scheduleId: 'sch_1',
      cadence: 'weekly',
      timeZone: 'Europe/Berlin',
      dueAt: null,
      lateByMs: 0,
      currency: 'USD',
      minCohortSize: 10,
    });
    const text = blockText(message.blocks);
    expect(text).toContain(`50 ${run.names[1]} became ${run.names[0]}`);
    expect(text).toContain(`fewer than 10 ${run.names[3]} became ${run.names[2]}`);
    expect(text).toContain('*Gone since last week*: Night owls (40 last week)');
    expect(text).toMatch(/compared with the segmentation of 25 May 2026/);
    expect(assertWithinLimits(message.blocks, 'message')).toEqual([]);
    expect(findBroadcastMentions(message)).toEqual([]);
  });

  it('computing content writes nothing: no segment run, no model in the cache', async () => {
    const before = JSON.stringify([env.store.data.segmentRuns, env.store.data.models]);
    const content = await computeDigestContent(env.store, OPTIONS, SETTINGS);
    expect(content.segments.length).toBe(4);
    expect(content.segments.every((s) => s.predictedRevenue !== null)).toBe(true);
    expect(JSON.stringify([env.store.data.segmentRuns, env.store.data.models])).toBe(before);
  });

  it('never compares with an ad-hoc run: a filtered segmentation of last week is not "last week"', async () => {
    // Last week someone segmented only the US with the digest's own k, features and scaling.
    await segmentationFor(
      env.store,
      { ...DEFAULT_SEGMENT_REQUEST, k: 4, where: 'country:US' },
      NOW - WEEK,
      'USD',
    );
    expect(env.store.data.segmentRuns.at(-1)?.request?.where).toBe('country:US');
    const content = await computeDigestContent(env.store, OPTIONS, SETTINGS);
    expect(content.comparedWith).toBeNull();
    expect(content.segments.every((s) => s.previous === null)).toBe(true);
  });

  it('shows counts below the minimum cohort size as "fewer than N", never the number', async () => {
    const content = await computeDigestContent(env.store, OPTIONS, SETTINGS);
    const smallest = Math.min(...content.segments.map((s) => s.size));
    const min = smallest + 1;
    const message = buildDigestMessage(content, {
      scheduleId: 'sch_1',
      cadence: 'weekly',
      timeZone: 'UTC',
      dueAt: null,
      lateByMs: 0,
      currency: 'USD',
      minCohortSize: min,
    });
    const line = blockText(message.blocks)
      .split('\n')
      .find((l) => l.includes(`*: fewer than ${min}`));
    expect(line).toBeDefined();
    expect(line).not.toMatch(new RegExp(`\\b${smallest}\\b`));
    // A small segment's revenue forecast is about few people too: left out.
    expect(line).not.toContain('expected next 30 days');
    expect(people(9, 10)).toBe('fewer than 10');
    expect(people(10, 10)).toBe('10');
  });

  it('is cached per configuration and data version', async () => {
    const cache = createContentCache(env.store, { currency: 'USD', minCohortSize: 10 });
    const a = await cache.get(OPTIONS, NOW);
    expect(await cache.get({ ...OPTIONS, chart: true }, NOW + 60_000)).toBe(a);
    await cache.get({ ...OPTIONS, k: 3 }, NOW);
    expect(cache.computed).toBe(2);
    env.store.update((d) => {
      d.meta.dataVersion += 1;
    });
    expect(await cache.get(OPTIONS, NOW)).not.toBe(a);
    expect(cache.computed).toBe(3);
  });

  it('says there is no data instead of failing on an empty audience', async () => {
    env.store.update((d) => {
      d.profiles = [];
      d.interactions = [];
    });
    const content = await computeDigestContent(env.store, OPTIONS, SETTINGS);
    expect(content.hasData).toBe(false);
    const message = buildDigestMessage(content, {
      scheduleId: 'sch_1',
      cadence: 'daily',
      timeZone: 'UTC',
      dueAt: null,
      lateByMs: 0,
      currency: 'USD',
      minCohortSize: 10,
    });
    expect(message.text).toBe('Daily audience digest: there is no audience data yet.');
  });
});

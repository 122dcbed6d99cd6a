import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../commands/parse.ts';
import { createRecommendCommand } from '../../commands/recommend.ts';
import { loadConfig } from '../../src/config.ts';
import { UsageError } from '../../src/domain/errors.ts';
import type { Invocation, Reply, Subcommand } from '../../src/domain/reply.ts';
import type { SegmentRun } from '../../src/domain/types.ts';
import type { SegmentRecommendations, UserRecommendations } from '../../src/engine/recommend.ts';
import { RECOMMEND_MODEL_KEY } from '../../src/queries/recommendation.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { markAudienceChanged, openStore, type Store } from '../../src/store/store.ts';
import { assertWithinLimits } from '../support/block-limits.ts';

const END = new Date('2026-06-01T00:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };
const sample = generateSample({ profiles: 1500, seed: 42, end: END });

let dir: string;
let file: string;
let store: Store;
let command: Subcommand;
let now = END.getTime() + 3_600_000;

function run(text: string): Promise<Reply> {
  return command.run(parseCommand(`/audience ${text}`), invocation);
}

async function open(): Promise<void> {
  store = await openStore({ file, flushDelayMs: 0, onNotice: () => undefined });
  const config = loadConfig({ DATA_FILE: file, MIN_COHORT_SIZE: '10' });
  command = createRecommendCommand({ store, clock: () => new Date(now), config });
}

function segmentRun(id: string, labelOf: (index: number) => number, k: number): SegmentRun {
  const labels = sample.profiles.map((_, i) => labelOf(i));
  const sizes = Array.from({ length: k }, (_, s) => labels.filter((l) => l === s).length);
  return {
    id,
    created_at: now,
    data_version: store.data.meta.dataVersion,
    k,
    features: ['recency'],
    scaling: 'zscore',
    names: Array.from({ length: k }, (_, s) => `Group ${s + 1}`),
    sizes,
    centroids: Array.from({ length: k }, () => [0]),
    user_ids: sample.profiles.map((p) => p.id),
    labels,
  };
}

function expectWithinLimits(reply: Reply): void {
  expect(assertWithinLimits(reply.blocks, 'message')).toEqual([]);
  expect(reply.text.length).toBeGreaterThan(0);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-recommend-'));
  file = join(dir, 'audience.db');
  await open();
  await storeSample(store, sample, END);
});

afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('/audience recommend', () => {
  it('asks for segments first when there is no segment run', async () => {
    await expect(run('recommend segment=1')).rejects.toThrow(UsageError);
    await expect(run('recommend segment=1')).rejects.toThrow(/run \/audience segments first/);
  });

  it('recommends for a user, builds the model once and caches it under the data version', async () => {
    const reply = await run('recommend user=u000007');
    expectWithinLimits(reply);
    const data = reply.data as UserRecommendations;
    expect(data.kind).toBe('user');
    expect(data.userId).toBe('u000007');
    expect(data.items).toHaveLength(5);
    const sections = reply.blocks.filter((b) => b.type === 'section');
    expect(sections).toHaveLength(6);
    const cached = store.data.models[RECOMMEND_MODEL_KEY];
    expect(cached?.kind).toBe('recommend');
    expect(cached?.data_version).toBe(store.data.meta.dataVersion);
    expect(cached?.created_at).toBe(now);
    // asOf is just after the latest interaction.
    const latest = sample.interactions.reduce((m, i) => Math.max(m, i.timestamp), 0);
    expect((cached?.model as { asOf: number } | undefined)?.asOf).toBe(latest + 1);
    expect(JSON.stringify(reply.blocks)).toContain('Model: built just now');
  });

  it('reuses the cached model while the data is unchanged', async () => {
    const before = store.data.models[RECOMMEND_MODEL_KEY];
    now += 60_000;
    const reply = await run('recommend user=u000012 n=20');
    expectWithinLimits(reply);
    expect((reply.data as UserRecommendations).items).toHaveLength(20);
    expect(JSON.stringify(reply.blocks)).toContain('Model: cached');
    const after = store.data.models[RECOMMEND_MODEL_KEY];
    expect(after).toBe(before);
    expect(after?.created_at).toBe(before?.created_at);
  });

  it('keeps the cache across a restart of the store', async () => {
    const createdAt = store.data.models[RECOMMEND_MODEL_KEY]?.created_at;
    await store.close();
    await open();
    now += 60_000;
    const reply = await run('recommend user=u000012');
    expect(JSON.stringify(reply.blocks)).toContain('Model: cached');
    expect(store.data.models[RECOMMEND_MODEL_KEY]?.created_at).toBe(createdAt);
  });

  it('rebuilds when the data changes or a new segmentation is stored', async () => {
    now += 60_000;
    await store.commit((d) => {
      d.segmentRuns.push(segmentRun('run-1', (i) => i % 3, 3));
    });
    await run('recommend user=u000012');
    const withSegments = store.data.models[RECOMMEND_MODEL_KEY];
    expect(withSegments?.created_at).toBe(now);
    expect((withSegments?.model as { segmentRunId?: string } | undefined)?.segmentRunId).toBe('run-1');

    now += 60_000;
    await store.commit((d) => markAudienceChanged(d, new Date(now)));
    await run('recommend user=u000012');
    expect(store.data.models[RECOMMEND_MODEL_KEY]?.created_at).toBe(now);
    expect(store.data.models[RECOMMEND_MODEL_KEY]?.data_version).toBe(store.data.meta.dataVersion);
  });

  it('recommends for a segment of the latest run, numbered from 1', async () => {
    now += 60_000;
    await store.commit((d) => {
      d.segmentRuns.push(segmentRun('run-2', (i) => (i < 8 ? 3 : i % 3), 4));
    });
    const reply = await run('recommend segment=2 n=3');
    expectWithinLimits(reply);
    const data = reply.data as SegmentRecommendations;
    expect(data.kind).toBe('segment');
    expect(data.segment).toBe(1);
    expect(data.segmentName).toBe('Group 2');
    expect(data.size).toBe(sample.profiles.filter((_, i) => i >= 8 && i % 3 === 1).length);
    expect(data.items).toHaveLength(3);
    expect(reply.blocks[0]).toMatchObject({ text: { text: 'Recommendations for segment 2 (Group 2)' } });
    expect(JSON.stringify(reply.blocks)).toContain('expected buyers');
  });

  it('refuses segments smaller than the minimum cohort', async () => {
    await expect(run('recommend segment=4')).rejects.toThrow(
      /segment 4 has 8 people; recommendations for groups need at least 10/,
    );
    now += 60_000;
    await store.commit((d) => {
      d.segmentRuns.push(segmentRun('run-3', (i) => (i < 5 ? 1 : 0), 2));
    });
    await expect(run('recommend segment=2')).rejects.toThrow(
      /segment 2 has 5 people; recommendations for groups need at least 10/,
    );
  });

  it('answers bad input with one-line usage errors', async () => {
    const cases: Array<[string, RegExp]> = [
      ['recommend', /user=<profile id> or segment=<number>/],
      ['recommend user=u000001 segment=1', /either user= or segment=/],
      ['recommend user=u000001 n=0', /n=0 is not a number from 1 to 20/],
      ['recommend user=u000001 n=21', /n=21 is not a number from 1 to 20/],
      ['recommend user=u000001 n=five', /n=five/],
      ['recommend segment=0', /segment=0 is not a segment number/],
      ['recommend segment=9', /segment 9 does not exist; the latest run has segments 1 to 2/],
      ['recommend user=nobody', /unknown user 'nobody'/],
      ['recommend user=u000001 top=3', /remove top=/],
      ['recommend u000001', /remove u000001/],
    ];
    for (const [text, message] of cases) {
      const error = await run(text).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, text).toBeInstanceOf(UsageError);
      expect((error as Error).message, text).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

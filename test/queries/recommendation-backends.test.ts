/**
 * One person's recommendations are the same on both backends for the same data: the file backend fits the model
 * from its in-memory audience, PostgreSQL from statistics aggregated in SQL (src/store/postgres/recommend-stats.ts)
 * and answers a person from their own rows. Same items in the same order, scores equal to floating tolerance,
 * with a stored segmentation whose tables PostgreSQL sums in SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentRun } from '../../src/domain/types.ts';
import type {
  RecommendModel,
  SegmentRecommendations,
  UserRecommendations,
} from '../../src/engine/recommend.ts';
import { recommendationModelFor, userRecommendationsFor } from '../../src/queries/recommendation.ts';
import { segmentRecommendationsFor } from '../../src/queries/results.ts';
import { generateSample, type SampleData } from '../../src/sample/generate.ts';
import type { Store } from '../../src/store/store.ts';
import { usePostgresSchema } from '../support/postgres.ts';
import { type Backend, fileBackend, postgresBackend } from '../support/store-backends.ts';

const END = Date.UTC(2026, 2, 2, 9);
const NOW = END + 3_600_000;

/** The sample with whole-millisecond times (both backends keep them exactly) and three people without a profile. */
function data(): SampleData {
  const sample = generateSample({ profiles: 1_200, seed: 21, end: new Date(END) });
  for (const i of sample.interactions) i.timestamp = Math.floor(i.timestamp);
  const item = sample.products[0]?.id ?? null;
  sample.interactions.push(
    { user_id: 'stranger-1', item_id: item, type: 'purchase', value: 20, timestamp: END - 86_400_000 },
    {
      user_id: 'stranger-1',
      item_id: sample.products[1]?.id ?? null,
      type: 'view',
      value: null,
      timestamp: END - 5,
    },
    { user_id: 'stranger-2', item_id: item, type: 'rating', value: 2, timestamp: END - 9 },
    // Only events outside the catalogue: counted among people (first event, purchases in the window), no cells.
    { user_id: 'stranger-3', item_id: 'not-in-catalogue', type: 'purchase', value: 5, timestamp: END - 3 },
    { user_id: 'stranger-3', item_id: null, type: 'view', value: null, timestamp: END - 2_000 },
  );
  return sample;
}

function run(sample: SampleData): SegmentRun {
  const people = sample.profiles.slice(0, 900).map((p) => p.id);
  return {
    id: 'run-1',
    created_at: END,
    data_version: 1,
    k: 3,
    features: ['frequency'],
    scaling: 'zscore',
    names: ['Alpha', 'Beta', 'Gamma'],
    sizes: [300, 300, 300],
    centroids: [[0], [1], [2]],
    user_ids: people,
    labels: people.map((_, k) => k % 3),
    default: true,
  };
}

interface Answers {
  model: RecommendModel;
  users: Map<string, UserRecommendations>;
  segments: SegmentRecommendations[];
}

describe('one person’s top 10 on both backends', () => {
  const schema = usePostgresSchema('reco_backends');
  const sample = data();
  const people = [
    ...sample.profiles.slice(0, 40).map((p) => p.id),
    ...sample.profiles.slice(-5).map((p) => p.id),
    'stranger-1',
    'stranger-2',
  ];
  const answers = new Map<string, Answers>();
  const opened: Array<{ store: Store; cleanup: () => Promise<void> }> = [];
  afterAll(async () => {
    for (const o of opened) {
      await o.store.close();
      await o.cleanup();
    }
  });

  const backends: Backend[] = [fileBackend, postgresBackend(schema)];
  describe.each(backends)('$name', (backend) => {
    beforeAll(async () => {
      if (backend.skip) return;
      const o = await backend.open();
      opened.push(o);
      const store = o.store;
      await store.change(async (tx) => {
        await tx.replaceAudience(structuredClone(sample));
        await tx.addSegmentRun(run(sample), 5);
      });
      const users = new Map<string, UserRecommendations>();
      for (const id of people) users.set(id, (await userRecommendationsFor(store, id, 10, NOW)).result);
      const { model } = await recommendationModelFor(store, NOW);
      const segments: SegmentRecommendations[] = [];
      for (const s of [0, 1, 2]) segments.push(await segmentRecommendationsFor(store, model, s, 10, {}));
      answers.set(backend.name, { model, users, segments });
    }, 120_000);

    it.skipIf(backend.skip)('answers everyone asked about, with the segment of the stored run', () => {
      const got = answers.get(backend.name) as Answers;
      expect(got.users.size).toBe(people.length);
      expect(got.users.get(sample.profiles[0]?.id as string)?.segmentName).toBe('Alpha');
      expect(got.users.get(sample.profiles[1]?.id as string)?.segmentName).toBe('Beta');
      expect(got.users.get('stranger-1')?.segmentName).toBeNull();
      expect(got.model.segmentNames).toEqual(['Alpha', 'Beta', 'Gamma']);
    });
  });

  it.skipIf(postgresBackend(schema).skip)('PostgreSQL gives the file backend’s model and top 10s', () => {
    const file = answers.get('file') as Answers;
    const pg = answers.get('postgres') as Answers;
    // A real model on both sides: validated on enough people, with neighbours and full lists.
    expect(file.model.collaborative.validation.users).toBeGreaterThan(100);
    expect(file.model.neighbourItems.length).toBeGreaterThan(1000);
    expect(file.users.get(people[0] as string)?.items).toHaveLength(10);
    const close = (a: number, b: number) => {
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
    };
    expect(pg.model.collaborative).toEqual(file.model.collaborative);
    expect(pg.model.params).toEqual(file.model.params);
    expect(pg.model.neighbourItems).toEqual(file.model.neighbourItems);
    expect(pg.model.neighbourCoBought).toEqual(file.model.neighbourCoBought);
    expect(pg.model.neighbourCoEngaged).toEqual(file.model.neighbourCoEngaged);
    expect(pg.model.buyers).toEqual(file.model.buyers);
    expect(pg.model.repeatable).toEqual(file.model.repeatable);
    expect(pg.model.recentPurchases).toEqual(file.model.recentPurchases);
    const closeAll = (a: readonly number[] | undefined, b: readonly number[] | undefined) => {
      expect(a?.length).toBe(b?.length);
      for (let k = 0; k < (a?.length ?? 0); k++) close(a?.[k] as number, b?.[k] as number);
    };
    closeAll(pg.model.neighbourWeights, file.model.neighbourWeights);
    // Short histories' own B (λ and dropout rate chosen apart for at most 10 known items) comes from the same
    // pair sums.
    const { collaborative } = file.model;
    expect([collaborative.short?.lambda, collaborative.short?.dropout]).not.toEqual([
      collaborative.lambda,
      collaborative.dropout,
    ]);
    expect(file.model.shortNeighbours?.items.length).toBeGreaterThan(1000);
    expect(pg.model.shortNeighbours?.start).toEqual(file.model.shortNeighbours?.start);
    expect(pg.model.shortNeighbours?.items).toEqual(file.model.shortNeighbours?.items);
    closeAll(pg.model.shortNeighbours?.weights, file.model.shortNeighbours?.weights);
    closeAll(pg.model.popularity, file.model.popularity);
    close(pg.model.propensityPrior.alpha, file.model.propensityPrior.alpha);
    closeAll(pg.model.segmentPurchases, file.model.segmentPurchases);
    for (let s = 0; s < 3; s++) closeAll(pg.model.segmentPopularity?.[s], file.model.segmentPopularity?.[s]);
    for (const s of [0, 1, 2]) {
      const a = pg.segments[s] as SegmentRecommendations;
      const b = file.segments[s] as SegmentRecommendations;
      expect(a.size).toBe(300);
      expect(a.size).toBe(b.size);
      expect(a.items.map((r) => [r.itemId, r.reason])).toEqual(b.items.map((r) => [r.itemId, r.reason]));
      closeAll(
        a.items.map((r) => r.expectedBuyers),
        b.items.map((r) => r.expectedBuyers),
      );
    }
    for (const id of people) {
      const a = pg.users.get(id) as UserRecommendations;
      const b = file.users.get(id) as UserRecommendations;
      expect(
        a.items.map((r) => r.itemId),
        id,
      ).toEqual(b.items.map((r) => r.itemId));
      expect(
        a.items.map((r) => r.reason),
        id,
      ).toEqual(b.items.map((r) => r.reason));
      closeAll(
        a.items.map((r) => r.score),
        b.items.map((r) => r.score),
      );
      close(a.propensity ?? 0, b.propensity ?? 0);
      expect(a.segmentName).toBe(b.segmentName);
    }
  });
});

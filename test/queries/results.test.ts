import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFeatures, predictUsers, SPEND_TARGET } from '../../src/engine/predict.ts';
import { computeStats } from '../../src/engine/stats.ts';
import { predictionModelFor } from '../../src/queries/prediction.ts';
import { audiencePredictionsFor, audienceStatsFor, segmentMembersFor } from '../../src/queries/results.ts';
import { segmentationFor } from '../../src/queries/segmentation.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { markAudienceChanged, openStore, type Store } from '../../src/store/store.ts';

const NOW = new Date('2026-06-01T00:00:00Z').getTime();

describe('results kept per data version', () => {
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audience-results-'));
    store = await openStore({ file: join(dir, 'audience.db'), flushDelayMs: 10, onNotice: () => undefined });
    const sample = generateSample({ profiles: 600, seed: 3, end: new Date(NOW) });
    await storeSample(store, sample, new Date(NOW));
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers stats as of the minute, shared within it, and fresh after the audience changes', async () => {
    const stats = await audienceStatsFor(store, null, NOW + 42_000);
    expect(stats.asOf).toBe(NOW);
    expect(stats).toEqual(computeStats(store.data.profiles, store.data.interactions, { asOf: NOW }));
    expect(await audienceStatsFor(store, null, NOW + 59_999)).toBe(stats);
    expect(await audienceStatsFor(store, null, NOW + 60_000)).not.toBe(stats);

    await store.commit((data) => {
      data.profiles = data.profiles.slice(0, 500);
      markAudienceChanged(data, new Date(NOW), 'import');
    });
    const after = await audienceStatsFor(store, null, NOW);
    expect(after.total).toBe(500);
    expect(stats.total).toBe(600);
  });

  it("serves a segment's and a person's predictions from everyone's, with the same values", async () => {
    const { data } = store;
    const request = {
      target: SPEND_TARGET,
      features: defaultFeatures(data.attributes),
      userChoseFeatures: false,
      currency: 'EUR',
    };
    const { model, key } = await predictionModelFor(store, request, NOW);
    const everyone = await audiencePredictionsFor(store, model, key);
    expect(await audiencePredictionsFor(store, model, key)).toBe(everyone);
    const direct = predictUsers(model, data);
    expect(Array.from(everyone.values)).toEqual(Array.from(direct.values));

    const { run } = await segmentationFor(
      store,
      { k: 3, features: null, scaling: 'zscore', where: null, seed: 1 },
      NOW,
    );
    const members = await segmentMembersFor(store, run, 1);
    expect(members.length).toBe(run.labels.filter((l) => l === 1).length);
    const alone = predictUsers(model, data, members);
    members.forEach((id, i) => {
      const row = everyone.rowOf(id);
      expect(row).toBeDefined();
      expect(everyone.values[row as number]).toBeCloseTo(alone.values[i] as number, 9);
    });
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../commands/parse.ts';
import { createPredictCommand } from '../../commands/predict.ts';
import { LIMITS } from '../../src/blocks/kit.ts';
import { loadConfig } from '../../src/config.ts';
import { UsageError } from '../../src/domain/errors.ts';
import type { Invocation, Reply, Subcommand } from '../../src/domain/reply.ts';
import type { CachedModel, SegmentRun } from '../../src/domain/types.ts';
import type { PredictionModel } from '../../src/engine/predict.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { type FileStore, markAudienceChanged, openStore } from '../../src/store/store.ts';

const END = new Date('2026-06-01T00:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };

let dir: string;
let store: FileStore;
let command: Subcommand;
let now = END.getTime() + 3_600_000;

function run(text: string): Promise<Reply> {
  return command.run(parseCommand(`/audience ${text}`), invocation);
}

function predictions(): CachedModel[] {
  return Object.values(store.data.models).filter((m) => m.kind === 'prediction');
}

function expectWithinLimits(reply: Reply): void {
  expect(reply.text.length).toBeGreaterThan(0);
  expect(reply.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  expect(reply.blocks.length).toBeGreaterThan(0);
  expect(reply.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
  for (const block of reply.blocks) {
    if (block.type === 'section') {
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(LIMITS.fieldCount);
    }
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (block.type === 'context') expect(block.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
  }
}

async function open(): Promise<void> {
  store = await openStore({ file: join(dir, 'audience.db'), flushDelayMs: 0, onNotice: () => undefined });
  const config = loadConfig({ DATA_FILE: join(dir, 'audience.db'), MIN_COHORT_SIZE: '10' });
  command = createPredictCommand({ store, clock: () => new Date(now), config });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-predict-'));
  await open();
  const sample = generateSample({ profiles: 3000, seed: 42, end: END });
  await storeSample(store, sample, END);
});

afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('/audience predict', () => {
  it('fits on first use and answers with the whole-audience forecast', async () => {
    const reply = await run('predict');
    expectWithinLimits(reply);
    expect(reply.text).toMatch(/Expected revenue next 30 days: \$\d/);
    const data = reply.data as {
      cached: boolean;
      forecast: { n: number; total: number };
      model: { target: string };
    };
    expect(data.cached).toBe(false);
    expect(data.model.target).toBe('spend_next_30d');
    expect(data.forecast.n).toBe(3000);
    expect(data.forecast.total).toBeGreaterThan(0);
    const cached = predictions();
    expect(cached).toHaveLength(1);
    expect(cached[0]?.data_version).toBe(store.data.meta.dataVersion);
    expect(cached[0]?.created_at).toBe(now);
  });

  it('reuses the cached model on unchanged data instead of refitting, also after a restart', async () => {
    const before = predictions()[0] as CachedModel;
    const createdAt = before.created_at;
    now += 60_000;
    const reply = await run('predict');
    expect((reply.data as { cached: boolean }).cached).toBe(true);
    expect(predictions()).toHaveLength(1);
    expect(predictions()[0]?.created_at).toBe(createdAt);

    await store.close();
    await open();
    now += 60_000;
    const again = await run('predict');
    expect((again.data as { cached: boolean }).cached).toBe(true);
    expect(predictions()[0]?.created_at).toBe(createdAt);
    expect(again.text).toBe(reply.text);
  });

  it('refits after the data changes and drops the stale cache entry', async () => {
    const createdAt = (predictions()[0] as CachedModel).created_at;
    await store.commit((d) => markAudienceChanged(d, new Date(now)));
    now += 60_000;
    const reply = await run('predict');
    expect((reply.data as { cached: boolean }).cached).toBe(false);
    const cached = predictions();
    expect(cached).toHaveLength(1);
    expect(cached[0]?.created_at).not.toBe(createdAt);
    expect(cached[0]?.data_version).toBe(store.data.meta.dataVersion);
  });

  it('caches each target and feature choice separately', async () => {
    const reply = await run('predict features=app_sessions_per_week,age,loyalty_member,log_followers');
    expectWithinLimits(reply);
    const model = (reply.data as { model: PredictionModel }).model;
    expect(model.features).toEqual(['app_sessions_per_week', 'age', 'loyalty_member', 'log_followers']);
    expect(model.drivers.length).toBeGreaterThan(0);
    const age = await run('predict target=age');
    expectWithinLimits(age);
    expect(age.text).toMatch(/Predicted average age/);
    expect(predictions()).toHaveLength(3);
  });

  it('forecasts one user', async () => {
    const reply = await run('predict user=u000001');
    expectWithinLimits(reply);
    expect(reply.text).toMatch(/Expected spend of u000001 next 30 days/);
    expect(reply.data).toMatchObject({ forecast: { n: 1, scope: { kind: 'user', userId: 'u000001' } } });
  });

  it('forecasts a segment of the latest segment run', async () => {
    await expect(run('predict segment=1')).rejects.toThrow(/run \/audience segments first/);
    const ids = store.data.profiles.map((p) => p.id);
    const run1: SegmentRun = {
      id: 'run-1',
      created_at: now,
      data_version: store.data.meta.dataVersion,
      k: 2,
      features: ['monetary'],
      scaling: 'zscore',
      names: ['Big <!here> spenders', 'Everyone else'],
      sizes: [1000, 2000],
      centroids: [[1], [-1]],
      user_ids: ids,
      labels: ids.map((_, i) => (i < 1000 ? 0 : 1)),
    };
    store.update((d) => {
      d.segmentRuns.push(run1);
    });
    const reply = await run('predict segment=1');
    expectWithinLimits(reply);
    expect(reply.data).toMatchObject({
      forecast: { n: 1000, scope: { kind: 'segment', segment: 1, stale: false } },
    });
    expect(JSON.stringify(reply.blocks)).toContain('Big &lt;!here&gt; spenders');
    expect(JSON.stringify(reply.blocks)).not.toContain('<!here>');
    await expect(run('predict segment=3')).rejects.toThrow(
      /segment 3 does not exist; the latest run has segments 1 to 2/,
    );
  });

  it('states how the model was checked, and checks it the way validate= asks', async () => {
    const byDefault = JSON.stringify((await run('predict')).blocks);
    expect(byDefault).toContain('Checked by a time split');
    const cv = JSON.stringify((await run('predict validate=cv')).blocks);
    expect(cv).toContain('Checked by 5-fold cross-validation');
    const none = JSON.stringify((await run('predict validate=none')).blocks);
    expect(none).toContain('validate=none');
    const attribute = JSON.stringify((await run('predict target=age')).blocks);
    expect(attribute).toContain('5-fold cross-validation');
  });

  it('predicts a profile attribute from profiles alone when there are no interactions', async () => {
    const own = await mkdtemp(join(tmpdir(), 'audience-predict-empty-'));
    const empty = await openStore({
      file: join(own, 'audience.db'),
      flushDelayMs: 0,
      onNotice: () => undefined,
    });
    const sample = generateSample({ profiles: 600, seed: 3, end: END });
    await empty.change((tx) => tx.replaceAudience({ ...sample, interactions: [] }), { now: END });
    const config = loadConfig({ DATA_FILE: join(own, 'audience.db'), MIN_COHORT_SIZE: '10' });
    const alone = createPredictCommand({ store: empty, clock: () => new Date(now), config });
    const reply = await alone.run(parseCommand('/audience predict target=age'), invocation);
    expect(JSON.stringify(reply.blocks)).toContain('Prediction: age');
    await expect(alone.run(parseCommand('/audience predict'), invocation)).rejects.toThrow(
      /no spend to forecast: import interactions, or predict a numeric attribute/,
    );
    await empty.close();
    await rm(own, { recursive: true, force: true });
  });

  it('refuses bad input with a UsageError that says what would work', async () => {
    const cases: Array<[string, RegExp]> = [
      ['predict foo=1', /predict takes only target=, features=, user=, segment= and validate=; remove foo=/],
      ['predict validate=maybe', /validate=maybe is not a check; use validate=cv\|time\|holdout\|none/],
      ['predict age', /remove age/],
      ['predict user=u000001 segment=1', /either user= or segment=/],
      ['predict user=nobody', /unknown user "nobody"/],
      ['predict segment=zero', /segment=zero is not a segment number/],
      ['predict segment=0', /segment=0 is not a segment number/],
      ['predict features=,', /features= is empty/],
      ['predict features=shoe_size', /unknown feature "shoe_size"/],
      ['predict features=age,age', /listed twice/],
      ['predict features=acquisition_channel', /category attribute, not a number/],
      [
        'predict target=lifetime_value',
        /unknown target "lifetime_value"; numeric targets: spend_next_30d, age, app_sessions_per_week, nps_score/,
      ],
      ['predict target=acquisition_channel', /not a number; numeric targets: spend_next_30d, age/],
      ['predict target=age features=age,monetary', /target, so it cannot also be a feature/],
    ];
    for (const [text, message] of cases) {
      const error = await run(text).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, text).toBeInstanceOf(UsageError);
      expect((error as Error).message, text).toMatch(message);
    }
  });
});

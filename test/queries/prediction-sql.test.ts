/**
 * `/audience predict`'s model through the queries layer on both backends: the file backend fits with the engine
 * on its snapshot, PostgreSQL fits on sums computed in SQL without a snapshot (src/queries/prediction-sql.ts). Both
 * must give the engine's model on the same data: coefficients and standard errors to 1e-6, the same features left
 * out and filled, and the same out-of-sample figures (time split, cross-validation on the same hashed folds);
 * and the same forecast for everyone, a person and a stored segment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentRun } from '../../src/domain/types.ts';
import {
  defaultFeatures,
  fitPrediction,
  type PredictionModel,
  predictUsers,
  SPEND_TARGET,
  type Validation,
} from '../../src/engine/predict.ts';
import { type PredictionRequest, predictionModelFor } from '../../src/queries/prediction.ts';
import { sqlForecastFor } from '../../src/queries/results.ts';
import type { SampleData } from '../../src/sample/generate.ts';
import type { Store } from '../../src/store/store.ts';
import { sampleWithGaps } from '../support/gappy-sample.ts';
import { usePostgresSchema } from '../support/postgres.ts';
import { type Backend, fileBackend, postgresBackend } from '../support/store-backends.ts';

const END = new Date(Date.UTC(2026, 2, 2, 9));

/** The sample with the awkward cases: missing followers and sign-ups, purchases without amounts, a stranger. */
function data(): SampleData {
  return sampleWithGaps({
    profiles: 1_500,
    seed: 13,
    end: END,
    noFollowers: 120,
    noSignup: [90, 200],
    noAmount: 60,
  });
}

/** Features counted from the interactions: never missing. */
const COUNTED = new Set([
  'frequency',
  'monetary',
  'recency_days',
  'engagement',
  'active_days_per_week',
  'views_per_week',
  'spend_per_month',
]);

const close = (actual: number, expected: number, what: string) => {
  const tolerance = 1e-6 * Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
};

function expectSameModel(actual: PredictionModel, expected: PredictionModel): void {
  expect(actual.features).toEqual(expected.features);
  expect(actual.dropped).toEqual(expected.dropped);
  expect(actual.imputed).toEqual(expected.imputed);
  expect(actual.n).toBe(expected.n);
  expect(actual.cutoff).toBe(expected.cutoff);
  expected.coefficients.forEach((c, j) => {
    const got = actual.coefficients[j];
    close(got?.value ?? Number.NaN, c.value, `${c.feature} coefficient`);
    close(got?.stdError ?? Number.NaN, c.stdError, `${c.feature} standard error`);
  });
  close(actual.intercept, expected.intercept, 'intercept');
  // Medians fill gaps: a count over the interactions has none, so the database does not sort it for one.
  actual.imputeMedians.forEach((m, j) => {
    if (!COUNTED.has(actual.features[j] as string))
      close(m, expected.imputeMedians[j] ?? Number.NaN, 'median');
  });
  expect(actual.drivers).toEqual(expected.drivers);
  for (const k of ['r2', 'mae', 'rmse'] as const)
    close(actual.inSample[k], expected.inSample[k], `in-sample ${k}`);
  const v = actual.validation;
  const e = expected.validation;
  expect(v === null).toBe(e === null);
  if (!v || !e) return;
  expect({ method: v.method, n: v.n, trainN: v.trainN, size: v.size, fallback: v.fallback }).toEqual({
    method: e.method,
    n: e.n,
    trainN: e.trainN,
    size: e.size,
    fallback: e.fallback,
  });
  for (const k of ['r2', 'mae', 'rmse'] as const) {
    close(v[k], e[k], `${v.method} ${k}`);
    close(v.baseline[k], e.baseline[k], `${v.method} baseline ${k}`);
  }
}

const schema = usePostgresSchema('prediction_sql');

describe.each([fileBackend, postgresBackend(schema)])('predict on the $name backend', (backend: Backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let sample: SampleData;
  beforeAll(async () => {
    if (backend.skip) return;
    sample = data();
    const opened = await backend.open();
    store = opened.store;
    cleanup = opened.cleanup;
    await store.change((tx) => tx.replaceAudience(sample));
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  const request = (target: string, validate?: Validation, features?: string[]): PredictionRequest => ({
    target,
    features: features ?? defaultFeatures(sample.attributes, target),
    userChoseFeatures: features !== undefined,
    currency: 'USD',
    ...(validate ? { validate } : {}),
  });

  it.skipIf(backend.skip).each([
    ['spend, default features, time split', SPEND_TARGET, undefined, undefined],
    ['spend, default features, cross-validated', SPEND_TARGET, 'cv', undefined],
    [
      'spend, chosen features with rates and a date',
      SPEND_TARGET,
      'cv',
      [
        'monetary',
        'engagement_rate',
        'avg_order_value',
        'spend_per_month',
        'last_campaign_at',
        'views_per_week',
      ],
    ],
    ['an attribute target, cross-validated', 'nps_score', undefined, undefined],
    ['not checked', SPEND_TARGET, 'none', ['frequency', 'followers', 'tenure_days']],
  ] as const)('%s: the engine model', async (_what, target, validate, features) => {
    const req = request(target, validate, features ? [...features] : undefined);
    const { model, cached } = await predictionModelFor(store, req, END.getTime());
    expect(cached).toBe(false);
    const engine = fitPrediction(sample, {
      target,
      ...(features ? { features: [...features] } : {}),
      ...(validate ? { validate } : {}),
    });
    expectSameModel(model, engine);
    // The second ask is answered from the stored model.
    expect((await predictionModelFor(store, req, END.getTime())).cached).toBe(true);
  });

  it.skipIf(backend.skip)(
    'forecasts everyone, a person and a segment as the engine scores them',
    async () => {
      const req = request(SPEND_TARGET);
      const { model, key } = await predictionModelFor(store, req, END.getTime());
      const everyone = predictUsers(model, sample);
      const sum = (values: Float64Array) => values.reduce((a, b) => a + b, 0);
      const all = await sqlForecastFor(store, model, key, { kind: 'all' });
      if (backend.name === 'file') {
        // The file backend leaves forecasts to the engine on its snapshot.
        expect(all).toBeNull();
        return;
      }
      expect(all?.n).toBe(everyone.userIds.length);
      close(all?.total ?? Number.NaN, sum(everyone.values), 'total');
      const one = await sqlForecastFor(store, model, key, { kind: 'ids', ids: ['u000042', 'nobody'] });
      close(
        one?.values?.[0] ?? Number.NaN,
        predictUsers(model, sample, ['u000042']).values[0] ?? 0,
        'person',
      );
      expect(one?.values?.[1]).toBeNaN();
      const members = sample.profiles.filter((_, i) => i % 3 === 0).map((p) => p.id);
      const run: SegmentRun = {
        id: 'run-1',
        created_at: END.getTime(),
        data_version: await store.audience.version(),
        k: 3,
        features: ['engagement'],
        scaling: 'zscore',
        names: ['a', 'b', 'c'],
        sizes: [members.length, 0, sample.profiles.length - members.length],
        centroids: [[0], [1], [2]],
        user_ids: sample.profiles.map((p) => p.id),
        labels: sample.profiles.map((_, i) => (i % 3 === 0 ? 0 : 2)),
      };
      await store.change((tx) => tx.addSegmentRun(run, 5));
      const segment = await sqlForecastFor(store, model, key, { kind: 'segment', runId: 'run-1', label: 0 });
      expect(segment?.n).toBe(members.length);
      close(segment?.total ?? Number.NaN, sum(predictUsers(model, sample, members).values), 'segment');
    },
  );

  // Last: it replaces the audience. No purchases in the 30 days before the cutoff, so the time split falls back.
  it.skipIf(backend.skip)('a time split without buyers falls back to cross-validation', async () => {
    const latest = Math.max(...sample.interactions.map((i) => i.timestamp));
    const cutoff = latest + 1 - 30 * 86_400_000;
    const emptied: SampleData = {
      ...sample,
      interactions: sample.interactions.filter(
        (i) => i.type !== 'purchase' || i.timestamp < cutoff - 30 * 86_400_000 || i.timestamp >= cutoff,
      ),
    };
    await store.change((tx) => tx.replaceAudience(emptied));
    const { model } = await predictionModelFor(store, request(SPEND_TARGET), END.getTime());
    expect(model.validation?.fallback).toMatch(/^no time split/);
    expectSameModel(model, fitPrediction(emptied, { target: SPEND_TARGET }));
  });
});

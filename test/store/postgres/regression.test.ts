/**
 * Regression exact on all rows in SQL: the cross-products PostgreSQL aggregates (X'X, X'y over every training
 * row), solved in the app, give the coefficients, standard errors and intercept of the engine's full-data fit on
 * the same data, to 1e-6.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CrossProducts } from '../../../src/domain/cross-products.ts';
import { solveCrossProducts } from '../../../src/engine/ols-sums.ts';
import { fitPrediction } from '../../../src/engine/predict.ts';
import type { SampleData } from '../../../src/sample/generate.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { sampleWithGaps } from '../../support/gappy-sample.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const END = new Date(Date.UTC(2026, 2, 2, 9));
const DAY = 86_400_000;

describePostgres('prediction cross-products in SQL equal the engine on the same data', () => {
  const db = usePostgresSchema('regression');
  let store: PgStore;
  let sample: SampleData;
  beforeAll(async () => {
    sample = sampleWithGaps({
      profiles: 2_000,
      seed: 13,
      end: END,
      noFollowers: 150,
      noSignup: [100, 220],
      noAmount: 60,
    });
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: 'TREGR', onNotice: () => undefined });
    await store.change((tx) => tx.replaceAudience(sample));
  });
  afterAll(async () => {
    await store?.close();
  });

  const close = (actual: number, expected: number) =>
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));

  it.each([
    [['monetary', 'frequency', 'recency_days', 'log_followers', 'tenure_days']],
    [['monetary', 'followers']],
  ])('features %j', async (features) => {
    const engine = fitPrediction(sample, { features, validate: 'none' });
    const cp = (await store.audience.aggregate({
      kind: 'cross-products',
      params: { target: 'spend_next_30d', features, cutoff: engine.cutoff },
    })) as CrossProducts;
    expect(cp).toBeDefined();
    expect(cp.n).toBe(engine.n);
    const fit = solveCrossProducts(cp);
    expect(fit.coefficients.map((c) => c.feature)).toEqual(engine.coefficients.map((c) => c.feature));
    engine.coefficients.forEach((c, j) => {
      close(fit.coefficients[j]?.value ?? Number.NaN, c.value);
      close(fit.coefficients[j]?.stdError ?? Number.NaN, c.stdError);
    });
    close(fit.intercept, engine.intercept);
  });

  it('leaves features it cannot compute in SQL to the app', async () => {
    const params = { target: 'spend_next_30d', features: ['engagement'], cutoff: END.getTime() - 30 * DAY };
    expect(await store.audience.aggregate({ kind: 'cross-products', params })).toBeUndefined();
  });
});

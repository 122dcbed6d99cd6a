import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Interaction, Profile } from '../../src/domain/types.ts';
import {
  buildTrainingSet,
  expectedRevenue,
  fitPrediction,
  fitTrainingSet,
  holdoutSplit,
  PredictError,
  type PredictInput,
  type PredictionModel,
  predictUsers,
} from '../../src/engine/predict.ts';
import { generateSample, type SampleData } from '../../src/sample/generate.ts';
import { expectedSpend, SAMPLE_TRUTH } from '../../src/sample/truth.ts';

const DAY = 86_400_000;
const END = new Date('2026-06-01T00:00:00Z');
const CUTOFF = END.getTime() - 30 * DAY;
const TRUTH = SAMPLE_TRUTH.spendModel;
const PLANTED = Object.keys(TRUTH.coefficients);

let sample: SampleData;
let model: PredictionModel;

beforeAll(() => {
  sample = generateSample({ profiles: 5000, seed: 42, end: END });
  model = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF });
});

/** A copy of the sample with every profile passed through `edit` (attrs copied so the shared sample stays intact). */
function withProfiles(
  edit: (p: Profile, i: number) => Profile,
  attributes: PredictInput['attributes'] = {},
): PredictInput {
  return {
    ...sample,
    attributes: { ...sample.attributes, ...attributes },
    profiles: sample.profiles.map((p, i) => edit({ ...p, attrs: { ...p.attrs } }, i)),
  };
}

function coefficient(m: PredictionModel, feature: string): number {
  const c = m.coefficients.find((x) => x.feature === feature);
  if (!c) throw new Error(`no coefficient for ${feature}`);
  return c.value;
}

describe('fitPrediction on the sample', () => {
  it('recovers every planted coefficient within 5%', () => {
    expect(model.features).toEqual(PLANTED);
    for (const [feature, planted] of Object.entries(TRUTH.coefficients)) {
      const got = coefficient(model, feature);
      expect(
        Math.abs(got - planted) / Math.abs(planted),
        `${feature}: ${got} vs ${planted}`,
      ).toBeLessThanOrEqual(0.05);
    }
    for (const c of model.coefficients) {
      expect(c.stdError).toBeGreaterThan(0);
      expect(c.t).toBeCloseTo(c.value / c.stdError, 10);
      // The planted value lies within a few standard errors (clipping adds a little bias).
      expect(Math.abs(c.value - (TRUTH.coefficients[c.feature] ?? 0)) / c.stdError).toBeLessThan(6);
    }
  });

  it("agrees with the library's own least squares and statistics on the training users", () => {
    const set = buildTrainingSet(sample, { target: 'spend_next_30d', features: PLANTED, cutoff: CUTOFF });
    const fitted = fitTrainingSet(set, { seed: 7 });
    const { train } = holdoutSplit(set.y.length, 0.2, 7);
    // The library's defaults: raw (unstandardised) features, its own intercept column and statistics.
    const columns = fitted.features.map((f) => set.table.columns[set.table.names.indexOf(f)] as Float64Array);
    const x = Array.from(train, (i) =>
      columns.map((col, j) => {
        const v = col[i] as number;
        return Number.isNaN(v) ? (fitted.imputeMedians[j] as number) : v;
      }),
    );
    const library = new MultivariateLinearRegression(
      x,
      Array.from(train, (i) => [set.y[i] as number]),
    );
    const close = (got: number, want: number) =>
      expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(
        1e-8 * Math.max(1, Math.abs(want)),
      );
    expect(fitted.train.n).toBe(train.length);
    fitted.coefficients.forEach((c, j) => {
      close(c.value, library.weights[j]?.[0] as number);
      close(c.stdError, library.stdErrors[j] as number);
      close(c.t, library.tStats[j] as number);
    });
    close(fitted.intercept, library.weights[columns.length]?.[0] as number);
  });

  it('reaches at least 90% of the best possible R² on the holdout and beats the average guess', () => {
    const maxR2 = Math.max(TRUTH.maxR2, sample.diagnostics.maxR2);
    expect(maxR2).toBeGreaterThan(0);
    expect(model.holdout.r2).toBeGreaterThanOrEqual(0.9 * maxR2);
    expect(model.holdout.r2).toBeGreaterThan(model.holdout.baseline.r2);
    expect(model.holdout.mae).toBeLessThan(model.holdout.baseline.mae);
    expect(model.holdout.rmse).toBeLessThan(model.holdout.baseline.rmse);
    expect(model.holdout.n + model.train.n).toBe(model.n);
    expect(model.holdout.n).toBe(Math.round(model.n * 0.2));
  });

  it('only learns from people who existed at the cutoff', () => {
    const existing = sample.profiles.filter((p) => p.created_at === null || p.created_at < CUTOFF).length;
    expect(model.n).toBe(existing);
    expect(model.n).toBeLessThan(sample.profiles.length);
  });

  it('is plain JSON and reproducible: same seed, same model; another seed, another split', () => {
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
    expect(fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF })).toEqual(model);
    const other = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, seed: 7 });
    expect(other.holdout.r2).not.toBe(model.holdout.r2);
  });

  it('writes the strongest drivers in marketer words', () => {
    expect(model.drivers).toHaveLength(3);
    const text = model.drivers.join('\n');
    expect(text).toMatch(/Each extra app session per week adds \$[56]\.\d\d in the next 30 days/);
    expect(text).toMatch(/Doubling followers adds \$9\.\d\d in the next 30 days/);
    const loyal = fitPrediction(sample, {
      features: ['loyalty_member', 'app_sessions_per_week'],
      cutoff: CUTOFF,
    });
    expect(loyal.drivers.join('\n')).toMatch(
      /Users with loyalty member = yes spend \$\d+\.\d\d more in the next 30 days/,
    );
  });

  it('uses a sensible default feature set and cutoff', () => {
    const m = fitPrediction(sample);
    expect(m.features).toEqual(expect.arrayContaining(['monetary', 'app_sessions_per_week', 'age']));
    expect(m.features).not.toContain('acquisition_channel');
    const latest = sample.interactions.reduce((max, it) => Math.max(max, it.timestamp), 0);
    expect(m.cutoff).toBe(latest + 1 - 30 * DAY);
    expect(m.holdout.r2).toBeGreaterThan(m.holdout.baseline.r2);
  });

  it('fills missing values with training medians and reports how many', () => {
    const input = withProfiles((p, i) => {
      if (i % 10 === 0) p.attrs.age = null;
      return p;
    });
    const m = fitPrediction(input, { features: PLANTED, cutoff: CUTOFF });
    const eligible = input.profiles.filter((p) => p.created_at === null || p.created_at < CUTOFF);
    const missing = eligible.filter((p) => p.attrs.age === null).length;
    expect(m.imputed).toEqual({ age: missing });
    const ageIndex = m.features.indexOf('age');
    expect(m.imputeMedians[ageIndex]).toBeGreaterThan(25);
    expect(m.imputeMedians[ageIndex]).toBeLessThan(45);
    expect(model.imputed).toEqual({});
  });

  it('predicts a numeric attribute, leaving it out of the features', () => {
    const m = fitPrediction(sample, { target: 'age' });
    expect(m.target).toBe('age');
    expect(m.features).not.toContain('age');
    expect(m.holdout.r2).toBeGreaterThan(m.holdout.baseline.r2);
    expect(() => fitPrediction(sample, { target: 'age', features: ['age', 'monetary'] })).toThrow(/target/);
  });
});

describe('refusals', () => {
  it('refuses too few rows', () => {
    const small = generateSample({ profiles: 40, seed: 1, end: END });
    expect(() => fitPrediction(small, { features: PLANTED, cutoff: CUTOFF })).toThrow(PredictError);
    expect(() => fitPrediction(small, { features: PLANTED, cutoff: CUTOFF })).toThrow(/at least 50/);
    const medium = generateSample({ profiles: 120, seed: 1, end: END });
    const n = fitPrediction(medium, { features: PLANTED, cutoff: CUTOFF }).n;
    const pool = ['monetary', 'frequency', 'recency_days', 'engagement', 'views_per_week', 'likes_per_week'];
    const many = [...PLANTED, 'nps_score', 'tenure_days', 'followers', 'clicks_per_week', ...pool];
    expect(many.length).toBeGreaterThan(n / 10);
    expect(() => fitPrediction(medium, { features: many, cutoff: CUTOFF })).toThrow(
      new RegExp(
        `${n} users are too few for ${many.length} features .* at most ${Math.floor(n / 10)} features`,
      ),
    );
  });

  it('refuses too few purchasers for spend', () => {
    const buyers = new Set<string>();
    const interactions = sample.interactions.filter((it) => {
      if (it.type !== 'purchase' || it.timestamp < CUTOFF) return true;
      if (buyers.size < 15) buyers.add(it.user_id);
      return buyers.has(it.user_id);
    });
    expect(() => fitPrediction({ ...sample, interactions }, { features: PLANTED, cutoff: CUTOFF })).toThrow(
      /only 15 users bought .* at least 20 purchasers/,
    );
  });

  it('names a constant feature', () => {
    const input = withProfiles(
      (p) => {
        p.attrs.store_visits = 3;
        return p;
      },
      { store_visits: 'number' },
    );
    expect(() => fitPrediction(input, { features: [...PLANTED, 'store_visits'], cutoff: CUTOFF })).toThrow(
      /"store_visits" is the same \(3\) for every user/,
    );
    // In the default set it is quietly left out instead.
    const m = fitPrediction(input, { cutoff: CUTOFF });
    expect(m.dropped).toEqual(['store_visits']);
    expect(m.features).not.toContain('store_visits');
  });

  it('names a collinear pair and a collinear group', () => {
    const input = withProfiles(
      (p) => {
        const sessions = p.attrs.app_sessions_per_week as number;
        p.attrs.followers_copy = p.followers;
        p.attrs.sessions_doubled = sessions * 2;
        p.attrs.sessions_plus_age = sessions + (p.attrs.age as number);
        return p;
      },
      { followers_copy: 'number', sessions_doubled: 'number', sessions_plus_age: 'number' },
    );
    expect(() =>
      fitPrediction(input, { features: ['followers', 'followers_copy', 'age'], cutoff: CUTOFF }),
    ).toThrow(/"followers" and "followers_copy" are collinear/);
    expect(() =>
      fitPrediction(input, {
        features: ['app_sessions_per_week', 'age', 'sessions_doubled'],
        cutoff: CUTOFF,
      }),
    ).toThrow(/"app_sessions_per_week" and "sessions_doubled" are collinear/);
    let message = '';
    try {
      fitPrediction(input, {
        features: ['log_followers', 'app_sessions_per_week', 'age', 'sessions_plus_age'],
        cutoff: CUTOFF,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/collinear/);
    for (const name of ['app_sessions_per_week', 'age', 'sessions_plus_age'])
      expect(message).toContain(`"${name}"`);
    expect(message).not.toContain('log_followers');
  });

  it('leaves a redundant custom attribute out of the default set instead of refusing', () => {
    const input = withProfiles(
      (p) => {
        p.attrs.age_in_months = (p.attrs.age as number) * 12;
        return p;
      },
      { age_in_months: 'number' },
    );
    const m = fitPrediction(input, { cutoff: CUTOFF });
    expect(m.dropped).toEqual(['age_in_months']);
    expect(m.features).toContain('age');
    expect(m.features).toHaveLength(m.coefficients.length);
    expect(m.means).toHaveLength(m.features.length);
    expect(m.imputeMedians).toHaveLength(m.features.length);
    expect(m.coefficients.find((c) => c.feature === 'age')?.value).toBeCloseTo(1.8, 0);
  });

  it('refuses unknown and non-numeric targets, listing the numeric ones', () => {
    expect(() => fitPrediction(sample, { target: 'lifetime_value' })).toThrow(
      /unknown target "lifetime_value"; numeric targets: spend_next_30d, age, app_sessions_per_week, nps_score/,
    );
    expect(() => fitPrediction(sample, { target: 'acquisition_channel' })).toThrow(
      /"acquisition_channel" is a category attribute, not a number; numeric targets: .*nps_score/,
    );
    expect(() => fitPrediction(sample, { target: 'loyalty_member' })).toThrow(
      /boolean attribute, not a number/,
    );
  });

  it('refuses unknown and repeated features', () => {
    expect(() => fitPrediction(sample, { features: ['age', 'shoe_size'], cutoff: CUTOFF })).toThrow(
      /unknown feature "shoe_size"/,
    );
    expect(() => fitPrediction(sample, { features: ['age', 'age'], cutoff: CUTOFF })).toThrow(/listed twice/);
  });
});

describe('no leakage across the cutoff', () => {
  it('ignores purchases after the target window', () => {
    const late: Interaction[] = sample.profiles.slice(0, 500).map((p, i) => ({
      user_id: p.id,
      item_id: null,
      type: 'purchase',
      value: 999,
      timestamp: CUTOFF + 30 * DAY + i * 1000,
    }));
    const input = { ...sample, interactions: [...sample.interactions, ...late] };
    expect(fitPrediction(input, { features: PLANTED, cutoff: CUTOFF })).toEqual(model);
    const behaviour = ['monetary', 'frequency', 'recency_days', 'engagement', 'age'];
    expect(fitPrediction(input, { features: behaviour, cutoff: CUTOFF })).toEqual(
      fitPrediction(sample, { features: behaviour, cutoff: CUTOFF }),
    );
  });

  it("sums each user's purchases in the 30 days after the cutoff, list price standing in for a missing amount", () => {
    const prices = new Map(sample.products.map((p) => [p.id, p.price]));
    // Every third purchase loses its amount; every ninth also names a product the catalogue does not have.
    let k = 0;
    const interactions = sample.interactions.map((it) => {
      if (it.type !== 'purchase' || k++ % 3 !== 0) return it;
      return { ...it, value: null, item_id: k % 9 === 1 ? 'not-in-catalogue' : it.item_id };
    });
    const set = buildTrainingSet(
      { ...sample, interactions },
      { target: 'spend_next_30d', features: PLANTED, cutoff: CUTOFF },
    );
    const want = new Map<string, number>();
    const fallbacks = { listed: 0, unknown: 0 };
    for (const it of interactions) {
      if (it.type !== 'purchase' || it.timestamp < CUTOFF || it.timestamp >= CUTOFF + 30 * DAY) continue;
      const listed = it.item_id === null ? undefined : prices.get(it.item_id);
      if (it.value === null) fallbacks[listed === undefined ? 'unknown' : 'listed']++;
      const amount = it.value ?? listed ?? 0;
      want.set(it.user_id, (want.get(it.user_id) ?? 0) + amount);
    }
    expect(fallbacks.listed).toBeGreaterThan(10);
    expect(fallbacks.unknown).toBeGreaterThan(10);
    expect(set.table.userIds).toEqual(
      sample.profiles.filter((p) => p.created_at === null || p.created_at < CUTOFF).map((p) => p.id),
    );
    expect(Array.from(set.y)).toEqual(set.table.userIds.map((id) => want.get(id) ?? 0));
    expect(set.y.filter((v) => v > 0).length).toBeGreaterThan(100);
  });

  it('changing purchases after the cutoff changes the target only, never the features', () => {
    const behaviour = ['monetary', 'frequency', 'recency_days', 'engagement', 'app_sessions_per_week'];
    const interactions = sample.interactions.map((it) =>
      it.type === 'purchase' && it.timestamp >= CUTOFF ? { ...it, value: (it.value ?? 0) * 2 + 5 } : it,
    );
    const changed = { ...sample, interactions };
    const before = buildTrainingSet(sample, {
      target: 'spend_next_30d',
      features: behaviour,
      cutoff: CUTOFF,
    });
    const after = buildTrainingSet(changed, {
      target: 'spend_next_30d',
      features: behaviour,
      cutoff: CUTOFF,
    });
    expect(after.table).toEqual(before.table);
    expect(after.y).not.toEqual(before.y);
    const a = fitPrediction(sample, { features: behaviour, cutoff: CUTOFF });
    const b = fitPrediction(changed, { features: behaviour, cutoff: CUTOFF });
    expect(b.means).toEqual(a.means);
    expect(b.imputeMedians).toEqual(a.imputeMedians);
    expect(b.coefficients).not.toEqual(a.coefficients);
  });
});

describe('predictUsers and expectedRevenue', () => {
  it('forecasts the next 30 days close to the planted expected spend', () => {
    const now = CUTOFF + 30 * DAY;
    const alive = sample.profiles.filter((p) => p.created_at === null || p.created_at < now);
    const revenue = expectedRevenue(model, sample);
    expect(revenue.n).toBe(alive.length);
    const planted = alive.reduce((sum, p) => sum + Math.max(0, expectedSpend(p)), 0);
    expect(Math.abs(revenue.total - planted) / planted).toBeLessThan(0.03);
    expect(revenue.perUser).toBeCloseTo(revenue.total / revenue.n, 8);
  });

  it('scores chosen users, floors spend at zero and refuses unknown ids', () => {
    const ids = sample.profiles.slice(0, 5).map((p) => p.id);
    const { userIds, values } = predictUsers(model, sample, ids);
    expect(userIds).toEqual(ids);
    expect(values).toHaveLength(5);
    for (const v of predictUsers(model, sample).values) expect(v).toBeGreaterThanOrEqual(0);
    expect(() => predictUsers(model, sample, ['nobody'])).toThrow(/unknown user "nobody"/);
    expect(() => expectedRevenue(fitPrediction(sample, { target: 'age' }), sample)).toThrow(PredictError);
  });
});

import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Interaction, Profile } from '../../src/domain/types.ts';
import {
  buildTrainingSet,
  fitPrediction,
  fitTrainingSet,
  isClear,
  PredictError,
  type PredictInput,
  type PredictionModel,
  predictUsers,
  rankCoefficients,
  SPEND_TARGET,
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
      // The planted value lies within a few standard errors.
      expect(Math.abs(c.value - (TRUTH.coefficients[c.feature] ?? 0)) / c.stdError).toBeLessThan(6);
    }
  });

  it("agrees with the library's own least squares and statistics on every row", () => {
    const set = buildTrainingSet(sample, { target: 'spend_next_30d', features: PLANTED, cutoff: CUTOFF });
    const fitted = fitTrainingSet(set, { seed: 7, validate: 'holdout' });
    // The coefficients are the full fit's whatever the check: the holdout only measures quality.
    const train = Array.from({ length: set.y.length }, (_, i) => i);
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
    expect(fitted.n).toBe(train.length);
    fitted.coefficients.forEach((c, j) => {
      close(c.value, library.weights[j]?.[0] as number);
      close(c.stdError, library.stdErrors[j] as number);
      close(c.t, library.tStats[j] as number);
    });
    close(fitted.intercept, library.weights[columns.length]?.[0] as number);
  });

  it('reaches at least 90% of the best possible R² on the holdout and beats the average guess', () => {
    const maxR2 = sample.diagnostics.maxR2;
    expect(maxR2).toBeGreaterThan(0);
    const held = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'holdout' });
    const h = held.validation;
    expect(h?.method).toBe('holdout');
    if (!h) return;
    expect(h.r2).toBeGreaterThanOrEqual(0.9 * maxR2);
    expect(h.r2).toBeGreaterThan(h.baseline.r2);
    expect(h.mae).toBeLessThan(h.baseline.mae);
    expect(h.rmse).toBeLessThan(h.baseline.rmse);
    expect(h.n + h.trainN).toBe(held.n);
    expect(h.n).toBe(Math.round(held.n * 0.2));
    expect(held.coefficients).toEqual(model.coefficients);
  });

  it('checks a spend forecast on a time split by default, beating the average guess', () => {
    const v = model.validation;
    expect(v?.method).toBe('time');
    if (!v) return;
    expect(v.fallback).toBeUndefined();
    expect(v.n).toBe(model.n);
    expect(v.size).toBe(30);
    expect(v.r2).toBeGreaterThanOrEqual(0.8 * sample.diagnostics.maxR2);
    expect(v.r2).toBeGreaterThan(v.baseline.r2);
    expect(v.rmse).toBeLessThan(v.baseline.rmse);
  });

  it('falls back to cross-validation, saying why, when the window before the cutoff has too few buyers', () => {
    // Seven weeks hold one full 30-day spend window: the 30 days before the default cutoff have no purchases.
    const short = generateSample({ profiles: 600, seed: 3, end: END, weeks: 7 });
    const m = fitPrediction(short, { features: PLANTED });
    expect(m.validation?.method).toBe('cv');
    expect(m.validation?.fallback).toMatch(
      /^no time split: only 0 users bought something between \d{4}-\d\d-\d\d and \d{4}-\d\d-\d\d; spend predictions need at least 20 purchasers$/,
    );
    expect(() => fitPrediction(short, { features: PLANTED, validate: 'time' })).toThrow(
      /only 0 users bought/,
    );
  });

  it('recovers every planted coefficient within 5% at another share of buyers too (3%, balanced draw)', () => {
    const real = generateSample({ profiles: 5000, seed: 42, end: END, buyerShare: 0.03 });
    const m = fitPrediction(real, { features: PLANTED, cutoff: CUTOFF });
    const c = real.diagnostics.spendScale;
    for (const [feature, planted] of Object.entries(TRUTH.coefficients)) {
      const got = coefficient(m, feature);
      expect(Math.abs(got / (c * planted) - 1), `${feature}: ${got} vs ${c * planted}`).toBeLessThanOrEqual(
        0.05,
      );
    }
    expect(m.validation?.method).toBe('time');
    expect(m.validation?.r2).toBeGreaterThan(0);
  });

  it('cross-validates with 5 folds when asked, or with the folds given, and skips the check with none', () => {
    const cv = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'cv' });
    expect(cv.validation).toMatchObject({ method: 'cv', size: 5, n: cv.n });
    expect(cv.validation?.trainN).toBe(Math.round((cv.n * 4) / 5));
    expect(cv.validation?.r2).toBeGreaterThan(cv.validation?.baseline.r2 ?? 1);
    expect(cv.coefficients).toEqual(model.coefficients);
    const ten = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'cv', folds: 10 });
    expect(ten.validation?.size).toBe(10);
    expect(ten.validation?.r2).not.toBe(cv.validation?.r2);
    const none = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'none' });
    expect(none.validation).toBeNull();
    expect(none.coefficients).toEqual(model.coefficients);
    expect(none.inSample.r2).toBeGreaterThan(0);
    expect(() => fitPrediction(sample, { target: 'age', validate: 'time' })).toThrow(/validate=cv/);
    expect(() =>
      fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'cv', folds: 1 }),
    ).toThrow(/folds=1/);
  });

  it('only learns from people who existed at the cutoff', () => {
    const existing = sample.profiles.filter((p) => p.created_at === null || p.created_at < CUTOFF).length;
    expect(model.n).toBe(existing);
    expect(model.n).toBeLessThan(sample.profiles.length);
  });

  it('is plain JSON and reproducible: same seed, same model; another seed, another split', () => {
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
    expect(fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF })).toEqual(model);
    const cv = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'cv' });
    const other = fitPrediction(sample, { features: PLANTED, cutoff: CUTOFF, validate: 'cv', seed: 7 });
    expect(other.validation?.r2).not.toBe(cv.validation?.r2);
    expect(other.coefficients).toEqual(cv.coefficients);
  });

  it('writes the strongest drivers in marketer words', () => {
    // The planted model has one large driver (loyalty, $40 a month); the others are cents and not clear.
    expect(model.drivers).toEqual(['Users with loyalty member = yes spend $40.00 more in the next 30 days']);
    // Alone, sessions stand in for loyalty (members open the app most): a clear per-unit driver.
    const sessions = fitPrediction(sample, { features: ['app_sessions_per_week'], cutoff: CUTOFF });
    expect(sessions.drivers.join('\n')).toMatch(
      /^Each extra app session per week adds \$\d+\.\d\d in the next 30 days/,
    );
  });

  it('uses a sensible default feature set and cutoff', () => {
    const m = fitPrediction(sample);
    expect(m.features).toEqual(expect.arrayContaining(['monetary', 'app_sessions_per_week', 'age']));
    expect(m.features).not.toContain('acquisition_channel');
    const latest = sample.interactions.reduce((max, it) => Math.max(max, it.timestamp), 0);
    expect(m.cutoff).toBe(latest + 1 - 30 * DAY);
    expect(m.validation?.r2).toBeGreaterThan(m.validation?.baseline.r2 ?? 1);
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
    expect(m.validation?.method).toBe('cv');
    expect(m.validation?.r2).toBeGreaterThan(m.validation?.baseline.r2 ?? 1);
    expect(() => fitPrediction(sample, { target: 'age', features: ['age', 'monetary'] })).toThrow(/target/);
  });
});

describe('refusals', () => {
  it('refuses too few rows', () => {
    const small = generateSample({ profiles: 40, seed: 1, end: END });
    expect(() => fitPrediction(small, { features: PLANTED, cutoff: CUTOFF })).toThrow(PredictError);
    expect(() => fitPrediction(small, { features: PLANTED, cutoff: CUTOFF })).toThrow(/at least 50/);
    // The highest share of buyers, so that 150 profiles hold the 20 purchasers spend needs.
    const medium = generateSample({ profiles: 150, seed: 1, end: END, buyerShare: 1 });
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
    // The same fit as without the redundant attribute.
    const plain = fitPrediction(sample, { cutoff: CUTOFF });
    expect(m.coefficients).toEqual(plain.coefficients);
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
  });
});

/** Solves A x = b by Gauss-Jordan elimination with partial pivoting (the test's own arithmetic, not the library's). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]?.[c] ?? 0) > Math.abs(m[pivot]?.[c] ?? 0)) pivot = r;
    [m[c], m[pivot]] = [m[pivot] as number[], m[c] as number[]];
    const row = m[c] as number[];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const other = m[r] as number[];
      const f = (other[c] as number) / (row[c] as number);
      for (let j = c; j <= n; j++) other[j] = (other[j] as number) - f * (row[j] as number);
    }
  }
  return m.map((row, i) => (row[n] as number) / (row[i] as number));
}

describe('the full-data fit, as R lm prints it', () => {
  it("equals the normal equations (X'X) b = X'y and sigma² (X'X)⁻¹ on a small table to 1e-9", () => {
    // 60 rows, 3 features on different scales, a target with noise: small enough to solve by hand.
    const n = 60;
    const rows = Array.from({ length: n }, (_, i) => {
      const a = ((i * 37) % 23) + 0.5 * Math.sin(i);
      const b = 1000 + ((i * 11) % 17) * 250 + (i % 3);
      const c = i % 2;
      const y = 3 + 1.7 * a - 0.004 * b + 12 * c + 5 * Math.cos(i * 1.3);
      return { a, b, c, y };
    });
    const set = {
      target: 'score',
      cutoff: 0,
      asOf: 0,
      table: {
        userIds: rows.map((_, i) => `u${i}`),
        names: ['a', 'b', 'c'],
        columns: [
          Float64Array.from(rows, (r) => r.a),
          Float64Array.from(rows, (r) => r.b),
          Float64Array.from(rows, (r) => r.c),
        ],
        missing: { a: 0, b: 0, c: 0 },
      },
      y: Float64Array.from(rows, (r) => r.y),
    };
    const fitted = fitTrainingSet(set, { validate: 'cv' });

    const x = rows.map((r) => [1, r.a, r.b, r.c]);
    const xtx = [0, 1, 2, 3].map((p) =>
      [0, 1, 2, 3].map((q) => x.reduce((s, row) => s + (row[p] as number) * (row[q] as number), 0)),
    );
    const xty = [0, 1, 2, 3].map((p) =>
      x.reduce((s, row, i) => s + (row[p] as number) * (rows[i]?.y as number), 0),
    );
    const beta = solve(xtx, xty);
    const rss = rows.reduce((s, r, i) => {
      const fit = (x[i] as number[]).reduce((t, v, j) => t + v * (beta[j] as number), 0);
      return s + (r.y - fit) ** 2;
    }, 0);
    const sigma2 = rss / (n - 4);
    const inverseColumn = (j: number) =>
      solve(
        xtx,
        [0, 1, 2, 3].map((q) => (q === j ? 1 : 0)),
      );
    const relative = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

    expect(fitted.n).toBe(n);
    expect(relative(fitted.intercept, beta[0] as number)).toBeLessThan(1e-9);
    fitted.coefficients.forEach((c, j) => {
      expect(c.feature).toBe(['a', 'b', 'c'][j]);
      expect(relative(c.value, beta[j + 1] as number), c.feature).toBeLessThan(1e-9);
      const se = Math.sqrt(sigma2 * (inverseColumn(j + 1)[j + 1] as number));
      expect(relative(c.stdError, se), c.feature).toBeLessThan(1e-9);
    });
    expect(fitted.validation?.method).toBe('cv');
    expect(fitted.validation?.n).toBe(n);
  });

  it('predicts a profile attribute when there are no interactions at all', () => {
    const m = fitPrediction({ ...sample, interactions: [] }, { target: 'age' });
    expect(m.target).toBe('age');
    expect(m.n).toBeGreaterThan(1000);
    expect(m.features.length).toBeGreaterThan(0);
    expect(m.validation?.method).toBe('cv');
  });

  it('names as drivers the first clear rows of the ranked coefficient table', () => {
    const ranked = rankCoefficients(model.coefficients).filter(isClear);
    expect(model.drivers).toHaveLength(Math.min(3, ranked.length));
    const top = new Set(ranked.slice(0, 3).map((c) => c.feature));
    const words: Record<string, RegExp> = {
      loyalty_member: /loyalty member/,
      log_followers: /followers/,
      app_sessions_per_week: /app session/,
    };
    const text = model.drivers.join('\n');
    for (const [feature, pattern] of Object.entries(words)) {
      if (!model.features.includes(feature)) continue;
      expect(pattern.test(text), feature).toBe(top.has(feature));
    }
  });
});

/** Expected spend over the next 30 days: the sum and the mean of the per-user predictions of a spend model. */
function expectedRevenue(
  model: PredictionModel,
  input: PredictInput,
  userIds?: readonly string[],
): { total: number; perUser: number; n: number } {
  expect(model.target).toBe(SPEND_TARGET);
  const { values } = predictUsers(model, input, userIds);
  let total = 0;
  for (const v of values) total += v;
  return { total, perUser: values.length > 0 ? total / values.length : 0, n: values.length };
}

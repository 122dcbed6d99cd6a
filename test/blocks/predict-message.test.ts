import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/blocks/kit.ts';
import { buildPredictMessage, type PredictResult } from '../../src/blocks/predict-message.ts';
import type { PredictionModel } from '../../src/engine/predict.ts';

function model(features: string[], overrides: Partial<PredictionModel> = {}): PredictionModel {
  return {
    target: 'spend_next_30d',
    features,
    dropped: [],
    cutoff: Date.UTC(2026, 4, 2),
    asOf: Date.UTC(2026, 4, 2),
    intercept: -50,
    coefficients: features.map((feature, i) => ({
      feature,
      value: 6.1 + i,
      stdError: 0.2,
      t: (6.1 + i) / 0.2,
      effect: 6.1 + i,
    })),
    means: features.map(() => 1),
    imputeMedians: features.map(() => 1),
    validation: {
      method: 'cv',
      n: 5000,
      trainN: 4000,
      size: 5,
      r2: 0.62,
      mae: 12.3,
      rmse: 16.1,
      baseline: { r2: -0.001, mae: 25.1, rmse: 31.4 },
    },
    inSample: { r2: 0.63, mae: 12, rmse: 16 },
    drivers: ['Each extra app session per week adds $6.10 in the next 30 days'],
    imputed: {},
    n: 5000,
    ...overrides,
  };
}

function result(m: PredictionModel, forecast: Partial<PredictResult['forecast']> = {}): PredictResult {
  return {
    model: m,
    forecast: { scope: { kind: 'audience' }, n: 4800, total: 12_340, perUser: 2.57, ...forecast },
    cached: false,
  };
}

function expectWithinLimits(reply: ReturnType<typeof buildPredictMessage>): void {
  expect(reply.text.length).toBeGreaterThan(0);
  expect(reply.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  expect(reply.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
  for (const block of reply.blocks) {
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (block.type === 'section') {
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(LIMITS.fieldCount);
      for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    }
    if (block.type === 'context') expect(block.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
  }
}

describe('buildPredictMessage', () => {
  it('shows the forecast, the quality against the baseline, drivers, coefficients and provenance', () => {
    const reply = buildPredictMessage(result(model(['app_sessions_per_week', 'age'])), { currency: 'USD' });
    expectWithinLimits(reply);
    const all = JSON.stringify(reply.blocks);
    expect(all).toContain('Expected revenue next 30 days: *$12.3k*');
    expect(all).toContain('62%');
    expect(all).toContain('Each extra app session per week adds $6.10');
    expect(all).toContain('± 0.2');
    expect(all).toContain('2 May 2026');
    expect(reply.text).toContain('$12.3k');
    expect(reply.data).toMatchObject({ forecast: { total: 12_340 }, model: { target: 'spend_next_30d' } });
    expect(all).toContain('5-fold cross-validation');
    expect(all).toContain('fit on all of them');
  });

  it('states each way of checking: time split, holdout, none', () => {
    const base = model(['age']);
    const v = base.validation;
    if (!v) throw new Error('the test model is validated');
    const text = (m: PredictionModel) =>
      JSON.stringify(buildPredictMessage(result(m), { currency: 'USD' }).blocks);
    expect(text({ ...base, validation: { ...v, method: 'time', size: 30 } })).toContain(
      'a time split: a model fitted on the 30 days before the cutoff',
    );
    expect(text({ ...base, validation: { ...v, method: 'holdout', n: 1000, size: 0.2 } })).toContain(
      'a seeded holdout of 1k people (20%)',
    );
    const none = text({ ...base, validation: null });
    expect(none).toContain('validate=none');
    expect(none).toContain('R² 0.63');
    expect(
      text({ ...base, validation: { ...v, fallback: 'no time split: only 3 users bought something' } }),
    ).toContain('Cross-validated instead of a time split: only 3 users bought something');
  });

  it('orders the coefficient table as the drivers are chosen: clear effects first, largest typical effect first', () => {
    const m = model(['a', 'b', 'c'], {
      coefficients: [
        { feature: 'a', value: 40, stdError: 30, t: 40 / 30, effect: 90 },
        { feature: 'b', value: 1, stdError: 0.1, t: 10, effect: 5 },
        { feature: 'c', value: 43.9, stdError: 2, t: 21.95, effect: 20 },
      ],
    });
    const all = JSON.stringify(buildPredictMessage(result(m), { currency: 'USD' }).blocks);
    expect(all.indexOf('*c*')).toBeLessThan(all.indexOf('*b*'));
    expect(all.indexOf('*b*')).toBeLessThan(all.indexOf('*a*'));
  });

  it('stays inside Block Kit limits with 40 long feature names and many imputed columns', () => {
    const features = Array.from(
      { length: 40 },
      (_, i) => `very_long_custom_attribute_name_${i}_${'x'.repeat(300)}`,
    );
    const imputed = Object.fromEntries(features.map((f) => [f, 12]));
    const drivers = features.slice(0, 3).map((f) => `Each +1 in ${f} adds $1.00 in the next 30 days`);
    const reply = buildPredictMessage(
      result(model(features, { imputed, drivers, dropped: features.slice(0, 20) })),
      {
        currency: 'EUR',
      },
    );
    expectWithinLimits(reply);
    const fieldBlock = reply.blocks.find((b) => b.type === 'section' && b.fields);
    expect(fieldBlock?.type === 'section' && fieldBlock.fields?.at(-1)?.text).toMatch(/and 31 more/);
  });

  it('escapes mentions and links in attribute names, drivers, user ids and segment names', () => {
    const evil = '<!channel>';
    const m = model([evil, 'age'], { imputed: { [evil]: 3 }, drivers: [`Each +1 in ${evil} adds $1.00`] });
    for (const scope of [
      { kind: 'audience' } as const,
      { kind: 'user', userId: '<@U123>' } as const,
      { kind: 'segment', segment: 2, name: '<!here> fans', stale: true } as const,
    ]) {
      const reply = buildPredictMessage(result(m, { scope }), { currency: 'USD' });
      expectWithinLimits(reply);
      const all = JSON.stringify(reply.blocks) + reply.text;
      expect(all).not.toMatch(/<!channel>|<!here>|<@U123>/);
      expect(all).toContain('&lt;!channel&gt;');
    }
  });

  it('warns when the model does not beat the average guess, and words attribute targets without money', () => {
    const m = model(['monetary'], {
      target: 'nps_score',
      drivers: ['Each extra app session per week adds 0.12 to nps score'],
      validation: {
        method: 'holdout',
        n: 100,
        trainN: 400,
        size: 0.2,
        r2: -0.05,
        mae: 3,
        rmse: 4,
        baseline: { r2: 0, mae: 2.9, rmse: 3.9 },
      },
    });
    const reply = buildPredictMessage(result(m, { total: 700, perUser: 7.25, n: 100 }), { currency: 'USD' });
    const all = JSON.stringify(reply.blocks);
    expect(all).toContain('no better than the average guess');
    expect(all).toContain('Predicted average nps score: *7.25*');
    expect(all).not.toContain('$');
  });
});

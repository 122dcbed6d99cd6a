import { tz } from '@date-fns/tz';
import type { KnownBlock } from '@slack/types';
import { format } from 'date-fns/format';
import { formatCompact, formatCount, formatMoney, formatPercent } from '../domain/format.ts';
import type { Reply } from '../domain/reply.ts';
import {
  featureLabel,
  isClear,
  type PredictionModel,
  rankCoefficients,
  SPEND_TARGET,
} from '../engine/predict.ts';
import { capBlocks, context, escapeMrkdwn, fallbackText, fields, header, section } from './kit.ts';

/** Who a forecast is for: the whole audience, one stored segment, or one person. */
export type ForecastScope =
  | { kind: 'audience' }
  | { kind: 'segment'; segment: number; name: string | null; stale: boolean; segmentation?: string }
  | { kind: 'user'; userId: string };

/** The forecast for the 30 days after "now": per-user predictions summed and averaged. */
export interface PredictForecast {
  scope: ForecastScope;
  n: number;
  total: number;
  perUser: number;
}

/** What `/audience predict` shows: the model, the forecast, and whether the model came from the cache. */
export interface PredictResult {
  model: PredictionModel;
  forecast: PredictForecast;
  cached: boolean;
}

/** The `/audience predict` reply: forecast, quality vs the average guess, drivers, coefficients, provenance. */
export function buildPredictMessage(result: PredictResult, options: { currency: string }): Reply {
  const { model, forecast } = result;
  const spend = model.target === SPEND_TARGET;
  const amount = (v: number) => (spend ? formatMoney(v, options.currency) : number(v));
  const targetName = escapeMrkdwn(featureLabel(model.target));
  const title = spend ? 'Spend forecast: next 30 days' : `Prediction: ${featureLabel(model.target)}`;

  const headline = forecastLine(forecast, spend, amount, targetName);
  const blocks: KnownBlock[] = [header(title), section(headline)];

  blocks.push(section(qualityText(model, amount, what(model, targetName)).join('\n')));

  if (model.drivers.length > 0) {
    blocks.push(section(`*What drives it*\n${model.drivers.map((d) => `• ${escapeMrkdwn(d)}`).join('\n')}`));
  } else {
    blocks.push(section('*What drives it*\nNo single feature has a clear effect on its own.'));
  }

  // The same ranking as the drivers above: clear effects first, largest effect of a typical difference first.
  blocks.push(
    fields(
      rankCoefficients(model.coefficients).map(
        (c) =>
          `*${escapeMrkdwn(featureLabel(c.feature))}*\n${signed(c.value)} ± ${number(c.stdError)}${isClear(c) ? '' : ' _(not clear)_'}`,
      ),
      `*Effect of one unit more* on ${what(model, targetName)} (± standard error), fitted on all ${formatCompact(model.n)} people; clear effects first, largest typical effect first`,
    ),
  );

  const notes = [
    `${formatCompact(model.n)} people, coefficients from the fit on all of them (as R's lm prints)`,
    `cutoff ${format(model.cutoff, 'd MMM yyyy', { in: tz('UTC') })}`,
  ];
  const imputed = Object.entries(model.imputed).filter(([, count]) => count > 0);
  if (imputed.length > 0) {
    notes.push(
      `filled with medians: ${imputed.map(([name, count]) => `${escapeMrkdwn(featureLabel(name))} ${formatCompact(count)}`).join(', ')}`,
    );
  }
  if (model.dropped.length > 0) {
    notes.push(
      `left out (no extra information): ${model.dropped.map((d) => escapeMrkdwn(featureLabel(d))).join(', ')}`,
    );
  }
  if (forecast.scope.kind === 'segment' && forecast.scope.stale) {
    notes.push('segments are from older data: run /audience segments to refresh them');
  }
  notes.push(result.cached ? 'cached model' : 'freshly fitted');
  blocks.push(context(notes));

  const plainHeadline = forecastLine(forecast, spend, amount, featureLabel(model.target), false);
  const v = model.validation;
  const text = v
    ? `${plainHeadline} ${METHOD_SHORT[v.method]} R² ${r2Text(v.r2)} vs ${r2Text(v.baseline.r2)} for the average guess.`
    : `${plainHeadline} In-sample R² ${r2Text(model.inSample.r2)} (not checked out of sample).`;
  return {
    text: fallbackText(escapeMrkdwn(text)),
    blocks: capBlocks(blocks),
    data: { model: summary(model), forecast, cached: result.cached },
  };
}

const METHOD_SHORT: Record<NonNullable<PredictionModel['validation']>['method'], string> = {
  cv: 'Cross-validated',
  time: 'Time-split',
  holdout: 'Holdout',
};

/** What the target is called in the quality lines: "spend" or the target's label. */
function what(model: PredictionModel, targetName: string): string {
  return model.target === SPEND_TARGET ? 'spend' : targetName;
}

/** How the model was checked out of sample, stated, and how it did against the average guess. */
function qualityText(model: PredictionModel, amount: (v: number) => string, target: string): string[] {
  const v = model.validation;
  if (v === null) {
    return [
      `*How good is it?* Not checked on people the model never saw (validate=none). On the people it was fitted on it explains ${share(model.inSample.r2)} of the differences in ${target} (R² ${r2Text(model.inSample.r2)}), which flatters it: use validate=cv for an honest figure.`,
    ];
  }
  const how: Record<typeof v.method, string> = {
    cv: `${v.size}-fold cross-validation: each of ${formatCompact(v.n)} people predicted by a model fitted on the other folds`,
    time: `a time split: a model fitted on the ${v.size} days before the cutoff (${formatCompact(v.trainN)} people) forecasting the latest ${v.size} days of ${formatCompact(v.n)} people`,
    holdout: `a seeded holdout of ${formatCompact(v.n)} people (${formatPercent(v.size, 0)}) the model never saw`,
  };
  const lines = [
    `*How good is it?* Checked by ${how[v.method]}: it explains *${share(v.r2)}* of the differences in ${target} (R² ${r2Text(v.r2)}); guessing the average for everyone explains ${share(v.baseline.r2)}.`,
    `Typical miss: ${amount(v.mae)} per person, vs ${amount(v.baseline.mae)} for the average guess.`,
  ];
  if (v.fallback)
    lines.push(
      `_Cross-validated instead of a time split: ${escapeMrkdwn(v.fallback.replace(/^no time split: /, ''))}._`,
    );
  const better = v.r2 > v.baseline.r2 && v.rmse < v.baseline.rmse;
  if (!better) {
    lines.push(
      ':warning: This model is no better than the average guess: treat the forecast as a rough guide.',
    );
  } else if (v.r2 < 0.1) {
    lines.push(
      ':information_source: The model explains little of the variation: the total is more reliable than any single person.',
    );
  }
  return lines;
}

function forecastLine(
  forecast: PredictForecast,
  spend: boolean,
  amount: (v: number) => string,
  targetName: string,
  rich = true,
): string {
  const b = (s: string) => (rich ? `*${s}*` : s);
  const esc = (s: string) => (rich ? escapeMrkdwn(s) : s);
  const people = formatCount(forecast.n, 'person', 'people');
  const scope = forecast.scope;
  if (scope.kind === 'user') {
    return spend
      ? `Expected spend of ${esc(scope.userId)} next 30 days: ${b(amount(forecast.total))}`
      : `Predicted ${targetName} for ${esc(scope.userId)}: ${b(amount(forecast.total))}`;
  }
  const who =
    scope.kind === 'segment'
      ? `Segment ${scope.segment}${scope.name ? ` (${esc(scope.name)})` : ''}${scope.segmentation ? ` of ${scope.segmentation}` : ''}, ${people}`
      : `Whole audience, ${people}`;
  return spend
    ? `${who}. Expected revenue next 30 days: ${b(amount(forecast.total))} (${amount(forecast.perUser)} per person)`
    : `${who}. Predicted average ${targetName}: ${b(amount(forecast.perUser))}`;
}

// The cached model keeps means and medians for scoring; the reply's data needs only what a reader would use.
function summary(model: PredictionModel) {
  const { means: _means, imputeMedians: _medians, ...rest } = model;
  return rest;
}

// toFixed turns a baseline R² of -0.001 into "-0.00", which reads like a typo.
function r2Text(r2: number): string {
  const text = r2.toFixed(2);
  return text === '-0.00' ? '0.00' : text;
}

function share(r2: number): string {
  return formatPercent(Math.max(0, r2), 0);
}

function number(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return formatCompact(v);
  return String(Number(v.toPrecision(3)));
}

function signed(v: number): string {
  return v > 0 ? `+${number(v)}` : v < 0 ? `−${number(-v)}` : '0';
}

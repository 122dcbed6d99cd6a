import {
  buildPredictMessage,
  type ForecastScope,
  type PredictForecast,
} from '../src/blocks/predict-message.ts';
import { segmentationName } from '../src/blocks/segments-message.ts';
import { UsageError } from '../src/domain/errors.ts';
import { formatCount } from '../src/domain/format.ts';
import type { ParsedArgs, Reply, Subcommand } from '../src/domain/reply.ts';
import {
  PredictError,
  type PredictionModel,
  predictUsers,
  resolveFeatures,
  resolveTarget,
  SPEND_TARGET,
  VALIDATIONS,
  type Validation,
} from '../src/engine/predict.ts';
import { markPerPerson } from '../src/privacy/cohorts.ts';
import { pseudonymizerFor } from '../src/privacy/pseudonym.ts';
import { resolveUserRef } from '../src/privacy/resolve.ts';
import { engineAudience } from '../src/queries/audience.ts';
import { cachedResult } from '../src/queries/cache.ts';
import { personLookupFor } from '../src/queries/people.ts';
import { predictionModelFor } from '../src/queries/prediction.ts';
import { type SqlPredictionPlan, sqlPredictionPlan } from '../src/queries/prediction-sql.ts';
import {
  type AudiencePredictions,
  audiencePredictionsFor,
  segmentMembersFor,
  sqlForecastFor,
} from '../src/queries/results.ts';
import type { AudienceSnapshot, ForecastWho } from '../src/store/store.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions, oneScope, segmentOption } from './options.ts';
import { defaultRunFor } from './segments.ts';

const OPTIONS = ['target', 'features', 'user', 'segment', 'validate'];

/** `/audience predict`: next-30-day spend (or a numeric attribute) for everyone, a segment or one person. */
export function createPredictCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'predict',
    summary:
      'Forecast next-30-day spend (or a numeric attribute) for the audience, a segment or one person, with what drives it.',
    usage:
      '/audience predict [target=spend_next_30d|<numeric attribute>] [features=a,b,c] [user=<id>|segment=<n>] [validate=cv|time|holdout|none]',
    examples: [
      '/audience predict',
      '/audience predict segment=2',
      '/audience predict user=u000042',
      '/audience predict features=monetary,frequency,app_sessions_per_week',
      '/audience predict target=nps_score',
      '/audience predict validate=cv',
    ],
    async run(args) {
      checkOptions(args, 'predict', { options: OPTIONS });
      const { options } = args;
      const { requested, segmentNumber } = readOptions(options);
      const validate = readValidate(options.validate);
      const asked = { target: options.target?.trim(), features: requested, validate };
      // A backend that computes prediction rows answers without the audience in the app (sqlPredict).
      const plan = await asUsage(() => sqlPredictionPlan(store, omitUndefined(asked)));
      if (plan) return sqlPredict({ store, clock, config }, plan, options.user, segmentNumber);
      const data = await engineAudience(store, {
        needs: 'this prediction',
        instead:
          'use built-in features or numeric, yes/no or date attributes, with validate=time, cv or none (the database fits those itself)',
      });
      const { target, features } = resolveModelRequest(data, asked.target, requested);
      // Check who the forecast is for before fitting, so a typo costs nothing.
      const who = await forecastScope({ store, clock, config }, data, options.user, segmentNumber);
      const { model, cached, key } = await predictionModelFor(
        store,
        {
          target,
          features,
          userChoseFeatures: requested !== undefined,
          currency: config.currency,
          ...(validate ? { validate } : {}),
        },
        clock().getTime(),
      );
      // A segment's forecast is the same for everyone asking about it until the data or the segments change.
      const everyone = await audiencePredictionsFor(store, model, key);
      const values =
        who.forecastKey === null
          ? predictionsOf(data, everyone, model, who.userIds)
          : cachedResult(store, data, `forecast|${key}|${who.forecastKey}`, () =>
              predictionsOf(data, everyone, model, who.userIds),
            );
      let total = 0;
      for (const v of values) total += v;
      const forecast: PredictForecast = {
        scope: who.scope,
        n: values.length,
        total,
        perUser: values.length > 0 ? total / values.length : 0,
      };
      const reply = buildPredictMessage({ model, forecast, cached }, { currency: config.currency });
      // About one person: the Slack layer keeps it private and never offers to share it.
      return who.scope.kind === 'user' ? markPerPerson(reply) : reply;
    },
  };
}

/** Runs `fn`, turning the engine's refusal of a target or feature into a usage message. */
async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof PredictError) throw new UsageError(error.message);
    throw error;
  }
}

/** The request without the options not given. */
function omitUndefined(asked: {
  target: string | undefined;
  features: string[] | undefined;
  validate: Validation | undefined;
}): { target?: string; features?: string[]; validate?: Validation } {
  return Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== undefined));
}

/**
 * `/audience predict` on a backend that computes prediction rows (PostgreSQL): the model is fitted on every row
 * and the forecast summed in the database, so the app never holds the audience. The reply is the engine path's.
 */
async function sqlPredict(
  deps: CommandDeps,
  plan: SqlPredictionPlan,
  user: string | undefined,
  segmentNumber: number | undefined,
): Promise<Reply> {
  const { store, clock, config } = deps;
  const counts = await store.audience.counts();
  if (counts.profiles === 0) throw new UsageError(NO_AUDIENCE);
  if (plan.target === SPEND_TARGET && counts.interactions === 0) throw new UsageError(NO_INTERACTIONS);
  const who = await sqlForecastScope(deps, user, segmentNumber);
  const { model, cached, key } = await predictionModelFor(
    store,
    {
      target: plan.target,
      features: plan.features,
      userChoseFeatures: plan.userChoseFeatures,
      currency: config.currency,
      ...(plan.validate ? { validate: plan.validate } : {}),
    },
    clock().getTime(),
  );
  const sums = await sqlForecastFor(store, model, key, who.who);
  if (!sums) throw new Error(`internal: the backend planned ${key} but does not forecast it`);
  if (who.scope.kind === 'segment' && sums.n < config.minCohortSize) {
    throw new UsageError(
      `segment ${who.scope.segment} has ${formatCount(sums.n, 'person', 'people')}; forecasts for groups need at least ${config.minCohortSize}`,
    );
  }
  const forecast: PredictForecast = {
    scope: who.scope,
    n: sums.n,
    total: sums.total,
    perUser: sums.n > 0 ? sums.total / sums.n : 0,
  };
  const reply = buildPredictMessage({ model, forecast, cached }, { currency: config.currency });
  return who.scope.kind === 'user' ? markPerPerson(reply) : reply;
}

/** Whom a forecast in SQL is for: everyone, one person, or a segment of the default run (by its stored id). */
async function sqlForecastScope(
  deps: CommandDeps,
  user: string | undefined,
  segmentNumber: number | undefined,
): Promise<{ scope: ForecastScope; who: ForecastWho }> {
  const { store, clock, config } = deps;
  if (user !== undefined) {
    // A profile id is looked up directly; an @handle or e-mail needs the pseudonym index (privacy/resolve.ts).
    // A profile id, @handle or e-mail address: by index on a database (queries/people.ts).
    const people = personLookupFor(store, {
      needs: 'finding a person by @handle or e-mail',
      instead: 'give the profile id (user=u000042)',
    });
    const id = await resolveUserRef(people, user, () => pseudonymizerFor(config));
    return { scope: { kind: 'user', userId: id }, who: { kind: 'ids', ids: [id] } };
  }
  if (segmentNumber === undefined) return { scope: { kind: 'audience' }, who: { kind: 'all' } };
  const run = await defaultRunFor(deps, clock().getTime());
  if (segmentNumber > run.k) {
    throw new UsageError(
      `segment ${segmentNumber} does not exist; the latest run has segments 1 to ${run.k}`,
    );
  }
  const scope: ForecastScope = {
    kind: 'segment',
    segment: segmentNumber,
    name: run.names[segmentNumber - 1] ?? null,
    stale: run.data_version !== (await store.audience.version()),
    segmentation: segmentationName(run.created_at),
  };
  return { scope, who: { kind: 'segment', runId: run.id, label: segmentNumber - 1 } };
}

const NO_AUDIENCE =
  'there is no audience data yet: load the sample or import profiles and interactions first';
const NO_INTERACTIONS =
  'there are no interactions yet, so there is no spend to forecast: import interactions, or predict a numeric attribute with target=<name>';

/** The options' own checks: non-empty target= and user=, a features= list, a segment number. */
function readOptions(options: ParsedArgs['options']): {
  requested: string[] | undefined;
  segmentNumber: number | undefined;
} {
  oneScope(options);
  if (options.target !== undefined && options.target.trim() === '') {
    throw new UsageError(`target= is empty; use target=${SPEND_TARGET} or a numeric attribute`);
  }
  let requested: string[] | undefined;
  if (options.features !== undefined) {
    requested = options.features
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    if (requested.length === 0)
      throw new UsageError('features= is empty; list names like features=monetary,frequency');
  }
  const segmentNumber = segmentOption(options.segment);
  if (options.user !== undefined && options.user.trim() === '') {
    throw new UsageError('user= is empty; give a profile id like user=u000042');
  }
  return { requested, segmentNumber };
}

/** The target and features against the data; a profile attribute can be learned from profiles alone. */
function resolveModelRequest(
  data: AudienceSnapshot,
  asked: string | undefined,
  requested: string[] | undefined,
): { target: string; features: string[] } {
  if (data.profiles.length === 0) throw new UsageError(NO_AUDIENCE);
  let target: string;
  let features: string[];
  try {
    target = resolveTarget(data.attributes, asked);
    features = resolveFeatures(data, target, requested);
  } catch (error) {
    if (error instanceof PredictError) throw new UsageError(error.message);
    throw error;
  }
  if (target === SPEND_TARGET && data.interactions.length === 0) throw new UsageError(NO_INTERACTIONS);
  return { target, features };
}

/** Reads `validate=`: one of cv, time, holdout, none; undefined when not given (the engine picks by target). */
function readValidate(text: string | undefined): Validation | undefined {
  if (text === undefined) return undefined;
  const word = text.trim().toLowerCase();
  const found = VALIDATIONS.find((v) => v === word);
  if (!found) throw new UsageError(`validate=${text} is not a check; use validate=${VALIDATIONS.join('|')}`);
  return found;
}

/** Whom a forecast is for: everyone, one person (by id, @handle or e-mail) or a segment of the default run. */
async function forecastScope(
  deps: CommandDeps,
  data: AudienceSnapshot,
  user: string | undefined,
  segmentNumber: number | undefined,
): Promise<{ scope: ForecastScope; userIds: readonly string[] | undefined; forecastKey: string | null }> {
  const { store, clock, config } = deps;
  if (user !== undefined) {
    // A profile id or an @handle / e-mail address, matched through its pseudonym (privacy/resolve.ts).
    const id = await resolveUserRef(personLookupFor(store), user, () => pseudonymizerFor(config));
    return { scope: { kind: 'user', userId: id }, userIds: [id], forecastKey: null };
  }
  if (segmentNumber === undefined)
    return { scope: { kind: 'audience' }, userIds: undefined, forecastKey: null };
  // Segment numbers are the default segmentation's, recomputed when the data changed.
  const run = await defaultRunFor(deps, clock().getTime());
  if (segmentNumber > run.k) {
    throw new UsageError(
      `segment ${segmentNumber} does not exist; the latest run has segments 1 to ${run.k}`,
    );
  }
  const members = await segmentMembersFor(store, run, segmentNumber - 1);
  if (members.length < config.minCohortSize) {
    throw new UsageError(
      `segment ${segmentNumber} has ${formatCount(members.length, 'person', 'people')}; forecasts for groups need at least ${config.minCohortSize}`,
    );
  }
  const scope: ForecastScope = {
    kind: 'segment',
    segment: segmentNumber,
    name: run.names[segmentNumber - 1] ?? null,
    stale: run.data_version !== data.version,
    segmentation: segmentationName(run.created_at),
  };
  return { scope, userIds: members, forecastKey: `${run.id}|${segmentNumber}` };
}

/**
 * Predictions for everyone (no `userIds`) or for the given people. Everyone's predictions are computed once per
 * model and data version and shared; people the audience-wide pass does not cover (created after the horizon
 * began) are scored on their own, as before.
 */
function predictionsOf(
  data: AudienceSnapshot,
  everyone: AudiencePredictions,
  model: PredictionModel,
  userIds: readonly string[] | undefined,
): Float64Array {
  if (userIds === undefined) return everyone.values;
  const values = new Float64Array(userIds.length);
  const missing: number[] = [];
  userIds.forEach((id, i) => {
    const row = everyone.rowOf(id);
    if (row === undefined) missing.push(i);
    else values[i] = everyone.values[row] as number;
  });
  if (missing.length > 0) {
    const scored = predictUsers(
      model,
      data,
      missing.map((i) => userIds[i] as string),
    ).values;
    missing.forEach((i, m) => {
      values[i] = scored[m] as number;
    });
  }
  return values;
}

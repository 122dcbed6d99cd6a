import {
  buildPredictMessage,
  type ForecastScope,
  type PredictForecast,
} from '../src/blocks/predict-message.ts';
import { segmentationName } from '../src/blocks/segments-message.ts';
import { type ParsedArgs, type Subcommand, UsageError } from '../src/domain/reply.ts';
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
import { peopleFor } from '../src/queries/people.ts';
import { predictionModelFor } from '../src/queries/prediction.ts';
import {
  type AudiencePredictions,
  audiencePredictionsFor,
  segmentMembersFor,
} from '../src/queries/results.ts';
import type { AudienceSnapshot } from '../src/store/store.ts';
import type { CommandDeps } from './deps.ts';
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
      '/audience predict user=u00042',
      '/audience predict features=monetary,frequency,app_sessions_per_week',
      '/audience predict target=nps_score',
      '/audience predict validate=cv',
    ],
    async run(args) {
      const request = readRequest(args);
      const data = await engineAudience(store);
      const { target, features } = resolveModelRequest(data, request);
      // Check who the forecast is for before fitting, so a typo costs nothing.
      const { scope, userIds, forecastKey } = await forecastScope({ store, clock, config }, data, request);
      const { model, cached, key } = await predictionModelFor(
        store,
        {
          target,
          features,
          userChoseFeatures: request.features !== undefined,
          currency: config.currency,
          ...(request.validate ? { validate: request.validate } : {}),
        },
        clock().getTime(),
      );
      // A segment's forecast is the same for everyone asking about it until the data or the segments change.
      const everyone = await audiencePredictionsFor(store, model, key);
      const values =
        forecastKey === null
          ? predictionsOf(data, everyone, model, userIds)
          : cachedResult(store, data, `forecast|${key}|${forecastKey}`, () =>
              predictionsOf(data, everyone, model, userIds),
            );
      let total = 0;
      for (const v of values) total += v;
      const forecast: PredictForecast = {
        scope,
        n: values.length,
        total,
        perUser: values.length > 0 ? total / values.length : 0,
      };
      const reply = buildPredictMessage({ model, forecast, cached }, { currency: config.currency });
      // About one person: the Slack layer keeps it private and never offers to share it.
      return scope.kind === 'user' ? markPerPerson(reply) : reply;
    },
  };
}

/** What `predict` was asked, checked for form before any data is read. */
interface PredictRequest {
  target: string | undefined;
  features: string[] | undefined;
  user: string | undefined;
  segment: number | undefined;
  validate: Validation | undefined;
}

/** Reads and checks the options of `predict`; refuses unknown or empty ones. */
function readRequest(args: ParsedArgs): PredictRequest {
  const unknown = Object.keys(args.options).filter((k) => !OPTIONS.includes(k));
  if (unknown.length > 0 || args.positional.length > 0) {
    const extra = [...unknown.map((k) => `${k}=`), ...args.positional].join(' ');
    throw new UsageError(
      `predict takes only target=, features=, user=, segment= and validate=; remove ${extra}`,
    );
  }
  const { options } = args;
  if (options.user !== undefined && options.segment !== undefined) {
    throw new UsageError('give either user= or segment=, not both');
  }
  if (options.target !== undefined && options.target.trim() === '') {
    throw new UsageError(`target= is empty; use target=${SPEND_TARGET} or a numeric attribute`);
  }
  let features: string[] | undefined;
  if (options.features !== undefined) {
    features = options.features
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    if (features.length === 0)
      throw new UsageError('features= is empty; list names like features=monetary,frequency');
  }
  let segment: number | undefined;
  if (options.segment !== undefined) {
    if (!/^\d+$/.test(options.segment) || Number(options.segment) < 1) {
      throw new UsageError(`segment=${options.segment} is not a segment number; use segment=1, segment=2, …`);
    }
    segment = Number(options.segment);
  }
  if (options.user !== undefined && options.user.trim() === '') {
    throw new UsageError('user= is empty; give a profile id like user=u00042');
  }
  const target = options.target?.trim();
  return { target, features, user: options.user, segment, validate: readValidate(options.validate) };
}

/** The target and features against the data; a profile attribute can be learned from profiles alone. */
function resolveModelRequest(
  data: AudienceSnapshot,
  request: PredictRequest,
): { target: string; features: string[] } {
  if (data.profiles.length === 0) {
    throw new UsageError(
      'there is no audience data yet: load the sample or import profiles and interactions first',
    );
  }
  let target: string;
  let features: string[];
  try {
    target = resolveTarget(data.attributes, request.target);
    features = resolveFeatures(data, target, request.features);
  } catch (error) {
    if (error instanceof PredictError) throw new UsageError(error.message);
    throw error;
  }
  if (target === SPEND_TARGET && data.interactions.length === 0) {
    throw new UsageError(
      'there are no interactions yet, so there is no spend to forecast: import interactions, or predict a numeric attribute with target=<name>',
    );
  }
  return { target, features };
}

/** Who the forecast is for: everyone, one person (by id, @handle or e-mail) or a stored segment. */
async function forecastScope(
  { store, clock, config }: Pick<CommandDeps, 'store' | 'clock' | 'config'>,
  data: AudienceSnapshot,
  request: PredictRequest,
): Promise<{ scope: ForecastScope; userIds: readonly string[] | undefined; forecastKey: string | null }> {
  if (request.user !== undefined) {
    // A profile id or an @handle / e-mail address, matched through its pseudonym (privacy/resolve.ts).
    const id = resolveUserRef(await peopleFor(store), request.user, () => pseudonymizerFor(config));
    return { scope: { kind: 'user', userId: id }, userIds: [id], forecastKey: null };
  }
  const segment = request.segment;
  if (segment === undefined) return { scope: { kind: 'audience' }, userIds: undefined, forecastKey: null };
  // Segment numbers are the default segmentation's, recomputed when the data changed.
  const run = await defaultRunFor({ store, clock, config }, clock().getTime());
  if (segment > run.k) {
    throw new UsageError(`segment ${segment} does not exist; the latest run has segments 1 to ${run.k}`);
  }
  const members = await segmentMembersFor(store, run, segment - 1);
  if (members.length < config.minCohortSize) {
    throw new UsageError(
      `segment ${segment} has ${members.length} people; forecasts for groups need at least ${config.minCohortSize}`,
    );
  }
  const scope: ForecastScope = {
    kind: 'segment',
    segment,
    name: run.names[segment - 1] ?? null,
    stale: run.data_version !== data.version,
    segmentation: segmentationName(run.created_at),
  };
  return { scope, userIds: members, forecastKey: `${run.id}|${segment}` };
}

/** Reads `validate=`: one of cv, time, holdout, none; undefined when not given (the engine picks by target). */
function readValidate(text: string | undefined): Validation | undefined {
  if (text === undefined) return undefined;
  const word = text.trim().toLowerCase();
  const found = VALIDATIONS.find((v) => v === word);
  if (!found) throw new UsageError(`validate=${text} is not a check; use validate=${VALIDATIONS.join('|')}`);
  return found;
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

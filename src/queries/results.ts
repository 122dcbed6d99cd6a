import type { SegmentRun } from '../domain/types.ts';
import type { Filter } from '../engine/filter.ts';
import { applyFilter } from '../engine/filter.ts';
import { HORIZON_DAYS, type PredictionModel, predictUsers } from '../engine/predict.ts';
import {
  type QueryOptions,
  type RecommendModel,
  recommendForSegment,
  type SegmentRecommendations,
  segmentRecommender,
} from '../engine/recommend.ts';
import { type AudienceStats, computeStats } from '../engine/stats.ts';
import type { ForecastSums, ForecastWho, Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, versionOnly } from './cache.ts';
import { peopleFor } from './people.ts';
import { scoreOf } from './prediction-sql.ts';
import { runWithAssignments } from './segments-in-store.ts';

const MINUTE = 60_000;

/**
 * Audience stats as of the start of the current minute, for the whole audience or a `where=` filter. Figures
 * count whole days, so a minute's rounding changes nothing a person can see, and everyone asking within that
 * minute shares one pass over the interactions.
 */
export async function audienceStatsFor(
  store: Store,
  filter: Filter | null,
  now: number,
): Promise<AudienceStats> {
  const asOf = Math.floor(now / MINUTE) * MINUTE;
  // Keyed by the data version: a backend that answers stats itself (rollups kept on import) is never asked
  // for a snapshot; otherwise the engine computes them from one.
  const version = await store.audience.version();
  return cachedResult(store, versionOnly(version), `stats|${asOf}|${filter?.text ?? ''}`, async () => {
    const answered = await store.audience.aggregate({
      kind: 'stats',
      params: filter ? { asOf, where: filter.text } : { asOf },
    });
    if (answered !== undefined) return answered as AudienceStats;
    const data = await engineAudience(store, {
      needs: filter ? 'stats with where=' : 'these stats',
      instead: filter
        ? 'ask /audience stats without where= (the database answers it), or raise SNAPSHOT_MAX_ROWS where the app has the memory for it'
        : undefined,
    });
    return computeStats(applyFilter(data.profiles, filter), data.interactions, { asOf });
  });
}

/** Everyone's prediction from one model, with each person's row, shared by audience, segment and user answers. */
export interface AudiencePredictions {
  userIds: readonly string[];
  values: Float64Array;
  /** The row of a person's prediction; the lookup table is built on first use (audience totals never need it). */
  rowOf(userId: string): number | undefined;
}

/** Predictions for everyone who existed at the model's horizon start; `modelKey` names the model (cache key). */
export async function audiencePredictionsFor(
  store: Store,
  model: PredictionModel,
  modelKey: string,
): Promise<AudiencePredictions> {
  const data = await engineAudience(store);
  return cachedResult(store, data, `predictions|${modelKey}`, () => {
    const { userIds, values } = predictUsers(model, data);
    let rows: Map<string, number> | null = null;
    const rowOf = (userId: string) => {
      rows ??= new Map(userIds.map((id, i) => [id, i]));
      return rows.get(userId);
    };
    return { userIds, values, rowOf };
  });
}

/**
 * A model's forecast summed by the backend (SQL over every person's features at the horizon's start), for
 * everyone who existed then, a stored segment's people or some people; null when the backend does not compute
 * the model's features (the engine then scores a snapshot). Sums are kept per data version like every result.
 */
export async function sqlForecastFor(
  store: Store,
  model: PredictionModel,
  modelKey: string,
  who: ForecastWho,
): Promise<ForecastSums | null> {
  const source = store.audience.predictions;
  if (!source) return null;
  const kinds = await store.audience.attributeKinds();
  if (!model.features.every((f) => source.computes(f, kinds[f]))) return null;
  const score = scoreOf(model);
  const asOf = model.cutoff + HORIZON_DAYS * 86_400_000;
  const run = () => source.forecast({ target: model.target, score, asOf, who });
  if (who.kind === 'ids') return run();
  const version = await store.audience.version();
  return cachedResult(store, versionOnly(version), forecastKey(modelKey, who), run);
}

/** The memo key of a forecast summed in SQL (a fit seeds everyone's, computed in its own pass). */
export function forecastKey(modelKey: string, who: ForecastWho): string {
  return `forecast-sql|${modelKey}|${JSON.stringify(who)}`;
}

/** The people of a stored run's segment (0-based) who are still in the audience (erasures remove people). */
export async function segmentMembersFor(
  store: Store,
  run: SegmentRun,
  segment: number,
): Promise<readonly string[]> {
  const data = await engineAudience(store);
  const people = await peopleFor(store);
  return cachedResult(store, data, `segment-members|${run.id}|${segment}`, async () => {
    const known = people.ids();
    const full = await runWithAssignments(store, run);
    return full.user_ids.filter((id, i) => full.labels[i] === segment && known.has(id));
  });
}

/** A segment's recommendations from one recommendation model (keyed by its segment run and build time). */
export async function segmentRecommendationsFor(
  store: Store,
  model: RecommendModel,
  segment: number,
  n: number,
  options: QueryOptions,
): Promise<SegmentRecommendations> {
  const key = `recommend-segment|${model.segmentRunId ?? ''}|${model.builtAt}|${segment}|${n}|${options.minCohortSize ?? ''}`;
  // A model built from a database's statistics keeps no member lists: the members are read page by page from the
  // stored run, each page with their own rows, so no snapshot is read.
  if (!model.segmentUserIds && model.segmentRunId && store.audience.recommendStats) {
    const runId = model.segmentRunId;
    const version = await store.audience.version();
    return cachedResult(store, versionOnly(version), key, () =>
      segmentByPages(store, model, runId, segment, n, options),
    );
  }
  const data = await engineAudience(store);
  return cachedResult(store, data, key, () => recommendForSegment(model, data, segment, n, options));
}

const MEMBER_PAGE = 5_000;

async function segmentByPages(
  store: Store,
  model: RecommendModel,
  runId: string,
  segment: number,
  n: number,
  options: QueryOptions,
): Promise<SegmentRecommendations> {
  const products = [...(await store.audience.products())];
  const sums = segmentRecommender(model, products, segment);
  let after = -1;
  for (;;) {
    const page = await store.segmentRuns.members(runId, segment, { after, limit: MEMBER_PAGE });
    if (page.userIds.length > 0) {
      const [profiles, interactions] = await Promise.all([
        store.audience.profiles({ ids: page.userIds }),
        store.audience.interactionsOf(page.userIds),
      ]);
      sums.add({ profiles: [...profiles], interactions: [...interactions], products }, page.userIds);
    }
    if (page.next === null) break;
    after = page.next;
  }
  return sums.result(n, options);
}

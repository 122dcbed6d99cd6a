import type { PersonFeatureColumn, PersonFeatureSource } from '../domain/segment-scan.ts';
import type { SegmentRun, SegmentRunRequest } from '../domain/types.ts';
import type { FeatureTable } from '../engine/features.ts';
import { SEGMENT_DEFAULTS } from '../engine/segment-defaults.ts';
import {
  centreAssignment,
  checkAudienceSize,
  fitSegments,
  requestedSegmentFeatures,
  type SegmentOptions,
  type SegmentResult,
  scalingFromStats,
  segmentOfCentre,
  segmentsFromSummary,
  usableSegmentFeatures,
  withRevenue,
} from '../engine/segments.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { versionOnly } from './cache.ts';
import type { MemoAudience } from './memo.ts';

/**
 * Segments computed where the data lives (issue #14), for a store whose backend computes everyone's features
 * itself (`audience.personFeatures`, a database): the backend keeps the feature table, the app reads the column
 * statistics and a seeded sample (at most `SEGMENT_DEFAULTS.sampleSize` people), the engine fits k-means on the
 * sample, and the backend places everyone at the nearest centre and sums what the segments are described from.
 * App memory is the sample's, whatever the audience's size. Below the sample size the sample is everyone in
 * stored order, and the segments are the ones the engine finds on a snapshot of the same data.
 */

/** Whether this request can be answered by the store's feature source (a filter needs the snapshot). */
export function inStore(
  source: PersonFeatureSource | null,
  request: SegmentRunRequest,
): source is PersonFeatureSource {
  return source !== null && request.where === null;
}

/** The engine's options for `request` as of `asOf`: the same whether the store or the engine computes it. */
export function segmentOptionsFor(
  request: SegmentRunRequest,
  asOf: number,
  currency: string | undefined,
): SegmentOptions {
  return {
    k: request.k,
    scaling: request.scaling,
    seed: request.seed,
    asOf,
    ...(request.features ? { features: request.features } : {}),
    ...(currency ? { currency } : {}),
  };
}

/** The instant a segmentation describes (as `dataAsOf`): just after the latest interaction, else `now`. */
export async function storeAsOf(source: PersonFeatureSource, now: number): Promise<number> {
  const latest = await source.latestInteraction();
  return latest !== null && Number.isFinite(latest) ? latest + 1 : now;
}

/**
 * The segmentation of `request` as of `asOf` from the store's feature source, with its `placement` (how the
 * store writes the assignments when the run is recorded); null when a feature is not computed there. The fit
 * sample has at most `sampleSize` people.
 */
export async function segmentInStore(
  source: PersonFeatureSource,
  request: SegmentRunRequest,
  asOf: number,
  currency: string | undefined,
  sampleSize: number = SEGMENT_DEFAULTS.sampleSize,
): Promise<SegmentResult | null> {
  const options = segmentOptionsFor(request, asOf, currency);
  const requested = requestedSegmentFeatures(options);
  const scan = await source.open({ features: withRevenue(requested), asOf });
  if (scan === null) return null;
  try {
    checkAudienceSize(scan.n, request.k);
    const missing = Object.fromEntries(scan.columns.map((c) => [c.name, c.missing]));
    const features = usableSegmentFeatures(requested, missing, scan.n, options);
    const at = features.map((f) => scan.columns.findIndex((c) => c.name === f));
    const columns = at.map((j) => scan.columns[j] as PersonFeatureColumn);
    const moments = await scan.moments(request.scaling === 'log-zscore');
    const scaling = scalingFromStats(
      columns,
      { means: at.map((j) => moments.means[j] as number), sds: at.map((j) => moments.sds[j] as number) },
      request.scaling,
    );
    const sample = await scan.sample(sampleSize, request.seed);
    const table: FeatureTable = {
      userIds: sample.userIds,
      names: features,
      columns: at.map((j) => sample.columns[j] as Float64Array),
      missing,
    };
    const fit = fitSegments(table, scaling, scan.n, options);
    const assignment = centreAssignment(fit);
    const summary = await scan.summarize(assignment);
    const result = segmentsFromSummary(fit, summary, columns, options);
    result.placement = {
      query: { features, asOf },
      assignment,
      order: segmentOfCentre(summary.sizes),
      ...(summary.kept === undefined ? {} : { kept: summary.kept }),
    };
    return result;
  } finally {
    await scan.release();
  }
}

/**
 * The run with everyone's segment at hand: a run the store placed and has not stored yet (a digest's, before
 * delivery) gets its assignments read whole, a stored run's header (`segmentRuns.headers`) its stored ones; any
 * other run already has them.
 */
export async function runWithAssignments(store: Store, run: SegmentRun): Promise<SegmentRun> {
  if (run.user_ids.length > 0 || run.sizes.every((size) => size === 0)) return run;
  const source = store.audience.personFeatures;
  if (run.placement && source !== null) {
    const { userIds, labels } = await source.placed(run.placement);
    return { ...run, user_ids: userIds, labels };
  }
  return (await store.segmentRuns.get(run.id)) ?? run;
}

/**
 * What results about segments are memoized on: the data version alone when the store computes features itself
 * (reading a snapshot just to key a cache would load the audience), else the snapshot, which is free there.
 */
export async function memoAudience(store: Store): Promise<MemoAudience> {
  if (store.audience.personFeatures !== null) return versionOnly(await store.audience.version());
  return engineAudience(store);
}

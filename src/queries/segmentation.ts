import type { SegmentRun } from '../domain/types.ts';
import { dataAsOf } from '../engine/as-of.ts';
import { applyFilter, parseWhere } from '../engine/filter.ts';
import { type Scaling, SEGMENT_DEFAULTS } from '../engine/segment-defaults.ts';
import { type SegmentOptions, type SegmentResult, segmentAudience } from '../engine/segments.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, readCachedModel, writeCachedModel } from './cache.ts';

/** How many segmentations are kept: enough for digests to compare a quarter of weekly runs. */
export const KEPT_SEGMENT_RUNS = 13;

/** What to segment: the parsed, validated `/audience segments` options. */
export interface SegmentRequest {
  k: number | 'auto';
  features: string[] | null;
  scaling: Scaling;
  where: string | null;
  seed: number;
}

/** What a plain `/audience segments` asks for. */
export const DEFAULT_SEGMENT_REQUEST: Readonly<SegmentRequest> = Object.freeze({
  k: 'auto',
  features: null,
  scaling: SEGMENT_DEFAULTS.scaling,
  where: null,
  seed: SEGMENT_DEFAULTS.seed,
});

interface CachedSegments {
  runId: string;
  result: Omit<SegmentResult, 'labels' | 'userIds'>;
}

const KIND = 'segments';

/**
 * Segments the audience for a request, reusing the cached result on unchanged data; a fresh result is stored
 * as a segment run (who was in which segment, when) so later digests can compare weeks.
 */
export async function segmentationFor(
  store: Store,
  request: SegmentRequest,
  now: number,
  currency?: string,
): Promise<{ result: SegmentResult; run: SegmentRun; cached: boolean }> {
  const audience = await engineAudience(store);
  const key = `${KIND}:${JSON.stringify(request)}${currency ? `|${currency.toUpperCase()}` : ''}`;
  const hit = await readCachedModel<CachedSegments>(store, audience, KIND, key, (m) =>
    Boolean(m && typeof m === 'object' && 'runId' in m && 'result' in m),
  );
  const cachedRun = hit ? await store.segmentRuns.get(hit.runId) : undefined;
  if (hit && cachedRun) {
    const result = {
      ...hit.result,
      userIds: cachedRun.user_ids,
      labels: Int32Array.from(cachedRun.labels),
    };
    return { result, run: cachedRun, cached: true };
  }

  const result = await computeSegmentation(store, request, now, currency);
  const dataVersion = audience.version;
  const runs = await store.segmentRuns.list();
  const run = toSegmentRun(result, {
    id: `seg-${now.toString(36)}-${dataVersion}-${runs.length}`,
    createdAt: now,
    dataVersion,
  });
  await store.change((tx) => tx.addSegmentRun(run, KEPT_SEGMENT_RUNS), { wait: 'applied' });
  const { labels: _labels, userIds: _userIds, ...rest } = result;
  await writeCachedModel(store, {
    kind: KIND,
    key,
    dataVersion,
    now,
    model: { runId: run.id, result: rest },
  });
  return { result, run, cached: false };
}

/**
 * The segmentation for a request on the current audience, computed once and remembered in memory (not stored as
 * a run): the warm-up calls this after a change, so the first `/audience segments` only has to store it.
 */
export async function computeSegmentation(
  store: Store,
  request: SegmentRequest,
  now: number,
  currency?: string,
): Promise<SegmentResult> {
  const data = await engineAudience(store);
  const asOf = dataAsOf(data.interactions, now);
  const { k, features, scaling, where, seed } = request;
  const key = `segmentation|${asOf}|${JSON.stringify([k, features, scaling, where, seed, currency ?? null])}`;
  return cachedResult(store, data, key, () => {
    const filter = request.where ? parseWhere(request.where, data.attributes) : null;
    const options: SegmentOptions = {
      k: request.k,
      scaling: request.scaling,
      seed: request.seed,
      asOf,
      ...(request.features ? { features: request.features } : {}),
      ...(currency ? { currency } : {}),
    };
    return segmentAudience({ ...data, profiles: applyFilter(data.profiles, filter) }, options);
  });
}

/** The stored form of a segmentation: who was in which segment, with names, sizes and centroids. */
export function toSegmentRun(
  result: SegmentResult,
  meta: { id: string; createdAt: number; dataVersion: number },
): SegmentRun {
  return {
    id: meta.id,
    created_at: meta.createdAt,
    data_version: meta.dataVersion,
    k: result.k,
    features: result.features,
    scaling: result.scaling,
    names: result.segments.map((s) => s.name),
    sizes: result.segments.map((s) => s.size),
    centroids: result.segments.map((s) => s.centroid),
    user_ids: result.userIds,
    labels: Array.from(result.labels),
  };
}

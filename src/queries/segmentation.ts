import type { SegmentRun, SegmentRunRequest } from '../domain/types.ts';
import { dataAsOf } from '../engine/as-of.ts';
import { applyFilter, parseWhere } from '../engine/filter.ts';
import { SEGMENT_DEFAULTS } from '../engine/segment-defaults.ts';
import { type SegmentResult, segmentAudience } from '../engine/segments.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, readCachedModel, versionOnly, writeCachedModel } from './cache.ts';
import {
  inStore,
  runWithAssignments,
  segmentInStore,
  segmentOptionsFor,
  storeAsOf,
} from './segments-in-store.ts';

/**
 * Segmentations and which one is the audience's *default*: the segmentation that `segment=N`, the segment
 * buttons, digests and exports refer to. It changes only when it is recomputed: after a data change (the next
 * time something needs it), or by an explicit `/audience segments … save`. Any other run (another k, features,
 * scaling, a filter) is answered and stored with its request, but never renumbers the default.
 *
 * Computing never writes: `findOrComputeSegmentation` and `defaultSegmentRun(…, { record: false })` (digest
 * content, previews) keep a new run in memory; `recordSegmentation` stores it (an explicit command, a delivery).
 */

/**
 * Runs kept: enough for digests to compare a quarter of weekly default runs with a few ad-hoc runs beside them
 * (the store keeps the newest, whatever their kind).
 */
export const KEPT_SEGMENT_RUNS = 21;

/** What to segment: the parsed, validated `/audience segments` options. */
export type SegmentRequest = SegmentRunRequest;

/** What a plain `/audience segments` asks for on an audience that never saved another default. */
export const DEFAULT_SEGMENT_REQUEST: Readonly<SegmentRequest> = Object.freeze({
  k: 'auto',
  features: null,
  scaling: SEGMENT_DEFAULTS.scaling,
  where: null,
  seed: SEGMENT_DEFAULTS.seed,
});

/** A segmentation: the engine's result and its run, stored or (not yet) kept in memory only. */
export interface Segmentation {
  result: SegmentResult;
  run: SegmentRun;
  /** Reused from an earlier computation on the same data. */
  cached: boolean;
  /** Whether the run is in the store. */
  stored: boolean;
}

interface CachedSegments {
  runId: string;
  result: Omit<SegmentResult, 'labels' | 'userIds'>;
}

const KIND = 'segments';

/** Whether a stored run is a default segmentation (runs from before this was recorded count as defaults). */
export function isDefaultRun(run: SegmentRun): boolean {
  return run.default ?? run.request === undefined;
}

/** The audience's current default segmentation as stored (maybe of older data), or undefined before the first. */
export function currentDefaultRun(runs: readonly SegmentRun[]): SegmentRun | undefined {
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i] as SegmentRun;
    if (isDefaultRun(run)) return run;
  }
  return undefined;
}

/** The store's current default segmentation run (see currentDefaultRun), with its assignments. */
export async function storedDefaultRun(store: Store): Promise<SegmentRun | undefined> {
  const header = await storedDefaultHeader(store);
  return header ? store.segmentRuns.get(header.id) : undefined;
}

/** The store's current default run without its assignments: which it is, when, its request, names and sizes. */
export async function storedDefaultHeader(store: Store): Promise<SegmentRun | undefined> {
  return currentDefaultRun(await store.segmentRuns.headers());
}

/** What the default segmentation is computed with: the current default's request, or the plain one. */
export function defaultRequest(runs: readonly SegmentRun[]): SegmentRequest {
  return currentDefaultRun(runs)?.request ?? DEFAULT_SEGMENT_REQUEST;
}

/** Whether two requests ask for the same segmentation. */
export function sameRequest(a: SegmentRequest, b: SegmentRequest): boolean {
  return requestText(a) === requestText(b);
}

/**
 * Whether `request` is the default segmentation's (whole audience, same k, features, scaling and seed). Before
 * the audience has a default, the first whole-audience segmentation becomes it: nothing is renumbered by that.
 */
export function isDefaultRequest(runs: readonly SegmentRun[], request: SegmentRequest): boolean {
  if (request.where !== null) return false;
  const current = currentDefaultRun(runs);
  return current === undefined || sameRequest(request, current.request ?? DEFAULT_SEGMENT_REQUEST);
}

/**
 * The default segmentation's run on the current data: the stored one while the data is unchanged, else
 * recomputed with the default's request. `record` stores a recomputed one as the new default (commands);
 * without it nothing is written (digest content, previews).
 */
export async function defaultSegmentRun(
  store: Store,
  now: number,
  currency: string | undefined,
  options: { record: boolean },
): Promise<SegmentRun> {
  const request = defaultRequest(await store.segmentRuns.headers());
  const { run, pending } = await resolveSegmentation(store, request, now, currency);
  if (!options.record || !pending) return run;
  return (await recordSegmentation(store, pending, currency, { asDefault: true })).run;
}

/** The run a request refers to now, and what recording it would store (null when nothing is left to store). */
export interface ResolvedSegmentation {
  run: SegmentRun;
  /** The segmentation to record (a new run, or a run becoming the default), or null. */
  pending: Segmentation | null;
  /** Whether the request is the default segmentation's. */
  isDefault: boolean;
}

/**
 * The run a request refers to, without writing: for the default request the stored default while the data is
 * unchanged, else the stored or computed run of the request (see recordSegmentation for storing it).
 */
export async function resolveSegmentation(
  store: Store,
  request: SegmentRequest,
  now: number,
  currency: string | undefined,
): Promise<ResolvedSegmentation> {
  const runs = await store.segmentRuns.headers();
  const isDefault = isDefaultRequest(runs, request);
  const current = currentDefaultRun(runs);
  if (isDefault && current && current.data_version === (await store.audience.version())) {
    const run = await store.segmentRuns.get(current.id);
    if (run) return { run, pending: null, isDefault };
  }
  const found = await findOrComputeSegmentation(store, request, now, currency);
  const settled = found.stored && (!isDefault || current?.id === found.run.id);
  return { run: found.run, pending: settled ? null : found, isDefault };
}

/**
 * Segments the audience for a request and stores the run (an explicit `/audience segments`): the default
 * request gives the current default (recomputed on changed data), any other an ad-hoc run beside it.
 */
export async function segmentationFor(
  store: Store,
  request: SegmentRequest,
  now: number,
  currency?: string,
): Promise<Segmentation & { isDefault: boolean }> {
  const asDefault = isDefaultRequest(await store.segmentRuns.headers(), request);
  const found = await findOrComputeSegmentation(store, request, now, currency);
  return { ...(await recordSegmentation(store, found, currency, { asDefault })), isDefault: asDefault };
}

/** Makes the segmentation for `request` the audience's default (`/audience segments … save`). */
export async function saveDefaultSegmentation(
  store: Store,
  request: SegmentRequest,
  now: number,
  currency?: string,
): Promise<Segmentation> {
  const found = await findOrComputeSegmentation(store, request, now, currency);
  return recordSegmentation(store, found, currency, { asDefault: true });
}

/**
 * The segmentation for a request on the current data: its stored run when there is one, else computed and
 * kept in memory (the same run, with the same id, for everyone asking until the data changes). Writes nothing.
 */
export async function findOrComputeSegmentation(
  store: Store,
  request: SegmentRequest,
  now: number,
  currency?: string,
): Promise<Segmentation> {
  // Answered where the data lives, the run needs only the version; the engine's path reads the snapshot anyway.
  const audience = inStore(store.audience.personFeatures, request)
    ? versionOnly(await store.audience.version())
    : await engineAudience(store);
  const dataVersion = audience.meta.dataVersion;
  const key = cacheKey(request, currency);
  const stored = await storedSegmentation(store, dataVersion, key);
  if (stored) return stored;
  const result = await computeSegmentation(store, request, now, currency);
  const run = cachedResult(store, audience, `segment-run|${key}`, () =>
    toSegmentRun(result, {
      id: `seg-${now.toString(36)}-${dataVersion}-${shortHash(key)}`,
      createdAt: now,
      dataVersion,
      request,
    }),
  );
  return { result, run, cached: false, stored: false };
}

async function storedSegmentation(store: Store, version: number, key: string): Promise<Segmentation | null> {
  const cached = await readCachedModel<CachedSegments>(store, { version }, KIND, key, (m) =>
    Boolean(
      m &&
        typeof m === 'object' &&
        'runId' in m &&
        'result' in m &&
        typeof (m.result as { total?: unknown }).total === 'number',
    ),
  );
  if (!cached) return null;
  // The header only: the reply needs the run's sizes, not its members (a database would read every assignment,
  // 10M of them at scale); whoever needs who is where reads them (runWithAssignments).
  const run = (await store.segmentRuns.headers()).find((r) => r.id === cached.runId);
  if (!run) return null;
  const result = { ...cached.result, userIds: [], labels: new Int32Array(0) };
  return { result, run, cached: true, stored: true };
}

/**
 * Stores a segmentation's run (and its result in the model cache, so the same request on the same data is
 * answered without computing); `asDefault` makes it the current default. A stored run is never changed in
 * place: a stored run becoming the default is stored again, marked, under its id with `-default`.
 */
export async function recordSegmentation(
  store: Store,
  segmentation: Segmentation,
  currency: string | undefined,
  options: { asDefault: boolean },
): Promise<Segmentation> {
  const isCurrent = (await storedDefaultHeader(store))?.id === segmentation.run.id;
  if (segmentation.stored && (!options.asDefault || isCurrent)) return segmentation;
  const id = segmentation.stored ? `${segmentation.run.id}-default` : segmentation.run.id;
  // A stored run found by its header is stored again with its members.
  const members = segmentation.stored ? await runWithAssignments(store, segmentation.run) : segmentation.run;
  const run: SegmentRun = { ...members, id, default: options.asDefault };
  await store.change((tx) => tx.addSegmentRun(run, KEPT_SEGMENT_RUNS), { wait: 'applied' });
  // A cache entry is only ever for the current data (an entry of another version would evict the current ones).
  if (run.data_version !== (await store.audience.version())) return { ...segmentation, run, stored: true };
  const { labels: _labels, userIds: _userIds, placement: _placement, ...rest } = segmentation.result;
  const key = cacheKey(run.request ?? DEFAULT_SEGMENT_REQUEST, currency);
  const model: CachedSegments = { runId: run.id, result: rest };
  await writeCachedModel(store, {
    kind: KIND,
    key,
    dataVersion: run.data_version,
    now: run.created_at,
    model,
  });
  return { ...segmentation, run, stored: true };
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
  const { k, features, scaling, where, seed } = request;
  const source = store.audience.personFeatures;
  if (inStore(source, request)) {
    const version = await store.audience.version();
    const asOf = await storeAsOf(source, now);
    const key = `segmentation|${asOf}|${JSON.stringify([k, features, scaling, where, seed, currency ?? null])}`;
    const result = await cachedResult(store, versionOnly(version), key, () =>
      segmentInStore(source, request, asOf, currency),
    );
    if (result) return result;
  }
  const data = await engineAudience(store);
  const asOf = dataAsOf(data.interactions, now);
  const key = `segmentation|${asOf}|${JSON.stringify([k, features, scaling, where, seed, currency ?? null])}`;
  return cachedResult(store, data, key, () => {
    const filter = request.where ? parseWhere(request.where, data.attributes) : null;
    return segmentAudience(
      { ...data, profiles: applyFilter(data.profiles, filter) },
      segmentOptionsFor(request, asOf, currency),
    );
  });
}

/** The stored form of a segmentation: who was in which segment, with names, sizes, centroids and the request. */
export function toSegmentRun(
  result: SegmentResult,
  meta: { id: string; createdAt: number; dataVersion: number; request?: SegmentRequest },
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
    ...(meta.request ? { request: copyRequest(meta.request) } : {}),
    ...(result.placement ? { placement: result.placement } : {}),
  };
}

function copyRequest(r: SegmentRequest): SegmentRequest {
  return {
    k: r.k,
    features: r.features ? [...r.features] : null,
    scaling: r.scaling,
    where: r.where,
    seed: r.seed,
  };
}

/** The request as text, fields in one order (the model cache key has always been this JSON). */
function requestText(r: SegmentRequest): string {
  return JSON.stringify(copyRequest(r));
}

function cacheKey(request: SegmentRequest, currency: string | undefined): string {
  return `${KIND}:${requestText(request)}${currency ? `|${currency.toUpperCase()}` : ''}`;
}

/** A short, stable tag of a text (run ids of different requests made in the same millisecond differ). */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

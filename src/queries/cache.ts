import type { CachedModel } from '../domain/types.ts';
import type { AudienceSnapshot, Store } from '../store/store.ts';
import { forgetMemoized, type MemoAudience, memoized } from './memo.ts';

/**
 * The one cache of src/queries/: every result derived from the audience (stats, segmentations, predictions,
 * recommendations, a segment's members, a chart, digest content) is kept for the data version it was computed
 * on, so it is never stale and a repeat on unchanged data costs nothing. Two tiers, one rule:
 *
 * - In memory (memo.ts, per store, least recently used first): everything, for the current version only.
 * - In the store (`store.models`, as JSON): fitted models, which are worth keeping across restarts and, with a
 *   database backend, across replicas. They are written with `wait: 'applied'` (durable a moment later: a
 *   lost model is refitted, never wrong) and read only while their data version is the current one.
 */

/**
 * The result for `key` on this audience, computed once per data version and kept in memory (a promise, for a
 * computation that awaits, is kept as it is).
 */
export function cachedResult<T>(store: Store, audience: MemoAudience, key: string, compute: () => T): T {
  return memoized(store, audience, key, () => {
    const value = compute();
    // A promise that rejects is not kept: the next caller tries again, as after a computation that threw.
    if (value instanceof Promise) value.catch(() => forgetMemoized(store, key));
    return value;
  });
}

/** The memo identity of a data version when no snapshot is read (a backend answered the question itself). */
export function versionOnly(version: number): MemoAudience {
  return { meta: { dataVersion: version, updatedAt: null, source: null } };
}

/** A model stored for the current data version under `key` (of `kind`), or null; `accept` vets its shape. */
export async function readCachedModel<T>(
  store: Store,
  audience: Pick<AudienceSnapshot, 'version'>,
  kind: string,
  key: string,
  accept: (model: unknown) => boolean,
): Promise<T | null> {
  const entry = await store.models.get(key);
  if (!entry || entry.kind !== kind || entry.data_version !== audience.version) return null;
  // A model written by an older build may lack fields this one reads; refitting is cheaper than guessing.
  return accept(entry.model) ? (entry.model as T) : null;
}

/** Stores a model for the current data version; drops this kind's stale entries and keeps at most `keep`. */
export async function writeCachedModel(
  store: Store,
  entry: { kind: string; key: string; dataVersion: number; now: number; model: unknown; keep?: number },
): Promise<void> {
  const stored: CachedModel = {
    kind: entry.kind,
    key: entry.key,
    data_version: entry.dataVersion,
    created_at: entry.now,
    model: entry.model,
  };
  await store.change((tx) => tx.putModel(stored, entry.keep ?? 20), { wait: 'applied' });
}

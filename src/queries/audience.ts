import { handInteractionColumns } from '../engine/interaction-index.ts';
import type { AudienceSnapshot, Store } from '../store/store.ts';

/**
 * The audience as the engine's input, at one data version. When the store has the interactions as typed
 * columns at hand (the file backend right after a load), they go to the engine's interaction view, which then
 * builds without a per-event id lookup (see engine/interaction-index.ts).
 */
export async function engineAudience(store: Store): Promise<AudienceSnapshot> {
  const snapshot = await store.audience.snapshot();
  const columns = await store.audience.interactionColumns();
  if (columns) handInteractionColumns(snapshot.interactions, columns);
  return snapshot;
}

const NOTHING: never[] = [];

/**
 * An audience known only by its data version, for caching results a backend computed without a snapshot (the
 * memo compares the version, and these shared empty arrays, which never change).
 */
export function audienceAtVersion(version: number): AudienceSnapshot {
  return {
    version,
    meta: { dataVersion: version, updatedAt: null, source: null },
    attributes: {},
    profiles: NOTHING,
    products: NOTHING,
    interactions: NOTHING,
  };
}

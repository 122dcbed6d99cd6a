import type { AudienceData } from '../domain/types.ts';
import type { Store } from '../store/store.ts';

/**
 * The model cache: fitted models live in `data.models` as plain JSON, tagged with the data version they were
 * fitted on. Any change to the audience bumps the version, so a stale model is never served, and a command
 * on unchanged data never refits.
 */
export function readCachedModel<T>(
  data: AudienceData,
  kind: string,
  key: string,
  accept: (model: unknown) => boolean,
): T | null {
  const entry = data.models[key];
  if (!entry || entry.kind !== kind || entry.data_version !== data.meta.dataVersion) return null;
  // A model written by an older build may lack fields this one reads; refitting is cheaper than guessing.
  return accept(entry.model) ? (entry.model as T) : null;
}

/** Stores a model for the current data version; drops this kind's stale entries and keeps at most `keep`. */
export function writeCachedModel(
  store: Store,
  entry: { kind: string; key: string; dataVersion: number; now: number; model: unknown; keep?: number },
): void {
  const keep = entry.keep ?? 20;
  store.update((d) => {
    const mine = Object.values(d.models).filter((m) => m.kind === entry.kind && m.key !== entry.key);
    for (const m of mine) if (m.data_version !== entry.dataVersion) delete d.models[m.key];
    const current = mine
      .filter((m) => m.data_version === entry.dataVersion)
      .sort((a, b) => a.created_at - b.created_at);
    for (const m of current.slice(0, Math.max(0, current.length - (keep - 1)))) delete d.models[m.key];
    d.models[entry.key] = {
      kind: entry.kind,
      key: entry.key,
      data_version: entry.dataVersion,
      created_at: entry.now,
      model: entry.model,
    };
  });
}

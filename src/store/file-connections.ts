/**
 * Platform connections on the file backend (issue #15): kept under the data's `connectors` key, which the line
 * format saves as one `extra` line (format.ts), so the format and the schema version stay as they are. The synced
 * event keys are a plain string array per connection on disk and a Set in memory, built on first lookup.
 */
import type { AudienceData, ConnectionRecord, ConnectorState, ContentMetric } from '../domain/types.ts';
import type { ConnectionReads } from './store.ts';

// One Set per keys array: a lookup of a few hundred keys must not scan a million-entry array.
const keySets = new WeakMap<string[], Set<string>>();

function keySet(keys: string[]): Set<string> {
  let set = keySets.get(keys);
  if (set === undefined) {
    set = new Set(keys);
    keySets.set(keys, set);
  }
  return set;
}

function stateOf(data: AudienceData): ConnectorState | undefined {
  return data.connectors;
}

/** The connection state, created on first write. */
function writableState(data: AudienceData): ConnectorState {
  data.connectors ??= { connections: [], keys: {}, metrics: [] };
  return data.connectors;
}

/** The connection reads over in-memory data. */
export function connectionReads(data: () => AudienceData): ConnectionReads {
  return {
    list: async () => stateOf(data())?.connections ?? [],
    get: async (id) => stateOf(data())?.connections.find((c) => c.id === id),
    syncedKeys: async (id, keys) => {
      const stored = stateOf(data())?.keys;
      const list = stored && Object.hasOwn(stored, id) ? stored[id] : undefined;
      if (list === undefined) return new Set();
      const set = keySet(list);
      return new Set(keys.filter((k) => set.has(k)));
    },
    syncedKeyCount: async (id) => {
      const stored = stateOf(data())?.keys;
      return stored && Object.hasOwn(stored, id) ? (stored[id]?.length ?? 0) : 0;
    },
    allSyncedKeys: async () => {
      const stored = stateOf(data())?.keys ?? {};
      return new Map(Object.entries(stored).map(([space, keys]) => [space, [...keys].sort()]));
    },
    metrics: async (id) => (stateOf(data())?.metrics ?? []).filter((m) => m.connection_id === id),
  };
}

/** The connection writes of one change over in-memory data. */
export const connectionWrites = {
  put(data: AudienceData, record: ConnectionRecord): void {
    const state = writableState(data);
    const at = state.connections.findIndex((c) => c.id === record.id);
    if (at >= 0) state.connections[at] = { ...record };
    else state.connections.push({ ...record });
  },

  update(
    data: AudienceData,
    id: string,
    patch: Partial<Omit<ConnectionRecord, 'id'>>,
  ): ConnectionRecord | undefined {
    const record = stateOf(data)?.connections.find((c) => c.id === id);
    if (record === undefined) return undefined;
    for (const [field, value] of Object.entries(patch)) {
      if (value !== undefined && field !== 'id')
        (record as unknown as Record<string, unknown>)[field] = value;
    }
    return record;
  },

  remove(data: AudienceData, id: string): boolean {
    const state = stateOf(data);
    if (state === undefined) return false;
    const before = state.connections.length;
    state.connections = state.connections.filter((c) => c.id !== id);
    delete state.keys[id];
    state.metrics = state.metrics.filter((m) => m.connection_id !== id);
    return state.connections.length < before;
  },

  addKeys(data: AudienceData, id: string, keys: readonly string[]): void {
    if (keys.length === 0) return;
    const state = writableState(data);
    const list = Object.hasOwn(state.keys, id) ? (state.keys[id] as string[]) : [];
    state.keys[id] = list;
    const set = keySet(list);
    for (const key of keys) {
      if (set.has(key)) continue;
      set.add(key);
      list.push(key);
    }
  },

  clearKeys(data: AudienceData, space: string): void {
    const state = stateOf(data);
    if (state !== undefined) delete state.keys[space];
  },

  putMetrics(data: AudienceData, metrics: readonly ContentMetric[]): void {
    if (metrics.length === 0) return;
    const state = writableState(data);
    const index = new Map(state.metrics.map((m, i) => [metricKey(m), i]));
    for (const m of metrics) {
      const at = index.get(metricKey(m));
      if (at === undefined) {
        index.set(metricKey(m), state.metrics.length);
        state.metrics.push({ ...m });
      } else state.metrics[at] = { ...m };
    }
  },
};

function metricKey(m: ContentMetric): string {
  return `${m.connection_id}\u0000${m.content_id}\u0000${m.name}`;
}

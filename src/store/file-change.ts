/**
 * The writes of one change on the file backend: each applies to the in-memory data at once (the file
 * backend's atomicity is "saved together", see store.ts), and the audience's version is bumped once when the
 * change ends, if any audience write changed something.
 */
import { interactionKey } from '../domain/interaction-key.ts';
import type {
  AttributeKind,
  AttributeValue,
  AudienceData,
  AuditEntry,
  CachedModel,
  ConnectionRecord,
  ContentMetric,
  DeliveryRecord,
  DigestSchedule,
  Interaction,
  PeopleRemoval,
  Product,
  ProductPatch,
  Profile,
  ProfilePatch,
  SegmentRun,
} from '../domain/types.ts';
import { connectionWrites } from './file-connections.ts';
import { type ColumnsSource, memoryReads, storedKeys } from './file-store.ts';
import type {
  AudienceReads,
  AuditReads,
  ConnectionReads,
  DigestReads,
  ModelReads,
  SegmentRunReads,
  StoreChange,
} from './store.ts';

const noColumns: ColumnsSource = { takeColumns: () => null };

/** One open change over the file backend's data; `finish()` stamps the audience if it changed. */
export class FileChange implements StoreChange {
  readonly audience: AudienceReads;
  readonly segmentRuns: SegmentRunReads;
  readonly models: ModelReads;
  readonly digests: DigestReads;
  readonly audit: AuditReads;
  readonly connections: ConnectionReads;
  private audienceChanged = false;
  private source: 'sample' | 'import' | undefined;
  // The profiles by id, kept across the upserts of one change: an import upserts in slices, and building the
  // index anew for each slice cost O(n) time and a map of every profile per slice (most of a large import).
  private profileIndex: { rows: Profile[]; byId: Map<string, Profile> } | null = null;

  constructor(
    private readonly data: AudienceData,
    _owner: object,
    private readonly now: Date,
  ) {
    const reads = memoryReads(() => this.data, noColumns);
    this.audience = reads.audience;
    this.segmentRuns = reads.segmentRuns;
    this.models = reads.models;
    this.digests = reads.digests;
    this.audit = reads.audit;
    this.connections = reads.connections;
  }

  /** Bumps the data version once if an audience write changed something. */
  finish(): void {
    if (!this.audienceChanged) return;
    this.audienceChanged = false;
    const meta = this.data.meta;
    meta.dataVersion += 1;
    meta.updatedAt = this.now.getTime();
    if (this.source !== undefined) meta.source = this.source;
  }

  private touched(source?: 'sample' | 'import'): void {
    this.audienceChanged = true;
    if (source !== undefined) this.source = source;
  }

  async replaceAudience(audience: {
    profiles: Profile[];
    products: Product[];
    interactions: Interaction[];
    attributes: Record<string, AttributeKind>;
  }): Promise<void> {
    const d = this.data;
    d.profiles = audience.profiles;
    d.products = audience.products;
    d.interactions = audience.interactions;
    d.attributes = audience.attributes;
    d.segmentRuns = [];
    d.models = {};
    this.touched('sample');
  }

  async upsertProfiles(
    patches: readonly ProfilePatch[],
    kinds: Readonly<Record<string, AttributeKind>>,
  ): Promise<{ inserted: number; updated: number }> {
    const rows = this.data.profiles;
    if (this.profileIndex?.rows !== rows) this.profileIndex = { rows, byId: indexById(rows) };
    const counts = upsertProfilesInto(rows, patches, this.profileIndex.byId);
    Object.assign(this.data.attributes, kinds);
    if (patches.length > 0) this.touched('import');
    return counts;
  }

  async upsertProducts(patches: readonly ProductPatch[]): Promise<{ inserted: number; updated: number }> {
    const counts = upsertProductsInto(this.data.products, patches);
    if (patches.length > 0) this.touched('import');
    return counts;
  }

  async appendInteractions(
    interactions: readonly Interaction[],
    options: { skipStored?: boolean } = {},
  ): Promise<number> {
    // Appended in place: the engine's view and the encoder's chunk reuse both rely on it (see encode.ts).
    const target = this.data.interactions;
    const stored = options.skipStored ? storedKeys(target) : null;
    let appended = 0;
    for (const i of interactions) {
      if (stored?.has(interactionKey(i))) continue;
      target.push(i);
      appended++;
    }
    if (appended > 0) this.touched('import');
    return appended;
  }

  async removePeople(ids: ReadonlySet<string>): Promise<PeopleRemoval> {
    const d = this.data;
    const report: PeopleRemoval = { profiles: 0, interactions: 0, segmentAssignments: 0, segmentRuns: 0 };
    if (ids.size === 0) return report;
    const profiles = d.profiles.filter((p) => !ids.has(p.id));
    report.profiles = d.profiles.length - profiles.length;
    // A new array on removal: caches keyed by the array (the engine's view, the encoder's chunks) start over.
    if (report.profiles > 0) d.profiles = profiles;
    const interactions = d.interactions.filter((i) => !ids.has(i.user_id));
    report.interactions = d.interactions.length - interactions.length;
    if (report.interactions > 0) d.interactions = interactions;
    for (const run of d.segmentRuns) {
      const removed = removeFromRun(run, ids);
      if (removed === 0) continue;
      report.segmentAssignments += removed;
      report.segmentRuns++;
    }
    if (report.profiles + report.interactions + report.segmentAssignments > 0) this.touched();
    return report;
  }

  async removeInteractionsBefore(cutoff: number): Promise<number> {
    const d = this.data;
    const kept = d.interactions.filter((i) => !(i.timestamp < cutoff));
    const removed = d.interactions.length - kept.length;
    if (removed > 0) {
      d.interactions = kept;
      this.touched();
    }
    return removed;
  }

  async addSegmentRun(run: SegmentRun, keep: number): Promise<void> {
    // This backend has no personFeatures, so every run it is given carries its assignments.
    if (run.placement && run.user_ids.length === 0 && run.sizes.some((s) => s > 0)) {
      throw new Error(
        'internal: the file backend cannot place a run itself (its runs carry their assignments)',
      );
    }
    const { placement: _placement, ...stored } = run;
    const runs = this.data.segmentRuns;
    runs.push(stored);
    if (runs.length > keep) runs.splice(0, runs.length - keep);
  }

  async putModel(entry: CachedModel, keep: number): Promise<void> {
    const models = this.data.models;
    const mine = Object.values(models).filter((m) => m.kind === entry.kind && m.key !== entry.key);
    for (const m of mine) if (m.data_version !== entry.data_version) delete models[m.key];
    const current = mine
      .filter((m) => m.data_version === entry.data_version)
      .sort((a, b) => a.created_at - b.created_at);
    for (const m of current.slice(0, Math.max(0, current.length - (keep - 1)))) delete models[m.key];
    models[entry.key] = entry;
  }

  async clearModels(): Promise<number> {
    const n = Object.keys(this.data.models).length;
    this.data.models = {};
    return n;
  }

  async addSchedule(schedule: DigestSchedule): Promise<void> {
    this.data.schedules.push(schedule);
  }

  async updateSchedule(
    id: string,
    patch: Partial<Omit<DigestSchedule, 'id'>>,
  ): Promise<DigestSchedule | undefined> {
    const schedule = this.data.schedules.find((s) => s.id === id);
    if (schedule) Object.assign(schedule, patch);
    return schedule;
  }

  async removeSchedule(id: string): Promise<boolean> {
    const before = this.data.schedules.length;
    this.data.schedules = this.data.schedules.filter((s) => s.id !== id);
    return this.data.schedules.length < before;
  }

  async putDelivery(record: DeliveryRecord): Promise<void> {
    const deliveries = this.data.deliveries;
    // Recent records are at the end, and updates are almost always of a recent one.
    for (let i = deliveries.length - 1; i >= 0; i--) {
      if (deliveries[i]?.key === record.key) {
        deliveries[i] = record;
        return;
      }
    }
    deliveries.push(record);
  }

  async pruneDeliveries(before: number, max: number): Promise<void> {
    const fresh = this.data.deliveries.filter((d) => d.at >= before);
    this.data.deliveries = fresh.length > max ? fresh.slice(fresh.length - max) : fresh;
  }

  async redactDeliveries(matches: (detail: string) => boolean): Promise<number> {
    let n = 0;
    for (const d of this.data.deliveries) {
      if (d.detail !== null && matches(d.detail)) {
        d.detail = null;
        n++;
      }
    }
    return n;
  }

  async appendAudit(entry: AuditEntry, keep: number): Promise<void> {
    const audit = this.data.audit;
    audit.push(entry);
    if (audit.length > keep) audit.splice(0, audit.length - keep);
  }

  async redactAudit(matches: (detail: string) => boolean, replacement: string): Promise<number> {
    let n = 0;
    for (const a of this.data.audit) {
      if (matches(a.detail)) {
        a.detail = replacement;
        n++;
      }
    }
    return n;
  }
  async putConnection(record: ConnectionRecord): Promise<void> {
    connectionWrites.put(this.data, record);
  }

  async updateConnection(
    id: string,
    patch: Partial<Omit<ConnectionRecord, 'id'>>,
  ): Promise<ConnectionRecord | undefined> {
    return connectionWrites.update(this.data, id, patch);
  }

  async removeConnection(id: string): Promise<boolean> {
    return connectionWrites.remove(this.data, id);
  }

  async addSyncedKeys(id: string, keys: readonly string[]): Promise<void> {
    connectionWrites.addKeys(this.data, id, keys);
  }

  async clearSyncedKeys(space: string): Promise<void> {
    connectionWrites.clearKeys(this.data, space);
  }

  async putMetrics(metrics: readonly ContentMetric[]): Promise<void> {
    connectionWrites.putMetrics(this.data, metrics);
  }
}

/** Removes these people's rows from a stored run (sizes adjusted); returns how many rows went. */
function removeFromRun(run: SegmentRun, ids: ReadonlySet<string>): number {
  if (!run.user_ids.some((id) => ids.has(id))) return 0;
  const userIds: string[] = [];
  const labels: number[] = [];
  const sizes = run.sizes.slice();
  let removed = 0;
  for (let i = 0; i < run.user_ids.length; i++) {
    const id = run.user_ids[i] as string;
    const label = run.labels[i] as number;
    if (ids.has(id)) {
      removed++;
      if (sizes[label] !== undefined) sizes[label] = Math.max(0, (sizes[label] as number) - 1);
      continue;
    }
    userIds.push(id);
    labels.push(label);
  }
  run.user_ids = userIds;
  run.labels = labels;
  run.sizes = sizes;
  return removed;
}

/**
 * Inserts or merges rows in order (a repeated id merges into the row its first occurrence made); counts each
 * id once, as inserted or updated.
 */
function indexById<T extends { id: string }>(rows: readonly T[]): Map<string, T> {
  const index = new Map<string, T>();
  for (const r of rows) index.set(r.id, r);
  return index;
}

/** Upserts `patches` into `rows`; `index` (rows by id) is kept up to date when given. */
function upsertInto<T extends { id: string }, P extends { id: string }>(
  rows: T[],
  patches: readonly P[],
  create: (patch: P) => T,
  merge: (row: T, patch: P) => void,
  index: Map<string, T> = indexById(rows),
): { inserted: number; updated: number } {
  const seen = new Set<string>();
  let inserted = 0;
  let updated = 0;
  for (const patch of patches) {
    const row = index.get(patch.id);
    if (!seen.has(patch.id)) {
      seen.add(patch.id);
      if (row) updated++;
      else inserted++;
    }
    if (row) {
      merge(row, patch);
      continue;
    }
    const created = create(patch);
    rows.push(created);
    index.set(patch.id, created);
  }
  return { inserted, updated };
}

/** Inserts or merges profiles in order: a null field keeps the stored value (an empty cell never erases). */
function upsertProfilesInto(
  profiles: Profile[],
  patches: readonly ProfilePatch[],
  index: Map<string, Profile>,
): { inserted: number; updated: number } {
  return upsertInto(profiles, patches, newProfile, mergeProfile, index);
}

function newProfile(row: ProfilePatch): Profile {
  return {
    id: row.id,
    platform: row.platform ?? null,
    country: row.country ?? null,
    created_at: row.created_at ?? null,
    last_active_at: row.last_active_at ?? null,
    followers: row.followers ?? null,
    interests: row.interests ?? [],
    attrs: row.attrs ?? {},
  };
}

function mergeProfile(profile: Profile, row: ProfilePatch): void {
  if (row.platform != null) profile.platform = row.platform;
  if (row.country != null) profile.country = row.country;
  if (row.created_at != null) profile.created_at = row.created_at;
  if (row.last_active_at != null) profile.last_active_at = row.last_active_at;
  if (row.followers != null) profile.followers = row.followers;
  if (row.interests != null) profile.interests = row.interests;
  const attrs = row.attrs;
  if (!attrs) return;
  for (const name in attrs) {
    const value = attrs[name] as AttributeValue;
    if (value !== null || !Object.hasOwn(profile.attrs, name)) profile.attrs[name] = value;
  }
}

/** Inserts or merges products in order; a new product without a name or category gets neutral defaults. */
function upsertProductsInto(
  products: Product[],
  patches: readonly ProductPatch[],
): { inserted: number; updated: number } {
  return upsertInto(
    products,
    patches,
    (row) => ({
      id: row.id,
      name: row.name ?? row.id,
      category: row.category ?? 'uncategorized',
      price: row.price ?? 0,
      in_stock: row.in_stock ?? true,
    }),
    (product, row) => {
      if (row.name != null) product.name = row.name;
      if (row.category != null) product.category = row.category;
      if (row.price != null) product.price = row.price;
      if (row.in_stock != null) product.in_stock = row.in_stock;
    },
  );
}

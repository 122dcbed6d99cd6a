/**
 * Moving an audience between backends (`audience migrate --to postgres://…`, and `--from` back into a file):
 * everything the seam can read is copied into the target in ONE change, then read back from the target and
 * verified against the source, collection by collection, by row count and a SHA-256 over the rows. Only the
 * storage interface is used, so it works from any backend to any other.
 *
 * Not copied: cached models (they are keyed by the data version, which the target counts on its own, and are
 * recomputed on first use; the seam has no read that lists them).
 */
import { createHash } from 'node:crypto';
import type {
  AttributeKind,
  AuditEntry,
  ConnectionRecord,
  ContentMetric,
  DeliveryRecord,
  DigestSchedule,
  Interaction,
  Product,
  Profile,
  SegmentRun,
} from '../../domain/types.ts';
import { StoreError } from '../errors.ts';
import type { StoreChange, StoreReads } from '../store.ts';

/** A store that can be written: the part of the seam a transfer needs. */
export interface TransferTarget extends StoreReads {
  readonly location: string;
  change<T>(fn: (tx: StoreChange) => Promise<T>, options?: { now?: Date }): Promise<T>;
}

/** Rows and checksum of one collection, as found in the source and read back from the target. */
export interface CollectionCheck {
  rows: number;
  sha256: string;
}

/** What a transfer copied, verified. */
export interface TransferReport {
  collections: Record<Collection, CollectionCheck>;
  /** True when the target held data that was replaced. */
  replaced: boolean;
}

const COLLECTIONS = [
  'profiles',
  'products',
  'interactions',
  'attributes',
  'segmentRuns',
  'schedules',
  'deliveries',
  'audit',
  'connections',
  'syncedKeys',
  'metrics',
] as const;
type Collection = (typeof COLLECTIONS)[number];

/** Everything a transfer copies, read from one store. */
interface Contents extends Record<Collection, readonly unknown[]> {
  profiles: readonly Profile[];
  products: readonly Product[];
  interactions: readonly Interaction[];
  attributes: ReadonlyArray<[string, AttributeKind]>;
  segmentRuns: readonly SegmentRun[];
  schedules: readonly DigestSchedule[];
  deliveries: readonly DeliveryRecord[];
  audit: readonly AuditEntry[];
  /** Platform connections (issue #15), their synced keys as [space, key] and their latest metrics. */
  connections: readonly ConnectionRecord[];
  syncedKeys: ReadonlyArray<[string, string]>;
  metrics: readonly ContentMetric[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function readConnections(store: StoreReads) {
  const connections = await store.connections.list();
  const keys = await store.connections.allSyncedKeys();
  const syncedKeys = [...keys]
    .sort(([a], [b]) => byText(a, b))
    .flatMap(([space, list]) => [...list].sort(byText).map((k): [string, string] => [space, k]));
  const metrics = (await Promise.all(connections.map((c) => store.connections.metrics(c.id))))
    .flat()
    .sort(
      (a, b) =>
        byText(a.connection_id, b.connection_id) ||
        byText(a.content_id, b.content_id) ||
        byText(a.name, b.name),
    );
  return { connections, syncedKeys, metrics };
}

async function readContents(store: StoreReads): Promise<Contents> {
  const snapshot = await store.audience.snapshot();
  return {
    profiles: snapshot.profiles,
    products: snapshot.products,
    interactions: snapshot.interactions,
    attributes: Object.entries(snapshot.attributes),
    segmentRuns: await store.segmentRuns.list(),
    schedules: await store.digests.schedules(),
    deliveries: await store.digests.deliveries(),
    audit: await store.audit.entries(),
    ...(await readConnections(store)),
  };
}

/** JSON with object keys sorted, so the same rows hash alike whatever order a backend keeps keys in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function check(rows: readonly unknown[]): CollectionCheck {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(`${canonical(row)}\n`);
  return { rows: rows.length, sha256: hash.digest('hex') };
}

async function isEmpty(store: StoreReads): Promise<boolean> {
  const counts = await store.audience.counts();
  if (counts.profiles + counts.products + counts.interactions > 0) return false;
  const [runs, schedules, deliveries, audit, connections] = await Promise.all([
    store.segmentRuns.list(),
    store.digests.schedules(),
    store.digests.deliveries(),
    store.audit.entries(),
    store.connections.list(),
  ]);
  return runs.length + schedules.length + deliveries.length + audit.length + connections.length === 0;
}

/**
 * Copies `source` into `target` and verifies it (see the module comment). Refuses a target that holds data
 * unless `replace`; throws StoreError 'conflict' when the read-back differs from the source.
 */
export async function transferStore(
  source: StoreReads,
  target: TransferTarget,
  options: { replace?: boolean; now?: Date } = {},
): Promise<TransferReport> {
  const empty = await isEmpty(target);
  if (!empty && !options.replace) {
    throw new StoreError(
      'conflict',
      target.location,
      `${target.location} already holds an audience; nothing was copied. Pass --replace to overwrite it.`,
    );
  }
  const contents = await readContents(source);
  await target.change(async (tx) => writeContents(tx, contents), options.now ? { now: options.now } : {});
  const copied = await readContents(target);
  const collections = {} as Record<Collection, CollectionCheck>;
  for (const name of COLLECTIONS) {
    const expected = check(contents[name]);
    const found = check(copied[name]);
    if (expected.rows !== found.rows || expected.sha256 !== found.sha256) {
      throw new StoreError(
        'conflict',
        target.location,
        `Copying ${name} into ${target.location} did not verify: ${expected.rows} rows in the source, ${found.rows} read back, checksums ${expected.sha256 === found.sha256 ? 'equal' : 'different'}. Run it again with --replace.`,
      );
    }
    collections[name] = expected;
  }
  return { collections, replaced: !empty };
}

/** Writes the contents as the target's whole state, in the open change. */
async function writeContents(tx: StoreChange, c: Contents): Promise<void> {
  await tx.replaceAudience({
    profiles: [...c.profiles],
    products: [...c.products],
    interactions: [...c.interactions],
    attributes: Object.fromEntries(c.attributes),
  });
  for (const run of c.segmentRuns) await tx.addSegmentRun(run, c.segmentRuns.length);
  for (const s of await tx.digests.schedules()) await tx.removeSchedule(s.id);
  for (const s of c.schedules) await tx.addSchedule(s);
  await tx.pruneDeliveries(Number.POSITIVE_INFINITY, 0);
  for (const d of c.deliveries) await tx.putDelivery(d);
  // Appending keeps the newest `keep`: the target's own older entries make way for the source's.
  for (const entry of c.audit) await tx.appendAudit(entry, c.audit.length);
  // Connections with their sealed tokens as they are (the same data key opens them), keys and metrics.
  for (const old of await tx.connections.list()) await tx.removeConnection(old.id);
  for (const space of (await tx.connections.allSyncedKeys()).keys()) await tx.clearSyncedKeys(space);
  for (const connection of c.connections) await tx.putConnection(connection);
  const bySpace = new Map<string, string[]>();
  for (const [space, key] of c.syncedKeys) {
    const list = bySpace.get(space) ?? [];
    list.push(key);
    bySpace.set(space, list);
  }
  for (const [space, keys] of bySpace) await tx.addSyncedKeys(space, keys);
  await tx.putMetrics(c.metrics);
}

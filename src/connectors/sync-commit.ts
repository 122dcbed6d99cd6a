/**
 * Prepared pages into the store: the reference checks, the dedupe against the keys the connection already
 * committed, and every write (audience rows, keys, metrics, the new cursor, the renewed lease) of one or more
 * consecutive pages in ONE store.change. Every check and read comes before the first write, as the file backend requires (store.ts).
 */
import { UserError } from '../domain/errors.ts';
import type { ConnectionRecord, Interaction } from '../domain/types.ts';
import { forgottenKey } from '../privacy/forget.ts';
import type { Store, StoreChange, StoreReads } from '../store/store.ts';
import { ConnectorError } from './errors.ts';
import type { PreparedBatch } from './ingest.ts';

/** What a page (or a whole sync) changed, in counts. */
export interface BatchCounts {
  profiles: { inserted: number; updated: number };
  products: { inserted: number; updated: number };
  /** `forgotten`: events of people erased with forget, not synced again. */
  interactions: { added: number; duplicates: number; expired: number; forgotten: number };
  metrics: number;
  /** New profiles + new products + new interactions. */
  rowsAdded: number;
  /** Currencies of purchase amounts seen (amounts are stored as given). */
  currencies: string[];
}

/**
 * Where a connection's synced keys live: per platform, not per connection, since a platform's event ids are its
 * own and unique. Two connections reading the same account (or a connection removed and made again) then never
 * store an event twice, and a person forgotten stays forgotten for every connection of that platform.
 */
export function keySpace(record: Pick<ConnectionRecord, 'kind'>): string {
  return record.kind;
}

/** The lease ran out and another process took the connection over: this sync stops without writing. */
export class LeaseLostError extends UserError {
  override name = 'LeaseLostError';
  readonly code = 'lease_lost';
}

/** What a page needs from the store before it may be written, checked inside the change. */
async function plan(
  reads: StoreReads,
  record: ConnectionRecord,
  prepared: PreparedBatch,
  earlier: DryRunMemory = { users: new Set(), items: new Set(), keys: new Set() },
) {
  const batchUsers = new Set(prepared.profiles.map((p) => p.id));
  const batchItems = new Set(prepared.products.map((p) => p.id));
  for (const u of earlier.users) batchUsers.add(u);
  for (const i of earlier.items) batchItems.add(i);
  const users = new Set<string>();
  const items = new Set<string>();
  for (const { interaction } of prepared.interactions) {
    if (!batchUsers.has(interaction.user_id)) users.add(interaction.user_id);
    if (interaction.item_id !== null && !batchItems.has(interaction.item_id)) items.add(interaction.item_id);
  }
  const storedUsers = users.size > 0 ? await reads.audience.profiles({ ids: [...users] }) : [];
  const knownUsers = new Set(storedUsers.map((p) => p.id));
  const missingUser = [...users].find((u) => !knownUsers.has(u));
  const knownItems = new Set(items.size > 0 ? (await reads.audience.products()).map((p) => p.id) : []);
  const missingItem = [...items].find((i) => !knownItems.has(i));
  if (missingUser !== undefined || missingItem !== undefined) {
    const what = missingUser !== undefined ? 'a person' : `item ${missingItem}`;
    throw new ConnectorError(
      'malformed',
      `${record.kind} connection "${record.id}": an event refers to ${what} that is neither in its page nor stored; nothing of this page was stored`,
    );
  }
  const keys = prepared.interactions.map((i) => i.key);
  const people = [...new Set([...batchUsers, ...users])];
  const synced = await reads.connections.syncedKeys(keySpace(record), [...keys, ...people.map(forgottenKey)]);
  const forgotten = new Set(people.filter((id) => synced.has(forgottenKey(id))));
  const known = prepared.interactions.filter((i) => !forgotten.has(i.interaction.user_id));
  const fresh = known.filter((i) => !synced.has(i.key) && !earlier.keys.has(i.key));
  return {
    fresh,
    duplicates: known.length - fresh.length,
    forgotten: prepared.interactions.length - known.length,
    profiles: prepared.profiles.filter((p) => !forgotten.has(p.id)),
  };
}

/** One page waiting to be committed: its prepared rows and the cursor that resumes after it. */
export interface PendingPage {
  prepared: PreparedBatch;
  cursor: string;
}

/**
 * Commits pages with the last one's cursor in ONE change (see the module comment); throws LeaseLostError when the
 * lease is gone. Each page is checked and written in turn, so a later page's checks see the earlier pages' rows
 * (a change reads its own writes), and each page's writes come after its own checks.
 */
export async function commitPages(
  store: Store,
  commit: {
    record: ConnectionRecord;
    pages: readonly PendingPage[];
    holder: string;
    now: number;
    leaseMs: number;
  },
): Promise<BatchCounts[]> {
  const { record, pages } = commit;
  const last = pages.at(-1);
  if (last === undefined) return [];
  return store.change(
    async (tx) => {
      const current = await tx.connections.get(record.id);
      if (current === undefined || current.lease_holder !== commit.holder) {
        throw new LeaseLostError(
          `the sync of "${record.id}" stopped: another process took it over after this one's lease ran out`,
        );
      }
      const done: BatchCounts[] = [];
      for (const page of pages) done.push(await writePage(tx, record, page.prepared));
      await tx.updateConnection(record.id, {
        cursor: last.cursor,
        lease_until: commit.now + commit.leaseMs,
        total_rows: current.total_rows + done.reduce((sum, c) => sum + c.rowsAdded, 0),
      });
      return done;
    },
    { now: new Date(commit.now) },
  );
}

/** One page's checks, then its writes (rows, dedupe keys, metrics) inside an open change. */
async function writePage(
  tx: StoreChange,
  record: ConnectionRecord,
  prepared: PreparedBatch,
): Promise<BatchCounts> {
  const { fresh, duplicates, forgotten, profiles: people } = await plan(tx, record, prepared);
  const profiles = await tx.upsertProfiles(people, prepared.newKinds);
  const products = await tx.upsertProducts(prepared.products);
  const events: Interaction[] = fresh.map((f) => f.interaction);
  await tx.appendInteractions(events);
  await tx.addSyncedKeys(
    keySpace(record),
    fresh.map((f) => f.key),
  );
  await tx.putMetrics(prepared.metrics);
  return counts(prepared, profiles, products, events.length, duplicates, forgotten);
}

function counts(
  prepared: PreparedBatch,
  profiles: { inserted: number; updated: number },
  products: { inserted: number; updated: number },
  added: number,
  duplicates: number,
  forgotten: number,
): BatchCounts {
  return {
    profiles,
    products,
    interactions: { added, duplicates, expired: prepared.expired, forgotten },
    metrics: prepared.metrics.length,
    rowsAdded: profiles.inserted + products.inserted + added,
    currencies: [...prepared.currencies],
  };
}

/** The people, items and event keys earlier pages of a dry run would have stored by now. */
export interface DryRunMemory {
  users: Set<string>;
  items: Set<string>;
  keys: Set<string>;
}

/** What committing the page would do, writing nothing (see DryRunMemory). */
export async function dryRunBatch(
  store: Store,
  record: ConnectionRecord,
  prepared: PreparedBatch,
  earlier: DryRunMemory,
): Promise<BatchCounts> {
  const { fresh, duplicates, forgotten, profiles: people } = await plan(store, record, prepared, earlier);
  const count = async (ids: string[], seen: Set<string>, stored: (ids: string[]) => Promise<string[]>) => {
    const unique = [...new Set(ids)];
    const known = new Set(await stored(unique.filter((id) => !seen.has(id))));
    const inserted = unique.filter((id) => !seen.has(id) && !known.has(id)).length;
    return { inserted, updated: ids.length - inserted };
  };
  const profiles = await count(
    people.map((p) => p.id),
    earlier.users,
    async (ids) => (await store.audience.profiles({ ids })).map((p) => p.id),
  );
  const products = await count(
    prepared.products.map((p) => p.id),
    earlier.items,
    async () => (await store.audience.products()).map((p) => p.id),
  );
  for (const p of prepared.profiles) earlier.users.add(p.id);
  for (const p of prepared.products) earlier.items.add(p.id);
  for (const f of fresh) earlier.keys.add(f.key);
  return counts(prepared, profiles, products, fresh.length, duplicates, forgotten);
}

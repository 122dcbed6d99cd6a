/**
 * A typed view of the interactions, built once per interactions array and shared by every engine module (stats,
 * features, predictions, recommendations): user and item ids become dense integer keys and each interaction a
 * fixed-size record, grouped by user. Two costs dominated the engine before it, and this view removes both:
 *
 * - Hashing a user id string per interaction, in every pass of every module (about 0.3 µs each at a million
 *   interactions). The view hashes each one once and is memoised per array, so a command on unchanged data
 *   hashes nothing.
 * - Memory latency: in time order, consecutive events belong to random users, so a pass that adds them up per
 *   user misses the cache on almost every event. Grouped by user, each user's events are contiguous and a pass
 *   reads them in one sweep, keeping that user's counters in registers.
 *
 * Row r of the view (0 ≤ r < length, users' blocks in key order, each user's events in data order) is a
 * 16-byte record: `f64[2r]` timestamp, `i32[4r+2]` item and type packed as (item key + 1) · 256 + type code
 * (see `itemOf`, `typeOf`), `i32[4r+3]` where its value is in `values` (-1 when null; only purchases and
 * ratings usually have one; a NaN value reads as null, and stored data only holds finite numbers or null).
 * The values are in row order too, so a pass over the rows reads them in sequence.
 * One record per event, in one buffer, is one cache line to touch when the view is
 * built instead of one per column, one allocation instead of several (each large allocation can start a full
 * garbage collection over every interaction object), and 115 MB rather than 180 MB at 7 million events.
 *
 * Building the view from the objects costs a dictionary lookup of a user id per event and two reads of every
 * event object; at 7 million events that is several seconds. The data file's decoder and the sample generator
 * hold the same events as typed columns anyway (`InteractionColumns`, src/domain/interaction-columns.ts), with users
 * already numbered by profile row; whoever reads them from the store hands them over (`handInteractionColumns`): the next view of that array is built from them instead, the same view (tests
 * compare the two), in a fraction of the time.
 *
 * Invalidation: the store replaces the arrays on a sample load, an erasure or a decode, and appends to them in
 * place on an import. A view is reused only for the same array object with the same length and the same
 * elements at a spread of sampled positions (first and last included); anything else rebuilds it. Handed-over
 * columns are used under the same test, and only with the profiles array they were made with, unchanged; else
 * the view is built from the objects. Interaction objects themselves are never edited in place by the app, so
 * their fields are read once.
 */
import {
  type InteractionColumns,
  ITEM_MASK,
  MAX_ITEMS,
  packEvent,
  TYPE_CODE,
  typeCode,
  UNKNOWN_TYPE,
} from '../domain/interaction-columns.ts';
import type { Interaction, Profile } from '../domain/types.ts';

// The columns and their encoding are the domain's (the store produces them); the engine's modules and tests
// keep importing them from here, next to the view they feed.
export { type InteractionColumns, MAX_ITEMS, packEvent, TYPE_CODE, typeCode, UNKNOWN_TYPE };

/** The typed view; see the module comment for the record layout. */
export interface InteractionIndex {
  /** Interactions covered (the array's length when the view was built). */
  readonly length: number;
  /**
   * The user id of each user key. Keys number the ids of the profiles the view was built with (in their order),
   * then the other user ids of the interactions in order of first appearance.
   */
  readonly userIds: readonly string[];
  /** Key of a user id; a null-prototype dictionary (about 3x faster than a Map at a million keys). */
  readonly userKeys: Readonly<Record<string, number>>;
  /** Rows of user key u: start[u] .. start[u+1]-1. */
  readonly start: Int32Array;
  /** Index in the data of each user key's first event (-1 for a profile without any). */
  readonly firstEvent: Int32Array;
  /** The item id of each item key. */
  readonly itemIds: readonly string[];
  readonly itemKeys: Readonly<Record<string, number>>;
  /** The records as 64-bit floats (2 slots per row; the timestamp at 2r). */
  readonly f64: Float64Array;
  /** The same buffer as 32-bit integers (4 slots per row): item and type at 4r+2, value slot at 4r+3. */
  readonly i32: Int32Array;
  /** The non-null values, in data order. */
  readonly values: Float64Array;
  /** True when the timestamps never decrease in data order (and none is NaN). */
  readonly timeSorted: boolean;
  /**
   * The purchases again, in data order, as compact columns: sums over them keep the data's order (and so its
   * rounding) and read memory in sequence. User key, time, value (NaN when null) and item key (-1 for none).
   */
  readonly purchases: {
    readonly user: Int32Array;
    readonly ts: Float64Array;
    readonly value: Float64Array;
    readonly item: Int32Array;
  };
  /** Smallest and largest timestamp (NaN ignored); +Infinity / -Infinity without interactions. */
  readonly minTs: number;
  readonly maxTs: number;
}

/** Item key of a packed item-and-type slot (`i32[4r+2]`), -1 for none. */
export function itemOf(packed: number): number {
  return (packed >> 8) - 1;
}

/** Type code of a packed item-and-type slot (`i32[4r+2]`). */
export function typeOf(packed: number): number {
  return packed & 255;
}

/** The value of row r, NaN when null. */
export function valueAt(index: InteractionIndex, r: number): number {
  const slot = index.i32[4 * r + 3] as number;
  return slot < 0 ? Number.NaN : (index.values[slot] as number);
}

/** Elements at `probes` positions of an array, to notice it was edited in place. */
interface Snapshot {
  length: number;
  probes: Int32Array;
  seen: Interaction[];
}

interface Cached extends Snapshot {
  index: InteractionIndex;
}

const PROBES = 64;
const cache = new WeakMap<readonly Interaction[], Cached>();

function probePositions(n: number): Int32Array {
  if (n === 0) return new Int32Array(0);
  const count = Math.min(n, PROBES);
  const out = new Int32Array(count);
  for (let p = 0; p < count; p++) out[p] = count === 1 ? n - 1 : Math.round((p * (n - 1)) / (count - 1));
  return out;
}

function snapshot(interactions: readonly Interaction[]): Snapshot {
  const probes = probePositions(interactions.length);
  return {
    length: interactions.length,
    probes,
    seen: Array.from(probes, (k) => interactions[k] as Interaction),
  };
}

function stillValid(entry: Snapshot, interactions: readonly Interaction[]): boolean {
  if (entry.length !== interactions.length) return false;
  const { probes, seen } = entry;
  for (let p = 0; p < probes.length; p++) if (interactions[probes[p] as number] !== seen[p]) return false;
  return true;
}

interface Handed extends Snapshot {
  columns: InteractionColumns;
  profilesLength: number;
  firstProfile: Profile | undefined;
  lastProfile: Profile | undefined;
}

const handed = new WeakMap<readonly Interaction[], Handed>();

/**
 * Hands typed columns of `interactions` to the next `interactionIndex` of that array, which builds from them
 * (and lets them go) if neither the array nor the profiles array changed meanwhile (as `interactionIndex`
 * notices changes: length and the elements at spread positions); anything else builds from the objects.
 */
export function handInteractionColumns(
  interactions: readonly Interaction[],
  columns: InteractionColumns,
): void {
  const { profiles } = columns;
  if (columns.user.length !== interactions.length)
    throw new RangeError('columns and interactions differ in length');
  handed.set(interactions, {
    ...snapshot(interactions),
    columns,
    profilesLength: profiles.length,
    firstProfile: profiles[0],
    lastProfile: profiles[profiles.length - 1],
  });
}

/** The columns handed over for `interactions`, if they still describe it and number users by `profiles`. */
function takeColumns(
  interactions: readonly Interaction[],
  profiles: readonly Profile[] | undefined,
): InteractionColumns | null {
  const entry = handed.get(interactions);
  if (!entry) return null;
  handed.delete(interactions);
  const p = entry.columns.profiles;
  const usable =
    stillValid(entry, interactions) &&
    (profiles === undefined || profiles === p) &&
    p.length === entry.profilesLength &&
    p[0] === entry.firstProfile &&
    p[p.length - 1] === entry.lastProfile;
  return usable ? entry.columns : null;
}

/**
 * The typed view of `interactions`, built on first use and reused while the array is unchanged. `profiles`, when
 * given, only numbers the keys: its ids first, in its order, so that the users' blocks (and the rows of anything
 * indexed by profile) are visited in the same order, and its mapping to profile rows comes for free.
 */
export function interactionIndex(
  interactions: readonly Interaction[],
  profiles?: readonly Profile[],
): InteractionIndex {
  const entry = cache.get(interactions);
  if (entry && stillValid(entry, interactions)) return entry.index;
  const columns = takeColumns(interactions, profiles);
  const numberedBy = columns ? columns.profiles : profiles;
  const built = columns ? buildFromColumns(columns) : buildIndex(interactions, profiles ?? []);
  const { index } = built;
  if (numberedBy) {
    profileCache.set(
      numberedBy,
      profileRows(index, numberedBy, built.rowOfKey, built.keyOfProfile, built.unique),
    );
  }
  cache.set(interactions, { index, ...snapshot(interactions) });
  return index;
}

/** The view when it is already built and current, without building it (for cheap questions like "latest time"). */
export function cachedInteractionIndex(interactions: readonly Interaction[]): InteractionIndex | undefined {
  const entry = cache.get(interactions);
  return entry && stillValid(entry, interactions) ? entry.index : undefined;
}

/** The latest timestamp (NaN ignored), from the view when it is current, else by one scan. */
export function latestTimestamp(interactions: readonly Interaction[]): number {
  const index = cachedInteractionIndex(interactions);
  if (index) return index.maxTs;
  let latest = Number.NEGATIVE_INFINITY;
  for (const it of interactions) if (it.timestamp > latest) latest = it.timestamp;
  return latest;
}

/** A built view and what the profile-row mapping of the profiles it was numbered by needs. */
interface Built {
  index: InteractionIndex;
  rowOfKey: Int32Array;
  keyOfProfile: Int32Array;
  unique: boolean;
}

/** User keys numbered by the profiles' ids, in their order (a repeated id keeps its first key). */
interface Numbering {
  // Dictionaries rather than Maps: with a million distinct ids the lookup is the whole cost of a pass. Null
  // while only distinct profile ids are numbered (key = row): made from `userIds` when first asked for.
  userKeys: Record<string, number> | null;
  userIds: string[];
  keyOfProfile: Int32Array;
  unique: boolean;
}

function rowNumbers(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function keysOf(userIds: readonly string[]): Record<string, number> {
  const keys: Record<string, number> = Object.create(null);
  for (let key = 0; key < userIds.length; key++) keys[userIds[key] as string] ??= key;
  return keys;
}

function numberProfiles(profiles: readonly Profile[]): Numbering {
  const userKeys: Record<string, number> = Object.create(null);
  const userIds: string[] = [];
  const keyOfProfile = new Int32Array(profiles.length);
  let unique = true;
  for (let i = 0; i < profiles.length; i++) {
    const id = (profiles[i] as Profile).id;
    let key = userKeys[id];
    if (key === undefined) {
      key = userIds.length;
      userKeys[id] = key;
      userIds.push(id);
    } else unique = false;
    keyOfProfile[i] = key;
  }
  return { userKeys, userIds, keyOfProfile, unique };
}

/** What a pass in data order learns about the times, and the items by key in order of first appearance. */
interface Scan {
  minTs: number;
  maxTs: number;
  sorted: boolean;
  itemKeys: Record<string, number>;
  itemIds: string[];
}

/** The blocks' starts from each user's count, and per user (side by side) the next free row and first event. */
function layBlocks(counts: Int32Array, nUsers: number): { start: Int32Array; cursor: Int32Array } {
  const start = new Int32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) start[u + 1] = (start[u] as number) + (counts[u] as number);
  const cursor = new Int32Array(2 * nUsers);
  for (let u = 0; u < nUsers; u++) {
    cursor[2 * u] = start[u] as number;
    cursor[2 * u + 1] = -1;
  }
  return { start, cursor };
}

interface Purchases {
  user: Int32Array;
  ts: Float64Array;
  value: Float64Array;
  item: Int32Array;
}

function purchaseColumns(count: number): Purchases {
  return {
    user: new Int32Array(count),
    ts: new Float64Array(count),
    value: new Float64Array(count),
    item: new Int32Array(count),
  };
}

/**
 * The view from its records (value slots still in data order): the values move into row order, so that a pass
 * over a user's rows reads them in sequence too instead of jumping about a 12 MB array.
 */
function assemble(
  numbering: Numbering,
  profiles: readonly Profile[],
  scan: Scan,
  start: Int32Array,
  firstEvent: Int32Array,
  records: ArrayBuffer,
  valuesInDataOrder: Float64Array,
  purchases: Purchases,
): Built {
  const { userIds, keyOfProfile, unique } = numbering;
  let userKeys = numbering.userKeys;
  const nUsers = userIds.length;
  const f64 = new Float64Array(records);
  const i32 = new Int32Array(records);
  const n = f64.length / 2;
  const values = new Float64Array(valuesInDataOrder.length);
  let next = 0;
  for (let r = 0; r < n; r++) {
    const slot = i32[4 * r + 3] as number;
    if (slot < 0) continue;
    values[next] = valuesInDataOrder[slot] as number;
    i32[4 * r + 3] = next++;
  }
  const rowOfKey = new Int32Array(nUsers).fill(-1);
  for (let i = 0; i < profiles.length; i++) rowOfKey[keyOfProfile[i] as number] = i;
  const index: InteractionIndex = {
    length: n,
    userIds,
    get userKeys() {
      userKeys ??= keysOf(userIds);
      return userKeys;
    },
    start,
    firstEvent,
    itemIds: scan.itemIds,
    itemKeys: scan.itemKeys,
    f64,
    i32,
    values,
    timeSorted: scan.sorted,
    purchases,
    minTs: scan.minTs,
    maxTs: scan.maxTs,
  };
  return { index, rowOfKey, keyOfProfile, unique };
}

function buildIndex(interactions: readonly Interaction[], profiles: readonly Profile[]): Built {
  // The profiles' ids take the first keys; the row of each key is recorded on the way (the last copy wins).
  const numbering = numberProfiles(profiles);
  const pass1 = countByUser(interactions, numbering);
  const blocks = layBlocks(pass1.counts, numbering.userIds.length);
  const pass2 = placeRecords(interactions, pass1, blocks.cursor);
  const { cursor } = blocks;
  const firstEvent = new Int32Array(numbering.userIds.length);
  for (let u = 0; u < firstEvent.length; u++) firstEvent[u] = cursor[2 * u + 1] as number;
  const { minTs, maxTs, sorted } = pass1;
  const scan = { minTs, maxTs, sorted, itemKeys: pass2.itemKeys, itemIds: pass2.itemIds };
  return assemble(
    numbering,
    profiles,
    scan,
    blocks.start,
    firstEvent,
    pass2.records,
    pass2.values,
    pass2.purchases,
  );
}

/** What the first pass over the event objects learns: each event's user key and each user's count, the times. */
interface UserCounts {
  keyOfRow: Int32Array;
  counts: Int32Array;
  minTs: number;
  maxTs: number;
  sorted: boolean;
  nPurchases: number;
  nValues: number;
}

/** Pass 1: a key per event (the one string lookup per event, new users numbered on the way) and the block sizes. */
function countByUser(interactions: readonly Interaction[], numbering: Numbering): UserCounts {
  const n = interactions.length;
  const { userIds } = numbering;
  const userKeys = numbering.userKeys as Record<string, number>;
  const keyOfRow = new Int32Array(n);
  let counts = new Int32Array(Math.max(1024, userIds.length));
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  let sorted = true;
  let previousTs = Number.NEGATIVE_INFINITY;
  let nPurchases = 0;
  let nValues = 0;
  // Runs of the same user (an export grouped by user) skip the lookup.
  let lastUser: string | null = null;
  let lastKey = -1;
  for (let k = 0; k < n; k++) {
    const it = interactions[k] as Interaction;
    const uid = it.user_id;
    if (uid !== lastUser) {
      let key = userKeys[uid];
      if (key === undefined) {
        key = userIds.length;
        userKeys[uid] = key;
        userIds.push(uid);
        if (key === counts.length) {
          const grown = new Int32Array(counts.length * 2);
          grown.set(counts);
          counts = grown;
        }
      }
      lastUser = uid;
      lastKey = key;
    }
    keyOfRow[k] = lastKey;
    counts[lastKey] = (counts[lastKey] as number) + 1;
    const t = it.timestamp;
    if (t < minTs) minTs = t;
    if (t > maxTs) maxTs = t;
    if (!(t >= previousTs)) sorted = false;
    previousTs = t;
    if (it.type === 'purchase') nPurchases++;
    if (it.value !== null) nValues++;
  }
  return { keyOfRow, counts, minTs, maxTs, sorted, nPurchases, nValues };
}

/** The records, values in data order, purchases and item numbering the second pass makes. */
interface Placed {
  records: ArrayBuffer;
  values: Float64Array;
  purchases: Purchases;
  itemKeys: Record<string, number>;
  itemIds: string[];
}

/**
 * Pass 2: each event's record into its user's block (a counting sort: the blocks keep the data order), items
 * numbered in order of first appearance; `cursor` (see `layBlocks`) advances and records each first event.
 */
function placeRecords(interactions: readonly Interaction[], pass1: UserCounts, cursor: Int32Array): Placed {
  const n = interactions.length;
  const { keyOfRow, nValues, nPurchases } = pass1;
  const records = new ArrayBuffer(n * 16);
  const f64 = new Float64Array(records);
  const i32 = new Int32Array(records);
  const values = new Float64Array(nValues);
  let nextValue = 0;
  const purchases = purchaseColumns(nPurchases);
  const items = new ItemNumbering();
  let p = 0;
  for (let k = 0; k < n; k++) {
    const it = interactions[k] as Interaction;
    const key = keyOfRow[k] as number;
    const r = cursor[2 * key] as number;
    cursor[2 * key] = r + 1;
    if ((cursor[2 * key + 1] as number) < 0) cursor[2 * key + 1] = k;
    const item = items.keyOf(it.item_id);
    const code = typeCode(it.type);
    const raw = it.value;
    let slot = -1;
    if (raw !== null && nextValue < nValues) {
      slot = nextValue++;
      values[slot] = raw;
    }
    const t = it.timestamp;
    if (code === PURCHASE && p < nPurchases) {
      purchases.user[p] = key;
      purchases.ts[p] = t;
      purchases.value[p] = raw === null ? Number.NaN : raw;
      purchases.item[p++] = item;
    }
    f64[2 * r] = t;
    i32[4 * r + 2] = ((item + 1) << 8) | code;
    i32[4 * r + 3] = slot;
  }
  // An event object that changed between the passes: keep the purchases the second pass saw.
  const seen =
    p === nPurchases
      ? purchases
      : {
          user: purchases.user.subarray(0, p),
          ts: purchases.ts.subarray(0, p),
          value: purchases.value.subarray(0, p),
          item: purchases.item.subarray(0, p),
        };
  return { records, values, purchases: seen, itemKeys: items.keys, itemIds: items.ids };
}

/** Item keys in order of first appearance; runs of the same item (a catalogue export) skip the lookup. */
class ItemNumbering {
  readonly keys: Record<string, number> = Object.create(null);
  readonly ids: string[] = [];
  private last: string | null = null;
  private lastKey = -1;

  /** The key of an item id (-1 for none), numbering a new one. */
  keyOf(iid: string | null): number {
    if (iid === null) return -1;
    if (iid !== this.last) {
      let found = this.keys[iid];
      if (found === undefined) {
        found = this.ids.length;
        if (found >= MAX_ITEMS) throw new RangeError(`more than ${MAX_ITEMS} distinct item ids`);
        this.keys[iid] = found;
        this.ids.push(iid);
      }
      this.last = iid;
      this.lastKey = found;
    }
    return this.lastKey;
  }
}

/** The view from typed columns (see `InteractionColumns`): the same passes as `buildIndex`, over typed arrays. */
function buildFromColumns(columns: InteractionColumns): Built {
  const { profiles } = columns;
  const distinct = columns.distinctProfileIds;
  const numbering: Numbering = distinct
    ? {
        userKeys: null,
        userIds: distinct.slice(),
        keyOfProfile: rowNumbers(distinct.length),
        unique: true,
      }
    : numberProfiles(profiles);
  const pass1 = scanColumns(columns, numbering, distinct !== undefined);
  const { start, firstEvent } = blockStarts(pass1.tally, numbering.userIds.length);
  const { records, purchases } = bucketRecords(columns, pass1, start);
  const { minTs, maxTs, sorted, itemKeys, itemIds } = pass1;
  const scan = { minTs, maxTs, sorted, itemKeys, itemIds };
  return assemble(numbering, profiles, scan, start, firstEvent, records, columns.values, purchases);
}

/** What the first pass over the columns learns (see `scanColumns`). */
interface ColumnScan extends Scan {
  /** The user key of each row of `profiles` (the row itself when their ids are known distinct). */
  keyOfProfile: Int32Array;
  direct: boolean;
  keyOfOther: Int32Array;
  keyOfItem: Int32Array;
  /** Per user, side by side: the number of events and the index of the first. */
  tally: Int32Array;
  nPurchases: number;
}

/**
 * Pass 1: keys of other users and items, the size of each user's block and its first event, the times. Other
 * users and items are numbered in order of first appearance, as the objects' pass numbers them; their lists
 * may name one id twice (the decoder's are per chunk), so the dictionaries still decide.
 */
function scanColumns(columns: InteractionColumns, numbering: Numbering, direct: boolean): ColumnScan {
  const { user, otherUsers, ts, event, itemIds: itemNames } = columns;
  const n = user.length;
  const { userIds, keyOfProfile } = numbering;
  // Without the profiles' dictionary, the other users (no profile has their id) get one of their own.
  const userKeys: Record<string, number> = numbering.userKeys ?? Object.create(null);
  const keyOfOther = new Int32Array(otherUsers.length).fill(-1);
  const keyOfItem = new Int32Array(itemNames.length).fill(-1);
  const itemKeys: Record<string, number> = Object.create(null);
  const itemIds: string[] = [];
  const tally = new Int32Array(2 * (userIds.length + otherUsers.length));
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  let sorted = true;
  let previousTs = Number.NEGATIVE_INFINITY;
  let nPurchases = 0;
  for (let k = 0; k < n; k++) {
    const u = user[k] as number;
    let key: number;
    if (u >= 0) {
      if (u >= keyOfProfile.length) throw new RangeError(`event ${k} names profile row ${u}, past the last`);
      key = direct ? u : (keyOfProfile[u] as number);
    } else {
      key = keyOfOther[-1 - u] as number;
      if (key < 0) {
        const id = otherUsers[-1 - u] as string;
        key = userKeys[id] ?? -1;
        if (key < 0) {
          key = userIds.length;
          userKeys[id] = key;
          userIds.push(id);
        }
        keyOfOther[-1 - u] = key;
      }
    }
    const seen = tally[2 * key] as number;
    if (seen === 0) tally[2 * key + 1] = k;
    tally[2 * key] = seen + 1;
    const t = ts[k] as number;
    if (t < minTs) minTs = t;
    if (t > maxTs) maxTs = t;
    if (!(t >= previousTs)) sorted = false;
    previousTs = t;
    const e = event[k] as number;
    if ((e & 255) === PURCHASE) nPurchases++;
    const item = ((e >> 8) & ITEM_MASK) - 1;
    if (item >= 0 && (keyOfItem[item] as number) < 0) {
      const id = itemNames[item] as string;
      let found = itemKeys[id];
      if (found === undefined) {
        found = itemIds.length;
        itemKeys[id] = found;
        itemIds.push(id);
      }
      keyOfItem[item] = found;
    }
  }
  return {
    minTs,
    maxTs,
    sorted,
    itemKeys,
    itemIds,
    keyOfProfile,
    direct,
    keyOfOther,
    keyOfItem,
    tally,
    nPurchases,
  };
}

/** Each user's first row from the counts in `tally`, and the index of each user's first event (-1 for none). */
function blockStarts(tally: Int32Array, nUsers: number): { start: Int32Array; firstEvent: Int32Array } {
  const start = new Int32Array(nUsers + 1);
  const firstEvent = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) {
    const count = tally[2 * u] as number;
    start[u + 1] = (start[u] as number) + count;
    firstEvent[u] = count > 0 ? (tally[2 * u + 1] as number) : -1;
  }
  return { start, firstEvent };
}

/**
 * Pass 2: the events into their users' blocks in two steps, each touching little memory at a time. Events in
 * data order belong to random users, so placing each straight in its row would miss the cache (and the page
 * tables) on nearly every one: instead each goes to the region of its bucket of users (a few hundred regions
 * filled in sequence), with its key alongside; then each region, small enough to stay in cache, is sorted by
 * user in place. Both steps keep the data order within a user.
 */
function bucketRecords(
  columns: InteractionColumns,
  pass1: ColumnScan,
  start: Int32Array,
): { records: ArrayBuffer; purchases: Purchases } {
  const { user, ts, event, values } = columns;
  const { keyOfOther, keyOfProfile, direct, keyOfItem } = pass1;
  const n = user.length;
  const nUsers = start.length - 1;
  const records = new ArrayBuffer(n * 16);
  const f64 = new Float64Array(records);
  const i32 = new Int32Array(records);
  const keyAt = new Int32Array(n);
  const nBuckets = (nUsers >> BUCKET_SHIFT) + 1;
  const bucketNext = new Int32Array(nBuckets);
  for (let b = 0; b < nBuckets; b++) bucketNext[b] = start[Math.min(nUsers, b << BUCKET_SHIFT)] as number;
  const purchases = purchaseColumns(pass1.nPurchases);
  let nextValue = 0;
  let p = 0;
  for (let k = 0; k < n; k++) {
    const u = user[k] as number;
    const key = u < 0 ? (keyOfOther[-1 - u] as number) : direct ? u : (keyOfProfile[u] as number);
    const b = key >> BUCKET_SHIFT;
    const at = bucketNext[b] as number;
    bucketNext[b] = at + 1;
    const e = event[k] as number;
    const code = e & 255;
    const itemAt = ((e >> 8) & ITEM_MASK) - 1;
    const item = itemAt < 0 ? -1 : (keyOfItem[itemAt] as number);
    const slot = e < 0 ? nextValue++ : -1;
    const t = ts[k] as number;
    if (code === PURCHASE) {
      purchases.user[p] = key;
      purchases.ts[p] = t;
      purchases.value[p] = slot < 0 ? Number.NaN : (values[slot] as number);
      purchases.item[p++] = item;
    }
    f64[2 * at] = t;
    i32[4 * at + 2] = ((item + 1) << 8) | code;
    i32[4 * at + 3] = slot;
    keyAt[at] = key;
  }
  if (nextValue !== values.length) throw new RangeError('columns: the values do not match the events');
  sortBuckets(f64, i32, keyAt, start, nBuckets);
  return { records, purchases };
}

/** Sorts each bucket's region by user in place (the order within a user kept); `keyAt` is used up. */
function sortBuckets(
  f64: Float64Array,
  i32: Int32Array,
  keyAt: Int32Array,
  start: Int32Array,
  nBuckets: number,
): void {
  const nUsers = start.length - 1;
  const next = start.slice(0, nUsers);
  for (let b = 0; b < nBuckets; b++) {
    const lo = start[Math.min(nUsers, b << BUCKET_SHIFT)] as number;
    const hi = start[Math.min(nUsers, (b + 1) << BUCKET_SHIFT)] as number;
    // Each event's row, in place of its key; then the records follow those rows cycle by cycle.
    for (let at = lo; at < hi; at++) {
      const key = keyAt[at] as number;
      const row = next[key] as number;
      next[key] = row + 1;
      keyAt[at] = row;
    }
    permuteRecords(f64, i32, keyAt, lo, hi);
  }
}

/** Moves the records at lo..hi-1 to the rows `rowOf` gives (within the same range); `rowOf` is used up. */
function permuteRecords(f64: Float64Array, i32: Int32Array, rowOf: Int32Array, lo: number, hi: number): void {
  for (let at = lo; at < hi; at++) {
    let to = rowOf[at] as number;
    if (to === at) continue;
    let ts = f64[2 * at] as number;
    let packed = i32[4 * at + 2] as number;
    let slot = i32[4 * at + 3] as number;
    while (to !== at) {
      const nextTs = f64[2 * to] as number;
      const nextPacked = i32[4 * to + 2] as number;
      const nextSlot = i32[4 * to + 3] as number;
      f64[2 * to] = ts;
      i32[4 * to + 2] = packed;
      i32[4 * to + 3] = slot;
      ts = nextTs;
      packed = nextPacked;
      slot = nextSlot;
      const following = rowOf[to] as number;
      rowOf[to] = to;
      to = following;
    }
    f64[2 * at] = ts;
    i32[4 * at + 2] = packed;
    i32[4 * at + 3] = slot;
    rowOf[at] = at;
  }
}

/** Users per bucket in the columns' two-step placement: about 30k events, half a megabyte of records. */
const BUCKET_SHIFT = 12;

const PURCHASE = TYPE_CODE.purchase;

interface ProfileRows {
  index: InteractionIndex;
  length: number;
  first: Profile | undefined;
  last: Profile | undefined;
  rowOfKey: Int32Array;
  /** The key of each profile's id (-1 when no interaction has it and the view was not built with it). */
  keyOfProfile: Int32Array;
  unique: boolean;
}

const profileCache = new WeakMap<readonly Profile[], ProfileRows>();

/**
 * For each user key, the row of that user in `profiles` (-1 when absent; the last row wins if an id repeats,
 * as a Map filled in order would). With `keep`, rows count only the profiles it keeps, i.e. rows of
 * `profiles.filter(keep)`. The mapping of a whole profiles array is memoised with the interaction view.
 */
export function userRows(
  index: InteractionIndex,
  profiles: readonly Profile[],
  keep?: (p: Profile, i: number) => boolean,
): Int32Array {
  const all = allUserRows(index, profiles);
  if (!keep) return all.rowOfKey;
  if (!all.unique) {
    // Repeated ids: which copy wins depends on the filter, so map the kept profiles directly.
    return rowsOf(
      index,
      profiles.filter((p, i) => keep(p, i)),
    ).rowOfKey;
  }
  const n = profiles.length;
  const renumber = new Int32Array(n);
  let next = 0;
  for (let i = 0; i < n; i++) renumber[i] = keep(profiles[i] as Profile, i) ? next++ : -1;
  const out = new Int32Array(all.rowOfKey.length);
  for (let key = 0; key < out.length; key++) {
    const r = all.rowOfKey[key] as number;
    out[key] = r < 0 ? -1 : (renumber[r] as number);
  }
  return out;
}

function allUserRows(index: InteractionIndex, profiles: readonly Profile[]): ProfileRows {
  const n = profiles.length;
  const cached = profileCache.get(profiles);
  if (
    cached &&
    cached.index === index &&
    cached.length === n &&
    cached.first === profiles[0] &&
    cached.last === profiles[n - 1]
  ) {
    return cached;
  }
  const fresh = rowsOf(index, profiles);
  profileCache.set(profiles, fresh);
  return fresh;
}

function profileRows(
  index: InteractionIndex,
  profiles: readonly Profile[],
  rowOfKey: Int32Array,
  keyOfProfile: Int32Array,
  unique: boolean,
): ProfileRows {
  return {
    index,
    length: profiles.length,
    first: profiles[0],
    last: profiles[profiles.length - 1],
    rowOfKey,
    keyOfProfile,
    unique,
  };
}

/** The user key of each profile (-1 when the view has no key for its id); memoised like `userRows`. */
export function profileKeys(index: InteractionIndex, profiles: readonly Profile[]): Int32Array {
  return allUserRows(index, profiles).keyOfProfile;
}

function rowsOf(index: InteractionIndex, profiles: readonly Profile[]): ProfileRows {
  const rowOfKey = new Int32Array(index.userIds.length).fill(-1);
  const keyOfProfile = new Int32Array(profiles.length);
  const { userKeys } = index;
  let unique = true;
  for (let i = 0; i < profiles.length; i++) {
    const key = userKeys[(profiles[i] as Profile).id] ?? -1;
    keyOfProfile[i] = key;
    if (key < 0) continue;
    if ((rowOfKey[key] as number) >= 0) unique = false;
    rowOfKey[key] = i;
  }
  // A repeated id without interactions never reaches rowOfKey; it cannot change any result either.
  return profileRows(index, profiles, rowOfKey, keyOfProfile, unique);
}

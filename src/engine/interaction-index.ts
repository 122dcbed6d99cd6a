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
 * One record per event, in one buffer, is one cache line to touch when the view is
 * built instead of one per column, one allocation instead of several (each large allocation can start a full
 * garbage collection over every interaction object), and 115 MB rather than 180 MB at 7 million events.
 *
 * Invalidation: the store replaces the arrays on a sample load, an erasure or a decode, and appends to them in
 * place on an import. A view is reused only for the same array object with the same length and the same
 * elements at a spread of sampled positions (first and last included); anything else rebuilds it. Interaction
 * objects themselves are never edited in place by the app, so their fields are read once.
 */
import { INTERACTION_TYPES, type Interaction, type InteractionType, type Profile } from '../model/types.ts';

/** Type codes: the position in `INTERACTION_TYPES`. */
export const TYPE_CODE: Readonly<Record<InteractionType, number>> = Object.freeze(
  Object.fromEntries(INTERACTION_TYPES.map((t, i) => [t, i])) as Record<InteractionType, number>,
);
/** Code of a type the model does not know (a hand-built object can carry one). */
export const UNKNOWN_TYPE = 255;

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

interface Cached {
  index: InteractionIndex;
  /** Elements at `probes` positions when the view was built, to notice an array edited in place. */
  probes: Int32Array;
  seen: Interaction[];
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

function stillValid(entry: Cached, interactions: readonly Interaction[]): boolean {
  if (entry.index.length !== interactions.length) return false;
  const { probes, seen } = entry;
  for (let p = 0; p < probes.length; p++) if (interactions[probes[p] as number] !== seen[p]) return false;
  return true;
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
  const built = buildIndex(interactions, profiles ?? []);
  const { index } = built;
  if (profiles) {
    profileCache.set(
      profiles,
      profileRows(index, profiles, built.rowOfKey, built.keyOfProfile, built.unique),
    );
  }
  const probes = probePositions(interactions.length);
  cache.set(interactions, {
    index,
    probes,
    seen: Array.from(probes, (k) => interactions[k] as Interaction),
  });
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

function typeCode(type: string): number {
  // The type strings of stored data are the same few constants, so these comparisons are mostly pointer checks.
  switch (type) {
    case 'view':
      return 0;
    case 'like':
      return 1;
    case 'share':
      return 2;
    case 'comment':
      return 3;
    case 'click':
      return 4;
    case 'purchase':
      return 5;
    case 'rating':
      return 6;
    default:
      return UNKNOWN_TYPE;
  }
}

function buildIndex(
  interactions: readonly Interaction[],
  profiles: readonly Profile[],
): { index: InteractionIndex; rowOfKey: Int32Array; keyOfProfile: Int32Array; unique: boolean } {
  const n = interactions.length;
  // Dictionaries rather than Maps: with a million distinct ids the lookup is the whole cost of this pass.
  const userKeys: Record<string, number> = Object.create(null);
  const userIds: string[] = [];
  // The profiles' ids take the first keys; the row of each key is recorded on the way (the last copy wins).
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
  // Pass 1: a key per event (the one string lookup per event) and the size of each user's block.
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
  const nUsers = userIds.length;
  const rowOfKey = new Int32Array(nUsers).fill(-1);
  for (let i = 0; i < profiles.length; i++) rowOfKey[keyOfProfile[i] as number] = i;
  const start = new Int32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) start[u + 1] = (start[u] as number) + (counts[u] as number);
  // Per key, side by side so that one cache line serves both: the next free row, and the first event's index.
  const cursor = new Int32Array(2 * nUsers);
  for (let u = 0; u < nUsers; u++) {
    cursor[2 * u] = start[u] as number;
    cursor[2 * u + 1] = -1;
  }

  // Pass 2: each event's record into its user's block (a counting sort: the blocks keep the data order).
  const buffer = new ArrayBuffer(n * 16);
  const f64 = new Float64Array(buffer);
  const i32 = new Int32Array(buffer);
  const values = new Float64Array(nValues);
  let nextValue = 0;
  const purchaseUser = new Int32Array(nPurchases);
  const purchaseTs = new Float64Array(nPurchases);
  const purchaseValue = new Float64Array(nPurchases);
  const purchaseItem = new Int32Array(nPurchases);
  const itemKeys: Record<string, number> = Object.create(null);
  const itemIds: string[] = [];
  let p = 0;
  let lastItem: string | null = null;
  let lastItemKey = -1;
  for (let k = 0; k < n; k++) {
    const it = interactions[k] as Interaction;
    const key = keyOfRow[k] as number;
    const r = cursor[2 * key] as number;
    cursor[2 * key] = r + 1;
    if ((cursor[2 * key + 1] as number) < 0) cursor[2 * key + 1] = k;
    const iid = it.item_id;
    let item = -1;
    if (iid !== null) {
      if (iid !== lastItem) {
        let found = itemKeys[iid];
        if (found === undefined) {
          found = itemIds.length;
          if (found >= MAX_ITEMS) throw new RangeError(`more than ${MAX_ITEMS} distinct item ids`);
          itemKeys[iid] = found;
          itemIds.push(iid);
        }
        lastItem = iid;
        lastItemKey = found;
      }
      item = lastItemKey;
    }
    const code = typeCode(it.type);
    const raw = it.value;
    let slot = -1;
    if (raw !== null && nextValue < nValues) {
      slot = nextValue++;
      values[slot] = raw;
    }
    const t = it.timestamp;
    if (code === PURCHASE) {
      purchaseUser[p] = key;
      purchaseTs[p] = t;
      purchaseValue[p] = raw === null ? Number.NaN : raw;
      purchaseItem[p++] = item;
    }
    f64[2 * r] = t;
    i32[4 * r + 2] = ((item + 1) << 8) | code;
    i32[4 * r + 3] = slot;
  }
  const firstEvent = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) firstEvent[u] = cursor[2 * u + 1] as number;
  const index: InteractionIndex = {
    length: n,
    userIds,
    userKeys,
    start,
    firstEvent,
    itemIds,
    itemKeys,
    f64,
    i32,
    values,
    timeSorted: sorted,
    purchases: {
      user: purchaseUser.subarray(0, p),
      ts: purchaseTs.subarray(0, p),
      value: purchaseValue.subarray(0, p),
      item: purchaseItem.subarray(0, p),
    },
    minTs,
    maxTs,
  };
  return { index, rowOfKey, keyOfProfile, unique };
}

const PURCHASE = TYPE_CODE.purchase;
/** Item keys share a 32-bit slot with the type code (8 bits). */
const MAX_ITEMS = 2 ** 23 - 1;

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

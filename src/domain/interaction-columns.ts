/**
 * The typed interaction columns handed between the store and the engine: the store's decoder (and the sample
 * generator) hold the events as these columns anyway, and the engine's interaction view is built from them
 * without hashing a user id per event (see engine/interaction-index.ts). A database backend answers a time
 * window with the same columns. The encoding constants live here so both sides agree on them without one
 * importing the other.
 */
import { INTERACTION_TYPES, type InteractionType, type Profile } from './types.ts';

/** Type codes: the position in `INTERACTION_TYPES`. */
export const TYPE_CODE: Readonly<Record<InteractionType, number>> = Object.freeze(
  Object.fromEntries(INTERACTION_TYPES.map((t, i) => [t, i])) as Record<InteractionType, number>,
);
/** Code of a type the model does not know (a hand-built object can carry one). */
export const UNKNOWN_TYPE = 255;
/** Item keys share a 32-bit slot with the type code (8 bits). */
export const MAX_ITEMS = 2 ** 23 - 1;
/** The item bits of a packed slot. */
export const ITEM_MASK = 0x7fffff;
// The bit `packEvent` adds for an event with a value.
const HAS_VALUE = 1 << 31;

/**
 * The interactions as typed columns (row k describes the k-th interaction of the window they were made for).
 * The numbering of users is the one `interactionIndex(interactions, profiles)` gives.
 */
export interface InteractionColumns {
  /** The profiles `user` points into, as they were when the columns were made. */
  profiles: readonly Profile[];
  /**
   * Their ids, when the producer knows them to be distinct (it made them, or checked): the view then numbers
   * the profiles by row without a million-key dictionary, and builds `userKeys` only if something asks for it.
   */
  distinctProfileIds?: readonly string[];
  /** Each event's user: a row of `profiles` with its id, or -(j + 1) for `otherUsers[j]` (no profile has it). */
  user: Int32Array;
  otherUsers: readonly string[];
  ts: Float64Array;
  /** Each event's item and type, `packEvent(item, type code, has a value)`; item indexes `itemIds`, -1 for none. */
  event: Int32Array;
  itemIds: readonly string[];
  /** The values of the events that have one, in data order. */
  values: Float64Array;
}

/** One event of `InteractionColumns.event`: as the view's item-and-type slot, negative when it has a value. */
export function packEvent(item: number, type: number, hasValue: boolean): number {
  if (!(item < MAX_ITEMS)) throw new RangeError(`more than ${MAX_ITEMS} distinct item ids`);
  return ((item + 1) << 8) | type | (hasValue ? HAS_VALUE : 0) | 0;
}

/** The type code of a type string: its position in `INTERACTION_TYPES`, else `UNKNOWN_TYPE`. */
export function typeCode(type: string): number {
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

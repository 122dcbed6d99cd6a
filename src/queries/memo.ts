import type { AudienceData } from '../domain/types.ts';

/**
 * What identifies an audience for the memo: its data version and, from a snapshot, its arrays (the file
 * backend's live arrays). A result a backend computed itself, without a snapshot, is keyed by the version alone.
 */
export type MemoAudience = Pick<AudienceData, 'meta'> &
  Partial<Pick<AudienceData, 'profiles' | 'interactions'>>;

/**
 * Results derived from the audience (stats, everyone's predicted spend, a segment's recommendations, a chart's
 * PNG), kept in memory for the data they were computed from: the memory tier of the one cache (cache.ts, which
 * also keeps fitted models in the store as JSON). This holds what is cheap to recompute but not cheap enough to recompute for every person who asks
 * the same question in the same minute: a team opening the same report after a digest lands, or 50 managers
 * running `/audience stats` on Monday morning. The answer depends only on the data and the key, so a repeat is
 * the same answer, served in microseconds instead of a full pass over millions of interactions.
 *
 * Entries are dropped as soon as the audience changes: an import or erasure bumps `meta.dataVersion`, and a
 * sample load or file reload replaces the arrays themselves, both of which are checked on every read. Callers
 * put everything else the result depends on (filters, the minute, the segment run, the model) in the key, and
 * treat the returned values as read-only.
 */

/** How many results are kept; the least recently used goes first. */
const MAX_ENTRIES = 64;

interface Memo {
  dataVersion: number;
  /** The snapshot's arrays, once one was seen for this version (undefined: keyed by the version alone). */
  profiles: unknown;
  interactions: unknown;
  profileCount: number;
  interactionCount: number;
  entries: Map<string, unknown>;
}

const memos = new WeakMap<object, Memo>();

/** The cached result for `key` on the current audience, or `compute()`'s, remembered for the next caller. */
export function memoized<T>(owner: object, data: MemoAudience, key: string, compute: () => T): T {
  let memo = memos.get(owner);
  if (!memo || !sameAudience(memo, data)) {
    memo = {
      dataVersion: data.meta.dataVersion,
      profiles: data.profiles,
      interactions: data.interactions,
      profileCount: data.profiles?.length ?? 0,
      interactionCount: data.interactions?.length ?? 0,
      entries: new Map(),
    };
    memos.set(owner, memo);
  } else if (memo.profiles === undefined && data.profiles !== undefined) {
    // The first snapshot of a version known so far by its number: its arrays identify it from now on.
    memo.profiles = data.profiles;
    memo.interactions = data.interactions;
    memo.profileCount = data.profiles.length;
    memo.interactionCount = data.interactions?.length ?? 0;
  }
  if (memo.entries.has(key)) {
    const value = memo.entries.get(key) as T;
    // Re-inserting moves the key to the back of the Map's order, which is what "least recently used" reads.
    memo.entries.delete(key);
    memo.entries.set(key, value);
    return value;
  }
  const value = compute();
  memo.entries.set(key, value);
  if (memo.entries.size > MAX_ENTRIES) {
    const oldest = memo.entries.keys().next().value;
    if (oldest !== undefined) memo.entries.delete(oldest);
  }
  return value;
}

/** Drops the result for `key` (a computation that failed after all: a promise that rejected). */
export function forgetMemoized(owner: object, key: string): void {
  memos.get(owner)?.entries.delete(key);
}

function sameAudience(memo: Memo, data: MemoAudience): boolean {
  if (memo.dataVersion !== data.meta.dataVersion) return false;
  // Keyed by the version alone on one side: the same version is the same data (the store's contract).
  if (memo.profiles === undefined || data.profiles === undefined) return true;
  return (
    memo.profiles === data.profiles &&
    memo.interactions === data.interactions &&
    memo.profileCount === data.profiles.length &&
    memo.interactionCount === (data.interactions?.length ?? 0)
  );
}

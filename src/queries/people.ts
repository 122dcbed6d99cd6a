/**
 * The one place a person named in a command (`user=@jane`, `forget jane@example.com`, `user=u000042`) becomes
 * profile ids. Handles and e-mail addresses are pseudonymized exactly as the importer stored them and matched
 * against the stored pseudonyms, so lookups work without the identifiers ever being stored. Refusals never
 * repeat a handle or an address back (they may end up in a shared screen or a log).
 */

import { UsageError } from '../domain/errors.ts';
import type { AudienceData } from '../domain/types.ts';
import { type IdentifierKind, isPseudonym, type Pseudonymizer } from '../privacy/pseudonym.ts';
import { memoized } from './memo.ts';

/** A pseudonymizer, or a way to get one only when a lookup needs it (creating the key file is I/O). */
export type PseudonymSource = Pseudonymizer | null | (() => Pseudonymizer | null);

/** How a reference was matched. */
export type MatchedBy = 'id' | 'handle' | 'email' | 'pseudonym';

/** The profile ids a reference names (usually one), and how they were found. */
export interface ResolvedUser {
  ids: string[];
  by: MatchedBy;
}

/**
 * Profiles by the pseudonyms stored in their attributes, kept per audience (memo.ts drops it when the profiles
 * change: a new array on erasure, more rows or a new data version on import).
 */
function pseudonymIndex(data: AudienceData): Map<string, string[]> {
  return memoized(data, data, 'profiles-by-pseudonym', () => {
    const byPseudonym = new Map<string, string[]>();
    const add = (value: string, id: string) => {
      const ids = byPseudonym.get(value);
      if (!ids) byPseudonym.set(value, [id]);
      else if (!ids.includes(id)) ids.push(id);
    };
    for (const p of data.profiles) {
      for (const key in p.attrs) {
        const v = p.attrs[key];
        if (isPseudonym(v)) add(v, p.id);
        else if (Array.isArray(v)) for (const x of v) if (isPseudonym(x)) add(x, p.id);
      }
    }
    return byPseudonym;
  });
}

/** Every profile id of the audience, kept until the profiles change: a lookup must not scan them all. */
export function profileIds(data: AudienceData): ReadonlySet<string> {
  return memoized(data, data, 'profile-ids', () => new Set(data.profiles.map((p) => p.id)));
}

/** Every pseudonym stored for these profiles (to check they are gone after forgetting them). */
export function pseudonymsOf(data: AudienceData, ids: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const p of data.profiles) {
    if (!ids.has(p.id)) continue;
    for (const key in p.attrs) {
      const v = p.attrs[key];
      if (isPseudonym(v)) out.add(v);
      else if (Array.isArray(v)) for (const x of v) if (isPseudonym(x)) out.add(x);
    }
  }
  return [...out];
}

function looksLikeEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}

/**
 * Resolves a reference to the profiles it names: `@handle` (by pseudonym), an e-mail address (by pseudonym),
 * a stored pseudonym, or a profile id. A bare word that is no profile id is tried as a handle. Returns no ids
 * when nothing matches; throws UsageError for an empty reference or a handle with no pseudonym key.
 */
export function findUsers(
  data: AudienceData,
  ref: string,
  source: PseudonymSource,
  options: { extraIds?: (id: string) => boolean } = {},
): ResolvedUser {
  const text = ref.trim();
  if (text === '') throw new UsageError('say who: a profile id like u000042, or an @handle');
  let resolved: Pseudonymizer | null | undefined;
  const get = () => {
    resolved ??= typeof source === 'function' ? source() : source;
    return resolved;
  };
  const byHash = (kind: IdentifierKind, by: MatchedBy): ResolvedUser => {
    const pseudonymizer = get();
    if (!pseudonymizer) {
      throw new UsageError('lookups by handle or e-mail need the pseudonym key; use the profile id');
    }
    return { ids: pseudonymIndex(data).get(pseudonymizer.pseudonym(text, kind)) ?? [], by };
  };
  if (text.startsWith('@')) return byHash('handle', 'handle');
  if (profileIds(data).has(text) || options.extraIds?.(text)) return { ids: [text], by: 'id' };
  if (isPseudonym(text)) return { ids: pseudonymIndex(data).get(text) ?? [], by: 'pseudonym' };
  if (looksLikeEmail(text)) return byHash('email', 'email');
  // A bare word may be a handle typed without its @; if it is not one either, it was meant as an id.
  const asHandle = source !== null && get() ? byHash('handle', 'handle') : null;
  return asHandle && asHandle.ids.length > 0 ? asHandle : { ids: [], by: 'id' };
}

/**
 * The one profile `ref` names, for per-person commands (`predict user=…`, `recommend user=…`); throws
 * UsageError when none or several match (or, with `passUnknownIds`, returns an unmatched plain id as typed).
 */
export function resolveUserRef(
  data: AudienceData,
  ref: string,
  pseudonymizer: PseudonymSource,
  options: { passUnknownIds?: boolean } = {},
): string {
  const found = findUsers(data, ref, pseudonymizer);
  // The recommender also knows people from interactions alone, and explains unknown ids itself.
  if (options.passUnknownIds && found.by === 'id' && found.ids.length === 0) return ref.trim();
  const [first, second] = found.ids;
  if (first !== undefined && second === undefined) return first;
  if (second !== undefined) {
    throw new UsageError(
      `that ${describe(found.by)} matches ${found.ids.length} profiles; give the profile id instead`,
    );
  }
  throw new UsageError(notFound(ref, found.by));
}

/** The refusal for a reference that matched no one; repeats only what is a profile id, never a handle. */
export function notFound(ref: string, by: MatchedBy): string {
  const text = ref.trim();
  if (by === 'handle' || by === 'email' || by === 'pseudonym') {
    return `no profile has that ${describe(by)}: check the spelling, or use the profile id`;
  }
  return `unknown user "${text}": check the profile id, or give an @handle`;
}

function describe(by: MatchedBy): string {
  return by === 'email' ? 'e-mail address' : by;
}

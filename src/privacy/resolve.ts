/**
 * The one place a person named in a command (`user=@jane`, `forget jane@example.com`, `user=u000042`) becomes
 * profile ids. Handles and e-mail addresses are pseudonymized exactly as the importer stored them and matched
 * against the stored pseudonyms, so lookups work without the identifiers ever being stored. Refusals never
 * repeat a handle or an address back (they may end up in a shared screen or a log).
 */

import { UsageError } from '../domain/errors.ts';
import type { Profile } from '../domain/types.ts';
import { type IdentifierKind, isPseudonym, type Pseudonymizer } from './pseudonym.ts';

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
 * What a lookup needs of the audience: its profile ids and its profiles by stored pseudonym, each built on first
 * use. queries/people.ts keeps one per data version, so a lookup never scans every profile.
 */
export interface PeopleIndex {
  ids(): ReadonlySet<string>;
  byPseudonym(): ReadonlyMap<string, string[]>;
}

/** The lookup tables over these profiles, each built when first asked for. */
export function peopleIndex(profiles: readonly Profile[]): PeopleIndex {
  let ids: Set<string> | null = null;
  let byPseudonym: Map<string, string[]> | null = null;
  return {
    ids: () => {
      ids ??= new Set(profiles.map((p) => p.id));
      return ids;
    },
    byPseudonym: () => {
      byPseudonym ??= pseudonymIndex(profiles);
      return byPseudonym;
    },
  };
}

/** Profiles by the pseudonyms stored in their attributes. */
function pseudonymIndex(profiles: readonly Profile[]): Map<string, string[]> {
  const byPseudonym = new Map<string, string[]>();
  const add = (value: string, id: string) => {
    const ids = byPseudonym.get(value);
    if (!ids) byPseudonym.set(value, [id]);
    else if (!ids.includes(id)) ids.push(id);
  };
  for (const p of profiles) {
    for (const key in p.attrs) {
      const v = p.attrs[key];
      if (isPseudonym(v)) add(v, p.id);
      else if (Array.isArray(v)) for (const x of v) if (isPseudonym(x)) add(x, p.id);
    }
  }
  return byPseudonym;
}

/**
 * What resolving a reference asks of the audience: whether a profile id exists, and who carries a pseudonym. A
 * database answers both by index (queries/people.ts); otherwise they come from the profiles' index above.
 */
export interface PersonLookup {
  hasId(id: string): Promise<boolean>;
  withPseudonym(pseudonym: string): Promise<readonly string[]>;
}

/** The lookup over an index of the profiles in memory. */
export function lookupIn(people: PeopleIndex | (() => Promise<PeopleIndex>)): PersonLookup {
  const index = async () => (typeof people === 'function' ? people() : people);
  return {
    hasId: async (id) => (await index()).ids().has(id),
    withPseudonym: async (pseudonym) => (await index()).byPseudonym().get(pseudonym) ?? [],
  };
}

function looksLikeEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}

/**
 * Resolves a reference to the profiles it names: `@handle` (by pseudonym), an e-mail address (by pseudonym),
 * a stored pseudonym, or a profile id. A bare word that is no profile id is tried as a handle. Returns no ids
 * when nothing matches; throws UsageError for an empty reference or a handle with no pseudonym key.
 */
export async function findUsers(
  people: PersonLookup,
  ref: string,
  source: PseudonymSource,
  options: { extraIds?: (id: string) => boolean } = {},
): Promise<ResolvedUser> {
  const text = ref.trim();
  if (text === '') throw new UsageError('say who: a profile id like u000042, or an @handle');
  let resolved: Pseudonymizer | null | undefined;
  const get = () => {
    resolved ??= typeof source === 'function' ? source() : source;
    return resolved;
  };
  const byHash = async (kind: IdentifierKind, by: MatchedBy): Promise<ResolvedUser> => {
    const pseudonymizer = get();
    if (!pseudonymizer) {
      throw new UsageError('lookups by handle or e-mail need the pseudonym key; use the profile id');
    }
    return { ids: [...(await people.withPseudonym(pseudonymizer.pseudonym(text, kind)))], by };
  };
  if (text.startsWith('@')) return byHash('handle', 'handle');
  if ((await people.hasId(text)) || options.extraIds?.(text)) return { ids: [text], by: 'id' };
  if (isPseudonym(text)) return { ids: [...(await people.withPseudonym(text))], by: 'pseudonym' };
  if (looksLikeEmail(text)) return byHash('email', 'email');
  // A bare word may be a handle typed without its @; if it is not one either, it was meant as an id.
  const asHandle = source !== null && get() ? await byHash('handle', 'handle') : null;
  return asHandle && asHandle.ids.length > 0 ? asHandle : { ids: [], by: 'id' };
}

/**
 * The one profile `ref` names, for per-person commands (`predict user=…`, `recommend user=…`); throws
 * UsageError when none or several match (or, with `passUnknownIds`, returns an unmatched plain id as typed).
 */
export async function resolveUserRef(
  people: PersonLookup,
  ref: string,
  pseudonymizer: PseudonymSource,
  options: { passUnknownIds?: boolean } = {},
): Promise<string> {
  const found = await findUsers(people, ref, pseudonymizer);
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

import { lookupIn, type PeopleIndex, type PersonLookup, peopleIndex } from '../privacy/resolve.ts';
import type { Store } from '../store/store.ts';
import { engineAudience, type TooLargeHint } from './audience.ts';
import { cachedResult } from './cache.ts';

/** The audience's person lookup tables (privacy/resolve.ts), kept per data version like every query result. */
export async function peopleFor(store: Store, hint?: TooLargeHint): Promise<PeopleIndex> {
  const audience = await engineAudience(store, hint);
  return cachedResult(store, audience, 'people', () => peopleIndex(audience.profiles));
}

/**
 * Who a command names (`user=@jane`, `forget u000042`): by index where the backend has one (a database: the
 * profiles' primary key and its pseudonym table), else from the people index above, built only when needed.
 */
export function personLookupFor(store: Store, hint?: TooLargeHint): PersonLookup {
  const owners = store.audience.pseudonymOwners;
  if (!owners) return lookupIn(() => peopleFor(store, hint));
  return {
    hasId: async (id) => (await store.audience.profiles({ ids: [id] })).length > 0,
    withPseudonym: async (pseudonym) => (await owners([pseudonym])).get(pseudonym) ?? [],
  };
}

import { type PeopleIndex, peopleIndex } from '../privacy/resolve.ts';
import type { Store } from '../store/store.ts';
import { engineAudience, type TooLargeHint } from './audience.ts';
import { cachedResult } from './cache.ts';

/** The audience's person lookup tables (privacy/resolve.ts), kept per data version like every query result. */
export async function peopleFor(store: Store, hint?: TooLargeHint): Promise<PeopleIndex> {
  const audience = await engineAudience(store, hint);
  return cachedResult(store, audience, 'people', () => peopleIndex(audience.profiles));
}

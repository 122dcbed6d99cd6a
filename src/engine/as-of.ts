import type { Interaction } from '../domain/types.ts';
import { latestTimestamp } from './interaction-index.ts';

/**
 * The instant the data describes: just after its latest interaction. Models fitted "as of" the data rather
 * than the wall clock give the same answer for the same data, which is what makes caching by data version sound.
 */
export function dataAsOf(interactions: readonly Interaction[], fallback: number): number {
  const latest = latestTimestamp(interactions);
  return Number.isFinite(latest) ? latest + 1 : fallback;
}

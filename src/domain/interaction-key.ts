/**
 * When two interactions are the same event: same person, product, type and instant. An import skips an event
 * already stored or repeated earlier in its file by this key (both backends, src/import/ and src/store/).
 */
import type { Interaction } from './types.ts';

/** The identity of an event as one string (fields joined by NUL, which no id contains). */
export function interactionKey(i: Interaction): string {
  return `${i.user_id}\u0000${i.item_id ?? ''}\u0000${i.type}\u0000${i.timestamp}`;
}
